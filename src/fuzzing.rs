//! The properties the fuzz targets check, in one place so that the regression tests check the
//! same ones.
//!
//! `fuzz/` (a `cargo fuzz` crate, run by `fuzz/run.sh`, not in every CI run) has one libFuzzer
//! target per entry of [`TARGETS`]; each passes its input to [`check`]. `tests/fuzz.rs` passes
//! every input kept under `fuzz/corpus/` and every crash kept under `fuzz/regressions/` to the
//! same function, so a crash the fuzzer found stays fixed.
//!
//! A violated property panics with a message saying which one: libFuzzer reports a panic as a
//! crash and keeps the input.
//!
//! The properties, over arbitrary bytes:
//! - `yaml_reader`: [`crate::krm::reader`] reads exactly what serde-saphyr reads (values, or an
//!   error on both sides), for one document and for a stream; what is read writes back and reads
//!   back equal, and writing is stable (the second write is the first).
//! - `resource_list`: a ResourceList that reads writes back and reads back equal, items,
//!   functionConfig, results and other fields; the split reads of large inputs
//!   ([`yaml::parse_resource_list_split`], [`yaml::parse_stream_split`]), forced at any size,
//!   read exactly what the whole-document reads give.
//! - one target per function (`centralize_credentials`, ...): the input runs through the function
//!   as the process does ([`function::run_with`], the items restored by reading the input again).
//!   No panic (no "internal error" result); on an error result, the items come out as they went
//!   in; otherwise the output writes and reads back equal, a second run over it changes nothing
//!   and gives no error, and no result names the value of a Secret in the input.

use serde_json::Value;

use crate::functions;
use crate::krm::result::has_errors;
use crate::krm::{DynFunction, ResourceList, function, reader, yaml};

/// The fuzz targets, by name: the two readers, then one per function (its name with `_`).
pub const TARGETS: &[&str] = &[
    "yaml_reader",
    "resource_list",
    "centralize_credentials",
    "external_database",
    "external_object_store",
    "istio_injection",
    "add_request_authentication",
];

/// Inputs longer than this are skipped (the fuzz scripts cap inputs below it; the regression
/// tests keep the checks fast in a debug build).
pub const MAX_INPUT: usize = 256 * 1024;

/// Checks the properties of `target` over `data`; panics, naming the property, if one fails.
pub fn check(target: &str, data: &[u8]) {
    if data.len() > MAX_INPUT {
        return;
    }
    match target {
        "yaml_reader" => check_reader(data),
        "resource_list" => check_resource_list(data),
        other => {
            let f = functions::ALL
                .iter()
                .find(|f| f.name().replace('-', "_") == other)
                .unwrap_or_else(|| panic!("no fuzz target {other:?}: one of {TARGETS:?}"));
            check_function(*f, data);
        }
    }
}

/// Compact JSON: the exact comparison of two values (key order and number types included).
fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("a value always serializes to JSON")
}

fn check_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let new = reader::read_document(text).map(|v| json(&v));
    let old = yaml::parse_document_serde_saphyr(text).map(|v| json(&v));
    match (&new, &old) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the reader and serde-saphyr read different values"),
        (Err(_), Err(_)) => {}
        _ => panic!("only one reader accepts the document:\n  reader:       {new:?}\n  serde-saphyr: {old:?}"),
    }
    let new = reader::read_stream(text).map(|v| json(&v));
    let old = yaml::parse_stream_serde_saphyr(text).map(|v| json(&v));
    match (&new, &old) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the reader and serde-saphyr read different streams"),
        (Err(_), Err(_)) => {}
        _ => panic!("only one reader accepts the stream:\n  reader:       {new:?}\n  serde-saphyr: {old:?}"),
    }
    if let Ok(value) = reader::read_document(text) {
        round_trip(&value);
    }
}

/// A value writes, reads back equal, and writes again identically.
fn round_trip(value: &Value) {
    let written = yaml::to_yaml(value).unwrap_or_else(|e| panic!("a value read cannot be written: {e}"));
    let again = yaml::parse_document(&written).unwrap_or_else(|e| panic!("written YAML does not read back: {e}\n{written}"));
    assert_eq!(json(value), json(&again), "written YAML reads back as another value:\n{written}");
    let rewritten = yaml::to_yaml(&again).expect("it was written once");
    assert_eq!(written, rewritten, "writing is not stable");
}

fn check_resource_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(split) = yaml::parse_resource_list_split(text) {
        let whole = yaml::parse_document(text).map(|v| json(&v));
        assert_eq!(whole.as_ref().ok(), Some(&json(&split)), "the split read differs from the whole read ({whole:?})");
    }
    if let Some(split) = yaml::parse_stream_split(text) {
        let whole = reader::read_stream(text).map(|v| json(&v));
        assert_eq!(whole.as_ref().ok(), Some(&json(&split)), "the split stream read differs from the whole read ({whole:?})");
    }
    let Ok(rl) = ResourceList::from_bytes(data) else { return };
    let out = rl.to_yaml().unwrap_or_else(|e| panic!("a ResourceList read cannot be written: {e}"));
    let back = ResourceList::from_bytes(out.as_bytes()).unwrap_or_else(|e| panic!("the written ResourceList does not read back: {e}\n{out}"));
    assert_eq!(json(&rl), json(&back), "the written ResourceList reads back different:\n{out}");
    assert_eq!(out, back.to_yaml().expect("it was written once"), "writing a ResourceList is not stable");
}

fn check_function(f: &dyn DynFunction, data: &[u8]) {
    let Ok(mut rl) = ResourceList::from_bytes(data) else { return };
    let before = json(&rl.items);
    let secrets = secret_values(&rl);
    let results = function::run_with(f, &mut rl, || ResourceList::from_bytes(data).map(|again| again.items).unwrap_or_default());
    if let Some(bug) = results.iter().find(|r| r.message.starts_with("internal error")) {
        panic!("{}: {}", f.name(), bug.message);
    }
    let said = json(&results);
    for secret in &secrets {
        assert!(!said.contains(secret.as_str()), "{}: a result shows the value of a Secret", f.name());
    }
    if has_errors(&results) {
        assert_eq!(before, json(&rl.items), "{}: an error result, but the items changed", f.name());
        return;
    }
    let out = rl.to_yaml().unwrap_or_else(|e| panic!("{}: the output cannot be written: {e}", f.name()));
    let mut again = ResourceList::from_bytes(out.as_bytes()).unwrap_or_else(|e| panic!("{}: the output does not read back: {e}", f.name()));
    let first = json(&rl.items);
    assert_eq!(first, json(&again.items), "{}: the output reads back different", f.name());
    let results = function::run(f, &mut again);
    assert!(!has_errors(&results), "{}: the second run over the output fails: {results:?}", f.name());
    assert_eq!(first, json(&again.items), "{}: a second run changes the output (not idempotent)", f.name());
}

/// The values of the input's Secrets (`stringData`, and `data` decoded) that a result could show
/// without it being a coincidence: 8 characters or more, and nowhere in the input outside
/// Secret values (a password that is also a namespace name may be named as the namespace).
fn secret_values(rl: &ResourceList) -> Vec<String> {
    let mut values = Vec::new();
    let mut public = rl.clone();
    for item in public.items.iter_mut().filter(|i| i.get("kind").and_then(Value::as_str) == Some("Secret")) {
        let Some(obj) = item.as_object_mut() else { continue };
        for field in ["data", "stringData"] {
            if let Some(Value::Object(map)) = obj.get_mut(field) {
                for v in map.values_mut() {
                    if let Some(s) = v.as_str() {
                        let decoded = if field == "data" { base64_decode(s) } else { Some(s.to_string()) };
                        values.extend(decoded.filter(|d| d.chars().count() >= 8));
                    }
                    *v = Value::Null;
                }
            }
        }
    }
    let public = json(&public);
    values.retain(|v| !public.contains(json(v).trim_matches('"')));
    values
}

/// Standard base64 (as a Secret's `data` holds it) to UTF-8 text; `None` if it is not that.
fn base64_decode(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_a_secret_value() {
        assert_eq!(base64_decode("bWluaW8xMjM=").as_deref(), Some("minio123"));
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn every_target_is_known() {
        for target in TARGETS {
            check(target, b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n");
        }
    }

    #[test]
    #[should_panic(expected = "no fuzz target")]
    fn an_unknown_target_is_refused() {
        check("nope", b"");
    }

    #[test]
    fn a_leaked_secret_value_is_caught() {
        let rl = ResourceList::new(vec![serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"password": "bWluaW8xMjM="}, "stringData": {"user": "kubeflow", "token": "long-token-value"},
        })]);
        // "kubeflow" is 8 characters and only a Secret value here, so it counts.
        assert_eq!(secret_values(&rl), ["minio123", "kubeflow", "long-token-value"]);
        let mut named = rl.clone();
        named.items[0]["metadata"]["namespace"] = "kubeflow".into();
        assert_eq!(secret_values(&named), ["minio123", "long-token-value"], "a value also used as a name is not secret");
    }
}
