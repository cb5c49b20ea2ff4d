//! The bundled MySQL servers and what only serves them (facts §4, §10.5), and their removal.

use std::collections::BTreeSet;

use serde_json::Value;

use super::config::Component;
use kubeflow_common::k8s::select::name_matches;
use kubeflow_common::k8s::{Selector, object, pod};
use krm_core::KrmResult;
use kubeflow_common::credentials::{self, RefForm, RefKind};

/// A bundled server of a component.
pub struct Backend {
    /// The component it serves.
    pub component: Component,
    /// Its workloads (any pod-template kind).
    pub servers: &'static [&'static str],
    /// Objects that only serve it, deleted with it: `(group, kind, name)`.
    pub objects: &'static [(&'static str, &'static str, &'static str)],
    /// Objects deleted with it unless something else still uses them: `(kind, name)` of
    /// PersistentVolumeClaims, ServiceAccounts, ConfigMaps and Secrets. The ones its workloads
    /// use are added.
    pub if_unused: &'static [(&'static str, &'static str)],
}

/// Every bundled server (Kubeflow 1.9, 1.10, master; Model Registry's db overlay; KFP's legacy
/// separate metadata database).
pub const BACKENDS: [Backend; 3] = [
    Backend {
        component: Component::Pipelines,
        servers: &["mysql", "metadata-db"],
        objects: &[
            ("", "Service", "mysql"),
            ("", "Service", "metadata-db"),
            ("security.istio.io", "AuthorizationPolicy", "mysql"),
            ("networking.istio.io", "DestinationRule", "ml-pipeline-mysql"),
        ],
        if_unused: &[
            ("PersistentVolumeClaim", "mysql-pv-claim"),
            ("ServiceAccount", "mysql"),
            ("ConfigMap", "metadata-db-parameters"),
        ],
    },
    Backend {
        component: Component::Katib,
        servers: &["katib-mysql"],
        objects: &[("", "Service", "katib-mysql")],
        if_unused: &[("PersistentVolumeClaim", "katib-mysql")],
    },
    Backend {
        component: Component::ModelRegistry,
        servers: &["model-registry-db"],
        objects: &[("", "Service", "model-registry-db")],
        if_unused: &[("PersistentVolumeClaim", "metadata-mysql"), ("ConfigMap", "model-registry-db-parameters")],
    },
];

/// The backend of a component.
pub fn of(component: Component) -> &'static Backend {
    BACKENDS.iter().find(|b| b.component == component).expect("every component has a backend")
}

/// True if the item is a bundled server workload (of any component).
pub fn is_server(item: &Value) -> bool {
    pod::template(item).is_some()
        && !object::is_local_config(item)
        && BACKENDS.iter().any(|b| b.servers.iter().any(|s| name_matches(object::name(item), s)))
}

/// Keys of a bundled server's parameters that mean nothing to a client.
const SERVER_ONLY_KEYS: [&str; 1] = ["MYSQL_ALLOW_EMPTY_PASSWORD"];

/// Removes a client container's `envFrom` of the backend's parameter ConfigMaps when no key of it
/// is still used: a key is used if the container's args, command or env refer to it as `$(KEY)`
/// and no explicit env entry of the same name shadows it (Model Registry's DSN reads
/// `$(MYSQL_PORT)` and `$(MYSQL_DATABASE)`, which the function sets explicitly).
pub fn drop_server_env_from(items: &mut [Value], backend: &Backend, clients: &[usize], results: &mut Vec<KrmResult>) {
    let config_maps: Vec<&str> = backend.if_unused.iter().filter(|(k, _)| *k == "ConfigMap").map(|(_, n)| *n).collect();
    if config_maps.is_empty() {
        return;
    }
    let keys_of = |items: &[Value], name: &str| -> Option<Vec<String>> {
        items
            .iter()
            .find(|i| Selector::core("ConfigMap").named(name).matches(i))
            .map(|cm| cm.get("data").and_then(Value::as_object).map(|d| d.keys().cloned().collect()).unwrap_or_default())
    };
    for &index in clients {
        let snapshot: Vec<(String, Option<Vec<String>>)> =
            config_maps.iter().map(|n| (n.to_string(), keys_of(items, n))).collect();
        let mut notes = Vec::new();
        pod::for_each_container_mut(&mut items[index], |c| {
            let defined: BTreeSet<String> = c
                .container
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| e.get("name").and_then(Value::as_str).map(str::to_string))
                .collect();
            let text = serde_json::to_string(&[c.container.get("args"), c.container.get("command"), c.container.get("env")])
                .unwrap_or_default();
            let Some(sources) = c.container.get_mut("envFrom").and_then(Value::as_array_mut) else { return };
            let mut drop = Vec::new();
            for (i, source) in sources.iter().enumerate() {
                let Some(name) = source.pointer("/configMapRef/name").and_then(Value::as_str) else { continue };
                let Some((cm, keys)) = snapshot.iter().find(|(n, _)| name_matches(name, n)) else { continue };
                let Some(keys) = keys else { continue }; // not in the input: its keys are unknown
                let prefix = source.get("prefix").and_then(Value::as_str).unwrap_or("");
                let needed = keys.iter().any(|k| {
                    let variable = format!("{prefix}{k}");
                    !SERVER_ONLY_KEYS.contains(&k.as_str())
                        && !defined.contains(&variable)
                        && text.contains(&format!("$({variable})"))
                });
                if !needed {
                    drop.push(i);
                    notes.push((
                        format!("removed envFrom of ConfigMap {cm} (the bundled server's parameters): the container reads none of its keys any more"),
                        c.path.key("envFrom").entry(None, i),
                    ));
                }
            }
            for i in drop.iter().rev() {
                sources.remove(*i);
            }
            if sources.is_empty() {
                c.container.shift_remove("envFrom");
            }
        });
        for (message, path) in notes {
            results.push(KrmResult::info(message).on(&items[index]).at(path));
        }
    }
}

/// What a workload uses that may go with it: `(kind, name)`, in the workload's namespace.
fn used_by(item: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some((template, _)) = pod::template(item) else { return out };
    let spec = template.get("spec");
    if let Some(sa) = spec.and_then(|s| s.get("serviceAccountName").or_else(|| s.get("serviceAccount"))).and_then(Value::as_str) {
        out.push(("ServiceAccount".to_string(), sa.to_string()));
    }
    for v in spec.and_then(|s| s.get("volumes")).and_then(Value::as_array).into_iter().flatten() {
        if let Some(claim) = v.pointer("/persistentVolumeClaim/claimName").and_then(Value::as_str) {
            out.push(("PersistentVolumeClaim".to_string(), claim.to_string()));
        }
    }
    for r in credentials::scan(std::slice::from_ref(item)) {
        let kind = match r.kind {
            RefKind::Secret => "Secret",
            RefKind::ConfigMap => "ConfigMap",
        };
        out.push((kind.to_string(), r.name));
    }
    out
}

/// True if a remaining item uses the object (`kind` one of PersistentVolumeClaim,
/// ServiceAccount, ConfigMap, Secret) of namespace `namespace`: a workload of that namespace, a
/// binding of that ServiceAccount, or an Argo artifact repository (Argo reads its Secrets in the
/// namespace of each workflow, so that reference counts in every namespace).
fn is_used(items: &[Value], kind: &str, namespace: Option<&str>, name: &str) -> bool {
    let ref_kind = match kind {
        "ConfigMap" => Some(RefKind::ConfigMap),
        "Secret" => Some(RefKind::Secret),
        _ => None,
    };
    if let Some(ref_kind) = ref_kind {
        return credentials::references(items, ref_kind, name)
            .iter()
            .any(|r| r.form == RefForm::Embedded || object::namespace(&items[r.item]) == namespace);
    }
    items.iter().filter(|i| !object::is_local_config(i)).any(|i| {
        (object::namespace(i) == namespace && used_by(i).iter().any(|(k, n)| k == kind && n == name))
            || (kind == "ServiceAccount" && binds(i, namespace, name))
    })
}

/// True if a (Cluster)RoleBinding names the ServiceAccount (a subject without a namespace is in
/// the binding's).
fn binds(item: &Value, namespace: Option<&str>, sa: &str) -> bool {
    matches!(object::kind(item), "RoleBinding" | "ClusterRoleBinding")
        && item.get("subjects").and_then(Value::as_array).into_iter().flatten().any(|s| {
            s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && s.get("name").and_then(Value::as_str) == Some(sa)
                && s.get("namespace").and_then(Value::as_str).or_else(|| object::namespace(item)) == namespace
        })
}

/// An object that may go once nothing uses it.
pub struct Candidate {
    kind: String,
    /// The namespace it is looked for in.
    namespace: Option<String>,
    name: String,
    component: Component,
}

fn label(component: Component) -> &'static str {
    match component {
        Component::Pipelines => "Pipelines",
        Component::Katib => "Katib",
        Component::ModelRegistry => "Model Registry",
    }
}

/// Deletes a backend's servers and the objects that only serve them, with an info result each,
/// in `namespaces` only: the namespaces of the component's clients (a `mysql` of another
/// application elsewhere in the input is not Kubeflow's). Returns what they used (and the
/// backend's [`Backend::if_unused`] objects in those namespaces) for [`remove_unused`].
pub fn remove(
    items: &mut Vec<Value>,
    backend: &Backend,
    namespaces: &BTreeSet<Option<String>>,
    host: &str,
    results: &mut Vec<KrmResult>,
) -> Vec<Candidate> {
    let c = backend.component;
    let candidate = |kind: &str, namespace: &Option<String>, name: &str| Candidate {
        kind: kind.to_string(),
        namespace: namespace.clone(),
        name: name.to_string(),
        component: c,
    };
    let mut candidates = Vec::new();
    for namespace in namespaces {
        candidates.extend(backend.if_unused.iter().map(|(kind, name)| candidate(kind, namespace, name)));
    }
    let what = label(c);
    let mut doomed = vec![false; items.len()];
    for (i, item) in items.iter().enumerate() {
        let namespace = object::namespace(item).map(str::to_string);
        if object::is_local_config(item) || !namespaces.contains(&namespace) {
            continue;
        }
        let name = object::name(item);
        if pod::template(item).is_some() && backend.servers.iter().any(|s| name_matches(name, s)) {
            doomed[i] = true;
            candidates.extend(used_by(item).into_iter().map(|(k, n)| candidate(&k, &namespace, &n)));
            results.push(KrmResult::info(format!("deleted: the bundled MySQL server of {what}; its clients use {host} now")).on(item));
        } else if backend.objects.iter().any(|(g, k, n)| Selector::of(g, k).named(n).matches(item)) {
            doomed[i] = true;
            results.push(KrmResult::info(format!("deleted: it only served the bundled MySQL server of {what}")).on(item));
        }
    }
    let mut keep = doomed.iter().map(|d| !d);
    items.retain(|_| keep.next().unwrap_or(true));
    candidates
}

/// Deletes each candidate PVC, ServiceAccount, ConfigMap or Secret that is in the input and that
/// nothing uses any more, with an info result each. Returns true if it deleted anything.
pub fn remove_unused(items: &mut Vec<Value>, candidates: &[Candidate], host: &str, results: &mut Vec<KrmResult>) -> bool {
    // Until nothing more goes: a deletion can leave an earlier candidate unused (a Secret that
    // only a deleted ServiceAccount named).
    let mut any = false;
    loop {
        let mut deleted = false;
        let mut seen = BTreeSet::new();
        for Candidate { kind, namespace, name, component } in candidates {
            if !seen.insert((kind, namespace, name)) {
                continue;
            }
            let Some(index) = items
                .iter()
                .position(|i| object::namespace(i) == namespace.as_deref() && Selector::core(kind).named(name).matches(i))
            else {
                continue;
            };
            let actual = object::name(&items[index]).to_string();
            if is_used(items, kind, namespace.as_deref(), &actual) {
                continue;
            }
            let what = label(*component);
            let message = match kind.as_str() {
                "PersistentVolumeClaim" => format!(
                    "deleted: the data volume of the bundled MySQL server of {what} (applying this with pruning deletes its data: migrate it to {host} first if it matters)"
                ),
                _ => format!("deleted: nothing uses it any more (it served the bundled MySQL server of {what})"),
            };
            results.push(KrmResult::info(message).on(&items[index]));
            items.remove(index);
            deleted = true;
        }
        any |= deleted;
        if !deleted {
            return any;
        }
    }
}
