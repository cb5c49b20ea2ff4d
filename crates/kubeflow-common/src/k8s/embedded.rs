//! Line-preserving edits of a YAML document held in a string (a ConfigMap value such as
//! `namespace-labels.yaml` or Argo's `artifactRepository`).
//!
//! Those documents carry comments that users and upstream rely on, and a re-emit would drop them
//! and restyle every line. So edits are made on the lines: a scalar value is replaced in place
//! (keeping its quote style and any trailing comment), a new key is added after the last line of
//! its block in the style of its siblings, a removed key takes its nested lines with it.
//!
//! Every edit is mirrored on the parsed value, and [`Doc::finish`] parses the edited text and
//! checks that it reads back as exactly that value. A document the line editor cannot handle
//! (flow collections spanning lines, anchors...) is detected there instead of being corrupted.

use serde_json::{Map, Value};

use krm_core::yaml;

/// An embedded document could not be edited.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmbeddedError {
    /// The text is not YAML, or not a mapping.
    #[error("embedded document is not a YAML mapping: {0}")]
    NotAMap(String),
    /// The path runs through a value that is not a mapping.
    #[error("{0} is not a mapping")]
    NotAMapAt(String),
    /// The edit cannot be made line by line (the caller may re-emit the whole document).
    #[error("cannot edit the document line by line: {0}")]
    Unsupported(String),
}

#[derive(Debug, Clone)]
struct KeyLine {
    indent: usize,
    key: String,
    /// Byte range of the inline value in the line (empty range: no inline value).
    value: std::ops::Range<usize>,
    style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Double,
    Single,
    Block,
    None,
}

/// A YAML mapping document being edited line by line.
#[derive(Debug, Clone)]
pub struct Doc {
    lines: Vec<String>,
    trailing_newline: bool,
    expected: Value,
    original: String,
}

impl Doc {
    /// Parses the document (an empty document is an empty mapping).
    pub fn parse(text: &str) -> Result<Doc, EmbeddedError> {
        let value = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            match yaml::parse_document(text) {
                Ok(v @ Value::Object(_)) => v,
                Ok(Value::Null) => Value::Object(Map::new()),
                Ok(other) => return Err(EmbeddedError::NotAMap(format!("it is a {}", krm_core::object::type_name(&other)))),
                Err(e) => return Err(EmbeddedError::NotAMap(e.to_string())),
            }
        };
        Ok(Doc {
            lines: text.lines().map(str::to_string).collect(),
            trailing_newline: text.ends_with('\n') || text.is_empty(),
            expected: value,
            original: text.to_string(),
        })
    }

    /// The document's current value.
    pub fn value(&self) -> &Value {
        &self.expected
    }

    /// The value at a path of keys.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(&self.expected, |v, k| v.get(k))
    }

    /// Sets the scalar at `path` (creating missing parent mappings). Returns true if it changed.
    pub fn set(&mut self, path: &[&str], value: &Value) -> Result<bool, EmbeddedError> {
        if self.get(path) == Some(value) {
            return Ok(false);
        }
        self.set_lines(path, value)?;
        set_value(&mut self.expected, path, value.clone())?;
        Ok(true)
    }

    /// Removes the key at `path` with everything below it. Returns true if it existed.
    pub fn remove(&mut self, path: &[&str]) -> Result<bool, EmbeddedError> {
        if self.get(path).is_none() {
            return Ok(false);
        }
        let (line, _) = self.find(path).ok_or_else(|| unsupported(path, "key not found on its own line"))?;
        let end = self.block_end(line);
        self.lines.drain(line..end);
        let (last, parents) = path.split_last().expect("non-empty path");
        let parent = parents.iter().try_fold(&mut self.expected, |v, k| v.get_mut(*k));
        if let Some(Value::Object(m)) = parent {
            m.shift_remove(*last);
        }
        Ok(true)
    }

    /// The edited text, checked to read back as the edited value.
    pub fn finish(self) -> Result<String, EmbeddedError> {
        let mut text = self.lines.join("\n");
        if self.trailing_newline && !self.lines.is_empty() {
            text.push('\n');
        }
        if text == self.original {
            return Ok(text);
        }
        let back = if text.trim().is_empty() {
            Value::Object(Map::new())
        } else {
            yaml::parse_document(&text).map_err(|e| EmbeddedError::Unsupported(e.to_string()))?
        };
        if back != self.expected {
            return Err(EmbeddedError::Unsupported("the edited text does not read back as intended".into()));
        }
        Ok(text)
    }

    /// The edited value written as a fresh document (comments and styles are lost): the fallback
    /// for documents [`Doc::finish`] refuses.
    pub fn reemit(&self) -> Result<String, EmbeddedError> {
        yaml::to_yaml(&self.expected).map_err(|e| EmbeddedError::Unsupported(e.to_string()))
    }

    fn set_lines(&mut self, path: &[&str], value: &Value) -> Result<(), EmbeddedError> {
        if let Some((line, kl)) = self.find(path) {
            let rendered = render(value, kl.style)?;
            match kl.style {
                Style::Block => return Err(unsupported(path, "the value is a block scalar")),
                Style::None if self.block_end(line) > line + 1 => {
                    return Err(EmbeddedError::NotAMapAt(path.join(".")));
                }
                _ => {}
            }
            let old = &self.lines[line];
            let new = if kl.value.is_empty() {
                let head = &old[..kl.value.start];
                let sep = if head.ends_with(' ') { "" } else { " " };
                format!("{head}{sep}{rendered}{}", comment_after(old, kl.value.end))
            } else {
                format!("{}{rendered}{}", &old[..kl.value.start], &old[kl.value.end..])
            };
            self.lines[line] = new;
            return Ok(());
        }
        // Find the deepest existing parent, then add the missing keys below it.
        let mut depth = path.len() - 1;
        let mut parent = None;
        while depth > 0 {
            if let Some(found) = self.find(&path[..depth]) {
                if found.1.style != Style::None {
                    return Err(EmbeddedError::NotAMapAt(path[..depth].join(".")));
                }
                parent = Some(found);
                break;
            }
            depth -= 1;
        }
        let (insert_at, indent, sibling_style) = match &parent {
            Some((line, kl)) => {
                let end = self.content_end(*line);
                let child = self.children(*line).into_iter().next();
                let indent = child.as_ref().map_or(kl.indent + 2, |c| c.1.indent);
                (end, indent, self.last_child_style(*line))
            }
            None => {
                let top = self.top_level();
                let indent = top.first().map_or(0, |c| c.1.indent);
                let style = top.last().map_or(Style::Plain, |c| c.1.style);
                (self.last_content_line().map_or(self.lines.len(), |l| l + 1), indent, style)
            }
        };
        let mut new_lines = Vec::new();
        let mut ind = indent;
        for (i, key) in path[depth..].iter().enumerate() {
            let key_text = yaml::scalar(key).map_err(|e| unsupported(path, &e.to_string()))?;
            if depth + i == path.len() - 1 {
                let style = if sibling_style == Style::Single || sibling_style == Style::Double { sibling_style } else { Style::Plain };
                new_lines.push(format!("{}{key_text}: {}", " ".repeat(ind), render(value, style)?));
            } else {
                new_lines.push(format!("{}{key_text}:", " ".repeat(ind)));
                ind += 2;
            }
        }
        self.lines.splice(insert_at..insert_at, new_lines);
        Ok(())
    }

    fn key_line(&self, i: usize) -> Option<KeyLine> {
        parse_key_line(&self.lines[i])
    }

    /// Key lines of the top-level mapping.
    fn top_level(&self) -> Vec<(usize, KeyLine)> {
        let Some(first) = (0..self.lines.len()).find(|&i| is_content(&self.lines[i])) else { return Vec::new() };
        let indent = indent_of(&self.lines[first]);
        (first..self.lines.len())
            .filter(|&i| is_content(&self.lines[i]) && indent_of(&self.lines[i]) == indent)
            .filter_map(|i| self.key_line(i).map(|k| (i, k)))
            .collect()
    }

    /// Key lines directly below the key at `line`.
    fn children(&self, line: usize) -> Vec<(usize, KeyLine)> {
        let end = self.block_end(line);
        let Some(first) = (line + 1..end).find(|&i| is_content(&self.lines[i])) else { return Vec::new() };
        let indent = indent_of(&self.lines[first]);
        (first..end)
            .filter(|&i| is_content(&self.lines[i]) && indent_of(&self.lines[i]) == indent)
            .filter_map(|i| self.key_line(i).map(|k| (i, k)))
            .collect()
    }

    fn last_child_style(&self, line: usize) -> Style {
        self.children(line).last().map_or(Style::Plain, |c| c.1.style)
    }

    fn find(&self, path: &[&str]) -> Option<(usize, KeyLine)> {
        let mut candidates = self.top_level();
        for (depth, segment) in path.iter().enumerate() {
            let (line, kl) = candidates.into_iter().find(|(_, k)| k.key == *segment)?;
            if depth == path.len() - 1 {
                return Some((line, kl));
            }
            candidates = self.children(line);
        }
        None
    }

    /// One past the last line of the key at `line` (its nested lines, blank lines inside).
    fn block_end(&self, line: usize) -> usize {
        let indent = indent_of(&self.lines[line]);
        let mut end = line + 1;
        let mut i = line + 1;
        while i < self.lines.len() {
            let l = &self.lines[i];
            if is_content(l) {
                let ind = indent_of(l);
                let is_seq_item = l.trim_start().starts_with("- ") || l.trim_start() == "-";
                if ind < indent || (ind == indent && !is_seq_item) {
                    break;
                }
                end = i + 1;
            } else if !l.trim().is_empty() && indent_of(l) > indent {
                end = i + 1; // a nested comment
            }
            i += 1;
        }
        end
    }

    /// Where a new child of the key at `line` goes: after its last content line.
    fn content_end(&self, line: usize) -> usize {
        let end = self.block_end(line);
        (line + 1..end).rev().find(|&i| is_content(&self.lines[i])).map_or(line + 1, |i| i + 1)
    }

    fn last_content_line(&self) -> Option<usize> {
        (0..self.lines.len()).rev().find(|&i| is_content(&self.lines[i]))
    }
}

fn unsupported(path: &[&str], why: &str) -> EmbeddedError {
    EmbeddedError::Unsupported(format!("{}: {why}", path.join(".")))
}

fn set_value(root: &mut Value, path: &[&str], value: Value) -> Result<(), EmbeddedError> {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut current = root;
    for (i, p) in parents.iter().enumerate() {
        let map = current.as_object_mut().ok_or_else(|| EmbeddedError::NotAMapAt(path[..i].join(".")))?;
        let entry = map.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if entry.is_null() {
            *entry = Value::Object(Map::new());
        }
        current = entry;
    }
    let map = current.as_object_mut().ok_or_else(|| EmbeddedError::NotAMapAt(parents.join(".")))?;
    map.insert(last.to_string(), value);
    Ok(())
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_content(line: &str) -> bool {
    let t = line.trim_start();
    !t.is_empty() && !t.starts_with('#') && t != "---" && t != "..."
}

/// Parses `  key: value # comment`; `None` for lines that are not `key:` lines.
fn parse_key_line(line: &str) -> Option<KeyLine> {
    let indent = indent_of(line);
    let rest = &line[indent..];
    if rest.starts_with('#') || rest.starts_with("- ") || rest.starts_with('-') && rest.len() == 1 {
        return None;
    }
    let (key, after_key) = match rest.chars().next()? {
        q @ ('"' | '\'') => {
            let end = quoted_end(rest, q)?;
            let key: String = yaml::parse_document(&format!("{}: x", &rest[..end])).ok()?.as_object()?.keys().next()?.clone();
            (key, end)
        }
        _ => {
            let colon = find_plain_colon(rest)?;
            (rest[..colon].trim_end().to_string(), colon)
        }
    };
    let after = &rest[after_key..];
    let after = after.strip_prefix(':')?;
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let value_start_rel = after.len() - after.trim_start().len();
    let value_text = after.trim_start();
    let base = indent + after_key + 1 + value_start_rel;
    let (style, len) = if value_text.is_empty() || value_text.starts_with('#') {
        (Style::None, 0)
    } else {
        match value_text.chars().next()? {
            '"' => (Style::Double, quoted_end(value_text, '"')?),
            '\'' => (Style::Single, quoted_end(value_text, '\'')?),
            '|' | '>' => (Style::Block, value_text.find(" #").unwrap_or(value_text.len())),
            _ => (Style::Plain, value_text.find(" #").unwrap_or(value_text.len()).min(value_text.trim_end().len())),
        }
    };
    let value = if style == Style::None { base..base } else { base..base + len };
    Some(KeyLine { indent, key, value, style })
}

/// Byte index one past the closing quote of a quoted scalar starting at 0.
fn quoted_end(text: &str, quote: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i];
        if quote == '"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote as u8 {
            if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// The colon ending a plain key: the first `:` followed by a space or the end of the line.
fn find_plain_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b':' && (i + 1 == bytes.len() || bytes[i + 1] == b' '))
}

fn comment_after(line: &str, from: usize) -> String {
    line.get(from..).and_then(|rest| rest.find('#').map(|i| format!(" {}", &rest[i..]))).unwrap_or_default()
}

fn render(value: &Value, style: Style) -> Result<String, EmbeddedError> {
    let Value::String(s) = value else {
        return match value {
            Value::Bool(_) | Value::Number(_) | Value::Null => Ok(value.to_string()),
            _ => Err(EmbeddedError::Unsupported("only scalars can be set".into())),
        };
    };
    let safe_quoted = !s.chars().any(char::is_control);
    Ok(match style {
        Style::Double => serde_json::to_string(s).expect("a string serializes"),
        Style::Single if safe_quoted => format!("'{}'", s.replace('\'', "''")),
        _ => yaml::scalar(s).map_err(|e| EmbeddedError::Unsupported(e.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LABELS: &str = "# comment\n#\nkatib: \"enabled\"\npipelines.kubeflow.org/enabled: \"true\" # keep\n";

    #[test]
    fn replaces_in_place_keeping_style_and_comments() {
        let mut d = Doc::parse(LABELS).unwrap();
        assert!(d.set(&["pipelines.kubeflow.org/enabled"], &json!("false")).unwrap());
        assert_eq!(d.finish().unwrap(), "# comment\n#\nkatib: \"enabled\"\npipelines.kubeflow.org/enabled: \"false\" # keep\n");
    }

    #[test]
    fn adds_after_the_last_entry_in_the_sibling_style() {
        let mut d = Doc::parse(LABELS).unwrap();
        d.set(&["istio.io/dataplane-mode"], &json!("ambient")).unwrap();
        d.set(&["istio-injection"], &json!("")).unwrap();
        let text = d.finish().unwrap();
        assert!(text.ends_with("# keep\nistio.io/dataplane-mode: \"ambient\"\nistio-injection: \"\"\n"), "{text}");
    }

    #[test]
    fn nested_edits_keep_the_rest() {
        let doc = "archiveLogs: true\ns3:\n  # the endpoint\n  endpoint: \"minio:9000\"\n  bucket: mlpipeline\n  insecure: true\n  accessKeySecret:\n    name: a\n    key: accesskey\n# trailing\n";
        let mut d = Doc::parse(doc).unwrap();
        d.set(&["s3", "endpoint"], &json!("s3.example.com")).unwrap();
        d.set(&["s3", "insecure"], &json!(false)).unwrap();
        d.set(&["s3", "region"], &json!("eu-west-1")).unwrap();
        d.set(&["s3", "accessKeySecret", "name"], &json!("central")).unwrap();
        d.remove(&["archiveLogs"]).unwrap();
        let text = d.finish().unwrap();
        assert_eq!(text, "s3:\n  # the endpoint\n  endpoint: \"s3.example.com\"\n  bucket: mlpipeline\n  insecure: false\n  accessKeySecret:\n    name: central\n    key: accesskey\n  region: eu-west-1\n# trailing\n");
    }

    #[test]
    fn creates_missing_parents_and_quotes_ambiguous_values() {
        let mut d = Doc::parse("a: 1\n").unwrap();
        d.set(&["b", "c"], &json!("yes")).unwrap();
        let text = d.finish().unwrap();
        assert_eq!(yaml::parse_document(&text).unwrap(), json!({"a": 1, "b": {"c": "yes"}}));
    }

    #[test]
    fn unchanged_when_equal_and_refuses_non_maps() {
        let mut d = Doc::parse(LABELS).unwrap();
        assert!(!d.set(&["katib"], &json!("enabled")).unwrap());
        assert_eq!(d.finish().unwrap(), LABELS);
        assert!(Doc::parse("- a\n").is_err());
        let mut d = Doc::parse("a: x\n").unwrap();
        assert!(d.set(&["a", "b"], &json!("y")).is_err());
    }

    #[test]
    fn empty_document() {
        let mut d = Doc::parse("").unwrap();
        d.set(&["k"], &json!("v")).unwrap();
        assert_eq!(d.finish().unwrap(), "k: v\n");
    }
}
