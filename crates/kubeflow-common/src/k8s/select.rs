//! Selecting objects by group, kind and name, never by namespace (users render Kubeflow into
//! other namespaces too). A name with a kustomize hash suffix (`name-5f7c9b2k4d`) matches `name`.

use serde_json::Value;

use super::object;

/// The characters kustomize's name hasher emits (hex with `0 1 3 a e` mapped to `g h k m t`).
const HASH_ALPHABET: &str = "bcdfghkmt2456789";
/// Length of a kustomize name hash.
const HASH_LEN: usize = 10;

/// True if `actual` is `wanted`, or `wanted` followed by `-` and a kustomize hash.
pub fn name_matches(actual: &str, wanted: &str) -> bool {
    if actual == wanted {
        return true;
    }
    actual
        .strip_prefix(wanted)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(is_hash)
}

/// The name without its kustomize hash suffix, if it has one.
pub fn base_name(actual: &str) -> &str {
    match actual.rsplit_once('-') {
        Some((base, suffix)) if is_hash(suffix) && !base.is_empty() => base,
        _ => actual,
    }
}

fn is_hash(s: &str) -> bool {
    s.len() == HASH_LEN && s.chars().all(|c| HASH_ALPHABET.contains(c))
}

/// What to select: an API group (`None`: any), a kind and a name (`None`: any).
#[derive(Debug, Clone, Copy)]
pub struct Selector<'a> {
    /// API group (`""` for core); `None` matches every group.
    pub group: Option<&'a str>,
    /// Kind.
    pub kind: &'a str,
    /// Name, matched with [`name_matches`]; `None` matches every name.
    pub name: Option<&'a str>,
}

impl<'a> Selector<'a> {
    /// Every object of a kind in the core group (`Namespace`, `ConfigMap`, `Secret`...).
    pub const fn core(kind: &'a str) -> Self {
        Selector { group: Some(""), kind, name: None }
    }
    /// Objects of `kind` in `group`.
    pub const fn of(group: &'a str, kind: &'a str) -> Self {
        Selector { group: Some(group), kind, name: None }
    }
    /// Restricts the selector to a name.
    pub const fn named(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }
    /// True if the item is selected (local-config items never are).
    pub fn matches(&self, item: &Value) -> bool {
        object::kind(item) == self.kind
            && self.group.is_none_or(|g| object::group(item) == g)
            && self.name.is_none_or(|n| name_matches(object::name(item), n))
            && !object::is_local_config(item)
    }
}

/// Indexes of the items a selector matches.
pub fn find(items: &[Value], selector: Selector<'_>) -> Vec<usize> {
    items.iter().enumerate().filter(|(_, i)| selector.matches(i)).map(|(n, _)| n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_suffixes_match() {
        assert!(name_matches("namespace-labels-data-2k29b64d74", "namespace-labels-data"));
        assert!(name_matches("kubeflow-pipelines-profile-controller-code-c55f957kgf", "kubeflow-pipelines-profile-controller-code"));
        assert!(name_matches("mysql", "mysql"));
        assert!(!name_matches("mysql-secret", "mysql"));
        assert!(!name_matches("namespace-labels-data-2k29b64d7", "namespace-labels-data"));
        assert_eq!(base_name("oauth2-proxy-parameters-74659b6648"), "oauth2-proxy-parameters");
        assert_eq!(base_name("mysql-secret"), "mysql-secret");
    }

    #[test]
    fn selectors_check_group_kind_name_and_local_config() {
        let ra = json!({"apiVersion": "security.istio.io/v1beta1", "kind": "RequestAuthentication", "metadata": {"name": "dex-jwt"}});
        assert!(Selector::of("security.istio.io", "RequestAuthentication").matches(&ra));
        assert!(!Selector::of("security.istio.io", "AuthorizationPolicy").matches(&ra));
        let local = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x",
            "annotations": {"config.kubernetes.io/local-config": "true"}}});
        assert!(!Selector::core("ConfigMap").matches(&local));
    }
}
