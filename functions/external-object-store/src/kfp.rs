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
//! appended by `Config.bucketURL()`. It does not reach artifacts outside the run's root (cached
//! results of earlier runs, imports): `component/launcher_v2.go` `fetchNonDefaultBuckets()` gives
//! them the run's session but not its query, so on a store other than AWS they are not found
//! (a warning in `lib.rs` `environment_warnings()`).
//!
//! EKS Pod Identity: the API server of KFP before 2.14 uses minio-go v6.0.57, whose credential
//! chain (environment, files, IAM: EC2/ECS metadata and web identity, i.e. IRSA) has no Pod
//! Identity agent; 2.0-2.4.0's launcher also has aws-sdk-go v1.45.25 (Pod Identity came in
//! v1.47.11). 2.14+ use minio-go v7 and SDK v2, which have it.

use serde_json::Value;

use krm_core::KrmResult;
use kubeflow_common::kfp::Kfp;

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

/// The known IRSA regressions of a release.
pub(crate) fn irsa_regressions(kfp: &Kfp) -> impl Iterator<Item = &'static str> + '_ {
    IRSA_REGRESSIONS.iter().filter(|(prefix, _)| kfp.version.starts_with(prefix)).map(|(_, what)| *what)
}

/// Whether every KFP client of the release has EKS Pod Identity in its credential chain.
pub(crate) fn has_pod_identity(kfp: &Kfp) -> bool {
    kfp.at_least(2, 14, 0)
}

/// The pipeline root's query that carries the store (its `origin`, `https://host[:port]` or
/// `http://...`, and region) to the release's launcher with the environment's credentials
/// (empty where the launcher reads the providers).
pub(crate) fn root_query(kfp: &Kfp, origin: &str, region: &str) -> String {
    if kfp.at_least(2, 17, 0) {
        String::new()
    } else if kfp.at_least(2, 4, 1) {
        format!("?region={region}&endpoint={origin}&use_path_style=true")
    } else {
        let insecure = origin.starts_with("http://");
        format!("?region={region}&endpoint={origin}&disableSSL={insecure}&s3ForcePathStyle=true")
    }
}

/// The warnings about the environment's credentials on this input's release: known regressions,
/// and EKS Pod Identity where a client lacks it and no IRSA role is annotated.
pub(crate) fn credential_chain_warnings(items: &[Value], kfp: Option<&Kfp>, irsa: bool, aws: bool) -> Vec<KrmResult> {
    let Some(kfp) = kfp else { return Vec::new() };
    let mut results: Vec<KrmResult> = irsa_regressions(kfp)
        .map(|what| {
            KrmResult::warning(format!(
                "KFP {} with the default credential chain: {what}; use another KFP release or static keys (credentials.secretName)",
                kfp.version
            ))
            .on(&items[kfp.index])
            .at(kfp.path.clone())
        })
        .collect();
    if aws && !has_pod_identity(kfp) && !irsa {
        results.push(
            KrmResult::warning(format!(
                "KFP {} cannot use EKS Pod Identity: its API server's minio-go v6.0.57 has no Pod Identity in its credential chain{}; use IRSA (credentials.serviceAccountAnnotations[{IRSA_ANNOTATION}]) or the nodes' instance profile, or static keys",
                kfp.version,
                if kfp.at_least(2, 4, 1) { "" } else { ", nor its launcher's aws-sdk-go v1 (Pod Identity came in v1.47.11)" }
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
    fn regressions_are_named_per_release() {
        assert_eq!(irsa_regressions(&version("2.14.0")).count(), 0);
        assert!(irsa_regressions(&version("2.15.0")).next().unwrap().contains("#12508"));
    }

    #[test]
    fn the_root_query_uses_the_names_of_the_release_gocloud() {
        let aws = ("https://s3.eu-west-1.amazonaws.com", "eu-west-1");
        let minio = ("http://minio.storage:9000", "us-east-1");
        assert_eq!(root_query(&version("2.3.0"), aws.0, aws.1), "?region=eu-west-1&endpoint=https://s3.eu-west-1.amazonaws.com&disableSSL=false&s3ForcePathStyle=true");
        assert_eq!(root_query(&version("2.4.0"), minio.0, minio.1), "?region=us-east-1&endpoint=http://minio.storage:9000&disableSSL=true&s3ForcePathStyle=true");
        assert_eq!(root_query(&version("2.4.1"), aws.0, aws.1), "?region=eu-west-1&endpoint=https://s3.eu-west-1.amazonaws.com&use_path_style=true");
        assert_eq!(root_query(&version("2.16.0-rc.1"), minio.0, minio.1), "?region=us-east-1&endpoint=http://minio.storage:9000&use_path_style=true");
        assert_eq!(root_query(&version("2.17.0"), aws.0, aws.1), "");
    }

    #[test]
    fn pod_identity_is_warned_before_2_14_without_an_irsa_role() {
        for (v, warned) in [("2.3.0", true), ("2.5.0", true), ("2.14.0", false), ("2.16.0", false)] {
            let items = [api(&format!("ghcr.io/kubeflow/kfp-api-server:{v}"))];
            let kfp = Kfp::of(&items);
            let pod_identity = |irsa, aws| credential_chain_warnings(&items, kfp.as_ref(), irsa, aws).iter().any(|r| r.message.contains("Pod Identity"));
            assert_eq!(pod_identity(false, true), warned, "{v}");
            assert!(!pod_identity(true, true), "{v} with IRSA");
            assert!(!pod_identity(false, false), "{v} off AWS");
        }
        assert!(credential_chain_warnings(&[], None, false, true).is_empty());
    }
}
