//! Line-preserving edits of oauth2-proxy's `oauth2_proxy.cfg` (ConfigMap `oauth2-proxy-*`, key
//! `oauth2_proxy.cfg`).
//!
//! oauth2-proxy reads the file as TOML through viper (`pkg/apis/options/load.go`, `Load`: 
//! `v.SetConfigType("toml")`, then `v.UnmarshalExact`, so an unknown key stops it; v7.6.0,
//! v7.7.1 and v7.14.3 alike). Upstream's file is mostly comments that explain each setting, so
//! a key is replaced in place, removed with its lines, or appended at the end; everything else
//! stays as it was. The file only uses `key = value` lines at column 0, with strings, booleans,
//! numbers and arrays of strings (which may span lines); that is all this editor reads.

/// A TOML value as this editor writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toml {
    /// A basic string (`"..."`).
    Str(String),
    /// A boolean.
    Bool(bool),
    /// An array of basic strings (`[ "a", "b" ]`).
    List(Vec<String>),
}

impl Toml {
    fn render(&self) -> String {
        match self {
            Toml::Str(s) => quote(s),
            Toml::Bool(b) => b.to_string(),
            Toml::List(items) => {
                let inner: Vec<String> = items.iter().map(|s| quote(s)).collect();
                format!("[ {} ]", inner.join(", "))
            }
        }
    }
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The file, as lines.
#[derive(Debug, Clone)]
pub struct Cfg {
    lines: Vec<String>,
    trailing_newline: bool,
}

impl Cfg {
    /// Splits the text into lines.
    pub fn parse(text: &str) -> Cfg {
        Cfg { lines: text.lines().map(str::to_string).collect(), trailing_newline: text.ends_with('\n') }
    }

    /// The edited text.
    pub fn text(&self) -> String {
        let mut t = self.lines.join("\n");
        if self.trailing_newline {
            t.push('\n');
        }
        t
    }

    /// The line range of a key's assignment (the key line and, for an array that spans lines,
    /// the lines up to its closing bracket).
    fn span(&self, key: &str) -> Option<std::ops::Range<usize>> {
        let start = self.lines.iter().position(|l| assigned_key(l) == Some(key))?;
        let mut depth: i32 = 0;
        for (i, line) in self.lines[start..].iter().enumerate() {
            let text = if i == 0 { &line[line.find('=').map_or(0, |p| p + 1)..] } else { line.as_str() };
            depth += bracket_balance(text);
            if depth <= 0 {
                return Some(start..start + i + 1);
            }
        }
        Some(start..self.lines.len())
    }

    /// The raw value text of a key (lines joined), if it is assigned.
    pub fn raw(&self, key: &str) -> Option<String> {
        let span = self.span(key)?;
        let first = &self.lines[span.start];
        let mut text = first[first.find('=')? + 1..].trim().to_string();
        for line in &self.lines[span.start + 1..span.end] {
            text.push('\n');
            text.push_str(line);
        }
        Some(text)
    }

    /// The value of a string key, if it is a plain basic string.
    pub fn string(&self, key: &str) -> Option<String> {
        let raw = self.raw(key)?;
        let inner = raw.strip_prefix('"')?;
        let end = inner.rfind('"')?;
        let (s, rest) = inner.split_at(end);
        (rest[1..].trim().is_empty() || rest[1..].trim().starts_with('#')).then(|| s.replace("\\\"", "\"").replace("\\\\", "\\"))
    }

    /// Sets a key: in place if it is assigned, else appended at the end. Returns true if the
    /// text changed.
    pub fn set(&mut self, key: &str, value: &Toml) -> bool {
        let line = format!("{key} = {}", value.render());
        match self.span(key) {
            Some(span) => {
                if span.len() == 1 && self.lines[span.start] == line {
                    return false;
                }
                if span.len() > 1 {
                    if let (Toml::List(want), Some(have)) = (value, self.list(key)) {
                        if *want == have {
                            return false;
                        }
                    }
                }
                self.lines.splice(span, [line]);
            }
            None => {
                while self.lines.last().is_some_and(|l| l.trim().is_empty()) {
                    self.lines.pop();
                }
                self.lines.push(line);
                self.trailing_newline = true;
            }
        }
        true
    }

    /// Removes a key's assignment. Returns true if it was there.
    pub fn remove(&mut self, key: &str) -> bool {
        match self.span(key) {
            Some(span) => {
                self.lines.drain(span);
                true
            }
            None => false,
        }
    }

    /// Removes a key's assignment with the comment lines right above it (up to a blank line):
    /// the comment that explains a setting goes with it. Returns true if it was there.
    pub fn remove_with_comment(&mut self, key: &str) -> bool {
        let Some(span) = self.span(key) else { return false };
        let mut start = span.start;
        while start > 0 && self.lines[start - 1].trim_start().starts_with('#') {
            start -= 1;
        }
        self.lines.drain(start..span.end);
        // One blank line between blocks, not two.
        let blank = |l: Option<&String>| l.is_some_and(|l| l.trim().is_empty());
        if start > 0 && blank(self.lines.get(start - 1)) && blank(self.lines.get(start)) {
            self.lines.remove(start);
        }
        true
    }

    /// The strings of an array key (comments and blank lines skipped).
    pub fn list(&self, key: &str) -> Option<Vec<String>> {
        let raw = self.raw(key)?;
        let body = raw.trim().strip_prefix('[')?;
        let mut out = Vec::new();
        for line in body.lines() {
            let mut rest = line;
            while let Some(start) = rest.find('"') {
                if rest[..start].contains('#') {
                    break;
                }
                let after = &rest[start + 1..];
                let end = after.find('"')?;
                out.push(after[..end].to_string());
                rest = &after[end + 1..];
            }
        }
        Some(out)
    }

    /// Removes the given strings from an array key, keeping its other lines; returns the removed
    /// ones. A one-line array is rewritten.
    pub fn remove_from_list(&mut self, key: &str, drop: &[&str]) -> Vec<String> {
        let Some(span) = self.span(key) else { return Vec::new() };
        let Some(values) = self.list(key) else { return Vec::new() };
        let removed: Vec<String> = values.iter().filter(|v| drop.contains(&v.as_str())).cloned().collect();
        if removed.is_empty() {
            return removed;
        }
        if span.len() == 1 {
            let kept: Vec<String> = values.into_iter().filter(|v| !drop.contains(&v.as_str())).collect();
            self.set(key, &Toml::List(kept));
            return removed;
        }
        let inner = span.start + 1..span.end - 1;
        let keep: Vec<String> = self.lines[inner.clone()]
            .iter()
            .filter(|l| {
                let t = l.trim().trim_end_matches(',');
                !drop.iter().any(|d| t == quote(d))
            })
            .cloned()
            .collect();
        self.lines.splice(inner, keep);
        removed
    }
}

/// The key a line assigns, if it is a `key = value` line at column 0.
fn assigned_key(line: &str) -> Option<&str> {
    if line.starts_with([' ', '\t', '#']) {
        return None;
    }
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')).then_some(key)
}

/// Opening minus closing brackets outside strings and comments.
fn bracket_balance(text: &str) -> i32 {
    let mut depth = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => break,
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "provider = \"oidc\"\nemail_domains = [ \"*\" ]\n\n# skip\nskip_auth_routes = [\n  \"^/dex/\",\n  \"^/other\",\n]\nskip_oidc_discovery = true\n";

    #[test]
    fn reads_and_edits_in_place() {
        let mut c = Cfg::parse(TEXT);
        assert_eq!(c.string("provider").as_deref(), Some("oidc"));
        assert_eq!(c.list("skip_auth_routes"), Some(vec!["^/dex/".to_string(), "^/other".to_string()]));
        assert!(!c.set("provider", &Toml::Str("oidc".into())));
        assert!(c.set("email_domains", &Toml::List(vec!["example.com".into()])));
        assert_eq!(c.remove_from_list("skip_auth_routes", &["^/dex/"]), vec!["^/dex/".to_string()]);
        assert!(c.remove("skip_oidc_discovery"));
        assert!(c.set("scope", &Toml::Str("openid \"x\"".into())));
        assert_eq!(
            c.text(),
            "provider = \"oidc\"\nemail_domains = [ \"example.com\" ]\n\n# skip\nskip_auth_routes = [\n  \"^/other\",\n]\nscope = \"openid \\\"x\\\"\"\n"
        );
        assert!(!c.remove("skip_oidc_discovery"));
        assert!(c.remove_with_comment("skip_auth_routes"));
        assert_eq!(c.text(), "provider = \"oidc\"\nemail_domains = [ \"example.com\" ]\n\nscope = \"openid \\\"x\\\"\"\n");
    }
}
