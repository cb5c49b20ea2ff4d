//! Field paths for results: `spec.template.spec.containers[name=server].env[name=DB_HOST]`,
//! `metadata.labels[istio.io/rev]` (keys that are not simple words go in brackets).

use std::fmt;

/// A field path, built segment by segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath(String);

fn is_word(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl FieldPath {
    /// The empty path (the object itself).
    pub fn root() -> Self {
        FieldPath(String::new())
    }
    /// A path from plain keys.
    pub fn from_keys(keys: &[&str]) -> Self {
        keys.iter().fold(Self::root(), |p, k| p.key(k))
    }
    /// The path of a map key below this one.
    pub fn key(&self, key: &str) -> Self {
        let mut s = self.0.clone();
        if is_word(key) {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(key);
        } else {
            s.push('[');
            s.push_str(key);
            s.push(']');
        }
        FieldPath(s)
    }
    /// The path of a list entry: `[name=x]` if it has a name, else `[i]`.
    pub fn entry(&self, name: Option<&str>, index: usize) -> Self {
        let mut s = self.0.clone();
        match name {
            Some(n) => s.push_str(&format!("[name={n}]")),
            None => s.push_str(&format!("[{index}]")),
        }
        FieldPath(s)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<FieldPath> for String {
    fn from(p: FieldPath) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let p = FieldPath::from_keys(&["metadata", "labels"]).key("istio.io/rev");
        assert_eq!(p.to_string(), "metadata.labels[istio.io/rev]");
        let p = FieldPath::from_keys(&["spec", "containers"]).entry(Some("a"), 0).key("env").entry(None, 2);
        assert_eq!(p.to_string(), "spec.containers[name=a].env[2]");
    }
}
