//! The Pipelines profile controller: its `sync.py` replaced by this function's (beside
//! `lib.rs`), configured through the controller's env, rolled when the script changes, and, with
//! ServiceAccount annotations, allowed to annotate `default-editor` in profile namespaces.

use super::*;

/// What the replaced script did that the new one must keep doing, read from its text.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Release {
    /// Per-namespace visualization server (Kubeflow 1.9 and 1.10).
    pub(crate) visualization_server: bool,
    /// The artifact proxy was unconditional (no `ARTIFACTS_PROXY_ENABLED`).
    pub(crate) proxy_always: bool,
    /// Default images of the script (`FRONTEND_IMAGE`, `VISUALIZATION_SERVER_IMAGE`).
    pub(crate) frontend_image: Option<String>,
    pub(crate) visualization_server_image: Option<String>,
    /// Master's script: per-namespace SeaweedFS IAM keys.
    pub(crate) iam_keys: bool,
}

/// The default of `os.environ.get("VAR", "default")` in a script.
pub(crate) fn env_default(script: &str, variable: &str) -> Option<String> {
    let needle = format!("os.environ.get(\"{variable}\",");
    let rest = &script[script.find(&needle)? + needle.len()..];
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_string())
}

impl Release {
    pub(crate) fn of(script: &str) -> Self {
        Release {
            visualization_server: script.contains("ml-pipeline-visualizationserver"),
            proxy_always: script.contains("ml-pipeline-ui-artifact") && !script.contains("ARTIFACTS_PROXY_ENABLED"),
            frontend_image: env_default(script, "FRONTEND_IMAGE"),
            visualization_server_image: env_default(script, "VISUALIZATION_SERVER_IMAGE"),
            iam_keys: script.contains("create_access_key"),
        }
    }
}

/// The script's own defaults, which need no env entry.
pub(crate) const SCRIPT_FRONTEND_IMAGE: &str = "ghcr.io/kubeflow/kfp-frontend";
pub(crate) const SCRIPT_VISUALIZATION_SERVER_IMAGE: &str = "ghcr.io/kubeflow/kfp-visualization-server";

/// A stable 64-bit FNV-1a hash, as 16 hex digits.
pub(crate) fn fnv(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The profile controller: its `sync.py` (found through the Deployment's `hooks` volume) is
/// replaced with [`SYNC_PY`], configured by env entries of the Deployment.
pub(crate) fn profile_controller(items: &mut Vec<Value>, store: &Store, results: &mut Vec<KrmResult>) {
    let selector = Selector::of("apps", "Deployment").named(CONTROLLER);
    let controllers: Vec<usize> = kubeflow_common::k8s::select::find(items, selector);
    for index in controllers {
        let code = items[index]
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|v| v.get("name").and_then(Value::as_str) == Some("hooks"))
            .and_then(|v| v.pointer("/configMap/name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let namespace = object::namespace(&items[index]).map(str::to_string);
        let Some(code) = code else {
            results.push(
                KrmResult::warning("has no hooks volume from a ConfigMap: its sync.py cannot be replaced, so profile namespaces keep the bundled store's address and keys")
                    .on(&items[index])
                    .at("spec.template.spec.volumes"),
            );
            continue;
        };
        let cm = items.iter().position(|i| {
            Selector::core("ConfigMap").matches(i)
                && object::name(i) == code
                && (namespace.is_none() || object::namespace(i).is_none() || object::namespace(i) == namespace.as_deref())
        });
        let Some(cm) = cm else {
            results.push(
                KrmResult::warning(format!("its code ConfigMap {code} is not in the input: its sync.py cannot be replaced, so profile namespaces keep the bundled store's address and keys"))
                    .on(&items[index])
                    .at("spec.template.spec.volumes[name=hooks]"),
            );
            continue;
        };
        let current = items[cm].pointer("/data/sync.py").and_then(Value::as_str).unwrap_or_default().to_string();
        let release = if current.starts_with(SYNC_PY_MARKER) { None } else { Some(Release::of(&current)) };
        if current != SYNC_PY {
            if let Some(data) = items[cm].as_object_mut().map(|o| object::child_map(o, "data")) {
                object::insert_sorted(data, "sync.py", Value::String(SYNC_PY.to_string()));
            }
            results.push(
                KrmResult::info(format!(
                    "sync.py replaced: profile namespaces get the store {} bucket {} ({}), {}; the same objects as before otherwise",
                    store.endpoint,
                    store.bucket,
                    if store.from_environment { "no keys: the default credential chain" } else { "the configured keys copied into Secret mlpipeline-minio-artifact" },
                    "kfp-launcher with providers and artifact-repositories"
                ))
                .on(&items[cm])
                .at("data[sync.py]"),
            );
            if let Some(r) = release.as_ref().filter(|_| !current.is_empty()) {
                let secret = if r.iam_keys { "Secret mlpipeline-minio-artifact (a SeaweedFS key of their own)" } else { "Secret mlpipeline-minio-artifact" };
                results.push(
                    KrmResult::warning(format!(
                        "profile namespaces that already exist keep their {secret} and ConfigMaps kfp-launcher and artifact-repositories (metacontroller updates them OnDelete): delete those in each existing profile namespace once, so the controller writes them for the external store"
                    ))
                    .on(&items[cm])
                    .at("data[sync.py]"),
                );
            }
        }
        controller_env(&mut items[index], store, release.as_ref(), results);
        if store.from_environment && !store.annotations.is_empty() {
            annotator_rbac(items, index, results);
        }
    }
}

/// The controller's env: the store settings of the script, the release's defaults, the keys.
pub(crate) fn controller_env(item: &mut Value, store: &Store, release: Option<&Release>, results: &mut Vec<KrmResult>) {
    let mut notes = Vec::new();
    if let Some((c, path)) = main_container(item, "profile-controller") {
        let mut env = Env { container: c, path, notes: Vec::new() };
        for name in ["AWS_ENDPOINT_URL", "S3_ENDPOINT_URL", "OBJECT_STORE_HOST"] {
            env.remove(name, "it named the bundled store");
        }
        if env.get("AWS_REGION").is_some() {
            env.literal("AWS_REGION", &store.region);
        }
        env.literal("OBJECT_STORE_ENDPOINT", &store.endpoint);
        env.literal("OBJECT_STORE_SECURE", store.tls());
        env.literal("OBJECT_STORE_REGION", &store.region);
        env.literal("OBJECT_STORE_BUCKET", &store.bucket);
        env.literal("OBJECT_STORE_CREDENTIALS", if store.from_environment { "fromEnvironment" } else { "secret" });
        env.allow_origin(store);
        if store.root_query.is_empty() {
            env.remove("OBJECT_STORE_ROOT_QUERY", "the launcher needs no query on the pipeline root");
        } else {
            env.literal("OBJECT_STORE_ROOT_QUERY", &store.root_query);
        }
        if store.from_environment && !store.annotations.is_empty() {
            let json = serde_json::to_string(&store.annotations).expect("a map serializes");
            env.literal("DEFAULT_EDITOR_ANNOTATIONS", &json);
        } else {
            env.remove("DEFAULT_EDITOR_ANNOTATIONS", "no ServiceAccount annotations are configured");
        }
        if let Some(r) = release {
            if let Some(image) = r.frontend_image.as_deref().filter(|i| *i != SCRIPT_FRONTEND_IMAGE) {
                if env.get("FRONTEND_IMAGE").is_none() {
                    env.literal("FRONTEND_IMAGE", image);
                }
            }
            if r.visualization_server {
                env.literal("VISUALIZATION_SERVER_ENABLED", "true");
                if let Some(image) = r.visualization_server_image.as_deref().filter(|i| *i != SCRIPT_VISUALIZATION_SERVER_IMAGE) {
                    if env.get("VISUALIZATION_SERVER_IMAGE").is_none() {
                        env.literal("VISUALIZATION_SERVER_IMAGE", image);
                    }
                }
            }
            if r.proxy_always && env.get("ARTIFACTS_PROXY_ENABLED").is_none() {
                env.literal("ARTIFACTS_PROXY_ENABLED", "true");
            }
        }
        // With static keys the script copies whichever pair the controller has (master: AWS_*,
        // 1.9 and 1.10: MINIO_*), so each present one reads the Secret; without either, AWS_*.
        for (credential, names) in [
            (Credential::ObjectStoreAccessKey, ["AWS_ACCESS_KEY_ID", "MINIO_ACCESS_KEY"]),
            (Credential::ObjectStoreSecretKey, ["AWS_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY"]),
        ] {
            if let Some((secret, key)) = store.central(credential) {
                let present: Vec<&str> = names.iter().copied().filter(|n| env.get(n).is_some()).collect();
                for name in if present.is_empty() { vec![names[0]] } else { present } {
                    env.secret(name, secret, key);
                }
            }
        }
        notes = env.notes;
    }
    // Roll the controller when its script changes (the code ConfigMap keeps its name).
    let hash = fnv(SYNC_PY);
    if pod::template_annotation(item, SCRIPT_HASH_ANNOTATION) != Some(hash.as_str()) {
        if let Some(meta) = pod::template_mut(item).and_then(|(t, _)| t.as_object_mut()).map(|t| object::child_map(t, "metadata")) {
            object::insert_sorted(object::child_map(meta, "annotations"), SCRIPT_HASH_ANNOTATION, Value::String(hash));
            notes.push((
                "annotated with the hash of its sync.py, so a changed script restarts it".into(),
                FieldPath::from_keys(&["spec", "template", "metadata", "annotations"]).key(SCRIPT_HASH_ANNOTATION),
            ));
        }
    }
    results.extend(notes.into_iter().map(|(m, p)| KrmResult::info(m).on(item).at(p)));
}

/// `fromEnvironment` with annotations: the controller annotates `default-editor` in each profile
/// namespace, which needs `get`/`patch` on that ServiceAccount; a ServiceAccount of its own is
/// created if it runs as `default`.
pub(crate) fn annotator_rbac(items: &mut Vec<Value>, index: usize, results: &mut Vec<KrmResult>) {
    let namespace = object::namespace(&items[index]).unwrap_or("kubeflow").to_string();
    let spec = items[index].pointer("/spec/template/spec");
    let current = spec
        .and_then(|s| s.get("serviceAccountName").or_else(|| s.get("serviceAccount")))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != "default")
        .map(str::to_string);
    let account = match current {
        Some(a) => a,
        None => {
            if let Some(spec) = items[index].pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) {
                object::insert_sorted(spec, "serviceAccountName", Value::String(CONTROLLER.into()));
            }
            results.push(
                KrmResult::info(format!("runs as ServiceAccount {CONTROLLER}, allowed to annotate default-editor in profile namespaces"))
                    .on(&items[index])
                    .at("spec.template.spec.serviceAccountName"),
            );
            let sa = ServiceAccount {
                metadata: ObjectMeta { name: Some(CONTROLLER.into()), namespace: Some(namespace.clone()), ..Default::default() },
                ..Default::default()
            };
            ensure(items, serde_json::to_value(sa).expect("a ServiceAccount serializes"), results);
            CONTROLLER.to_string()
        }
    };
    let role = ClusterRole {
        metadata: ObjectMeta { name: Some(ANNOTATOR.into()), ..Default::default() },
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["serviceaccounts".into()]),
            resource_names: Some(vec!["default-editor".into()]),
            verbs: vec!["get".into(), "patch".into()],
            ..Default::default()
        }, PolicyRule {
            // sync.py reads a namespace back before it patches anything there: only namespaces
            // owned by a Profile are touched, whatever a request to the hook says.
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["namespaces".into()]),
            verbs: vec!["get".into()],
            ..Default::default()
        }]),
        ..Default::default()
    };
    let binding = ClusterRoleBinding {
        metadata: ObjectMeta { name: Some(ANNOTATOR.into()), ..Default::default() },
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "ClusterRole".into(), name: ANNOTATOR.into() },
        subjects: Some(vec![Subject { kind: "ServiceAccount".into(), name: account, namespace: Some(namespace), ..Default::default() }]),
    };
    ensure(items, serde_json::to_value(role).expect("a ClusterRole serializes"), results);
    ensure(items, serde_json::to_value(binding).expect("a ClusterRoleBinding serializes"), results);
}

/// Adds a created object, or brings the one of that kind, name and namespace to it.
pub(crate) fn ensure(items: &mut Vec<Value>, mut desired: Value, results: &mut Vec<KrmResult>) {
    let kind = object::kind(&desired).to_string();
    let group = object::group(&desired).to_string();
    let name = object::name(&desired).to_string();
    let namespace = object::namespace(&desired).map(str::to_string);
    let existing = items.iter().position(|i| {
        object::kind(i) == kind && object::group(i) == group && object::name(i) == name && object::namespace(i) == namespace.as_deref()
    });
    match existing {
        Some(i) => {
            let Some(obj) = items[i].as_object_mut() else { return };
            let mut changed = false;
            for (key, value) in desired.as_object_mut().into_iter().flat_map(std::mem::take) {
                if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if obj.get(&key) != Some(&value) {
                    object::insert_sorted(obj, &key, value);
                    changed = true;
                }
            }
            if changed {
                results.push(KrmResult::info("updated: lets the profile controller annotate default-editor").on(&items[i]));
            }
        }
        None => {
            let i = generate::insert(items, desired);
            results.push(KrmResult::info("created: lets the profile controller annotate default-editor in profile namespaces").on(&items[i]));
        }
    }
}
