//! What the input's KFP release does with the environment's credentials (`fromEnvironment`),
//! read in kubeflow/pipelines at each tag (`go.mod`, `backend/src/v2/objectstore/`).
//!
//! Why this is per release: with `fromEnv: true`, the launcher of KFP 2.0-2.16 ignores the
//! `providers` settings (`object_store.go` `createS3BucketSession()` returns no session) and
//! opens the bucket from the pipeline root URL alone (`OpenBucket()` -> gocloud
//! `blob.OpenBucket(config.bucketURL())`), so endpoint, region, TLS and path style reach it only
//! as the root's query. The query's names are gocloud's, which changed between releases:
//!
//! | KFP | gocloud | query names (gocloud `aws/aws.go`, `blob/s3blob/s3blob.go`) |
//! |---|---|---|
//! | 2.0 - 2.4.0 (Kubeflow 1.9: 2.3.0) | v0.22 / v0.23, AWS SDK v1 | `region`, `endpoint`, `disableSSL`, `s3ForcePathStyle` (`ConfigFromURLParams()`) |
//! | 2.4.1 - 2.16 (1.10: 2.5.0; master: 2.16.0) | v0.40, SDK v2 by default (`UseV2()`) | `region`, `endpoint` (a URL), `use_path_style`, `disable_https` (`V2ConfigFromURLParams()` refuses unknown names: `unknown query parameter`) |
//! | 2.17+ | v0.40 | none needed: `createS3BucketSession()` builds a client from the providers' settings also with `fromEnv` (`HasStructuredS3Settings()`) |
//!
//! The query stays on the run's pipeline root only: output URIs are generated without it
//! (`backend/src/v2/metadata/client.go` `GenerateOutputURI(..., preserveQueryString=false)` in
//! `driver.go`), so artifact URIs and the UI are unchanged; gocloud's own `prefix` parameter is
//! appended by `Config.bucketURL()`.
//!
//! EKS Pod Identity: the API server of KFP before 2.14 uses minio-go v6.0.57, whose credential
//! chain (environment, files, IAM: EC2/ECS metadata and web identity, i.e. IRSA) has no Pod
//! Identity agent; 2.0-2.4.0's launcher also has aws-sdk-go v1.45.25 (Pod Identity came in
//! v1.47.11). 2.14+ use minio-go v7 and SDK v2, which have it.

use serde_json::Value;

use krm_core::KrmResult;
use kubeflow_common::k8s::{Selector, pod};

/// KFP releases whose API server is known to fail with the default credential chain.
const IRSA_REGRESSIONS: &[(&str, &str)] = &[
    (
        "2.15.",
        "KFP 2.15 API servers refuse empty OBJECTSTORECONFIG_ACCESSKEY/_SECRETACCESSKEY (\"ObjectStoreConfig.AccessKey is required\", kubeflow/pipelines#12508, fixed in 2.16.0)",
    ),
    (
        "2.16.",
        "KFP 2.16 API servers are reported to hang at startup after \"Initializing Object store client...\" with the default credential chain (kubeflow/pipelines#12960)",
    ),
];

/// The IRSA annotation of a ServiceAccount (EKS).
pub(crate) const IRSA_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// The KFP release of the input, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Kfp {
    /// The version as written, without a leading `v` (`2.16.0`).
    pub version: String,
    /// The item it was read from.
    pub index: usize,
    /// The field it was read from.
    pub path: String,
}

impl Kfp {
    /// The input's KFP: the API server's image tag, else `pipeline-install-config`'s
    /// `appVersion`.
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

    fn numbers(&self) -> (u64, u64, u64) {
        numbers(&self.version).expect("Kfp::of keeps only versions with numbers")
    }

    /// The known IRSA regressions of this release.
    pub fn irsa_regressions(&self) -> impl Iterator<Item = &'static str> + '_ {
        IRSA_REGRESSIONS.iter().filter(|(prefix, _)| self.version.starts_with(prefix)).map(|(_, what)| *what)
    }

    /// Whether every KFP client of this release has EKS Pod Identity in its credential chain.
    pub fn has_pod_identity(&self) -> bool {
        self.numbers() >= (2, 14, 0)
    }

    /// The pipeline root's query that carries the store's settings to this release's launcher
    /// with the environment's credentials (empty where the launcher reads the providers).
    pub fn root_query(&self, store: &StoreUrl<'_>) -> String {
        let v = self.numbers();
        let url = format!("{}://{}", if store.secure { "https" } else { "http" }, store.address);
        if v >= (2, 17, 0) {
            String::new()
        } else if v >= (2, 4, 1) {
            format!("?region={}&endpoint={url}&use_path_style=true", store.region)
        } else {
            format!("?region={}&endpoint={url}&disableSSL={}&s3ForcePathStyle=true", store.region, !store.secure)
        }
    }
}

/// What a pipeline-root query says of the store.
pub(crate) struct StoreUrl<'a> {
    /// `host` or `host:port`, as every client gets it.
    pub address: &'a str,
    /// TLS.
    pub secure: bool,
    /// The bucket's region.
    pub region: &'a str,
}

/// `major.minor.patch` of a version such as `2.16.0` or `2.5.0-rc.1`.
fn numbers(version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = version.split(['.', '-', '+']);
    let mut next = || parts.next()?.parse::<u64>().ok();
    Some((next()?, next()?, next()?))
}

/// The warnings about the environment's credentials on this input's release: known regressions,
/// and EKS Pod Identity where a client lacks it and no IRSA role is annotated.
pub(crate) fn credential_chain_warnings(items: &[Value], kfp: Option<&Kfp>, irsa: bool) -> Vec<KrmResult> {
    let Some(kfp) = kfp else { return Vec::new() };
    let mut results: Vec<KrmResult> = kfp
        .irsa_regressions()
        .map(|what| {
            KrmResult::warning(format!(
                "KFP {} with the default credential chain: {what}; use another KFP release or static keys (credentials.secretName)",
                kfp.version
            ))
            .on(&items[kfp.index])
            .at(kfp.path.clone())
        })
        .collect();
    if !kfp.has_pod_identity() && !irsa {
        results.push(
            KrmResult::warning(format!(
                "KFP {} cannot use EKS Pod Identity: its API server's minio-go v6.0.57 has no Pod Identity in its credential chain{}; use IRSA (credentials.serviceAccountAnnotations[{IRSA_ANNOTATION}]) or the nodes' instance profile, or static keys",
                kfp.version,
                if kfp.numbers() < (2, 4, 1) { " and its launcher's aws-sdk-go v1.45.25 neither" } else { "" }
            ))
            .on(&items[kfp.index])
            .at(kfp.path.clone()),
        );
    }
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(image: &str) -> Value {
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ml-pipeline"},
            "spec": {"template": {"spec": {"containers": [{"name": "ml-pipeline-api-server", "image": image}]}}}})
    }

    fn version(v: &str) -> Kfp {
        Kfp::of(&[api(&format!("ghcr.io/kubeflow/kfp-api-server:{v}"))]).unwrap()
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
    }

    #[test]
    fn regressions_are_named_per_release() {
        assert_eq!(version("2.14.0").irsa_regressions().count(), 0);
        assert!(version("2.15.0").irsa_regressions().next().unwrap().contains("#12508"));
    }

    #[test]
    fn the_root_query_uses_the_names_of_the_release_gocloud() {
        let aws = StoreUrl { address: "s3.eu-west-1.amazonaws.com", secure: true, region: "eu-west-1" };
        let minio = StoreUrl { address: "minio.storage:9000", secure: false, region: "us-east-1" };
        assert_eq!(version("2.3.0").root_query(&aws), "?region=eu-west-1&endpoint=https://s3.eu-west-1.amazonaws.com&disableSSL=false&s3ForcePathStyle=true");
        assert_eq!(version("2.4.0").root_query(&minio), "?region=us-east-1&endpoint=http://minio.storage:9000&disableSSL=true&s3ForcePathStyle=true");
        assert_eq!(version("2.4.1").root_query(&aws), "?region=eu-west-1&endpoint=https://s3.eu-west-1.amazonaws.com&use_path_style=true");
        assert_eq!(version("2.16.0-rc.1").root_query(&minio), "?region=us-east-1&endpoint=http://minio.storage:9000&use_path_style=true");
        assert_eq!(version("2.17.0").root_query(&aws), "");
    }

    #[test]
    fn pod_identity_is_warned_before_2_14_without_an_irsa_role() {
        for (v, warned) in [("2.3.0", true), ("2.5.0", true), ("2.14.0", false), ("2.16.0", false)] {
            let items = [api(&format!("ghcr.io/kubeflow/kfp-api-server:{v}"))];
            let kfp = Kfp::of(&items);
            let pod_identity = |irsa| credential_chain_warnings(&items, kfp.as_ref(), irsa).iter().any(|r| r.message.contains("Pod Identity"));
            assert_eq!(pod_identity(false), warned, "{v}");
            assert!(!pod_identity(true), "{v} with IRSA");
        }
        assert!(credential_chain_warnings(&[], None, false).is_empty());
    }
}
