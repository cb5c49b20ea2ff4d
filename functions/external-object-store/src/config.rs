//! The `ExternalObjectStore` functionConfig.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use krm_core::{ConfigError, Validate};
use kubeflow_common::credentials::{self, Credential, Target};
use kubeflow_common::credentials::default_keys;

/// Points Kubeflow Pipelines at an external S3-compatible object store.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalObjectStoreConfig {
    /// The store's S3 API: `host` or `host:port`, without scheme or path. Without a port, 443
    /// (`secure: true`) or 80. Example: `s3.eu-west-1.amazonaws.com`, `minio.storage:9000`.
    pub endpoint: String,
    /// Connect with TLS.
    #[serde(default = "yes")]
    pub secure: bool,
    /// The bucket's region (S3 signs requests with it). Example: `eu-west-1`.
    #[serde(default = "us_east_1")]
    pub region: String,
    /// The bucket for pipeline definitions, artifacts and logs; it must exist. Example:
    /// `my-kubeflow-artifacts`.
    #[serde(default = "mlpipeline")]
    pub bucket: String,
    /// How Kubeflow authenticates to the store: a Secret with static keys (`secretName`), or
    /// `fromEnvironment: true` for the AWS default credential chain (IRSA, EKS Pod Identity
    /// from KFP 2.14, instance profiles). Google Cloud Storage's S3 interface needs HMAC keys,
    /// i.e. `secretName`.
    pub credentials: CredentialsConfig,
    /// Delete the bundled MinIO or SeaweedFS and everything that only serves it (Service, PVC,
    /// ServiceAccount, NetworkPolicy, AuthorizationPolicy, DestinationRule), and the in-tree
    /// object-store Secret once nothing reads it.
    #[serde(default = "yes")]
    pub remove_in_cluster: bool,
}

fn yes() -> bool {
    true
}
fn us_east_1() -> String {
    "us-east-1".into()
}
fn mlpipeline() -> String {
    "mlpipeline".into()
}

/// Static keys from a Secret, or the environment's credentials.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CredentialsConfig {
    /// The Secret holding the access key and secret key, in every namespace that reads it (the
    /// Pipelines namespace; the profile controller copies the keys into each profile
    /// namespace). The same Secret as `centralize-credentials`' `secretName` when both run.
    /// Example: `kubeflow-credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// Key of the access key (AWS access key id) in the Secret.
    #[serde(default = "default_keys::object_store_access_key")]
    pub access_key_key: String,
    /// Key of the secret key (AWS secret access key) in the Secret.
    #[serde(default = "default_keys::object_store_secret_key")]
    pub secret_key_key: String,
    /// No static keys: every key variable is emptied so the AWS default credential chain is used
    /// (IRSA, EKS Pod Identity from KFP 2.14, instance profile). Not for Google Cloud Storage,
    /// whose S3 interface takes HMAC keys only.
    #[serde(default)]
    pub from_environment: bool,
    /// With `fromEnvironment`: annotations for the ServiceAccounts that talk to the store (API
    /// server, UI, Argo's workflow controller, pipeline runs, and `default-editor` in every
    /// profile namespace). Example: `{eks.amazonaws.com/role-arn:
    /// "arn:aws:iam::123456789012:role/kubeflow-pipelines"}`.
    #[serde(default)]
    pub service_account_annotations: BTreeMap<String, String>,
}

impl ExternalObjectStoreConfig {
    /// The endpoint's host (an IPv6 address without its brackets).
    pub fn host(&self) -> String {
        split_endpoint(&self.endpoint).map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']').to_string()).unwrap_or_default()
    }

    /// The endpoint's host as it is written in `host:port` (IPv6 in brackets).
    pub fn host_literal(&self) -> String {
        split_endpoint(&self.endpoint).map(|(h, _)| h.to_string()).unwrap_or_default()
    }

    /// The port: the endpoint's, else 443 with TLS and 80 without.
    pub fn port(&self) -> u16 {
        match split_endpoint(&self.endpoint).and_then(|(_, p)| p) {
            Some(p) => p.parse().unwrap_or(0),
            None if self.secure => 443,
            None => 80,
        }
    }

    /// The address every consumer is given: the host alone when the port is the scheme's
    /// default (443 with TLS, 80 without), else `host:port`.
    ///
    /// Why not always `host:port`: the KFP UI passes an S3 provider's endpoint to minio-js as it
    /// is when it names AWS (`frontend/server/minio-helper.ts` `parseS3ProviderInfo()`, KFP 2.5.0
    /// and 2.16.0), and minio-js refuses a host containing `:` (`isValidEndpoint`), so
    /// `s3.eu-west-1.amazonaws.com:443` broke previews on AWS. Without a port, every reader uses
    /// the scheme's default: minio-js and minio-go (Argo's S3 driver, the API server), the AWS
    /// SDK session of the launcher (`backend/src/v2/objectstore/object_store.go`
    /// `createS3BucketSession()`), and the UI's provider parsing (port `undefined`).
    pub fn address(&self) -> String {
        let default = if self.secure { 443 } else { 80 };
        match self.port() {
            p if p == default => self.host_literal(),
            p => format!("{}:{p}", self.host_literal()),
        }
    }

    /// The credential target for static keys (`None` with `fromEnvironment`).
    pub fn target(&self) -> Option<Target> {
        let name = self.credentials.secret_name.as_ref().filter(|_| !self.credentials.from_environment)?;
        Some(
            Target::new(name.clone())
                .with_key(Credential::ObjectStoreAccessKey, self.credentials.access_key_key.clone())
                .with_key(Credential::ObjectStoreSecretKey, self.credentials.secret_key_key.clone()),
        )
    }
}

/// `host[:port]` split at the port colon; `None` if the text cannot be an endpoint at all.
fn split_endpoint(endpoint: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = endpoint.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &endpoint[..close + 2];
        let after = &rest[close + 1..];
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match endpoint.rsplit_once(':') {
        Some((host, port)) => Some((host, Some(port))),
        None => Some((endpoint, None)),
    }
}

fn is_dns_label(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n <= 255))
}

/// Checks `endpoint`: `host` or `host:port`, no scheme, no path, a DNS name or IP address, a
/// port from 1 to 65535.
pub fn check_endpoint(field: &str, endpoint: &str) -> Vec<ConfigError> {
    let err = |m: String| vec![ConfigError::new(field, m)];
    if endpoint.trim().is_empty() {
        return err("required: the store's host or host:port (for example s3.eu-west-1.amazonaws.com)".into());
    }
    if endpoint.contains("://") {
        return err(format!("{endpoint:?} has a scheme: give host or host:port only (TLS is the `secure` option)"));
    }
    if endpoint.contains('/') {
        return err(format!("{endpoint:?} has a path: give host or host:port only (the bucket is the `bucket` option)"));
    }
    if endpoint.chars().any(|c| c.is_whitespace() || c == '@' || c == '?' || c == '#') {
        return err(format!("{endpoint:?} is not host or host:port"));
    }
    let Some((host, port)) = split_endpoint(endpoint) else {
        return err(format!("{endpoint:?} is not host or host:port (an IPv6 address goes in brackets: [2001:db8::1]:9000)"));
    };
    if let Some(port) = port {
        let valid = !port.is_empty() && port.len() <= 5 && port.bytes().all(|c| c.is_ascii_digit());
        match port.parse::<u32>() {
            Ok(p) if valid && (1..=65535).contains(&p) => {}
            _ => return err(format!("port {port:?} of {endpoint:?} is not a number from 1 to 65535")),
        }
    }
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        inner.parse::<std::net::Ipv6Addr>().is_ok()
    } else if host.contains(':') {
        return err(format!("{endpoint:?}: an IPv6 address goes in brackets ([2001:db8::1]:9000)"));
    } else if host.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
        is_ipv4(host)
    } else {
        let name = host.strip_suffix('.').unwrap_or(host);
        name.len() <= 253 && name.split('.').all(is_dns_label)
    };
    if !host_ok {
        return err(format!("host {host:?} of {endpoint:?} is not a DNS name or an IP address"));
    }
    Vec::new()
}

/// Checks an S3 bucket name: 3 to 63 characters, lowercase letters, digits, `.` and `-`,
/// starting and ending with a letter or digit, no `..`, not an IP address, not `xn--…` or
/// `…-s3alias` / `…--ol-s3`.
pub fn check_bucket(field: &str, bucket: &str) -> Vec<ConfigError> {
    let b = bucket.as_bytes();
    let why = if !(3..=63).contains(&b.len()) {
        Some("must have 3 to 63 characters")
    } else if !b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-') {
        Some("may hold only lowercase letters, digits, '.' and '-'")
    } else if !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        Some("must start and end with a letter or digit")
    } else if bucket.contains("..") {
        Some("must not contain two adjacent periods")
    } else if is_ipv4(bucket) {
        Some("must not be formatted as an IP address")
    } else if bucket.starts_with("xn--") || bucket.ends_with("-s3alias") || bucket.ends_with("--ol-s3") {
        Some("must not start with xn-- or end with -s3alias or --ol-s3 (reserved by S3)")
    } else {
        None
    };
    why.map(|w| vec![ConfigError::new(field, format!("bucket name {bucket:?} {w}"))]).unwrap_or_default()
}

/// Checks a region: lowercase letters and digits in `-`-separated parts (`us-east-1`,
/// `eu-central-2`, `auto`), at most 63 characters.
pub fn check_region(field: &str, region: &str) -> Vec<ConfigError> {
    let ok = !region.is_empty()
        && region.len() <= 63
        && region.split('-').all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    if ok {
        Vec::new()
    } else {
        vec![ConfigError::new(
            field,
            format!("region {region:?} is not a region name (lowercase letters and digits separated by '-', like us-east-1)"),
        )]
    }
}

/// A Kubernetes annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most
/// 63 alphanumerics, `-`, `_` and `.`, starting and ending with an alphanumeric.
pub fn is_annotation_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let n = name.as_bytes();
    let name_ok = !n.is_empty()
        && n.len() <= 63
        && n[0].is_ascii_alphanumeric()
        && n[n.len() - 1].is_ascii_alphanumeric()
        && n.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c));
    name_ok && prefix.is_none_or(credentials::is_dns_subdomain)
}

impl Validate for ExternalObjectStoreConfig {
    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = check_endpoint("endpoint", &self.endpoint);
        errors.extend(check_bucket("bucket", &self.bucket));
        errors.extend(check_region("region", &self.region));
        let c = &self.credentials;
        match (&c.secret_name, c.from_environment) {
            (Some(_), true) => errors.push(ConfigError::new(
                "credentials",
                "secretName and fromEnvironment exclude each other: static keys from a Secret, or the environment's credentials",
            )),
            (None, false) => errors.push(ConfigError::new(
                "credentials.secretName",
                "required: the Secret with the store's keys, or fromEnvironment: true for IRSA or another AWS credential source",
            )),
            (Some(name), false) => {
                errors.extend(credentials::check_secret_name("credentials.secretName", name, &[]));
                errors.extend(credentials::check_keys(&[
                    ("credentials.accessKeyKey", &c.access_key_key),
                    ("credentials.secretKeyKey", &c.secret_key_key),
                ]));
            }
            (None, true) => {
                for (field, value, default) in [
                    ("credentials.accessKeyKey", &c.access_key_key, default_keys::object_store_access_key()),
                    ("credentials.secretKeyKey", &c.secret_key_key, default_keys::object_store_secret_key()),
                ] {
                    if *value != default {
                        errors.push(ConfigError::new(field, "only with secretName: fromEnvironment reads no Secret"));
                    }
                }
            }
        }
        if !c.from_environment && !c.service_account_annotations.is_empty() {
            errors.push(ConfigError::new(
                "credentials.serviceAccountAnnotations",
                "only with fromEnvironment: true (static keys need no ServiceAccount identity)",
            ));
        }
        for key in c.service_account_annotations.keys() {
            if !is_annotation_key(key) {
                errors.push(ConfigError::new(
                    format!("credentials.serviceAccountAnnotations[{key}]"),
                    format!("{key:?} is not an annotation key (an optional DNS prefix and '/', then at most 63 letters, digits, '-', '_', '.')"),
                ));
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published functionConfig loads without errors.
    #[test]
    fn fn_config_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fn-configs/external-object-store.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("# yaml-language-server: $schema=../schemas/ExternalObjectStore.json\n"));
        let config = krm_core::yaml::parse_document(&text).unwrap();
        let f: &dyn krm_core::DynFunction = &krm_core::Registered::<crate::ExternalObjectStore>::new();
        let results = f.apply(Some(&config), &mut Vec::new());
        assert!(!results.iter().any(|r| r.is_error()), "{results:?}");
    }

    #[test]
    fn endpoints() {
        for ok in ["s3.amazonaws.com", "s3.eu-west-1.amazonaws.com:443", "minio.storage:9000", "10.0.0.5:9000", "[2001:db8::1]:9000", "[::1]", "store_1.local", "localhost"] {
            assert!(check_endpoint("endpoint", ok).is_empty(), "{ok}");
        }
        for bad in ["", "https://s3.amazonaws.com", "s3.amazonaws.com/bucket", "host:0", "host:65536", "host:", "host:9x", "2001:db8::1", "-bad.example", "a b", "300.1.1.1", "[zz]:1", "user@host"] {
            assert!(!check_endpoint("endpoint", bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn endpoint_parts() {
        let mut c: ExternalObjectStoreConfig = serde_json::from_value(serde_json::json!({
            "endpoint": "[2001:db8::1]", "credentials": {"fromEnvironment": true}})).unwrap();
        assert_eq!((c.host(), c.host_literal(), c.port(), c.address()), ("2001:db8::1".into(), "[2001:db8::1]".into(), 443, "[2001:db8::1]".into()));
        c.secure = false;
        c.endpoint = "minio.storage".into();
        assert_eq!(c.address(), "minio.storage");
        c.endpoint = "minio.storage:443".into();
        assert_eq!(c.address(), "minio.storage:443", "443 is not plain HTTP's default");
        c.endpoint = "minio.storage:9000".into();
        assert_eq!((c.host(), c.port(), c.address()), ("minio.storage".into(), 9000, "minio.storage:9000".into()));
        c.secure = true;
        c.endpoint = "s3.eu-west-1.amazonaws.com:443".into();
        assert_eq!(c.address(), "s3.eu-west-1.amazonaws.com", "the UI refuses an AWS endpoint with a port");
    }

    #[test]
    fn buckets_and_regions() {
        for ok in ["mlpipeline", "my-kubeflow-artifacts", "a.b-c", "abc", &"a".repeat(63)] {
            assert!(check_bucket("bucket", ok).is_empty(), "{ok}");
        }
        for bad in ["ab", "My-Bucket", "-abc", "abc-", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias", "a_b", &"a".repeat(64)] {
            assert!(!check_bucket("bucket", bad).is_empty(), "{bad}");
        }
        for ok in ["us-east-1", "eu-central-2", "auto", "us-gov-west-1"] {
            assert!(check_region("region", ok).is_empty(), "{ok}");
        }
        for bad in ["", "US-EAST-1", "us_east_1", "us-", "-us", "us--east"] {
            assert!(!check_region("region", bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn annotation_keys() {
        assert!(is_annotation_key("eks.amazonaws.com/role-arn"));
        assert!(is_annotation_key("iam.gke.io/gcp-service-account"));
        assert!(is_annotation_key("simple"));
        assert!(!is_annotation_key("Bad_Prefix!/x"));
        assert!(!is_annotation_key("a/-b"));
        assert!(!is_annotation_key(""));
    }
}
