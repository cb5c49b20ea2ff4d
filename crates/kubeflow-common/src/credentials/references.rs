//! The reference scan: every reference to a Secret or ConfigMap in the items, which says
//! whether one is still needed, and the warning about credential references no edit can reach.

use super::*;


/// Warns about every reference that still reads a credential key of a credential Secret.
pub(super) fn warn_unrewritable(items: &[Value], target: &Target, secrets: &SecretKeys, results: &mut Vec<KrmResult>) {
    for r in scan(items) {
        if r.kind != RefKind::Secret || !target.is_credential_secret(&r.name) {
            continue;
        }
        let keys: Vec<String> = match secrets.get(&r.name) {
            Some(k) => k.to_vec(),
            None => target.catalogue_entries(&r.name).into_iter().map(|(k, _)| k).collect(),
        };
        let read: Vec<&str> =
            keys.iter().filter(|k| target.rewires(&r.name, k).is_some() && r.reads(k)).map(String::as_str).collect();
        if read.is_empty() {
            continue;
        }
        let central = &target.secret_name;
        let message = match r.form {
            RefForm::Volume | RefForm::ProjectedVolume => format!(
                "mounts credential Secret {} as files (keys {}): a file mount cannot be pointed at Secret {central}, whose keys differ; mount Secret {central} with items mapping its keys to these file names, then the old Secret can go",
                r.name,
                read.join(", ")
            ),
            _ => format!(
                "references credential Secret {} (keys {}) in a way this function does not rewrite: point it at Secret {central} yourself; the old Secret is kept with its credentials meanwhile",
                r.name,
                read.join(", ")
            ),
        };
        results.push(KrmResult::warning(message).on(&items[r.item]).at(r.path.clone()));
    }
    // Argo reads these references in the namespace of each workflow.
    for item in items.iter().filter(|i| !object::is_local_config(i) && !argo_documents(i).is_empty()) {
        let refs = scan(std::slice::from_ref(item));
        for ArgoDocument { data_key, .. } in argo_documents(item) {
            let field = FieldPath::from_keys(&["data"]).key(&data_key);
            let prefix = field.to_string();
            let reads_central = refs.iter().any(|r| {
                r.form == RefForm::Embedded
                    && r.kind == RefKind::Secret
                    && target.is_central(&r.name)
                    && r.path.to_string().starts_with(&prefix)
                    && r.keys.as_ref().is_some_and(|k| k.iter().any(|k| target.credential_of_central_key(k).is_some()))
            });
            if reads_central {
                results.push(
                    KrmResult::warning(format!(
                        "Argo looks up these Secret references in the namespace of each workflow: every namespace that runs pipelines without its own artifact repository (on Kubeflow 1.9 and 1.10, every profile namespace) needs Secret {} too",
                        target.secret_name
                    ))
                    .on(item)
                    .at(field),
                );
            }
        }
    }
}


/// The kind of object a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// How an object is referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefForm {
    /// `env[].valueFrom.secretKeyRef` / `configMapKeyRef` of a pod template.
    EnvKey,
    /// `envFrom[].secretRef` / `configMapRef` of a pod template.
    EnvFrom,
    /// `volumes[].secret` / `volumes[].configMap` of a pod template.
    Volume,
    /// `volumes[].projected.sources[]` of a pod template.
    ProjectedVolume,
    /// `imagePullSecrets[]` of a pod template.
    ImagePullSecret,
    /// A reference inside a YAML document embedded in an Argo ConfigMap.
    Embedded,
    /// Anything else: a `name`/`secretName` under a key naming a Secret (or ConfigMap) in any
    /// other object (ServiceAccount `secrets`, PodDefault env, custom resources...).
    Other,
}

/// One reference to a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Index of the referring item.
    pub item: usize,
    /// Secret or ConfigMap.
    pub kind: RefKind,
    /// The name it refers to, as written.
    pub name: String,
    /// Where, in the referring item.
    pub path: FieldPath,
    /// How.
    pub form: RefForm,
    /// The keys it reads (`None`: every key).
    pub keys: Option<BTreeSet<String>>,
    /// Keys it does not read although `keys` says every key: the envFrom keys shadowed by an
    /// explicit env entry of the same container.
    pub except: BTreeSet<String>,
}

impl Reference {
    /// True if the reference reads `key`.
    pub fn reads(&self, key: &str) -> bool {
        self.keys.as_ref().is_none_or(|k| k.contains(key)) && !self.except.contains(key)
    }
}

/// Every reference to a Secret or ConfigMap in the items (local-config items and CRDs excluded).
///
/// Pod templates are read field by field (env, envFrom, volumes, projected volumes,
/// imagePullSecrets); Argo's ConfigMaps by parsing their embedded documents; every other object
/// generically: a map with a string `name` under a key that contains `secret` (`configmap`), or a
/// string `secretName` anywhere, is a reference (with `key`/`items` giving the keys read).
pub fn scan(items: &[Value]) -> Vec<Reference> {
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if object::is_local_config(item) || object::kind(item) == "CustomResourceDefinition" {
            continue;
        }
        let mut skip: Option<&Value> = None;
        if let Some((template, base)) = pod::template(item) {
            if let Some(spec) = template.get("spec") {
                scan_pod_spec(index, spec, &base.key("spec"), &mut out);
                skip = Some(spec);
            }
        }
        for ArgoDocument { data_key, text, .. } in argo_documents(item) {
            let Ok(doc) = yaml::parse_document(&text) else { continue };
            let base = FieldPath::from_keys(&["data"]).key(&data_key);
            let mut walker = Walker { item: index, form: RefForm::Embedded, skip: None, out: &mut out, stack: Vec::new(), base };
            walker.walk(&doc, None);
        }
        if matches!(object::kind(item), "Secret" | "ConfigMap") && object::group(item).is_empty() {
            continue; // their data are values, not references
        }
        let mut walker =
            Walker { item: index, form: RefForm::Other, skip, out: &mut out, stack: Vec::new(), base: FieldPath::root() };
        walker.walk(item, None);
    }
    out
}

/// The references to one Secret or ConfigMap (same name once hash suffixes are dropped).
pub fn references(items: &[Value], kind: RefKind, name: &str) -> Vec<Reference> {
    scan(items).into_iter().filter(|r| r.kind == kind && same_object(&r.name, name)).collect()
}

/// True if anything references the Secret or ConfigMap.
pub fn is_referenced(items: &[Value], kind: RefKind, name: &str) -> bool {
    !references(items, kind, name).is_empty()
}

pub(super) fn push_ref(out: &mut Vec<Reference>, item: usize, kind: RefKind, reference: &Value, field: &str, path: FieldPath, form: RefForm) {
    let Some(name) = reference.get(field).and_then(Value::as_str) else { return };
    out.push(Reference {
        item,
        kind,
        name: name.to_string(),
        path,
        form,
        keys: keys_of(reference),
        except: BTreeSet::new(),
    });
}

/// The keys a reference map reads: `key`, or `items[].key`; `None` for every key.
pub(super) fn keys_of(reference: &Value) -> Option<BTreeSet<String>> {
    if let Some(k) = reference.get("key").and_then(Value::as_str) {
        return Some(BTreeSet::from([k.to_string()]));
    }
    let items = reference.get("items")?.as_array()?;
    Some(items.iter().filter_map(|i| i.get("key").and_then(Value::as_str)).map(str::to_string).collect())
}

pub(super) fn scan_pod_spec(item: usize, spec: &Value, base: &FieldPath, out: &mut Vec<Reference>) {
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let cpath = base.key(list).entry(c.get("name").and_then(Value::as_str), i);
            let env = c.get("env").and_then(Value::as_array);
            for (j, e) in env.into_iter().flatten().enumerate() {
                let path = cpath.key("env").entry(env_name(e), j);
                if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
                    push_ref(out, item, RefKind::Secret, r, "name", path.clone(), RefForm::EnvKey);
                }
                if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
                    push_ref(out, item, RefKind::ConfigMap, r, "name", path, RefForm::EnvKey);
                }
            }
            let defined: Vec<&str> = env.into_iter().flatten().filter_map(env_name).collect();
            for (j, source) in c.get("envFrom").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let prefix = source.get("prefix").and_then(Value::as_str).unwrap_or("");
                let except: BTreeSet<String> =
                    defined.iter().filter_map(|d| d.strip_prefix(prefix)).map(str::to_string).collect();
                for (field, kind) in [("secretRef", RefKind::Secret), ("configMapRef", RefKind::ConfigMap)] {
                    let Some(name) = source.get(field).and_then(|r| r.get("name")).and_then(Value::as_str) else { continue };
                    out.push(Reference {
                        item,
                        kind,
                        name: name.to_string(),
                        path: cpath.key("envFrom").entry(None, j),
                        form: RefForm::EnvFrom,
                        keys: None,
                        except: except.clone(),
                    });
                }
            }
        }
    }
    for (i, v) in spec.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let vpath = base.key("volumes").entry(v.get("name").and_then(Value::as_str), i);
        if let Some(s) = v.get("secret") {
            push_ref(out, item, RefKind::Secret, s, "secretName", vpath.clone(), RefForm::Volume);
        }
        if let Some(s) = v.get("configMap") {
            push_ref(out, item, RefKind::ConfigMap, s, "name", vpath.clone(), RefForm::Volume);
        }
        let sources = v.pointer("/projected/sources").and_then(Value::as_array);
        for (j, source) in sources.into_iter().flatten().enumerate() {
            let spath = vpath.key("projected").key("sources").entry(None, j);
            if let Some(s) = source.get("secret") {
                push_ref(out, item, RefKind::Secret, s, "name", spath.clone(), RefForm::ProjectedVolume);
            }
            if let Some(s) = source.get("configMap") {
                push_ref(out, item, RefKind::ConfigMap, s, "name", spath, RefForm::ProjectedVolume);
            }
        }
    }
    for (i, s) in spec.get("imagePullSecrets").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(name) = s.get("name").and_then(Value::as_str) else { continue };
        out.push(Reference {
            item,
            kind: RefKind::Secret,
            name: name.to_string(),
            path: base.key("imagePullSecrets").entry(Some(name), i),
            form: RefForm::ImagePullSecret,
            keys: Some([".dockerconfigjson", ".dockercfg"].iter().map(|k| k.to_string()).collect()),
            except: BTreeSet::new(),
        });
    }
}

pub(super) enum Seg<'a> {
    Key(&'a str),
    Entry(Option<&'a str>, usize),
}

/// The generic walk: builds field paths only for the references it finds.
pub(super) struct Walker<'v, 'o> {
    pub(super) item: usize,
    pub(super) form: RefForm,
    pub(super) skip: Option<&'v Value>,
    pub(super) out: &'o mut Vec<Reference>,
    pub(super) stack: Vec<Seg<'v>>,
    pub(super) base: FieldPath,
}

impl<'v> Walker<'v, '_> {
    pub(super) fn path(&self) -> FieldPath {
        self.stack.iter().fold(self.base.clone(), |p, s| match s {
            Seg::Key(k) => p.key(k),
            Seg::Entry(n, i) => p.entry(*n, *i),
        })
    }

    /// `parent_key`: the nearest map key above this value (list indexes skipped).
    pub(super) fn walk(&mut self, v: &'v Value, parent_key: Option<&'v str>) {
        if self.skip.is_some_and(|s| std::ptr::eq(s, v)) {
            return;
        }
        match v {
            Value::Object(m) => {
                let parent = parent_key.map(str::to_ascii_lowercase).unwrap_or_default();
                let found = |kind: RefKind, field: &str, this: &mut Self| {
                    if let Some(name) = m.get(field).and_then(Value::as_str) {
                        let path = this.path();
                        this.out.push(Reference {
                            item: this.item,
                            kind,
                            name: name.to_string(),
                            path,
                            form: this.form,
                            keys: keys_of(v),
                            except: BTreeSet::new(),
                        });
                    }
                };
                if parent.contains("secret") {
                    found(RefKind::Secret, "name", self);
                }
                if m.contains_key("secretName") {
                    found(RefKind::Secret, "secretName", self);
                }
                if parent.contains("configmap") {
                    found(RefKind::ConfigMap, "name", self);
                }
                for (k, child) in m {
                    if child.is_object() || child.is_array() {
                        self.stack.push(Seg::Key(k));
                        self.walk(child, Some(k));
                        self.stack.pop();
                    }
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    if child.is_object() || child.is_array() {
                        self.stack.push(Seg::Entry(child.get("name").and_then(Value::as_str), i));
                        self.walk(child, parent_key);
                        self.stack.pop();
                    }
                }
            }
            _ => {}
        }
    }
}
