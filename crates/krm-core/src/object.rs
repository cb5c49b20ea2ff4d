//! Accessors over an untyped Kubernetes object (`serde_json::Value`), edits that keep key order.

use serde_json::{Map, Value};

/// The name of a JSON value's type, for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

fn str_at<'a>(item: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = item;
    for p in path {
        v = v.get(p)?;
    }
    v.as_str()
}

/// `apiVersion` ("" if missing).
pub fn api_version(item: &Value) -> &str {
    str_at(item, &["apiVersion"]).unwrap_or("")
}

/// `kind` ("" if missing).
pub fn kind(item: &Value) -> &str {
    str_at(item, &["kind"]).unwrap_or("")
}

/// `metadata.name` ("" if missing).
pub fn name(item: &Value) -> &str {
    str_at(item, &["metadata", "name"]).unwrap_or("")
}

/// `metadata.namespace`, if set and non-empty.
pub fn namespace(item: &Value) -> Option<&str> {
    str_at(item, &["metadata", "namespace"]).filter(|s| !s.is_empty())
}

/// The API group of an apiVersion (`security.istio.io/v1beta1` → `security.istio.io`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// The API group of an item.
pub fn group(item: &Value) -> &str {
    group_of(api_version(item))
}

/// A metadata annotation value.
pub fn annotation<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

/// A metadata label value.
pub fn label<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.get("metadata")?.get("labels")?.get(key)?.as_str()
}

/// True for items the orchestrator marks as local configuration (never deployed, never edited).
pub fn is_local_config(item: &Value) -> bool {
    annotation(item, "config.kubernetes.io/local-config") == Some("true")
}

/// The map at `key` inside `map`, created (at its sorted position) if missing or not a map.
///
/// kustomize writes keys sorted, so a created key goes before the first key that sorts after it;
/// existing keys never move.
pub fn child_map<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !map.get(key).is_some_and(Value::is_object) {
        insert_sorted(map, key, Value::Object(Map::new()));
    }
    map.get_mut(key).and_then(Value::as_object_mut).expect("just ensured a map")
}

/// Sets `key` to `value`, keeping the key's position if it exists, else at its sorted position.
/// Returns the previous value.
pub fn insert_sorted(map: &mut Map<String, Value>, key: &str, value: Value) -> Option<Value> {
    if let Some(slot) = map.get_mut(key) {
        return Some(std::mem::replace(slot, value));
    }
    let index = map.keys().position(|k| k.as_str() > key).unwrap_or(map.len());
    map.shift_insert(index, key.to_string(), value);
    None
}

/// The labels map of an item, created if missing. `None` if the item has no usable metadata.
pub fn labels_mut(item: &mut Value) -> Option<&mut Map<String, Value>> {
    let obj = item.as_object_mut()?;
    let metadata = child_map(obj, "metadata");
    Some(child_map(metadata, "labels"))
}

/// The items that are not local configuration, with their indexes.
pub fn deployable(items: &[Value]) -> impl Iterator<Item = (usize, &Value)> {
    items.iter().enumerate().filter(|(_, i)| !is_local_config(i))
}

/// Pairs of deployable items that are the same object: equal API group, kind, namespace and
/// name (the version does not count: `v1` and `v1beta1` of one kind address one object). Each
/// later copy is paired with the first. Items without a kind or a name are not counted.
pub fn duplicates(items: &[Value]) -> Vec<(usize, usize)> {
    let mut seen: std::collections::HashMap<(&str, &str, &str, &str), usize> = std::collections::HashMap::with_capacity(items.len());
    let mut pairs = Vec::new();
    for (i, item) in deployable(items) {
        let (kind, name) = (kind(item), name(item));
        if kind.is_empty() || name.is_empty() {
            continue;
        }
        let key = (group(item), kind, namespace(item).unwrap_or(""), name);
        if let Some(&first) = seen.get(&key) {
            pairs.push((first, i));
        } else {
            seen.insert(key, i);
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn created_keys_go_to_their_sorted_place() {
        let mut item = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "auth"}});
        labels_mut(&mut item).unwrap().insert("a".into(), "b".into());
        let keys: Vec<_> = item["metadata"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["labels", "name"]);
    }

    #[test]
    fn duplicates_are_same_group_kind_namespace_and_name() {
        let items = vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "b"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s", "namespace": "a"}}),
            json!({"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication", "metadata": {"name": "r", "namespace": "a"}}),
            json!({"apiVersion": "security.istio.io/v1beta1", "kind": "RequestAuthentication", "metadata": {"name": "r", "namespace": "a"}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fn", "annotations": {"config.kubernetes.io/local-config": "true"}}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fn", "annotations": {"config.kubernetes.io/local-config": "true"}}}),
            json!({"kind": "Thing"}),
            json!({"kind": "Thing"}),
        ];
        assert_eq!(duplicates(&items), [(3, 4), (0, 5)]);
    }

    #[test]
    fn group_parsing() {
        assert_eq!(group_of("security.istio.io/v1beta1"), "security.istio.io");
        assert_eq!(group_of("v1"), "");
    }
}
