//! YAML reading and writing that is exact under YAML 1.1.
//!
//! Kustomize, kubectl, Flux and Argo CD read YAML the way go-yaml does, close to YAML 1.1: a plain
//! `yes`, `on`, `0755` or `2024-01-01` is a bool, a number or a timestamp there. A function that
//! reads `"on"` (a string) and writes it back plain has silently changed the object. This module is
//! the one place where bytes become values and values become bytes, so that rule is enforced once.
//!
//! # Why serde-saphyr writes (measured, see `../shared/yaml-notes.md` and `tests/corpus/test_yaml_fidelity.py`)
//!
//! On the 12 MB Kubeflow corpus and 114 adversarial strings (each as value, list item and key),
//! serde-saphyr 2.2 was the only Rust emitter with zero differences when both sides are read back
//! with PyYAML (YAML 1.1). The serde_yaml family (serde_yaml 0.9, serde_yaml_ng, serde_norway,
//! yaml_serde) writes `yes`, `on`, `y`, dates and timestamps plain; on the corpus it turns the CRD
//! default `"1970-01-01T00:00:00Z"` into a timestamp. It also prints floats as `1e20`, a string to
//! YAML 1.1 readers. saphyr and yaml-rust2 leave `y`/`n`, `1_000`, `0b101` and dates plain and
//! write control characters raw.
//!
//! # Reading: [`reader`], which reads exactly what serde-saphyr reads
//!
//! What is read is defined by serde-saphyr's deserializer with these settings, chosen to read
//! exactly as kustomize (go-yaml v3) does:
//! - `strict_booleans`: only `true`/`false` are booleans, so `yes` stays the string `"yes"`;
//! - `legacy_octal_numbers`: `0644` is 420, as in go-yaml and kubectl (`defaultMode: 0644`);
//! - a raised [`Budget`]: the defaults (250k nodes, depth 64, 1,024 documents) reject a full
//!   Kubeflow render (340k nodes in one ResourceList); the limits below still refuse alias bombs
//!   (alias/anchor ratio) and absurd nesting quickly with a clear error.
//! - non-finite floats (`.inf`, `.nan`) stay rejected: JSON cannot carry them and kustomize fails
//!   on them too.
//!
//! The text is read by [`reader`], which drives serde-saphyr's own parser (`granit_parser`)
//! and builds the values itself, reading exactly what serde-saphyr reads with these settings
//! (checked by its differential tests, corpus included) in about half the time: serde-saphyr's
//! Serde layer cost more than the parsing (0.31 s against 0.16 s single-threaded for the corpus
//! as one ResourceList; see the module docs there). [`parse_document_serde_saphyr`] keeps the
//! serde-saphyr reader as the tests' oracle.
//!
//! # Writing: serde-saphyr
//!
//! Writer settings: the defaults (YAML 1.1 quoting on; never `yaml_12`), with folding of long
//! single-line strings switched off so that long descriptions are not rewritten as `>` blocks.

use serde_json::Value;
use serde_saphyr::{Budget, Options};

pub mod reader;
pub mod split;
mod write;

/// A YAML document could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The input is not valid YAML (or exceeds a safety limit).
    #[error("invalid YAML: {0}")]
    Parse(String),
    /// The input is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A value could not be written as YAML.
    #[error("cannot write YAML: {0}")]
    Emit(String),
}

pub use reader::limits::MAX_DEPTH;
pub use write::{scalar, to_yaml, to_yaml_stream};

fn reader_options() -> Options {
    let mut budget = Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = 200_000_000;
    budget.max_events = 400_000_000;
    budget.max_documents = 10_000_000;
    budget.max_total_scalar_bytes = 4 << 30;
    budget.max_reader_input_bytes = None;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.strict_booleans = true;
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    options
}

/// Strips a byte-order mark, which some editors put in front of YAML files.
fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// True when the text is a JSON document rather than YAML (kpt and some tools send JSON).
fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Reads one document (YAML or JSON) into a value. An empty document is `null`.
pub fn parse_document(text: &str) -> Result<Value, YamlError> {
    let text = strip_bom(text);
    if looks_like_json(text) {
        return Ok(serde_json::from_str(text)?);
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    reader::read_document(text).map_err(read_error)
}

fn read_error(e: reader::ReadError) -> YamlError {
    YamlError::Parse(one_line(&e.to_string()))
}

/// The previous reader, serde-saphyr's deserializer with the settings above, over one document.
/// Not used to read input: it is the oracle of the differential tests of [`reader`] and
/// the "before" of `examples/read_timing.rs`.
#[doc(hidden)]
pub fn parse_document_serde_saphyr(text: &str) -> Result<Value, YamlError> {
    serde_saphyr::from_str_with_options(text, reader_options()).map_err(|e| YamlError::Parse(one_line(&e.to_string())))
}

/// The previous reader over a stream (null documents dropped); see [`parse_document_serde_saphyr`].
#[doc(hidden)]
pub fn parse_stream_serde_saphyr(text: &str) -> Result<Vec<Value>, YamlError> {
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, reader_options())
        .map_err(|e| YamlError::Parse(one_line(&e.to_string())))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Reads a ResourceList document, parsing its items on every core when the text allows it
/// (see [`split`]); otherwise exactly [`parse_document`].
pub fn parse_resource_list(text: &str) -> Result<Value, YamlError> {
    let text = strip_bom(text);
    if !looks_like_json(text) && text.len() >= split::MIN_PARALLEL_BYTES {
        if let Some(value) = parse_resource_list_split(text) {
            return Ok(value);
        }
    }
    parse_document(text)
}

/// The split read of [`parse_resource_list`] at any size: `None` when the text does not have the
/// plain shape or an item does not read on its own. Where it gives a value, that value must be
/// exactly what [`parse_document`] reads (checked by the fuzz target `resource_list`).
#[doc(hidden)]
pub fn parse_resource_list_split(text: &str) -> Option<Value> {
    let split = split::split_items(text)?;
    // Each item text is a one-entry list (`- ...`).
    let items = split::map(&split.items, |t| t.len(), |entry| match parse_document(entry) {
        Ok(Value::Array(mut list)) if list.len() == 1 => Ok(list.pop().expect("one entry")),
        Ok(_) => Err(YamlError::Parse("an item did not read as one list entry".into())),
        Err(e) => Err(e),
    });
    let (Ok(Value::Object(mut shell)), Ok(items)) =
        (parse_document(&split.shell), items.into_iter().collect::<Result<Vec<_>, _>>())
    else {
        return None;
    };
    if !shell.get("items").is_some_and(|i| i.as_array().is_some_and(Vec::is_empty)) {
        return None;
    }
    shell.insert("items".into(), Value::Array(items));
    Some(Value::Object(shell))
}

/// Reads a multi-document YAML stream (or one JSON document). Empty documents are dropped.
pub fn parse_stream(text: &str) -> Result<Vec<Value>, YamlError> {
    let text = strip_bom(text);
    if looks_like_json(text) {
        return Ok(vec![serde_json::from_str(text)?]);
    }
    if text.len() >= split::MIN_PARALLEL_BYTES {
        if let Some(values) = parse_stream_split(text) {
            return Ok(values);
        }
    }
    reader::read_stream(text).map_err(read_error)
}

/// The split read of [`parse_stream`] at any size (`None` when it does not apply); where it gives
/// values, they must be exactly what the whole-stream read gives (fuzz target `resource_list`).
#[doc(hidden)]
pub fn parse_stream_split(text: &str) -> Option<Vec<Value>> {
    let docs = split::split_stream(text)?;
    let parsed = split::map(&docs, |d| d.len(), |doc| parse_document(doc));
    let values = parsed.into_iter().collect::<Result<Vec<_>, _>>().ok()?;
    Some(values.into_iter().filter(|d| !d.is_null()).collect())
}

/// Error messages from the parser can span lines (snippets); results and stderr want one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_looking_strings_stay_strings() {
        for s in [
            "yes", "on", "y", "N", "0755", "1e3", "~", "2024-01-01", "0x1F", ".inf", "", " lead",
            "1:20", "=", "<<", "true", "null", "3306", "1.0", "-1",
        ] {
            let out = to_yaml(&json!({ "k": s, s: 1 })).unwrap();
            let back = parse_document(&out).unwrap();
            assert_eq!(back, json!({ "k": s, s: 1 }), "{s:?} came back changed from {out}");
        }
    }

    #[test]
    fn reads_like_kustomize() {
        let v = parse_document("a: yes\nb: 0644\nc: on\nd: 2024-01-01\ne: 1.0\n").unwrap();
        assert_eq!(v, json!({"a": "yes", "b": 420, "c": "on", "d": "2024-01-01", "e": 1.0}));
    }

    #[test]
    fn block_scalars_round_trip() {
        for s in ["a\nb\n", "a\nb", "a\n\n\n", "  indented\nnext\n", "x\r\ny"] {
            let out = to_yaml(&json!({ "k": s })).unwrap();
            assert_eq!(parse_document(&out).unwrap(), json!({ "k": s }), "{out}");
        }
    }

    #[test]
    fn big_integers_and_floats() {
        let v = json!({"big": u64::MAX, "neg": i64::MIN, "f": 1e20, "half": 0.5});
        let out = to_yaml(&v).unwrap();
        assert_eq!(parse_document(&out).unwrap(), v);
        assert!(out.contains("1.0e+20"), "{out}");
    }

    #[test]
    fn scalar_quotes_ambiguous_values() {
        assert_eq!(scalar("enabled").unwrap(), "enabled");
        assert_ne!(scalar("true").unwrap(), "true");
        assert_ne!(scalar("").unwrap(), "");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(10_000) + &"]".repeat(10_000);
        assert!(parse_document(&text).is_err());
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..30 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        assert!(parse_document(&text).is_err());
    }
}
