//! functionConfig loading: strict typed kind or ConfigMap, then defaults, then validation.
//!
//! 1. The typed kind (`apiVersion: fn.kubeflow-krm.dev/v1alpha1`, options at the top level) is
//!    deserialized strictly: an unknown field is an error that names its path
//!    (`podSecurity.enforcee`). Defaults are serde defaults on the config type.
//! 2. A `ConfigMap` (kpt's `-- key=value`) gives the scalar options under the same names, with
//!    dots for nested ones (`database.usernameKey`). Its values are strings; each is converted to
//!    the option's type as the config's JSON Schema says (a list or map option is read as YAML).
//! 3. [`Validate::validate`] then checks what types cannot, each problem with its field path.

mod messages;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::result::KrmResult;
use crate::object;

/// The group/version of every functionConfig kind of this project.
pub const API_VERSION: &str = "fn.kubeflow-krm.dev/v1alpha1";

/// A problem found in a functionConfig, with the path of the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the field in the functionConfig (`issuers[0].audiences`).
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { path: path.into(), message: message.into() }
    }
}

/// Checks a loaded config for what its types cannot express.
pub trait Validate {
    /// Every problem found (empty: valid). Warnings are not errors: see [`Validate::warnings`].
    fn validate(&self) -> Vec<ConfigError>;
    /// Valid choices that deserve a warning result.
    fn warnings(&self) -> Vec<ConfigError> {
        Vec::new()
    }
}

/// Loads the config of `kind` from a functionConfig.
///
/// `default` is what a function does without a functionConfig; `None` makes that an error.
pub fn load<C>(kind: &str, function_config: Option<&Value>, default: Option<C>) -> Result<C, Vec<KrmResult>>
where
    C: DeserializeOwned + JsonSchema + Validate,
{
    let fc = function_config.filter(|v| !is_empty(v));
    let config = match fc {
        None => default.ok_or_else(|| {
            vec![KrmResult::error(format!(
                "missing functionConfig: expected kind {kind} (apiVersion {API_VERSION}) or a ConfigMap"
            ))]
        })?,
        Some(fc) => from_value::<C>(kind, fc).map_err(|e| vec![*e])?,
    };
    let errors = config.validate();
    if !errors.is_empty() {
        return Err(errors.into_iter().map(|e| to_result(fc, e)).collect());
    }
    Ok(config)
}

/// Warning results for a loaded config.
pub fn warnings<C: Validate>(config: &C, function_config: Option<&Value>) -> Vec<KrmResult> {
    config
        .warnings()
        .into_iter()
        .map(|w| {
            let mut r = to_result(function_config, w);
            r.severity = super::result::Severity::Warning;
            r
        })
        .collect()
}

fn to_result(fc: Option<&Value>, e: ConfigError) -> KrmResult {
    let r = KrmResult::error(e.message).at(e.path);
    match fc {
        Some(fc) if fc.is_object() => r.on(fc),
        _ => r,
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// Errors are boxed: a result is large and this is the cold path.
fn from_value<C: DeserializeOwned + JsonSchema>(kind: &str, fc: &Value) -> Result<C, Box<KrmResult>> {
    let Some(map) = fc.as_object() else {
        return Err(Box::new(KrmResult::error(format!(
            "functionConfig is a {}, expected a {kind} object",
            object::type_name(fc)
        ))));
    };
    let fc_kind = object::kind(fc);
    let fc_version = object::api_version(fc);
    let options = if fc_kind == kind {
        if fc_version != API_VERSION {
            return Err(Box::new(KrmResult::error(format!(
                "functionConfig {kind} has apiVersion {fc_version:?}, expected {API_VERSION}"
            ))
            .on(fc)
            .at("apiVersion")));
        }
        let mut options = map.clone();
        for key in ["apiVersion", "kind", "metadata"] {
            options.shift_remove(key);
        }
        Value::Object(options)
    } else if fc_kind == "ConfigMap" && fc_version == "v1" {
        configmap_options::<C>(fc)?
    } else {
        return Err(Box::new(KrmResult::error(format!(
            "functionConfig kind {fc_kind:?} ({fc_version}) is not {kind}: this function takes a {kind} or a ConfigMap"
        ))
        .on(fc)
        .at("kind")));
    };
    serde_path_to_error::deserialize::<_, C>(options).map_err(|e| {
        let path = e.path().to_string();
        let schema = schemars::schema_for!(C);
        let message = messages::humanize(&e.into_inner().to_string(), &path, schema.as_value());
        let r = KrmResult::error(message).on(fc);
        Box::new(if path == "." { r } else { r.at(path) })
    })
}

/// Turns `data` of a ConfigMap functionConfig into the options object of `C`.
fn configmap_options<C: JsonSchema>(fc: &Value) -> Result<Value, Box<KrmResult>> {
    let schema = schemars::schema_for!(C);
    let root = schema.as_value();
    let mut options = Map::new();
    let data = fc.get("data").and_then(Value::as_object).cloned().unwrap_or_default();
    for (key, raw) in data {
        let field = format!("data.{key}");
        let Value::String(text) = raw else {
            return Err(Box::new(KrmResult::error("ConfigMap data values must be strings").on(fc).at(field)));
        };
        let segments: Vec<&str> = key.split('.').collect();
        let types = option_types(root, &segments).ok_or_else(|| {
            Box::new(KrmResult::error(format!("unknown option {key:?}")).on(fc).at(field.clone()))
        })?;
        let value = coerce(&text, &types)
            .map_err(|m| Box::new(KrmResult::error(format!("option {key:?}: {m}")).on(fc).at(field.clone())))?;
        insert_path(&mut options, &segments, value);
    }
    Ok(Value::Object(options))
}

/// The JSON types an option at `path` accepts, per the schema (`None`: no such option).
fn option_types(root: &Value, path: &[&str]) -> Option<Vec<String>> {
    let mut node = resolve(root, root);
    for segment in path {
        node = resolve(root, property(root, node, segment)?);
    }
    let mut types = Vec::new();
    collect_types(root, node, &mut types);
    Some(types)
}

fn property<'a>(root: &'a Value, node: &'a Value, name: &str) -> Option<&'a Value> {
    if let Some(p) = node.get("properties").and_then(|p| p.get(name)) {
        return Some(p);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for alt in node.get(key).and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = property(root, resolve(root, alt), name) {
                return Some(p);
            }
        }
    }
    None
}

fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer))
            .map_or(node, |target| resolve(root, target)),
        None => node,
    }
}

fn collect_types(root: &Value, node: &Value, out: &mut Vec<String>) {
    let node = resolve(root, node);
    match node.get("type") {
        Some(Value::String(t)) => out.push(t.clone()),
        Some(Value::Array(ts)) => out.extend(ts.iter().filter_map(Value::as_str).map(str::to_string)),
        _ => {}
    }
    if node.get("enum").is_some() && node.get("type").is_none() {
        out.push("string".into());
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for alt in node.get(key).and_then(Value::as_array).into_iter().flatten() {
            collect_types(root, alt, out);
        }
    }
}

fn coerce(text: &str, types: &[String]) -> Result<Value, String> {
    let has = |t: &str| types.iter().any(|x| x == t);
    if has("string") {
        return Ok(Value::String(text.to_string()));
    }
    if has("boolean") {
        return match text {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{text:?} is not true or false")),
        };
    }
    if has("integer") {
        return text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{text:?} is not an integer"));
    }
    if has("number") {
        return text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("{text:?} is not a number"));
    }
    // Lists and maps: the value is YAML (`[a, b]`, `{k: v}`). A flow mapping looks like JSON to
    // the document reader, which reads `{...}` as JSON: read it as a nested YAML value then.
    match super::yaml::parse_document(text) {
        Err(e) if text.trim_start().starts_with('{') => {
            let nested: String = text.lines().map(|l| format!("  {l}\n")).collect();
            match super::yaml::parse_document(&format!("v:\n{nested}")) {
                Ok(Value::Object(mut m)) => Ok(m.shift_remove("v").unwrap_or(Value::Null)),
                _ => Err(e.to_string()),
            }
        }
        other => other.map_err(|e| e.to_string()),
    }
}

fn insert_path(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("a key has at least one segment");
    let mut current = map;
    for p in parents {
        let entry = current.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        current = entry.as_object_mut().expect("just made an object");
    }
    current.insert(last.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Inner {
        #[serde(default)]
        user_key: Option<String>,
        #[serde(default)]
        level: Option<Level>,
    }
    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Level {
        Low,
        High,
    }
    #[derive(Debug, Deserialize, JsonSchema, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Demo {
        name: String,
        #[serde(default)]
        port: Option<u16>,
        #[serde(default)]
        enabled: bool,
        #[serde(default)]
        list: Vec<String>,
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        labels: std::collections::BTreeMap<String, String>,
    }
    impl Validate for Demo {
        fn validate(&self) -> Vec<ConfigError> {
            if self.name.is_empty() { vec![ConfigError::new("name", "must not be empty")] } else { vec![] }
        }
    }

    fn typed(body: Value) -> Value {
        let mut v = json!({"apiVersion": API_VERSION, "kind": "Demo", "metadata": {"name": "x"}});
        v.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        v
    }

    #[test]
    fn typed_kind_loads() {
        let c: Demo = load("Demo", Some(&typed(json!({"name": "a", "port": 80}))), None).unwrap();
        assert_eq!(c.port, Some(80));
    }

    #[test]
    fn unknown_nested_field_names_its_path() {
        let fc = typed(json!({"name": "a", "inner": {"userKee": "x"}}));
        let err = load::<Demo>("Demo", Some(&fc), None).unwrap_err();
        assert_eq!(err[0].field.as_ref().unwrap().path, "inner.userKee");
        assert!(err[0].message.contains("unknown field `userKee`"), "{}", err[0].message);
        let fc = typed(json!({"name": "a", "inner": {"level": "mid"}}));
        let err = load::<Demo>("Demo", Some(&fc), None).unwrap_err();
        assert_eq!(err[0].field.as_ref().unwrap().path, "inner.level");
    }

    #[test]
    fn validation_errors_carry_the_path() {
        let err = load::<Demo>("Demo", Some(&typed(json!({"name": ""}))), None).unwrap_err();
        assert_eq!(err[0].field.as_ref().unwrap().path, "name");
    }

    #[test]
    fn configmap_options_are_coerced_by_schema() {
        let fc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {
            "name": "3306", "port": "8080", "enabled": "true", "list": "[a, b]", "inner.userKey": "true",
            "inner.level": "high"}});
        let c: Demo = load("Demo", Some(&fc), None).unwrap();
        assert_eq!(c.name, "3306");
        assert_eq!(c.port, Some(8080));
        assert!(c.enabled);
        assert_eq!(c.list, vec!["a", "b"]);
        assert_eq!(c.inner.unwrap(), Inner { user_key: Some("true".into()), level: Some(Level::High) });
        // A YAML flow mapping (not JSON), and JSON.
        for text in ["{example.com/role: arn:aws:iam::1:role/x}", r#"{"example.com/role": "arn:aws:iam::1:role/x"}"#] {
            let fc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"name": "a", "labels": text}});
            let c: Demo = load("Demo", Some(&fc), None).unwrap();
            assert_eq!(c.labels.get("example.com/role").map(String::as_str), Some("arn:aws:iam::1:role/x"), "{text}");
        }
        let fc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"name": "a", "labels": "{a: [}"}});
        assert!(load::<Demo>("Demo", Some(&fc), None).is_err());
    }

    #[test]
    fn configmap_errors() {
        let fc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"name": "a", "nope": "1"}});
        let err = load::<Demo>("Demo", Some(&fc), None).unwrap_err();
        assert_eq!(err[0].field.as_ref().unwrap().path, "data.nope");
        let fc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"name": "a", "enabled": "yes"}});
        let err = load::<Demo>("Demo", Some(&fc), None).unwrap_err();
        assert!(err[0].message.contains("not true or false"));
    }

    #[test]
    fn missing_and_wrong_kind() {
        let err = load::<Demo>("Demo", None, None).unwrap_err();
        assert!(err[0].message.contains("missing functionConfig"));
        let fc = json!({"apiVersion": API_VERSION, "kind": "Other"});
        let err = load::<Demo>("Demo", Some(&fc), None).unwrap_err();
        assert!(err[0].message.contains("is not Demo"));
        let fc = json!({"apiVersion": "fn.kubeflow-krm.dev/v2", "kind": "Demo", "name": "a"});
        let err = load::<Demo>("Demo", Some(&fc), None).unwrap_err();
        assert_eq!(err[0].field.as_ref().unwrap().path, "apiVersion");
    }
}
