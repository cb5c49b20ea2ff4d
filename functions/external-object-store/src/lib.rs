//! external-object-store: Kubeflow Pipelines on an external S3-compatible object store, with
//! static keys or the environment's AWS credentials (IRSA, EKS Pod Identity), and the bundled
//! MinIO or SeaweedFS removed. What each KFP release reads is in [`kfp`] and `docs/upstream/`.
//!
//! The credential rewiring (static keys) is shared with centralize-credentials and lives in
//! [`kubeflow_common::credentials`]; the profile controller's replacement `sync.py` is beside this
//! file. The reference docs are `README.md` beside this file.

pub mod config;
mod kfp;

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
use kfp::StoreUrl;
use kubeflow_common::kfp::Kfp;
pub use config::{CredentialsConfig, ExternalObjectStoreConfig};

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
        if store.from_environment {
            results.extend(environment_warnings(kfp.as_ref(), &mut store));
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
            // Found again: items were added and placed since (the index must name the same item).
            let kfp = Kfp::of(items);
            results.extend(kfp::credential_chain_warnings(items, kfp.as_ref(), store.annotations.contains_key(kfp::IRSA_ANNOTATION), store.is_aws()));
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
// Env editing
// ------------------------------------------------------------------------------------------

/// A container being edited, collecting one note per change.
struct Env<'a> {
    container: &'a mut Map<String, Value>,
    path: FieldPath,
    notes: Vec<(String, FieldPath)>,
}

fn env_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

impl Env<'_> {
    fn entries(&self) -> &[Value] {
        self.container.get("env").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    }

    /// The entry in effect ([`pod::env_index`]: the last of that name).
    fn get(&self, name: &str) -> Option<&Value> {
        let entries = self.entries();
        pod::env_index(entries, name).map(|i| &entries[i])
    }

    fn at(&self, name: &str) -> FieldPath {
        self.path.key("env").entry(Some(name), 0)
    }

    /// Sets `entry` (replacing the entry of that name in place, or adding one by the shared
    /// insertion rule); `what` describes the new value. Returns true if anything changed.
    fn put(&mut self, entry: Value, what: String) -> bool {
        let name = env_name(&entry).unwrap_or_default().to_string();
        if self.get(&name) == Some(&entry) {
            return false;
        }
        let at = self.at(&name);
        let Some(env) = pod::env_mut(self.container) else {
            self.notes.push((format!("env is not a list: cannot set {name}"), self.path.key("env")));
            return false;
        };
        match pod::env_index(env, &name) {
            Some(i) => {
                env[i] = entry;
                self.notes.push((what, at));
            }
            None => {
                credentials::insert_created(env, entry);
                self.notes.push((format!("added: {what}"), at));
            }
        }
        true
    }

    /// A literal value (not a credential: the value goes in the message).
    fn literal(&mut self, name: &str, value: &str) {
        self.put(pod::env_value(name, value), format!("set to {value:?}"));
    }

    /// An emptied key variable (the default credential chain is used).
    fn empty_key(&mut self, name: &str) {
        self.put(pod::env_value(name, ""), "set to \"\" (the AWS default credential chain provides the credentials)".into());
    }

    /// A key variable reading the central Secret (an entry that already does, `optional` or not,
    /// stays as it is).
    fn secret(&mut self, name: &str, secret: &str, key: &str) {
        if self.get(name).and_then(credentials::reads_secret) == Some((secret, key)) {
            return;
        }
        self.put(credentials::secret_env(name, secret, key, None), format!("reads Secret {secret} key {key}"));
    }

    /// A key variable for a credential: the central Secret's key, or emptied.
    fn key(&mut self, name: &str, credential: Credential, store: &Store) {
        match store.central(credential) {
            Some((secret, key)) => self.secret(name, secret, key),
            None => self.empty_key(name),
        }
    }

    /// Adds the store's origin to a literal `ALLOWED_ARTIFACT_ENDPOINTS` entry, where there is
    /// one (a `valueFrom` entry reads `pipeline-install-config`, edited there).
    fn allow_origin(&mut self, store: &Store) {
        let Some(list) = self.get(ALLOWED_ENDPOINTS).filter(|e| e.get("valueFrom").is_none()).map(|e| e.get("value").and_then(Value::as_str).unwrap_or_default().to_string()) else {
            return;
        };
        if let Some(new) = allow_origin(&list, &store.origin()) {
            self.literal(ALLOWED_ENDPOINTS, &new);
        }
    }

    /// Removes every entry of that name (an earlier duplicate would take effect otherwise).
    fn remove(&mut self, name: &str, why: &str) {
        let Some(env) = self.container.get_mut("env").and_then(Value::as_array_mut) else { return };
        let before = env.len();
        env.retain(|e| env_name(e) != Some(name));
        if env.len() < before {
            let at = self.at(name);
            self.notes.push((format!("removed: {why}"), at));
        }
    }
}

/// Runs `edit` on the main container (`container`, else the first) of every Deployment named
/// `workload`; an info result per change.
fn edit_workload(items: &mut [Value], workload: &str, container: &str, results: &mut Vec<KrmResult>, mut edit: impl FnMut(&mut Env<'_>)) {
    let selector = Selector::of("apps", "Deployment").named(workload);
    for item in items.iter_mut().filter(|i| selector.matches(i)) {
        let mut notes = Vec::new();
        if let Some((c, path)) = main_container(item, container) {
            let mut env = Env { container: c, path, notes: Vec::new() };
            edit(&mut env);
            notes = env.notes;
        }
        results.extend(notes.into_iter().map(|(m, p)| KrmResult::info(m).on(item).at(p)));
    }
}

/// The container named `name` of a workload, else its first container.
fn main_container<'a>(item: &'a mut Value, name: &str) -> Option<(&'a mut Map<String, Value>, FieldPath)> {
    let (template, base) = pod::template_mut(item)?;
    let containers = template.get_mut("spec")?.get_mut("containers")?.as_array_mut()?;
    let index = containers.iter().position(|c| c.get("name").and_then(Value::as_str) == Some(name)).unwrap_or(0);
    let container = containers.get_mut(index)?.as_object_mut()?;
    let path = base.key("spec").key("containers").entry(container.get("name").and_then(Value::as_str), index);
    Some((container, path))
}

/// True for a variable that holds an object-store key in this workload (the catalogue's names).
fn is_key_variable(name: &str, workload: &str) -> bool {
    KNOWN_VARIABLES.iter().any(|v| {
        v.name == name
            && matches!(v.credential, Credential::ObjectStoreAccessKey | Credential::ObjectStoreSecretKey)
            && (v.workloads.is_empty() || v.workloads.iter().any(|w| name_matches(workload, w)))
    })
}

/// `fromEnvironment`: every object-store key variable of every workload (but the bundled store
/// servers) is emptied, whatever it read, so the AWS default credential chain is used.
fn empty_key_variables(items: &mut [Value], results: &mut Vec<KrmResult>) {
    for item in items.iter_mut() {
        if object::is_local_config(item) || pod::template(item).is_none() {
            continue;
        }
        let workload = object::name(item).to_string();
        if STORE_SERVERS.iter().any(|s| name_matches(&workload, s)) && object::kind(item) == "Deployment" {
            continue;
        }
        let mut notes = Vec::new();
        pod::for_each_container_mut(item, |c| {
            let names: Vec<String> = c
                .container
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(env_name)
                .filter(|n| is_key_variable(n, &workload))
                .map(str::to_string)
                .collect();
            let mut env = Env { container: c.container, path: c.path, notes: Vec::new() };
            for name in names {
                env.empty_key(&name);
            }
            notes.extend(env.notes);
        });
        results.extend(notes.into_iter().map(|(m, p)| KrmResult::info(m).on(item).at(p)));
    }
}

// ------------------------------------------------------------------------------------------
// The consumers
// ------------------------------------------------------------------------------------------

/// The API server: `OBJECTSTORECONFIG_*` (old releases have no HOST/PORT: the code fell back to
/// the service links of `minio-service`).
fn api_server(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    edit_workload(items, "ml-pipeline", "ml-pipeline-api-server", results, |env| {
        env.literal("OBJECTSTORECONFIG_HOST", &store.host);
        env.literal("OBJECTSTORECONFIG_PORT", &store.port);
        env.literal("OBJECTSTORECONFIG_SECURE", store.tls());
        env.literal("OBJECTSTORECONFIG_REGION", &store.region);
        let bucket_from_config = env.get("OBJECTSTORECONFIG_BUCKETNAME").is_some_and(|e| e.pointer("/valueFrom/configMapKeyRef").is_some());
        if !bucket_from_config {
            env.literal("OBJECTSTORECONFIG_BUCKETNAME", &store.bucket);
        }
        env.key("OBJECTSTORECONFIG_ACCESSKEY", Credential::ObjectStoreAccessKey, store);
        env.key("OBJECTSTORECONFIG_SECRETACCESSKEY", Credential::ObjectStoreSecretKey, store);
    });
}

/// The UI: the MinIO client (`minio://` artifacts and Argo's archived logs) and the S3 client.
/// `MINIO_NAMESPACE` is emptied: the UI appends it to `MINIO_HOST`.
fn ui(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    edit_workload(items, "ml-pipeline-ui", "ml-pipeline-ui", results, |env| {
        env.key("MINIO_ACCESS_KEY", Credential::ObjectStoreAccessKey, store);
        env.key("MINIO_SECRET_KEY", Credential::ObjectStoreSecretKey, store);
        env.key("AWS_ACCESS_KEY_ID", Credential::ObjectStoreAccessKey, store);
        env.key("AWS_SECRET_ACCESS_KEY", Credential::ObjectStoreSecretKey, store);
        env.literal("MINIO_HOST", &store.host);
        env.literal("MINIO_PORT", &store.port);
        env.literal("MINIO_SSL", store.tls());
        env.literal("MINIO_NAMESPACE", "");
        env.literal("AWS_S3_ENDPOINT", &store.host);
        // KFP UIs up to 2.17 have no port for the S3 client (frontend/server/configs.ts
        // loadConfigs()); later ones read AWS_S3_PORT (kubeflow/pipelines#14349). Only a port
        // that is not the scheme's default needs saying.
        if store.endpoint.ends_with(&format!(":{}", store.port)) {
            env.literal("AWS_S3_PORT", &store.port);
        } else {
            env.remove("AWS_S3_PORT", "the store's port is the scheme's default");
        }
        env.literal("AWS_REGION", &store.region);
        env.literal("AWS_SSL", store.tls());
        env.literal("ARGO_ARCHIVE_BUCKETNAME", &store.bucket);
        if store.profiles {
            // The archive is read only with ARGO_ARCHIVE_LOGS (default false: 1.9's UI has none).
            env.literal("ARGO_ARCHIVE_LOGS", "true");
            env.literal("ARGO_KEYFORMAT", UI_LOG_KEY_FORMAT);
        }
        env.allow_origin(store);
    });
}

/// A comma-separated origin list with `origin` in it: `None` if an entry is that origin
/// already (compared as `URL.origin` does: case of scheme and host, a trailing `/`, the scheme's
/// default port).
fn allow_origin(list: &str, origin: &str) -> Option<String> {
    fn normal(entry: &str) -> String {
        let e = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        e.strip_suffix(":443").filter(|h| h.starts_with("https://")).or_else(|| e.strip_suffix(":80").filter(|h| h.starts_with("http://"))).map(str::to_string).unwrap_or(e)
    }
    let wanted = normal(origin);
    if list.split(',').any(|e| normal(e) == wanted) {
        return None;
    }
    let kept: Vec<&str> = list.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
    Some(kept.into_iter().chain([origin]).collect::<Vec<_>>().join(","))
}

/// Argo's artifact repositories: endpoint, bucket, TLS, region, and the keys (the central Secret)
/// or `useSDKCreds` (the environment's credentials). Every other line stays.
fn argo(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    for item in items.iter_mut() {
        if object::is_local_config(item) {
            continue;
        }
        for credentials::ArgoDocument { data_key, prefix, text } in credentials::argo_documents(item) {
            let at = FieldPath::from_keys(&["data"]).key(&data_key);
            let doc = match Doc::parse(&text) {
                Ok(d) => d,
                Err(e) => {
                    results.push(KrmResult::warning(format!("cannot be read ({e}): point its artifact repository at {} yourself", store.endpoint)).on(item).at(at));
                    continue;
                }
            };
            let mut s3: Vec<&str> = prefix.clone();
            s3.push("s3");
            if !doc.get(&s3).is_some_and(Value::is_object) {
                continue;
            }
            let p = |field: &[&'static str]| -> Vec<&str> {
                let mut v = s3.clone();
                v.extend_from_slice(field);
                v
            };
            let mut edits: Vec<(Vec<&str>, Option<Value>)> = vec![
                (p(&["endpoint"]), Some(Value::String(store.endpoint.clone()))),
                (p(&["bucket"]), Some(Value::String(store.bucket.clone()))),
                (p(&["insecure"]), Some(Value::Bool(!store.secure))),
                (p(&["region"]), Some(Value::String(store.region.clone()))),
            ];
            match (store.central(Credential::ObjectStoreAccessKey), store.central(Credential::ObjectStoreSecretKey)) {
                (Some((secret, access)), Some((_, secret_key))) => {
                    edits.push((p(&["accessKeySecret", "name"]), Some(Value::String(secret.to_string()))));
                    edits.push((p(&["accessKeySecret", "key"]), Some(Value::String(access.to_string()))));
                    edits.push((p(&["secretKeySecret", "name"]), Some(Value::String(secret.to_string()))));
                    edits.push((p(&["secretKeySecret", "key"]), Some(Value::String(secret_key.to_string()))));
                    edits.push((p(&["useSDKCreds"]), None));
                }
                _ => {
                    edits.push((p(&["accessKeySecret"]), None));
                    edits.push((p(&["secretKeySecret"]), None));
                    edits.push((p(&["useSDKCreds"]), Some(Value::Bool(true))));
                }
            }
            let mut changed = Vec::new();
            let mut lines = doc.clone();
            let line_edit: Result<(), EmbeddedError> = edits.iter().try_for_each(|(path, value)| {
                let did = match value {
                    Some(v) => lines.set(path, v)?,
                    None => lines.remove(path)?,
                };
                if did {
                    changed.push(path[s3.len()..].join("."));
                }
                Ok(())
            });
            if changed.is_empty() && line_edit.is_ok() {
                continue;
            }
            let new_text = match line_edit.and_then(|()| lines.finish()) {
                Ok(t) => t,
                Err(_) => {
                    // Re-emit the edited value (flow-style documents and the like).
                    let mut value = doc.value().clone();
                    changed = edits.iter().filter(|(path, v)| edit_value(&mut value, path, v.clone())).map(|(path, _)| path[s3.len()..].join(".")).collect();
                    match yaml::to_yaml(&value) {
                        Ok(t) => {
                            results.push(KrmResult::warning("rewritten without its comments: it could not be edited line by line").on(item).at(at.clone()));
                            t
                        }
                        Err(e) => {
                            results.push(KrmResult::warning(format!("cannot be rewritten ({e}): point its artifact repository at {} yourself", store.endpoint)).on(item).at(at));
                            continue;
                        }
                    }
                }
            };
            if new_text == text {
                continue;
            }
            if let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) {
                object::insert_sorted(data, &data_key, Value::String(new_text));
            }
            results.push(
                KrmResult::info(format!("Argo artifact repository on {} bucket {} (s3: {})", store.endpoint, store.bucket, changed.join(", ")))
                    .on(item)
                    .at(at),
            );
        }
    }
}

/// Sets (`Some`) or removes (`None`) the value at a path of a parsed document (the re-emit
/// fallback); true if it changed.
fn edit_value(root: &mut Value, path: &[&str], value: Option<Value>) -> bool {
    let (last, parents) = path.split_last().expect("a path");
    let mut slot = root;
    for p in parents {
        let Some(m) = slot.as_object_mut() else { return false };
        if value.is_none() && !m.contains_key(*p) {
            return false;
        }
        slot = m.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    let Some(m) = slot.as_object_mut() else { return false };
    match value {
        Some(v) if m.get(*last) == Some(&v) => false,
        Some(v) => {
            m.insert(last.to_string(), v);
            true
        }
        None => m.shift_remove(*last).is_some(),
    }
}

/// The launcher's ConfigMap of the Pipelines namespace: the default root on the bucket and the
/// store as provider.
fn launcher(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    let secret = match (store.central(Credential::ObjectStoreAccessKey), store.central(Credential::ObjectStoreSecretKey)) {
        (Some((name, access)), Some((_, secret))) => Some((name, access, secret)),
        _ => None,
    };
    let desired = [
        ("defaultPipelineRoot", format!("s3://{}/v2/artifacts{}", store.bucket, store.root_query)),
        ("providers", store.providers(secret)),
    ];
    let selector = Selector::core("ConfigMap").named("kfp-launcher");
    for item in items.iter_mut().filter(|i| selector.matches(i)) {
        let mut changed = Vec::new();
        if let Some(obj) = item.as_object_mut() {
            let data = object::child_map(obj, "data");
            for (key, value) in &desired {
                if data.get(*key).and_then(Value::as_str) != Some(value.as_str()) {
                    object::insert_sorted(data, key, Value::String(value.clone()));
                    changed.push(*key);
                }
            }
        }
        for key in changed {
            let what = if key == "providers" {
                format!("the store {} (region {}, TLS {}) for s3:// and minio:// roots", store.endpoint, store.region, store.tls())
            } else {
                format!("s3://{}/v2/artifacts{}", store.bucket, store.root_query)
            };
            results.push(KrmResult::info(format!("{key}: {what}")).on(item).at(FieldPath::from_keys(&["data", key])));
        }
    }
}

/// A `defaultPipelineRoot` of the user's, which the profile controller gives every profile
/// namespace's launcher (`KFP_DEFAULT_PIPELINE_ROOT`): what it does that the user may not mean.
fn custom_root(root: &str, store: &Store) -> Option<String> {
    let (scheme, rest) = root.split_once("://").unwrap_or(("", root));
    let bucket = rest.split(['/', '?']).next().unwrap_or_default();
    if !matches!(scheme, "s3" | "minio") || bucket != store.bucket {
        return Some(format!(
            "profile namespaces' launchers use this root (the profile controller's KFP_DEFAULT_PIPELINE_ROOT), so their artifacts go to {root}, not to bucket {} of the store this function configures; empty it to use s3://{}/private-artifacts/<namespace>/v2/artifacts",
            store.bucket, store.bucket
        ));
    }
    if root.contains('?') && !store.root_query.is_empty() {
        return Some(format!(
            "this root has a query of its own, so profile namespaces' launchers get it instead of the store's ({}); the launcher reads only the root's query with the environment's credentials",
            store.root_query
        ));
    }
    None
}

/// `pipeline-install-config`: `bucketName` (read by the API server; `minioServiceHost` and
/// `minioServiceRegion` too where an old `env/aws` render has them), and a warning about the
/// artifact retention SeaweedFS applied.
fn install_config(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    let selector = Selector::core("ConfigMap").named("pipeline-install-config");
    for item in items.iter_mut().filter(|i| selector.matches(i)) {
        if let Some(root) = item.pointer("/data/defaultPipelineRoot").and_then(Value::as_str).filter(|r| !r.trim().is_empty()) {
            if let Some(message) = custom_root(root, store) {
                results.push(KrmResult::warning(message).on(item).at("data.defaultPipelineRoot"));
            }
        }
        let retention = item.pointer("/data/ARTIFACT_RETENTION_DAYS").and_then(Value::as_str).and_then(|s| s.trim().parse::<i64>().ok());
        let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) else { continue };
        // `bucketName` always; the old `env/aws` keys where they exist.
        let mut changed = Vec::new();
        let allowed = data.get(ALLOWED_ENDPOINTS).and_then(Value::as_str).and_then(|list| allow_origin(list, &store.origin())).unwrap_or_default();
        for (key, value, always) in [
            ("bucketName", &store.bucket, true),
            ("minioServiceHost", &store.host, false),
            ("minioServiceRegion", &store.region, false),
            (ALLOWED_ENDPOINTS, &allowed, false),
        ] {
            if key == ALLOWED_ENDPOINTS && value.is_empty() {
                continue;
            }
            let current = data.get(key).and_then(Value::as_str);
            if (always || current.is_some()) && current != Some(value.as_str()) {
                object::insert_sorted(data, key, Value::String(value.clone()));
                changed.push((key, value.clone()));
            }
        }
        for (key, value) in changed {
            results.push(KrmResult::info(format!("{key}: {value}")).on(item).at(FieldPath::from_keys(&["data", key])));
        }
        if retention.is_some_and(|d| d > 0) {
            results.push(
                KrmResult::warning(format!(
                    "ARTIFACT_RETENTION_DAYS is not applied to the external bucket (the profile controller set it as a SeaweedFS lifecycle rule): add an expiration rule for the prefix private-artifacts/ to bucket {} yourself",
                    store.bucket
                ))
                .on(item)
                .at("data.ARTIFACT_RETENTION_DAYS"),
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// The profile controller
// ------------------------------------------------------------------------------------------

/// What the replaced script did that the new one must keep doing, read from its text.
#[derive(Debug, Default, PartialEq, Eq)]
struct Release {
    /// Per-namespace visualization server (Kubeflow 1.9 and 1.10).
    visualization_server: bool,
    /// The artifact proxy was unconditional (no `ARTIFACTS_PROXY_ENABLED`).
    proxy_always: bool,
    /// Default images of the script (`FRONTEND_IMAGE`, `VISUALIZATION_SERVER_IMAGE`).
    frontend_image: Option<String>,
    visualization_server_image: Option<String>,
    /// Master's script: per-namespace SeaweedFS IAM keys.
    iam_keys: bool,
}

/// The default of `os.environ.get("VAR", "default")` in a script.
fn env_default(script: &str, variable: &str) -> Option<String> {
    let needle = format!("os.environ.get(\"{variable}\",");
    let rest = &script[script.find(&needle)? + needle.len()..];
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rest[1..];
    Some(rest[..rest.find(quote)?].to_string())
}

impl Release {
    fn of(script: &str) -> Self {
        Release {
            visualization_server: script.contains("ml-pipeline-visualizationserver"),
            proxy_always: script.contains("ml-pipeline-ui-artifact") && !script.contains("ARTIFACTS_PROXY_ENABLED"),
            frontend_image: env_default(script, "FRONTEND_IMAGE"),
            visualization_server_image: env_default(script, "VISUALIZATION_SERVER_IMAGE"),
            iam_keys: script.contains("create_access_key"),
        }
    }
}

/// The script's own defaults, which need no env entry.
const SCRIPT_FRONTEND_IMAGE: &str = "ghcr.io/kubeflow/kfp-frontend";
const SCRIPT_VISUALIZATION_SERVER_IMAGE: &str = "ghcr.io/kubeflow/kfp-visualization-server";

/// A stable 64-bit FNV-1a hash, as 16 hex digits.
fn fnv(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The profile controller: its `sync.py` (found through the Deployment's `hooks` volume) is
/// replaced with [`SYNC_PY`], configured by env entries of the Deployment.
fn profile_controller(items: &mut Vec<Value>, store: &Store, results: &mut Vec<KrmResult>) {
    let selector = Selector::of("apps", "Deployment").named(CONTROLLER);
    let controllers: Vec<usize> = kubeflow_common::k8s::select::find(items, selector);
    for index in controllers {
        let code = items[index]
            .pointer("/spec/template/spec/volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|v| v.get("name").and_then(Value::as_str) == Some("hooks"))
            .and_then(|v| v.pointer("/configMap/name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let namespace = object::namespace(&items[index]).map(str::to_string);
        let Some(code) = code else {
            results.push(
                KrmResult::warning("has no hooks volume from a ConfigMap: its sync.py cannot be replaced, so profile namespaces keep the bundled store's address and keys")
                    .on(&items[index])
                    .at("spec.template.spec.volumes"),
            );
            continue;
        };
        let cm = items.iter().position(|i| {
            Selector::core("ConfigMap").matches(i)
                && object::name(i) == code
                && (namespace.is_none() || object::namespace(i).is_none() || object::namespace(i) == namespace.as_deref())
        });
        let Some(cm) = cm else {
            results.push(
                KrmResult::warning(format!("its code ConfigMap {code} is not in the input: its sync.py cannot be replaced, so profile namespaces keep the bundled store's address and keys"))
                    .on(&items[index])
                    .at("spec.template.spec.volumes[name=hooks]"),
            );
            continue;
        };
        let current = items[cm].pointer("/data/sync.py").and_then(Value::as_str).unwrap_or_default().to_string();
        let release = if current.starts_with(SYNC_PY_MARKER) { None } else { Some(Release::of(&current)) };
        if current != SYNC_PY {
            if let Some(data) = items[cm].as_object_mut().map(|o| object::child_map(o, "data")) {
                object::insert_sorted(data, "sync.py", Value::String(SYNC_PY.to_string()));
            }
            results.push(
                KrmResult::info(format!(
                    "sync.py replaced: profile namespaces get the store {} bucket {} ({}), {}; the same objects as before otherwise",
                    store.endpoint,
                    store.bucket,
                    if store.from_environment { "no keys: the default credential chain" } else { "the configured keys copied into Secret mlpipeline-minio-artifact" },
                    "kfp-launcher with providers and artifact-repositories"
                ))
                .on(&items[cm])
                .at("data[sync.py]"),
            );
            if let Some(r) = release.as_ref().filter(|_| !current.is_empty()) {
                let secret = if r.iam_keys { "Secret mlpipeline-minio-artifact (a SeaweedFS key of their own)" } else { "Secret mlpipeline-minio-artifact" };
                results.push(
                    KrmResult::warning(format!(
                        "profile namespaces that already exist keep their {secret} and ConfigMaps kfp-launcher and artifact-repositories (metacontroller updates them OnDelete): delete those in each existing profile namespace once, so the controller writes them for the external store"
                    ))
                    .on(&items[cm])
                    .at("data[sync.py]"),
                );
            }
        }
        controller_env(&mut items[index], store, release.as_ref(), results);
        if store.from_environment && !store.annotations.is_empty() {
            annotator_rbac(items, index, results);
        }
    }
}

/// The controller's env: the store settings of the script, the release's defaults, the keys.
fn controller_env(item: &mut Value, store: &Store, release: Option<&Release>, results: &mut Vec<KrmResult>) {
    let mut notes = Vec::new();
    if let Some((c, path)) = main_container(item, "profile-controller") {
        let mut env = Env { container: c, path, notes: Vec::new() };
        for name in ["AWS_ENDPOINT_URL", "S3_ENDPOINT_URL", "OBJECT_STORE_HOST"] {
            env.remove(name, "it named the bundled store");
        }
        if env.get("AWS_REGION").is_some() {
            env.literal("AWS_REGION", &store.region);
        }
        env.literal("OBJECT_STORE_ENDPOINT", &store.endpoint);
        env.literal("OBJECT_STORE_SECURE", store.tls());
        env.literal("OBJECT_STORE_REGION", &store.region);
        env.literal("OBJECT_STORE_BUCKET", &store.bucket);
        env.literal("OBJECT_STORE_CREDENTIALS", if store.from_environment { "fromEnvironment" } else { "secret" });
        env.allow_origin(store);
        if store.root_query.is_empty() {
            env.remove("OBJECT_STORE_ROOT_QUERY", "the launcher needs no query on the pipeline root");
        } else {
            env.literal("OBJECT_STORE_ROOT_QUERY", &store.root_query);
        }
        if store.from_environment && !store.annotations.is_empty() {
            let json = serde_json::to_string(&store.annotations).expect("a map serializes");
            env.literal("DEFAULT_EDITOR_ANNOTATIONS", &json);
        } else {
            env.remove("DEFAULT_EDITOR_ANNOTATIONS", "no ServiceAccount annotations are configured");
        }
        if let Some(r) = release {
            if let Some(image) = r.frontend_image.as_deref().filter(|i| *i != SCRIPT_FRONTEND_IMAGE) {
                if env.get("FRONTEND_IMAGE").is_none() {
                    env.literal("FRONTEND_IMAGE", image);
                }
            }
            if r.visualization_server {
                env.literal("VISUALIZATION_SERVER_ENABLED", "true");
                if let Some(image) = r.visualization_server_image.as_deref().filter(|i| *i != SCRIPT_VISUALIZATION_SERVER_IMAGE) {
                    if env.get("VISUALIZATION_SERVER_IMAGE").is_none() {
                        env.literal("VISUALIZATION_SERVER_IMAGE", image);
                    }
                }
            }
            if r.proxy_always && env.get("ARTIFACTS_PROXY_ENABLED").is_none() {
                env.literal("ARTIFACTS_PROXY_ENABLED", "true");
            }
        }
        // With static keys the script copies whichever pair the controller has (master: AWS_*,
        // 1.9 and 1.10: MINIO_*), so each present one reads the Secret; without either, AWS_*.
        for (credential, names) in [
            (Credential::ObjectStoreAccessKey, ["AWS_ACCESS_KEY_ID", "MINIO_ACCESS_KEY"]),
            (Credential::ObjectStoreSecretKey, ["AWS_SECRET_ACCESS_KEY", "MINIO_SECRET_KEY"]),
        ] {
            if let Some((secret, key)) = store.central(credential) {
                let present: Vec<&str> = names.iter().copied().filter(|n| env.get(n).is_some()).collect();
                for name in if present.is_empty() { vec![names[0]] } else { present } {
                    env.secret(name, secret, key);
                }
            }
        }
        notes = env.notes;
    }
    // Roll the controller when its script changes (the code ConfigMap keeps its name).
    let hash = fnv(SYNC_PY);
    if pod::template_annotation(item, SCRIPT_HASH_ANNOTATION) != Some(hash.as_str()) {
        if let Some(meta) = pod::template_mut(item).and_then(|(t, _)| t.as_object_mut()).map(|t| object::child_map(t, "metadata")) {
            object::insert_sorted(object::child_map(meta, "annotations"), SCRIPT_HASH_ANNOTATION, Value::String(hash));
            notes.push((
                "annotated with the hash of its sync.py, so a changed script restarts it".into(),
                FieldPath::from_keys(&["spec", "template", "metadata", "annotations"]).key(SCRIPT_HASH_ANNOTATION),
            ));
        }
    }
    results.extend(notes.into_iter().map(|(m, p)| KrmResult::info(m).on(item).at(p)));
}

/// `fromEnvironment` with annotations: the controller annotates `default-editor` in each profile
/// namespace, which needs `get`/`patch` on that ServiceAccount; a ServiceAccount of its own is
/// created if it runs as `default`.
fn annotator_rbac(items: &mut Vec<Value>, index: usize, results: &mut Vec<KrmResult>) {
    let namespace = object::namespace(&items[index]).unwrap_or("kubeflow").to_string();
    let spec = items[index].pointer("/spec/template/spec");
    let current = spec
        .and_then(|s| s.get("serviceAccountName").or_else(|| s.get("serviceAccount")))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != "default")
        .map(str::to_string);
    let account = match current {
        Some(a) => a,
        None => {
            if let Some(spec) = items[index].pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) {
                object::insert_sorted(spec, "serviceAccountName", Value::String(CONTROLLER.into()));
            }
            results.push(
                KrmResult::info(format!("runs as ServiceAccount {CONTROLLER}, allowed to annotate default-editor in profile namespaces"))
                    .on(&items[index])
                    .at("spec.template.spec.serviceAccountName"),
            );
            let sa = ServiceAccount {
                metadata: ObjectMeta { name: Some(CONTROLLER.into()), namespace: Some(namespace.clone()), ..Default::default() },
                ..Default::default()
            };
            ensure(items, serde_json::to_value(sa).expect("a ServiceAccount serializes"), results);
            CONTROLLER.to_string()
        }
    };
    let role = ClusterRole {
        metadata: ObjectMeta { name: Some(ANNOTATOR.into()), ..Default::default() },
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["serviceaccounts".into()]),
            resource_names: Some(vec!["default-editor".into()]),
            verbs: vec!["get".into(), "patch".into()],
            ..Default::default()
        }, PolicyRule {
            // sync.py reads a namespace back before it patches anything there: only namespaces
            // owned by a Profile are touched, whatever a request to the hook says.
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["namespaces".into()]),
            verbs: vec!["get".into()],
            ..Default::default()
        }]),
        ..Default::default()
    };
    let binding = ClusterRoleBinding {
        metadata: ObjectMeta { name: Some(ANNOTATOR.into()), ..Default::default() },
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "ClusterRole".into(), name: ANNOTATOR.into() },
        subjects: Some(vec![Subject { kind: "ServiceAccount".into(), name: account, namespace: Some(namespace), ..Default::default() }]),
    };
    ensure(items, serde_json::to_value(role).expect("a ClusterRole serializes"), results);
    ensure(items, serde_json::to_value(binding).expect("a ClusterRoleBinding serializes"), results);
}

/// Adds a created object, or brings the one of that kind, name and namespace to it.
fn ensure(items: &mut Vec<Value>, mut desired: Value, results: &mut Vec<KrmResult>) {
    let kind = object::kind(&desired).to_string();
    let group = object::group(&desired).to_string();
    let name = object::name(&desired).to_string();
    let namespace = object::namespace(&desired).map(str::to_string);
    let existing = items.iter().position(|i| {
        object::kind(i) == kind && object::group(i) == group && object::name(i) == name && object::namespace(i) == namespace.as_deref()
    });
    match existing {
        Some(i) => {
            let Some(obj) = items[i].as_object_mut() else { return };
            let mut changed = false;
            for (key, value) in desired.as_object_mut().into_iter().flat_map(std::mem::take) {
                if matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                if obj.get(&key) != Some(&value) {
                    object::insert_sorted(obj, &key, value);
                    changed = true;
                }
            }
            if changed {
                results.push(KrmResult::info("updated: lets the profile controller annotate default-editor").on(&items[i]));
            }
        }
        None => {
            let i = generate::insert(items, desired);
            results.push(KrmResult::info("created: lets the profile controller annotate default-editor in profile namespaces").on(&items[i]));
        }
    }
}

// ------------------------------------------------------------------------------------------
// fromEnvironment: identities and known regressions
// ------------------------------------------------------------------------------------------

/// The annotations on the ServiceAccounts that talk to the store: the API server's, the UI's,
/// Argo's workflow controller's, and `pipeline-runner` (runs in the Pipelines namespace).
fn service_accounts(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    if store.annotations.is_empty() {
        return;
    }
    let mut wanted: Vec<(String, Option<String>, usize)> = Vec::new();
    for workload in ["ml-pipeline", "ml-pipeline-ui", "workflow-controller"] {
        let selector = Selector::of("apps", "Deployment").named(workload);
        for (i, item) in items.iter().enumerate().filter(|(_, i)| selector.matches(i)) {
            let spec = item.pointer("/spec/template/spec");
            let account = spec
                .and_then(|s| s.get("serviceAccountName").or_else(|| s.get("serviceAccount")))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default");
            wanted.push((account.to_string(), object::namespace(item).map(str::to_string), i));
        }
    }
    for (i, item) in items.iter().enumerate() {
        if Selector::core("ServiceAccount").named("pipeline-runner").matches(item) {
            wanted.push((object::name(item).to_string(), object::namespace(item).map(str::to_string), i));
        }
    }
    let mut done: Vec<usize> = Vec::new();
    for (account, namespace, by) in wanted {
        let found: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                Selector::core("ServiceAccount").matches(i)
                    && object::name(i) == account
                    && (namespace.is_none() || object::namespace(i).is_none() || object::namespace(i) == namespace.as_deref())
            })
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            let keys: Vec<&str> = store.annotations.keys().map(String::as_str).collect();
            results.push(
                KrmResult::warning(format!(
                    "runs as ServiceAccount {account}, which is not in the input: give it the annotations {} yourself",
                    keys.join(", ")
                ))
                .on(&items[by])
                .at("spec.template.spec.serviceAccountName"),
            );
        }
        for i in found {
            if done.contains(&i) {
                continue;
            }
            done.push(i);
            let Some(obj) = items[i].as_object_mut() else { continue };
            let annotations = object::child_map(object::child_map(obj, "metadata"), "annotations");
            let mut changed = Vec::new();
            for (key, value) in &store.annotations {
                if annotations.get(key).and_then(Value::as_str) != Some(value.as_str()) {
                    object::insert_sorted(annotations, key, Value::String(value.clone()));
                    changed.push(key.as_str());
                }
            }
            if !changed.is_empty() {
                results.push(
                    KrmResult::info(format!("annotated {} for the store's credentials", changed.join(", ")))
                        .on(&items[i])
                        .at("metadata.annotations"),
                );
            }
        }
    }
}

/// With `fromEnvironment`: the pipeline-root query for the input's KFP release (set on
/// `store`), and warnings where the environment's credentials cannot work as configured.
///
/// Google Cloud Storage: its S3 interface (XML API) takes HMAC keys only, and no KFP client
/// reaches it with Google credentials: the launcher's `fromEnv` opens the bucket with the AWS
/// default chain (`object_store.go` `OpenBucket()`), the API server's minio-go (`minio-go/v6`,
/// `v7` `credentials` chain) and the UI's AWS SDK chain (`frontend/server/minio-helper.ts`
/// `createMinioClient()`) know only AWS sources. Workload Identity works only for native
/// `gs://` roots, which this function does not write.
fn environment_warnings(kfp: Option<&Kfp>, store: &mut Store) -> Vec<KrmResult> {
    let mut results = Vec::new();
    let field = "credentials.fromEnvironment";
    if store.host == "storage.googleapis.com" || store.host.ends_with(".storage.googleapis.com") {
        results.push(
            KrmResult::warning(
                "Google Cloud Storage's S3 interface takes HMAC keys, and no KFP client (launcher, API server, UI) turns GKE Workload Identity or other Google credentials into them: use credentials.secretName with an HMAC key pair of a service account",
            )
            .at(field),
        );
    }
    let url = StoreUrl { address: &store.endpoint, secure: store.secure, region: &store.region };
    match kfp {
        Some(kfp) => {
            store.root_query = kfp::root_query(kfp, &url);
            if !store.root_query.is_empty() && !store.is_aws() {
                results.push(
                    KrmResult::warning(format!(
                        "KFP {} opens artifacts outside the run's pipeline root (cached results of earlier runs, imported artifacts) without the root's query (backend/src/v2/component/launcher_v2.go fetchNonDefaultBuckets(): the same bucket gets the run's session, which is empty with fromEnv, but not its query), so with the environment's credentials it looks for them on AWS's endpoint, not on {}: such tasks fail; use static keys (credentials.secretName), KFP 2.17 or later, or turn caching off",
                        kfp.version, store.endpoint
                    ))
                    .at(field),
                );
            }
            if !store.root_query.is_empty() {
                results.push(
                    KrmResult::info(format!(
                        "KFP {} ignores the launcher's providers with the environment's credentials: every default pipeline root carries the store as the query {} (the names of its gocloud)",
                        kfp.version, store.root_query
                    ))
                    .at(field),
                );
            }
        }
        None => results.push(
            KrmResult::warning(
                "the input shows no KFP release (the image tag of Deployment ml-pipeline, or appVersion of pipeline-install-config): KFP before 2.17 ignores the launcher's providers with the environment's credentials and opens the bucket from the pipeline root alone, whose query names depend on the release; the default pipeline roots are written without one, which reaches only AWS's own endpoint of the region the pod's environment gives",
            )
            .at(field),
        ),
    }
    results
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
