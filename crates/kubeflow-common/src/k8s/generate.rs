//! Where a function puts the objects it creates.
//!
//! A created object goes before the first item that sorts after it in kustomize's legacy order
//! (kind rank, kind, namespace, name). Inserting this way gives the same list whatever order the
//! functions run in, which the "order does not matter" promise needs; and kustomize, kpt and
//! `kubectl apply` then see Namespaces first and webhooks last, as they expect.

use serde_json::Value;

use super::object;

/// Kinds in the order kustomize's `legacy` sort puts first; the webhooks go last.
const FIRST: [&str; 22] = [
    "Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition", "ServiceAccount",
    "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ConfigMap",
    "Secret", "Endpoints", "Service", "LimitRange", "PriorityClass", "PersistentVolume",
    "PersistentVolumeClaim", "Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
];
const LAST: [&str; 2] = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

fn rank(kind: &str) -> usize {
    if let Some(i) = FIRST.iter().position(|k| *k == kind) {
        i
    } else if let Some(i) = LAST.iter().position(|k| *k == kind) {
        FIRST.len() + 1 + i
    } else {
        FIRST.len()
    }
}

fn key(item: &Value) -> (usize, &str, &str, &str) {
    let kind = object::kind(item);
    (rank(kind), kind, object::namespace(item).unwrap_or(""), object::name(item))
}

/// The annotations kpt reads to know which file an item lives in.
const PATH_ANNOTATIONS: [&str; 2] = ["config.kubernetes.io/path", "internal.config.kubernetes.io/path"];
const INDEX_ANNOTATIONS: [&str; 2] = ["config.kubernetes.io/index", "internal.config.kubernetes.io/index"];

/// The file, relative to the package, that holds the objects the functions create when the
/// input comes from kpt.
pub const CREATED_FILE: &str = "kubeflow-krm-created.yaml";

/// Inserts a created object at its place (see the module docs); returns its index.
///
/// When the input's items carry file paths (kpt does this; kustomize does not), the object goes
/// into [`CREATED_FILE`], one documented file instead of a file per object named by kpt. The
/// objects of that file are numbered in the order of the items (kpt needs a distinct index per
/// object of a file and writes them in that order), so the file is the same whichever function
/// created which object first.
pub fn insert(items: &mut Vec<Value>, mut item: Value) -> usize {
    let kpt = items.iter().any(|i| object::annotation(i, PATH_ANNOTATIONS[1]).is_some());
    if kpt {
        set_annotations(&mut item, &PATH_ANNOTATIONS, CREATED_FILE);
    }
    let k = key(&item);
    let index = items.iter().position(|i| key(i) > k).unwrap_or(items.len());
    items.insert(index, item);
    if kpt {
        let created = items.iter_mut().filter(|i| object::annotation(i, PATH_ANNOTATIONS[1]) == Some(CREATED_FILE));
        for (n, i) in created.enumerate() {
            set_annotations(i, &INDEX_ANNOTATIONS, &n.to_string());
        }
    }
    index
}

fn set_annotations(item: &mut Value, keys: &[&str], value: &str) {
    if let Some(obj) = item.as_object_mut() {
        let annotations = object::child_map(object::child_map(obj, "metadata"), "annotations");
        for key in keys {
            object::insert_sorted(annotations, key, Value::String(value.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str) -> Value {
        json!({"kind": kind, "metadata": {"name": name}})
    }

    #[test]
    fn insertion_order_does_not_matter() {
        let base = vec![obj("Deployment", "d"), obj("Namespace", "z"), obj("ConfigMap", "c")];
        let new = [obj("Namespace", "a"), obj("Secret", "s"), obj("ExternalSecret", "e"), obj("Namespace", "m")];
        let mut forward = base.clone();
        for n in new.iter() {
            insert(&mut forward, n.clone());
        }
        let mut backward = base.clone();
        for n in new.iter().rev() {
            insert(&mut backward, n.clone());
        }
        assert_eq!(forward, backward);
        assert_eq!(object::name(&forward[0]), "a");
    }

    #[test]
    fn created_objects_go_to_one_file_numbered_in_item_order_when_the_input_has_files() {
        let mut items = vec![json!({"kind": "Namespace", "metadata": {"name": "x"}})];
        insert(&mut items, json!({"kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}));
        assert!(object::annotation(&items[1], "config.kubernetes.io/path").is_none(), "no paths without kpt");
        let base = vec![json!({"kind": "Namespace", "metadata": {"name": "x",
            "annotations": {"internal.config.kubernetes.io/path": "ns.yaml", "internal.config.kubernetes.io/index": "0"}}})];
        let new = [json!({"kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}),
                   json!({"kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}})];
        let mut forward = base.clone();
        for n in &new {
            insert(&mut forward, n.clone());
        }
        let mut backward = base.clone();
        for n in new.iter().rev() {
            insert(&mut backward, n.clone());
        }
        assert_eq!(forward, backward, "the same file whatever the order of creation");
        let created: Vec<(&str, &str)> = forward
            .iter()
            .filter(|i| object::annotation(i, "internal.config.kubernetes.io/path") == Some(CREATED_FILE))
            .map(|i| (object::name(i), object::annotation(i, "config.kubernetes.io/index").unwrap()))
            .collect();
        assert_eq!(created, [("c", "0"), ("s", "1")]);
        assert_eq!(object::annotation(&forward[0], "internal.config.kubernetes.io/index"), Some("0"), "the input's own files untouched");
    }
}
