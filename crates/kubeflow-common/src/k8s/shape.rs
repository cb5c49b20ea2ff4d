//! The shapes of the fields the functions edit, checked before any edit.
//!
//! A function that must rewire a Deployment whose `env` is a string (or a ConfigMap whose
//! `data` is a list) cannot do its job there, and skipping it silently, or with a warning, leaves
//! a credential or an endpoint unchanged while the run succeeds. Such an object is not valid
//! Kubernetes either (the API server rejects it), so it is an error naming the resource and the
//! field path, and the function changes nothing. `null` counts as absent, as it does for the API
//! server.

use serde_json::Value;

use krm_core::{FieldPath, KrmResult};

use super::object;
use super::pod;

/// What a value is, for an error.
fn what(v: &Value) -> &'static str {
    object::type_name(v)
}

fn wrong(item: &Value, path: &FieldPath, v: &Value, expected: &str) -> KrmResult {
    KrmResult::error(format!("is {} {}, expected {expected}: the object is not valid Kubernetes and cannot be edited", article(what(v)), what(v)))
        .on(item)
        .at(path.to_string())
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

/// The errors of [`pod_template_errors`] and [`data_errors`]: what centralize-credentials,
/// external-database and external-object-store check before they edit anything (they rewire
/// env, args and the data of ConfigMaps and Secrets).
pub fn input_errors(items: &[Value]) -> Vec<KrmResult> {
    let mut errors = pod_template_errors(items);
    errors.extend(data_errors(items));
    errors
}

/// Errors for every workload whose pod template, containers, `env`, `envFrom`, `args` or
/// `command` do not have the shape Kubernetes defines (local-config items are left alone).
pub fn pod_template_errors(items: &[Value]) -> Vec<KrmResult> {
    let mut errors = Vec::new();
    for (_, item) in object::deployable(items) {
        let Some(keys) = pod::template_path(object::kind(item)) else { continue };
        let keys = keys.iter().copied().chain(["spec"]);
        let Some((spec, spec_path)) = mapping_at(item, keys, &mut errors) else { continue };
        for list in ["containers", "initContainers"] {
            let containers = match spec.get(list) {
                None | Some(Value::Null) => continue,
                Some(Value::Array(c)) => c,
                Some(other) => {
                    errors.push(wrong(item, &spec_path.key(list), other, "a list"));
                    continue;
                }
            };
            for (i, c) in containers.iter().enumerate() {
                let name = c.get("name").and_then(Value::as_str);
                let cpath = spec_path.key(list).entry(name, i);
                let Some(c) = c.as_object() else {
                    errors.push(wrong(item, &cpath, c, "a mapping"));
                    continue;
                };
                for (field, entries) in [("env", "a mapping"), ("envFrom", "a mapping"), ("args", "a string"), ("command", "a string")] {
                    match c.get(field) {
                        None | Some(Value::Null) => {}
                        Some(Value::Array(list)) => {
                            for (j, e) in list.iter().enumerate() {
                                let fine = if entries == "a string" { e.is_string() } else { e.is_object() };
                                if !fine {
                                    let epath = cpath.key(field).entry(e.get("name").and_then(Value::as_str), j);
                                    errors.push(wrong(item, &epath, e, entries));
                                }
                            }
                        }
                        Some(other) => errors.push(wrong(item, &cpath.key(field), other, "a list")),
                    }
                }
            }
        }
    }
    errors
}

/// The mapping at `keys` under `item`, with its path; `None` where a level is absent or null, or
/// not a mapping (an error then).
fn mapping_at<'v>(item: &'v Value, keys: impl Iterator<Item = &'static str>, errors: &mut Vec<KrmResult>) -> Option<(&'v Value, FieldPath)> {
    let mut v = item;
    let mut path = FieldPath::root();
    for k in keys {
        let next = v.get(k).filter(|n| !n.is_null())?;
        path = path.key(k);
        if !next.is_object() {
            errors.push(wrong(item, &path, next, "a mapping"));
            return None;
        }
        v = next;
    }
    Some((v, path))
}

/// Errors for every ConfigMap and Secret whose `data` (and `stringData`, `binaryData`) is not a
/// mapping of strings.
pub fn data_errors(items: &[Value]) -> Vec<KrmResult> {
    let mut errors = Vec::new();
    for (_, item) in object::deployable(items) {
        if !object::group(item).is_empty() || !["ConfigMap", "Secret"].contains(&object::kind(item)) {
            continue;
        }
        for field in ["data", "stringData", "binaryData"] {
            let path = FieldPath::root().key(field);
            match item.get(field) {
                None | Some(Value::Null) => {}
                Some(Value::Object(map)) => {
                    for (k, v) in map {
                        if !v.is_string() && !v.is_null() {
                            errors.push(wrong(item, &path.key(k), v, "a string"));
                        }
                    }
                }
                Some(other) => errors.push(wrong(item, &path, other, "a mapping")),
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "kubeflow"}, "spec": spec})
    }

    #[test]
    fn wrong_shapes_are_errors_naming_the_field() {
        let c = |c: Value| deployment(json!({"template": {"spec": {"containers": [c]}}}));
        let cases = [
            (c(json!({"name": "api", "env": "DB=1"})), "spec.template.spec.containers[name=api].env", "is a string, expected a list"),
            (c(json!({"name": "api", "env": [1]})), "spec.template.spec.containers[name=api].env[0]", "is a number, expected a mapping"),
            (c(json!({"name": "api", "args": [1, "--x"]})), "spec.template.spec.containers[name=api].args[0]", "is a number, expected a string"),
            (c(json!({"name": "api", "envFrom": {"secretRef": "x"}})), "spec.template.spec.containers[name=api].envFrom", "is a mapping, expected a list"),
            (deployment(json!({"template": {"spec": {"containers": "x"}}})), "spec.template.spec.containers", "is a string, expected a list"),
            (deployment(json!({"template": 5})), "spec.template", "is a number, expected a mapping"),
            (deployment(json!("spec")), "spec", "is a string, expected a mapping"),
        ];
        for (item, path, message) in cases {
            let errors = pod_template_errors(&[item]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].field.as_ref().unwrap().path, path);
            assert!(errors[0].message.starts_with(message), "{}", errors[0].message);
        }
        let fine = [deployment(json!({"template": {"spec": {"containers": null}}})), c(json!({"name": "api", "env": [{"name": "A", "value": "1"}], "args": ["--x"]}))];
        assert!(pod_template_errors(&fine).is_empty());
    }

    #[test]
    fn data_must_be_a_mapping_of_strings() {
        let cm = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data});
        assert_eq!(data_errors(&[cm(json!(["x"]))])[0].field.as_ref().unwrap().path, "data");
        assert_eq!(data_errors(&[cm(json!({"dbHost": 5}))])[0].field.as_ref().unwrap().path, "data.dbHost");
        assert!(data_errors(&[cm(json!({"a": "1"}))]).is_empty());
        let local = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "annotations": {"config.kubernetes.io/local-config": "true"}}, "data": 5});
        assert!(data_errors(&[local]).is_empty(), "local config is never touched");
    }
}
