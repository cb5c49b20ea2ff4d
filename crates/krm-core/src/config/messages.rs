//! Config errors in the user's terms, not Rust's: serde says `invalid type: string "3306",
//! expected i64`, a platform engineer reads `expected a number, got the string "3306"`; a field
//! given at the wrong level (`secretName` at the top instead of under `credentials`) says where
//! it belongs, found in the config's JSON Schema.

use serde_json::Value;

use super::resolve;

/// Rewrites serde's message about the option at `path` (dotted, `.` for the top) for people;
/// `schema` is the config's JSON Schema, for suggestions.
pub(super) fn humanize(message: &str, path: &str, schema: &Value) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((got, expected)) = rest.split_once(", expected ") {
            let expected = match enum_values(schema, path) {
                Some(values) if expected == "string or map" => format!("one of {}", values.join(", ")),
                _ => expected_text(expected),
            };
            return format!("expected {expected}, got {}", got_text(got));
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        if let Some((got, expected)) = rest.split_once(", expected ") {
            return format!("expected {}, got {}", expected_text(expected), got_text(got));
        }
    }
    if let Some(name) = unknown_field(message) {
        let here = if path == "." { String::new() } else { path.to_string() };
        let elsewhere: Vec<String> = paths_of(schema, schema, name, "", 0).into_iter().filter(|p| *p != here).collect();
        if !elsewhere.is_empty() {
            return format!("{message} (`{name}` is an option at {})", elsewhere.join(", "));
        }
    }
    message.to_string()
}

/// The values of the enum option at `path` (`issuers[0].mode`: list indices step into `items`).
fn enum_values(schema: &Value, path: &str) -> Option<Vec<String>> {
    let mut node = resolve(schema, schema);
    for segment in path.split('.') {
        let (name, indexed) = match segment.split_once('[') {
            Some((name, _)) => (name, true),
            None => (segment, false),
        };
        node = resolve(schema, super::property(schema, node, name)?);
        if indexed {
            node = resolve(schema, node.get("items")?);
        }
    }
    let mut values = Vec::new();
    collect_enum(schema, node, &mut values);
    (!values.is_empty()).then_some(values)
}

fn collect_enum(root: &Value, node: &Value, out: &mut Vec<String>) {
    let node = resolve(root, node);
    if let Some(values) = node.get("enum").and_then(Value::as_array) {
        out.extend(values.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(v) = node.get("const").and_then(Value::as_str) {
        out.push(v.to_string());
    }
    for key in ["anyOf", "oneOf"] {
        for alt in node.get(key).and_then(Value::as_array).into_iter().flatten() {
            collect_enum(root, alt, out);
        }
    }
}

/// The field of serde's "unknown field `x`, expected ..." message.
fn unknown_field(message: &str) -> Option<&str> {
    message.strip_prefix("unknown field `")?.split_once('`').map(|(name, _)| name)
}

fn expected_text(expected: &str) -> String {
    match expected.trim() {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".into(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number, 0 or more".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list".into(),
        "a map" => "a mapping".into(),
        "a string" => "a string".into(),
        "string or map" => "one of the listed values".into(),
        e if e.starts_with("struct ") => "a mapping".into(),
        e => e.to_string(),
    }
}

fn got_text(got: &str) -> String {
    let got = got.trim();
    if let Some(text) = got.strip_prefix("string ") {
        return format!("the string {text}");
    }
    for (prefix, what) in [("boolean ", "the boolean"), ("integer ", "the number"), ("floating point ", "the number")] {
        if let Some(v) = got.strip_prefix(prefix) {
            return format!("{what} {}", v.trim_matches('`'));
        }
    }
    match got {
        "map" => "a mapping".into(),
        "sequence" => "a list".into(),
        "unit value" | "null" => "nothing (null)".into(),
        other => other.to_string(),
    }
}

/// The dotted paths in the schema at which an option `name` exists (lists as `[]`), nested at
/// most four levels deep.
fn paths_of(root: &Value, node: &Value, name: &str, prefix: &str, depth: usize) -> Vec<String> {
    let node = resolve(root, node);
    let mut out = Vec::new();
    if depth > 4 {
        return out;
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (key, child) in props {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            if key == name {
                out.push(path.clone());
            }
            out.extend(paths_of(root, child, name, &path, depth + 1));
        }
    }
    if let Some(items) = node.get("items") {
        out.extend(paths_of(root, items, name, &format!("{prefix}[]"), depth + 1));
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        for alt in node.get(key).and_then(Value::as_array).into_iter().flatten() {
            out.extend(paths_of(root, alt, name, prefix, depth));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_in_plain_words() {
        let schema = json!({});
        for (serde, want) in [
            ("invalid type: string \"3306\", expected i64", "expected a whole number, got the string \"3306\""),
            ("invalid type: string \"yes\", expected a boolean", "expected true or false, got the string \"yes\""),
            ("invalid type: string \"kubeflow\", expected a sequence", "expected a list, got the string \"kubeflow\""),
            ("invalid type: boolean `true`, expected string or map", "expected one of the listed values, got the boolean true"),
            ("invalid type: integer `5`, expected a string", "expected a string, got the number 5"),
            ("invalid type: map, expected a string", "expected a string, got a mapping"),
            ("invalid value: integer `-1`, expected u16", "expected a whole number, 0 or more, got the number -1"),
            ("unknown variant `ambiant`, expected one of `sidecar`, `ambient`", "unknown variant `ambiant`, expected one of `sidecar`, `ambient`"),
        ] {
            assert_eq!(humanize(serde, "x", &schema), want);
        }
    }

    #[test]
    fn a_field_at_the_wrong_level_says_where_it_belongs() {
        let schema = json!({
            "properties": {"host": {"type": "string"}, "credentials": {"$ref": "#/$defs/Creds"},
                           "issuers": {"type": "array", "items": {"properties": {"audiences": {}}}}},
            "$defs": {"Creds": {"properties": {"secretName": {"type": "string"}}}}
        });
        let m = "unknown field `secretName`, expected one of `host`, `credentials`";
        assert_eq!(humanize(m, "secretName", &schema), format!("{m} (`secretName` is an option at credentials.secretName)"));
        let m = "unknown field `audiences`, expected `host`";
        assert_eq!(humanize(m, "audiences", &schema), format!("{m} (`audiences` is an option at issuers[].audiences)"));
        let m = "unknown field `nothing`, expected `host`";
        assert_eq!(humanize(m, "nothing", &schema), m, "no suggestion where there is none");
    }
}
