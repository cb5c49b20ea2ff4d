//! Writing: serde-saphyr with the settings of the module docs, items on every core.

use serde::Serialize;
use serde_json::Value;
use serde_saphyr::SerializerOptions;

use super::YamlError;
use super::split;

fn writer_options() -> SerializerOptions {
    let mut options = SerializerOptions::default();
    // Keep long single-line strings as they are (plain or quoted) instead of folding them.
    options.folded_wrap_chars = usize::MAX;
    options
}

/// Writes one value as a YAML document (no leading `---`, one trailing newline).
pub fn to_yaml<T: Serialize>(value: &T) -> Result<String, YamlError> {
    let mut out = String::new();
    serde_saphyr::to_fmt_writer_with_options(&mut out, value, writer_options())
        .map_err(|e| YamlError::Emit(e.to_string()))?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Writes values as a multi-document stream separated by `---` lines (on every core).
pub fn to_yaml_stream(values: &[Value]) -> Result<String, YamlError> {
    let texts = split::map(values, |_| 1, to_yaml);
    let mut out = String::with_capacity(texts.iter().map(|t| t.as_ref().map_or(0, String::len) + 4).sum());
    for (i, text) in texts.into_iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&text?);
    }
    Ok(out)
}

/// Renders one string as a YAML scalar exactly as [`to_yaml`] would (quoted when a YAML 1.1
/// reader would otherwise take it for another type). Single-line strings only.
pub fn scalar(value: &str) -> Result<String, YamlError> {
    if value.contains('\n') {
        return Err(YamlError::Emit("a multi-line string is not a scalar".into()));
    }
    let text = to_yaml(&value)?;
    Ok(text.trim_end_matches('\n').to_string())
}
