//! The wire format: a `ResourceList` in, a `ResourceList` out.

use serde::Serialize;
use serde_json::{Map, Value};

use super::result::KrmResult;
use super::yaml::{self, YamlError};

/// The apiVersions of ResourceList that are accepted on input.
pub const API_VERSIONS: [&str; 3] =
    ["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1", "config.kubernetes.io/v1alpha1"];

/// The input could not be taken as a ResourceList.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The bytes are not UTF-8.
    #[error("input is not UTF-8 text (byte {0})")]
    NotUtf8(usize),
    /// Nothing on stdin.
    #[error("empty input: expected a ResourceList (kind: ResourceList, apiVersion: config.kubernetes.io/v1)")]
    Empty,
    /// Not YAML or JSON.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// YAML, but not a ResourceList.
    #[error("input is not a ResourceList: {0}")]
    NotResourceList(String),
}

/// A KRM ResourceList.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceList {
    /// Echoes the input's apiVersion.
    pub api_version: String,
    /// Always `ResourceList`.
    pub kind: String,
    /// The resources, each an ordered, untyped value.
    pub items: Vec<Value>,
    /// The function's configuration, passed through unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_config: Option<Value>,
    /// Results of this and earlier functions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<KrmResult>,
    /// Any other top-level field, kept as it came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ResourceList {
    /// A ResourceList holding `items`.
    pub fn new(items: Vec<Value>) -> Self {
        ResourceList {
            api_version: API_VERSIONS[0].to_string(),
            kind: "ResourceList".to_string(),
            items,
            function_config: None,
            results: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Reads a ResourceList from stdin's bytes (YAML or JSON).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ReadError> {
        let text = std::str::from_utf8(bytes).map_err(|e| ReadError::NotUtf8(e.valid_up_to()))?;
        if text.trim().is_empty() {
            return Err(ReadError::Empty);
        }
        Self::from_value(yaml::parse_resource_list(text)?)
    }

    /// Takes a parsed document as a ResourceList, checking its shape.
    pub fn from_value(value: Value) -> Result<Self, ReadError> {
        let Value::Object(mut map) = value else {
            return Err(ReadError::NotResourceList(format!(
                "the document is a {}, not a mapping",
                crate::object::type_name(&value)
            )));
        };
        let kind = take_string(&mut map, "kind");
        if kind.as_deref() != Some("ResourceList") {
            return Err(ReadError::NotResourceList(format!(
                "kind is {}, expected ResourceList",
                kind.map_or_else(|| "missing".to_string(), |k| format!("{k:?}"))
            )));
        }
        let api_version = take_string(&mut map, "apiVersion").unwrap_or_default();
        if !API_VERSIONS.contains(&api_version.as_str()) {
            return Err(ReadError::NotResourceList(format!(
                "apiVersion {api_version:?} is not one of {}",
                API_VERSIONS.join(", ")
            )));
        }
        let items = match map.shift_remove("items") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(ReadError::NotResourceList(format!(
                    "items is a {}, expected a list",
                    crate::object::type_name(&other)
                )));
            }
        };
        for (i, item) in items.iter().enumerate() {
            if !item.is_object() {
                return Err(ReadError::NotResourceList(format!(
                    "items[{i}] is a {}, expected a mapping (a Kubernetes object)",
                    crate::object::type_name(item)
                )));
            }
        }
        let function_config = match map.shift_remove("functionConfig") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        };
        let results = match map.shift_remove("results") {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => serde_json::from_value(v).map_err(|e| {
                ReadError::NotResourceList(format!("results cannot be read: {e}"))
            })?,
        };
        Ok(ResourceList { api_version, kind: "ResourceList".into(), items, function_config, results, extra: map })
    }

    /// Writes the ResourceList as YAML, its items on every core (the text is exactly what the
    /// serializer writes for the whole document).
    pub fn to_yaml(&self) -> Result<String, YamlError> {
        let shell = Shell {
            api_version: &self.api_version,
            kind: &self.kind,
            items: &[],
            function_config: self.function_config.as_ref(),
            results: &self.results,
            extra: &self.extra,
        };
        let text = yaml::to_yaml(&shell)?;
        if self.items.is_empty() {
            return Ok(text);
        }
        let items = yaml::split::emit_items(&self.items, |one| yaml::to_yaml(&one))?;
        let at = text.find("\nitems: []\n").ok_or_else(|| YamlError::Emit("no items in the ResourceList".into()))?;
        let mut out = String::with_capacity(text.len() + items.len());
        out.push_str(&text[..=at]);
        out.push_str(&items);
        out.push_str(&text[at + "\nitems: []\n".len()..]);
        Ok(out)
    }
}

/// The ResourceList as written, borrowing its parts (the items are emitted separately).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shell<'a> {
    api_version: &'a str,
    kind: &'a str,
    items: &'a [Value],
    #[serde(skip_serializing_if = "Option::is_none")]
    function_config: Option<&'a Value>,
    #[serde(skip_serializing_if = "<[KrmResult]>::is_empty")]
    results: &'a [KrmResult],
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

fn take_string(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    match map.shift_remove(key) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_three_api_versions() {
        for v in API_VERSIONS {
            let text = format!("apiVersion: {v}\nkind: ResourceList\nitems: []\n");
            let rl = ResourceList::from_bytes(text.as_bytes()).unwrap();
            assert_eq!(rl.api_version, v);
        }
    }

    #[test]
    fn refuses_other_kinds_and_shapes() {
        let cases = [
            ("apiVersion: v1\nkind: List\nitems: []\n", "kind is \"List\""),
            ("- a\n- b\n", "not a mapping"),
            ("apiVersion: config.kubernetes.io/v2\nkind: ResourceList\n", "apiVersion"),
            ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [1]\n", "items[0]"),
            ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: {}\n", "items is a mapping"),
        ];
        for (text, expected) in cases {
            let err = ResourceList::from_bytes(text.as_bytes()).unwrap_err().to_string();
            assert!(err.contains(expected), "{err} does not mention {expected}");
        }
        assert!(matches!(ResourceList::from_bytes(b"  \n"), Err(ReadError::Empty)));
        assert!(matches!(ResourceList::from_bytes(b"\xff\xfe"), Err(ReadError::NotUtf8(0))));
    }

    #[test]
    fn parallel_emit_equals_the_serializer() {
        let item = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "data": {"a": "line\n  indented\n", "b": " lead", "c": "", "d": "yes", "e": {}}, "f": [[1, [2]], []]});
        let rl = ResourceList::new(vec![item; 3]);
        let mut whole = String::new();
        serde_saphyr::to_fmt_writer(&mut whole, &rl).unwrap();
        assert_eq!(rl.to_yaml().unwrap(), whole);
        assert_eq!(ResourceList::new(vec![]).to_yaml().unwrap(), "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n");
    }

    #[test]
    fn keeps_unknown_top_level_fields_and_json_input() {
        let text = r#"{"apiVersion":"config.kubernetes.io/v1","kind":"ResourceList","items":[{"kind":"A"}],"x":1}"#;
        let rl = ResourceList::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(rl.extra.get("x"), Some(&Value::from(1)));
        assert!(rl.to_yaml().unwrap().contains("x: 1"));
    }
}
