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

/// Inserts a created object at its place (see the module docs); returns its index.
///
/// When the input's items carry file paths (kpt does this; kustomize does not), the object gets
/// one too, `<namespace>/<kind>_<name>.yaml` as kpt names new files, so that `kpt fn render`
/// writes it beside the package's other files instead of a place of its own choosing.
pub fn insert(items: &mut Vec<Value>, mut item: Value) -> usize {
    if items.iter().any(|i| object::annotation(i, PATH_ANNOTATIONS[1]).is_some()) {
        let file = format!("{}_{}.yaml", object::kind(&item).to_lowercase(), object::name(&item));
        let path = match object::namespace(&item) {
            Some(ns) => format!("{ns}/{file}"),
            None => file,
        };
        if let Some(obj) = item.as_object_mut() {
            let annotations = object::child_map(object::child_map(obj, "metadata"), "annotations");
            for key in PATH_ANNOTATIONS {
                object::insert_sorted(annotations, key, Value::String(path.clone()));
            }
            for key in INDEX_ANNOTATIONS {
                object::insert_sorted(annotations, key, Value::String("0".into()));
            }
        }
    }
    let k = key(&item);
    let index = items.iter().position(|i| key(i) > k).unwrap_or(items.len());
    items.insert(index, item);
    index
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
    fn created_objects_get_a_file_when_the_input_has_files() {
        let mut items = vec![json!({"kind": "Namespace", "metadata": {"name": "x"}})];
        insert(&mut items, json!({"kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}));
        assert!(object::annotation(&items[1], "config.kubernetes.io/path").is_none());
        let mut items = vec![json!({"kind": "Namespace", "metadata": {"name": "x",
            "annotations": {"internal.config.kubernetes.io/path": "ns.yaml"}}})];
        let i = insert(&mut items, json!({"kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}}));
        assert_eq!(object::annotation(&items[i], "internal.config.kubernetes.io/path"), Some("ns/secret_s.yaml"));
    }
}
