//! external-object-store: Kubeflow Pipelines on an external S3-compatible object store, with
//! static keys or the environment's AWS credentials (IRSA, EKS Pod Identity), and the bundled
//! MinIO or SeaweedFS removed. What each KFP release reads is in [`kfp`] and `docs/upstream/`.
//!
//! Modules: [`config`] (the functionConfig), [`env`] (container env edits), [`consumers`] (API
//! server, UI, Argo, launcher, `pipeline-install-config`), [`profile_controller`] (its script
//! and env), [`environment`] (`fromEnvironment`: identities, root query, warnings), [`kfp`]
//! (release knowledge); this file runs them in order and removes the bundled store.
//!
//! The credential rewiring (static keys) is shared with centralize-credentials and lives in
//! [`kubeflow_common::credentials`]; the profile controller's replacement `sync.py` is beside this
//! file. The reference docs are `README.md` beside this file.

pub mod config;
mod consumers;
mod env;
mod environment;
mod kfp;
mod profile_controller;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};

use kubeflow_common::k8s::embedded::{Doc, EmbeddedError};
use kubeflow_common::k8s::select::name_matches;
use kubeflow_common::k8s::{FieldPath, Selector, generate, object, pod, shape};
use krm_core::result::ResourceRef;
use krm_core::{Function, KrmResult, yaml};
use kubeflow_common::credentials::{self, Credential, KNOWN_VARIABLES, RefKind, SecretReads, Target};
use kubeflow_common::kfp::Kfp;
pub use config::{CredentialsConfig, ExternalObjectStoreConfig};
use consumers::*;
use env::*;
use environment::*;
use profile_controller::*;

/// The `external-object-store` function.
pub struct ExternalObjectStore;

/// The function as the process runner and `kubeflow-krm`'s dispatch take it.
pub static FUNCTION: krm_core::Registered<ExternalObjectStore> = krm_core::Registered::new();

/// The profile controller's `sync.py` this function writes (see the file for what it does).
pub const SYNC_PY: &str = include_str!("../sync.py");

/// The first line of [`SYNC_PY`], by which a script written by this function is recognised.
const SYNC_PY_MARKER: &str = "# kubeflow-krm external-object-store:";

/// The in-tree object-store Secret (its catalogue keys hold the credentials).
const STORE_SECRET: &str = "mlpipeline-minio-artifact";

/// Where Argo archives a profile namespace's logs, as the UI's `ARGO_KEYFORMAT` names it: the
/// `keyFormat` that the script writes into each namespace's `artifact-repositories`, with the
/// namespace as the UI fills it in (`frontend/server/workflow-helper.ts`
/// `createPodLogsMinioRequestConfig()` replaces `{{workflow.namespace}}` with the request's
/// `podnamespace`, KFP 2.3.0, 2.5.0 and 2.16.0).
///
/// Why: a finished run's logs, once its pod is gone, are read by the UI server from the archive
/// (`handlers/pod-logs.ts` `getPodLogsHandler()`: the pod, then the Workflow, which it looks up
/// in its own namespace only before 2.17, then `ARGO_ARCHIVE_*` with this key format and the
/// UI's `MINIO_*` settings). Its default, `artifacts/{{workflow.name}}/...`, is the key of the
/// Pipelines namespace's repository, not of profile namespaces.
const UI_LOG_KEY_FORMAT: &str =
    "private-artifacts/{{workflow.namespace}}/{{workflow.name}}/{{workflow.creationTimestamp.Y}}/{{workflow.creationTimestamp.m}}/{{workflow.creationTimestamp.d}}/{{pod.name}}";

/// The newer KFP UI's allow-list of artifact-store origins (kubeflow/pipelines#14349, after
/// 2.17.0): `frontend/server/configs.ts` `parseAllowedArtifactEndpoints()` reads comma-separated
/// absolute http(s) origins, and the artifact and pod-log handlers refuse a store whose origin is
/// neither the configured MinIO/AWS one nor listed. The profile controller passes it to each
/// namespace's artifact proxy, which has no AWS settings of its own.
const ALLOWED_ENDPOINTS: &str = "ALLOWED_ARTIFACT_ENDPOINTS";

/// Pod-template annotation holding a hash of the profile controller's script, so that a changed
/// script rolls the controller (the code ConfigMap keeps its name).
const SCRIPT_HASH_ANNOTATION: &str = "kubeflow-krm.dev/sync-py-hash";

/// The RBAC objects that let the profile controller annotate `default-editor`.
const ANNOTATOR: &str = "kubeflow-pipelines-profile-controller-default-editor";
/// The ServiceAccount created for the profile controller when it has none.
const CONTROLLER: &str = "kubeflow-pipelines-profile-controller";

/// The bundled stores and everything that only serves them (facts §4, §10.5), by group, kind
/// and names.
const BUNDLED: &[(&str, &str, &[&str])] = &[
    ("apps", "Deployment", &["minio", "seaweedfs"]),
    ("", "Service", &["minio-service", "seaweedfs"]),
    ("", "PersistentVolumeClaim", &["minio-pvc", "seaweedfs-pvc"]),
    ("", "ServiceAccount", &["seaweedfs"]),
    ("networking.k8s.io", "NetworkPolicy", &["minio", "seaweedfs"]),
    ("security.istio.io", "AuthorizationPolicy", &["minio-service", "seaweedfs-service"]),
    ("networking.istio.io", "DestinationRule", &["ml-pipeline-minio", "ml-pipeline-seaweedfs"]),
    ("batch", "Job", &["init-seaweedfs"]),
];

/// The store servers: their own credentials are not consumers' (left alone when emptying).
const STORE_SERVERS: &[&str] = &["minio", "seaweedfs"];

/// Text that names the bundled store (its Service, IAM and S3 ports).
const BUNDLED_ADDRESSES: &[&str] = &["seaweedfs.kubeflow", "minio-service", ":8111", ":8333"];

impl Function for ExternalObjectStore {
    const NAME: &'static str = "external-object-store";
    const KIND: &'static str = "ExternalObjectStore";
    const DOC: &'static str = include_str!("../README.md");
    type Config = ExternalObjectStoreConfig;

    fn process(config: &ExternalObjectStoreConfig, items: &mut Vec<Value>) -> Vec<KrmResult> {
        let shape_errors = shape::input_errors(items);
        if !shape_errors.is_empty() {
            return shape_errors;
        }
        let before = SecretReads::of(items);
        let mut store = Store::of(config);
        let mut results = Vec::new();
        if config.remove_in_cluster {
            remove_bundled(items, &mut results);
        }
        let kfp = Kfp::of(items);
        store.profiles = !kubeflow_common::k8s::select::find(items, Selector::of("apps", "Deployment").named(CONTROLLER)).is_empty();
        // Made while `kfp.index` names the API server (items are added and placed below); they
        // join the results after the ServiceAccounts'.
        let mut chain_warnings = Vec::new();
        if store.from_environment {
            results.extend(environment_warnings(kfp.as_ref(), &mut store));
            chain_warnings = kfp::credential_chain_warnings(items, kfp.as_ref(), store.annotations.contains_key(kfp::IRSA_ANNOTATION), store.is_aws());
        }
        if let Some(target) = &store.target {
            credentials::centralize(items, target, &mut results);
        } else {
            empty_key_variables(items, &mut results);
        }
        api_server(items, &store, &mut results);
        ui(items, &store, &mut results);
        argo(items, &store, &mut results);
        launcher(items, &store, &mut results);
        install_config(items, &store, &mut results);
        profile_controller(items, &store, &mut results);
        if store.from_environment {
            service_accounts(items, &store, &mut results);
            results.extend(chain_warnings);
        }
        if config.remove_in_cluster {
            remove_secrets(items, &store, &mut results);
        }
        warn_leftovers(items, config.remove_in_cluster, &store, &mut results);
        credentials::refresh_external_secrets(items, &before, &mut results);
        results
    }

    /// Each namespace that must hold the central Secret with the object-store keys (none with
    /// `credentials.fromEnvironment`).
    fn claims(config: &ExternalObjectStoreConfig, items: &[Value]) -> Vec<KrmResult> {
        match &Store::of(config).target {
            Some(target) => credentials::namespace_results(&credentials::central_usage(items, target), target),
            None => Vec::new(),
        }
    }
}

/// The configured store, as the consumers write it.
struct Store {
    /// Host without brackets (`MINIO_HOST`, `OBJECTSTORECONFIG_HOST`).
    host: String,
    /// Port as text.
    port: String,
    /// The host, with the port only where it is not the scheme's default (Argo, the launcher's
    /// providers, the profile controller: see [`ExternalObjectStoreConfig::address`]).
    endpoint: String,
    secure: bool,
    region: String,
    bucket: String,
    from_environment: bool,
    /// The static-key target (`None` with `fromEnvironment`).
    target: Option<Target>,
    annotations: BTreeMap<String, String>,
    /// With `fromEnvironment`: the query of every default pipeline root, which carries the
    /// store's settings to launchers that ignore the providers then (see [`kfp`]).
    root_query: String,
    /// The input has the Pipelines profile controller (multi-user): its script writes each
    /// profile namespace's Argo repository.
    profiles: bool,
}

impl Store {
    fn of(config: &ExternalObjectStoreConfig) -> Self {
        Store {
            host: config.host(),
            port: config.port().to_string(),
            endpoint: config.address(),
            secure: config.secure,
            region: config.region.clone(),
            bucket: config.bucket.clone(),
            from_environment: config.credentials.from_environment,
            target: config.target(),
            annotations: config.credentials.service_account_annotations.clone(),
            root_query: String::new(),
            profiles: false,
        }
    }

    /// The store's origin as a browser or `URL.origin` writes it: scheme, host, and the port
    /// when it is not the scheme's default.
    fn origin(&self) -> String {
        format!("{}://{}", if self.secure { "https" } else { "http" }, self.endpoint)
    }

    /// Whether the store is Amazon S3 (the AWS SDKs' own endpoints).
    fn is_aws(&self) -> bool {
        let host = self.host.to_ascii_lowercase();
        host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")
    }

    fn tls(&self) -> &'static str {
        if self.secure { "true" } else { "false" }
    }

    /// The central Secret and its key of a credential (static keys only).
    fn central(&self, credential: Credential) -> Option<(&str, &str)> {
        let t = self.target.as_ref()?;
        Some((t.secret_name.as_str(), t.central_key(credential)?))
    }

    /// The kfp-launcher `providers` document: the store as the default of `s3://` and
    /// `minio://` roots, credentials from `secret` (name, access key key, secret key key) or the
    /// environment. The profile controller's script writes the same text (`providers_yaml`).
    fn providers(&self, secret: Option<(&str, &str, &str)>) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
        let mut lines = Vec::new();
        for provider in ["s3", "minio"] {
            lines.push(format!("{provider}:"));
            lines.push("  default:".into());
            lines.push(format!("    endpoint: {}", q(&self.endpoint)));
            lines.push(format!("    region: {}", q(&self.region)));
            lines.push(format!("    disableSSL: {}", !self.secure));
            lines.push("    forcePathStyle: true".into());
            lines.push("    credentials:".into());
            match secret {
                Some((name, access, secret)) => {
                    lines.push("      fromEnv: false".into());
                    lines.push("      secretRef:".into());
                    lines.push(format!("        secretName: {}", q(name)));
                    lines.push(format!("        accessKeyKey: {}", q(access)));
                    lines.push(format!("        secretKeyKey: {}", q(secret)));
                }
                None => lines.push("      fromEnv: true".into()),
            }
        }
        lines.join("\n") + "\n"
    }
}

// ------------------------------------------------------------------------------------------
// Removal and leftovers
// ------------------------------------------------------------------------------------------

fn is_bundled(item: &Value) -> bool {
    BUNDLED.iter().any(|(group, kind, names)| names.iter().any(|n| Selector::of(group, kind).named(n).matches(item)))
}

/// Deletes the bundled store and everything that only serves it.
fn remove_bundled(items: &mut Vec<Value>, results: &mut Vec<KrmResult>) {
    let mut kept = Vec::with_capacity(items.len());
    for item in items.drain(..) {
        if is_bundled(&item) {
            results.push(KrmResult::info("deleted: it belongs to the bundled object store").on(&item));
        } else {
            kept.push(item);
        }
    }
    *items = kept;
}

/// Deletes the in-tree object-store Secret once nothing reads it.
fn remove_secrets(items: &mut Vec<Value>, store: &Store, results: &mut Vec<KrmResult>) {
    if let Some(target) = &store.target {
        credentials::remove_replaced_secrets(items, target, results);
        return;
    }
    let mut deleted = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if !Selector::core("Secret").named(STORE_SECRET).matches(item) {
            continue;
        }
        let refs = credentials::references(items, RefKind::Secret, object::name(item));
        if refs.is_empty() {
            results.push(KrmResult::info("deleted: nothing references it any more (no static keys are used)").on(item));
            deleted.push(i);
        } else {
            let by: Vec<String> = refs.iter().take(3).map(|r| format!("{} {}", ResourceRef::of(&items[r.item]), r.path)).collect();
            results.push(KrmResult::warning(format!("kept: still referenced by {}; those consumers still use static keys", by.join(", "))).on(item));
        }
    }
    for i in deleted.into_iter().rev() {
        items.remove(i);
    }
}

/// Warns about every item that still names the bundled store.
fn warn_leftovers(items: &[Value], removed: bool, store: &Store, results: &mut Vec<KrmResult>) {
    for item in items {
        let skip = object::is_local_config(item) || object::kind(item) == "CustomResourceDefinition";
        if skip || (!removed && is_bundled(item)) {
            continue;
        }
        let mut found: Vec<&str> = Vec::new();
        mentions(item, &mut found);
        if !found.is_empty() {
            results.push(
                KrmResult::warning(format!(
                    "still names the bundled object store ({}): point it at {} yourself",
                    found.join(", "),
                    store.endpoint
                ))
                .on(item),
            );
        }
    }
}

/// Collects the bundled-store addresses a value's strings (keys included) mention.
fn mentions(value: &Value, found: &mut Vec<&'static str>) {
    fn check(s: &str, found: &mut Vec<&'static str>) {
        for a in BUNDLED_ADDRESSES {
            if !found.contains(a) && s.contains(a) {
                found.push(a);
            }
        }
    }
    match value {
        Value::String(s) => check(s, found),
        Value::Array(a) => a.iter().for_each(|v| mentions(v, found)),
        Value::Object(m) => {
            for (k, v) in m {
                check(k, found);
                mentions(v, found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_listed_twice_is_removed_everywhere_and_set_where_it_takes_effect() {
        let mut container = serde_json::json!({"name": "c", "env": [
            {"name": "OBJECT_STORE_HOST", "value": "seaweedfs"}, {"name": "A", "value": "1"},
            {"name": "OBJECT_STORE_HOST", "value": "minio"}, {"name": "A", "value": "2"},
        ]});
        let map = container.as_object_mut().unwrap();
        let mut env = Env { container: map, path: FieldPath::default(), notes: Vec::new() };
        env.remove("OBJECT_STORE_HOST", "test");
        env.literal("A", "3");
        assert_eq!(env.notes.len(), 2);
        assert_eq!(container["env"], serde_json::json!([{"name": "A", "value": "1"}, {"name": "A", "value": "3"}]));
    }

    #[test]
    fn script_defaults_are_read_from_the_original() {
        let master = "settings = os.environ.get(\"FRONTEND_IMAGE\", \"ghcr.io/kubeflow/kfp-frontend\")\nARTIFACTS_PROXY_ENABLED ml-pipeline-ui-artifact create_access_key";
        let r = Release::of(master);
        assert_eq!(r, Release { visualization_server: false, proxy_always: false, frontend_image: Some("ghcr.io/kubeflow/kfp-frontend".into()), visualization_server_image: None, iam_keys: true });
        let old = "os.environ.get(\"VISUALIZATION_SERVER_IMAGE\", 'gcr.io/ml-pipeline/visualization-server') ml-pipeline-visualizationserver ml-pipeline-ui-artifact";
        let r = Release::of(old);
        assert!(r.visualization_server && r.proxy_always && !r.iam_keys);
        assert_eq!(r.visualization_server_image.as_deref(), Some("gcr.io/ml-pipeline/visualization-server"));
    }

    #[test]
    fn the_script_is_marked_and_names_no_bundled_store() {
        assert!(SYNC_PY.starts_with(SYNC_PY_MARKER));
        for a in BUNDLED_ADDRESSES {
            assert!(!SYNC_PY.contains(a), "{a}");
        }
        assert_eq!(fnv("a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn fallback_edits_of_a_parsed_document() {
        let mut v = serde_json::json!({"s3": {"endpoint": "a", "accessKeySecret": {"name": "x"}}});
        assert!(edit_value(&mut v, &["s3", "endpoint"], Some(Value::String("b".into()))));
        assert!(!edit_value(&mut v, &["s3", "endpoint"], Some(Value::String("b".into()))));
        assert!(edit_value(&mut v, &["s3", "accessKeySecret"], None));
        assert!(!edit_value(&mut v, &["s3", "missing", "deeper"], None));
        assert!(edit_value(&mut v, &["s3", "useSDKCreds"], Some(Value::Bool(true))));
        assert_eq!(v, serde_json::json!({"s3": {"endpoint": "b", "useSDKCreds": true}}));
    }

    #[test]
    fn origins_are_added_once() {
        assert_eq!(allow_origin("", "https://s3.example.com").as_deref(), Some("https://s3.example.com"));
        assert_eq!(allow_origin("https://a.example.com, http://b:9000", "https://s3.example.com").as_deref(), Some("https://a.example.com,http://b:9000,https://s3.example.com"));
        for listed in ["https://S3.example.com", "https://s3.example.com:443/", " https://s3.example.com "] {
            assert_eq!(allow_origin(listed, "https://s3.example.com"), None, "{listed}");
        }
        assert!(allow_origin("http://s3.example.com", "https://s3.example.com").is_some(), "http and https are other origins");
        assert_eq!(allow_origin("http://m:80", "http://m"), None);
    }

    #[test]
    fn the_ui_reads_logs_where_the_script_has_argo_write_them() {
        // The script writes the key format as a Python f-string with the namespace filled in.
        let python = UI_LOG_KEY_FORMAT.split("{{workflow.namespace}}").map(|part| part.replace("{{", "{{{{").replace("}}", "}}}}")).collect::<Vec<_>>().join("{namespace}");
        assert!(SYNC_PY.contains(&format!("f\"{python}\"")), "sync.py's keyFormat is not {python}");
    }

    #[test]
    fn key_variables_follow_the_catalogue() {
        assert!(is_key_variable("OBJECTSTORECONFIG_ACCESSKEY", "ml-pipeline"));
        assert!(is_key_variable("AWS_SECRET_ACCESS_KEY", "ml-pipeline-ui"));
        assert!(!is_key_variable("AWS_SECRET_ACCESS_KEY", "my-app"));
        assert!(!is_key_variable("DBCONFIG_PASSWORD", "ml-pipeline"));
    }
}
