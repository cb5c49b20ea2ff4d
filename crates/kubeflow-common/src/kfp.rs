//! The Kubeflow Pipelines release of an input, for functions whose output depends on what that
//! release's components read (the launcher's query names, its default session's endpoint, the
//! credential chains).
//!
//! Read from the API server's image tag (`ml-pipeline`, container image `.../api-server:<tag>`
//! or `.../kfp-api-server:<tag>`), else from `pipeline-install-config`'s `appVersion`. A tag that
//! is no version (`dummy`, `latest`, a digest) is skipped.

use serde_json::Value;

use crate::k8s::{Selector, pod};

/// A KFP release found in the input, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kfp {
    /// The version as written, without a leading `v` (`2.16.0`).
    pub version: String,
    /// The index of the item it was read from, valid until items are added or removed.
    pub index: usize,
    /// The field it was read from.
    pub path: String,
}

impl Kfp {
    /// The input's KFP release, if it shows one.
    pub fn of(items: &[Value]) -> Option<Kfp> {
        let api = Selector::of("apps", "Deployment").named("ml-pipeline");
        for (i, item) in items.iter().enumerate().filter(|(_, i)| api.matches(i)) {
            let mut found = None;
            pod::for_each_container(item, |c, path| {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                if found.is_none() && image.contains("api-server") && !image.contains('@') {
                    if let Some((_, tag)) = image.rsplit_once(':').filter(|(repo, _)| !repo.is_empty() && !repo.ends_with('/')) {
                        found = Some((tag.trim_start_matches('v').to_string(), path.key("image").to_string()));
                    }
                }
            });
            if let Some((version, path)) = found.filter(|(v, _)| numbers(v).is_some()) {
                return Some(Kfp { version, index: i, path });
            }
        }
        let config = Selector::core("ConfigMap").named("pipeline-install-config");
        items.iter().enumerate().filter(|(_, i)| config.matches(i)).find_map(|(i, item)| {
            let v = item.pointer("/data/appVersion").and_then(Value::as_str)?.trim_start_matches('v');
            numbers(v).map(|_| Kfp { version: v.to_string(), index: i, path: "data.appVersion".to_string() })
        })
    }

    /// Whether this release is `major.minor.patch` or later.
    pub fn at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        numbers(&self.version).expect("Kfp::of keeps only versions with numbers") >= (major, minor, patch)
    }
}

/// `major.minor.patch` of a version such as `2.16.0` or `2.5.0-rc.1`.
fn numbers(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split(['.', '-', '+']);
    let mut next = || parts.next()?.parse::<u64>().ok();
    Some((next()?, next()?, next()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(image: &str) -> Value {
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ml-pipeline"},
            "spec": {"template": {"spec": {"containers": [{"name": "ml-pipeline-api-server", "image": image}]}}}})
    }

    #[test]
    fn versions_come_from_the_api_server_image_else_the_install_config() {
        let config = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pipeline-install-config"}, "data": {"appVersion": "2.15.1"}});
        assert_eq!(Kfp::of(&[api("ghcr.io/kubeflow/kfp-api-server:2.16.0"), config.clone()]).unwrap().version, "2.16.0");
        assert_eq!(Kfp::of(&[api("gcr.io/ml-pipeline/api-server:v2.3.0")]).unwrap().version, "2.3.0");
        let kfp = Kfp::of(&[api("registry:5000/api-server@sha256:abc"), config.clone()]).unwrap();
        assert_eq!((kfp.version.as_str(), kfp.index, kfp.path.as_str()), ("2.15.1", 1, "data.appVersion"));
        assert_eq!(Kfp::of(&[api("gcr.io/ml-pipeline/api-server:dummy"), config]).unwrap().index, 1, "a tag that is no version is skipped");
        assert_eq!(Kfp::of(&[api("gcr.io/ml-pipeline/api-server:latest")]), None);
        assert!(Kfp::of(&[api("x/api-server:2.16.0-rc.1")]).unwrap().at_least(2, 16, 0));
        assert!(!Kfp::of(&[api("x/api-server:2.5.0")]).unwrap().at_least(2, 14, 0));
    }
}
