//! Pod templates of every workload kind, their containers and their env.

use serde_json::{Map, Value};

use super::object;
use super::path::FieldPath;

/// Where the pod template (metadata + spec) lives in each workload kind; `Pod` is its own.
pub fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "ReplicationController" => {
            &["spec", "template"]
        }
        "CronJob" => &["spec", "jobTemplate", "spec", "template"],
        "Pod" => &[],
        _ => return None,
    })
}

/// The pod template of a workload item (for `Pod`, the item itself), with its field path.
pub fn template(item: &Value) -> Option<(&Value, FieldPath)> {
    let path = template_path(object::kind(item))?;
    let mut v = item;
    for p in path {
        v = v.get(p)?;
    }
    Some((v, FieldPath::from_keys(path)))
}

/// The pod template, mutable.
pub fn template_mut(item: &mut Value) -> Option<(&mut Value, FieldPath)> {
    let path = template_path(object::kind(item))?;
    let mut v = item;
    for p in path {
        v = v.get_mut(p)?;
    }
    Some((v, FieldPath::from_keys(path)))
}

/// A pod-template annotation value (`sidecar.istio.io/inject`).
pub fn template_annotation<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    template(item)?.0.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// A pod-template label value.
pub fn template_label<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    template(item)?.0.get("metadata")?.get("labels")?.get(key)?.as_str()
}

/// A container of a pod template, with its field path.
pub struct ContainerMut<'a> {
    /// The container object.
    pub container: &'a mut Map<String, Value>,
    /// `spec.template.spec.containers[name=x]`.
    pub path: FieldPath,
}

/// Calls `f` for every container and initContainer of a workload item.
pub fn for_each_container_mut(item: &mut Value, mut f: impl FnMut(ContainerMut<'_>)) {
    let Some((template, base)) = template_mut(item) else { return };
    let Some(spec) = template.get_mut("spec").and_then(Value::as_object_mut) else { return };
    let base = base.key("spec");
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else { continue };
        for (i, c) in containers.iter_mut().enumerate() {
            let Some(container) = c.as_object_mut() else { continue };
            let path = base.key(list).entry(container.get("name").and_then(Value::as_str), i);
            f(ContainerMut { container, path });
        }
    }
}

/// Read-only walk over every container and initContainer of a workload item.
pub fn for_each_container(item: &Value, mut f: impl FnMut(&Map<String, Value>, FieldPath)) {
    let Some((template, base)) = template(item) else { return };
    let Some(spec) = template.get("spec").and_then(Value::as_object) else { return };
    let base = base.key("spec");
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get(list).and_then(Value::as_array) else { continue };
        for (i, c) in containers.iter().enumerate() {
            let Some(container) = c.as_object() else { continue };
            f(container, base.key(list).entry(container.get("name").and_then(Value::as_str), i));
        }
    }
}

/// The `env` list of a container, created if missing. `None` if `env` exists but is not a list.
pub fn env_mut(container: &mut Map<String, Value>) -> Option<&mut Vec<Value>> {
    if !container.contains_key("env") {
        object::insert_sorted(container, "env", Value::Array(Vec::new()));
    }
    container.get_mut("env")?.as_array_mut()
}

/// Index of the env entry named `name` that Kubernetes uses: the last one, when a container
/// lists a name twice (a later entry overrides an earlier one).
pub fn env_index(env: &[Value], name: &str) -> Option<usize> {
    env.iter().rposition(|e| e.get("name").and_then(Value::as_str) == Some(name))
}

/// An env entry with a literal value.
pub fn env_value(name: &str, value: &str) -> Value {
    serde_json::json!({"name": name, "value": value})
}

/// Sets env `name` to `entry` (a full env entry); replaces in place or appends. Returns true if
/// anything changed.
pub fn upsert_env(env: &mut Vec<Value>, entry: Value) -> bool {
    let name = entry.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
    match env_index(env, &name) {
        Some(i) if env[i] == entry => false,
        Some(i) => {
            env[i] = entry;
            true
        }
        None => {
            env.push(entry);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_env_entry_in_effect_is_the_last_of_its_name() {
        let env = vec![env_value("A", "1"), env_value("B", "2"), env_value("A", "3")];
        assert_eq!(env_index(&env, "A"), Some(2));
        assert_eq!(env_index(&env, "C"), None);
    }

    #[test]
    fn walks_every_workload_kind() {
        for (kind, item) in [
            ("Deployment", json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "i"}]}}}})),
            ("CronJob", json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "a"}]}}}}}})),
            ("Pod", json!({"kind": "Pod", "spec": {"containers": [{"name": "a"}]}})),
        ] {
            let mut paths = Vec::new();
            for_each_container(&item, |_, p| paths.push(p.to_string()));
            assert!(!paths.is_empty(), "{kind}");
            assert!(paths.last().unwrap().ends_with("containers[name=a]"), "{paths:?}");
        }
    }

    #[test]
    fn env_editing() {
        let mut env = vec![env_value("A", "1")];
        assert!(!upsert_env(&mut env, env_value("A", "1")));
        assert!(upsert_env(&mut env, env_value("A", "2")));
        assert!(upsert_env(&mut env, env_value("B", "3")));
        assert_eq!(env.len(), 2);
    }
}
