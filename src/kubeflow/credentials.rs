//! Kubeflow's database and object-store credentials, and the one way to point their consumers at
//! a central Secret.
//!
//! Three functions rewire credentials: `centralize-credentials` (all four), `external-database`
//! (the two database ones) and `external-object-store` (the two object-store ones). Where they
//! touch the same field they must write exactly the same thing, whichever runs first, so every
//! edit lives here and they all call [`centralize`] with a [`Target`]:
//!
//! ```text
//! Target { secret_name: "kubeflow-credentials",
//!          keys: {database.username: "db-username", database.password: "db-password"},
//!          extra: [] }
//! ```
//!
//! # The catalogue
//!
//! [`KNOWN_SECRET_KEYS`] lists each Secret (by base name; a kustomize hash suffix matches) and key
//! that holds a credential in Kubeflow 1.9, 1.10 and master (facts §1-3, §10): `mysql-secret`,
//! `mlpipeline-minio-artifact`, `katib-mysql-secrets` (also its `katib-external-db` keys),
//! `model-registry-db-secrets` and the legacy MLMD `metadata-db-secrets`. Users extend it with
//! [`ExtraConsumer`]s. [`KNOWN_VARIABLES`] lists the env variables that hold a credential when
//! they carry a literal value.
//!
//! # What [`centralize`] changes (only for the target's credentials)
//!
//! In every pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod,
//! ReplicationController), containers and initContainers:
//!
//! 1. `env[].valueFrom.secretKeyRef` to a catalogue Secret and key becomes the canonical entry
//!    `{name, valueFrom: {secretKeyRef: {key: <central key>, name: <secret_name>, optional?}}}`
//!    (`optional` only if the original had it), at the same position.
//! 2. A known credential variable with a literal `value` (`MINIO_SECRET_KEY: minio123`) becomes
//!    the same canonical entry. Values that are `$(VAR)` references are left alone, and so are
//!    empty values: an empty key is no credential, it tells the client to use its default
//!    credential chain (IRSA, workload identity), as `external-object-store` sets it.
//! 3. `envFrom[].secretRef` of a catalogue Secret: each credential key becomes an explicit env
//!    entry with the same variable name (`prefix` + key) and the Secret's `optional`, unless the
//!    container already defines that variable (explicit env wins in Kubernetes, so nothing
//!    changes). The envFrom entry is removed when every other key of the Secret is shadowed by an
//!    explicit entry or there is none; otherwise it stays for those keys. The keys come from the
//!    Secret in the input; a Secret that is not in the input is assumed to hold exactly its
//!    catalogue keys (a warning says so).
//! 4. Katib's db-manager (workload `katib-db-manager`) connects as its compiled-in user `root`
//!    unless `DB_USER` is set; once its `DB_PASSWORD` reads the central password, a `DB_USER`
//!    entry reading the central username is added (when the target has the username).
//!
//! Created entries (3 and 4) are appended at the end of `env` (which is created if missing; an
//! `env: []` gets them), except that an entry goes before trailing entries that are
//! secret-backed (a `secretKeyRef`, or a name in [`KNOWN_VARIABLES`]) and whose names sort after
//! it. On every Kubeflow shape that is a plain append; the rule makes the result independent of
//! which function created which entry first when one container gets entries from two targets.
//!
//! In ConfigMap `workflow-controller-configmap` (keys `artifactRepository`, and `config` under
//! `artifactRepository`) and ConfigMap `artifact-repositories` (every key): the `name` and `key`
//! of `s3.accessKeySecret` / `s3.secretKeySecret` are set line by line with
//! [`crate::k8s::embedded::Doc`], so the rest of the document (comments included) stays as it was.
//!
//! Afterwards [`centralize`] warns about every remaining reference that still reads a credential
//! key of a catalogue Secret (a volume mount, an object kind it does not rewrite such as a
//! PodDefault), naming the resource and the field path.
//!
//! # Callers
//!
//! Call [`centralize`] before any other env edit of your own, then (if you remove in-cluster
//! Secrets) [`remove_replaced_secrets`]. [`central_usage`] and [`namespace_results`] tell which
//! namespaces need the central Secret. [`scan`] / [`is_referenced`] say whether a Secret or
//! ConfigMap is still used by anything. The same target (secret name and keys) given to two
//! functions gives the same output in either order; different secret names for the same
//! credential do not (the first function to run wins, since the second no longer sees a
//! catalogue reference).
//!
//! A function that stops consumers from reading a central key (rather than pointing them at
//! another one) takes a [`SecretReads`] snapshot before its edits and calls
//! [`refresh_external_secrets`] at the end, so the ExternalSecrets `centralize-credentials` emitted
//! no longer fill keys nothing reads: the output is then the same in either order.
//!
//! No function here ever puts a value of a Secret or of a literal credential in a message.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::k8s::embedded::Doc;
use crate::k8s::select::{base_name, name_matches};
use crate::k8s::{FieldPath, Selector, object, pod};
use crate::krm::result::ResourceRef;
use crate::krm::{ConfigError, KrmResult, Severity, yaml};

// ------------------------------------------------------------------------------------------
// Credentials and the catalogue
// ------------------------------------------------------------------------------------------

/// The contract's default keys in the central Secret. Every function that points consumers at
/// that Secret defaults to these, so that two functions given only a `secretName` agree.
pub mod default_keys {
    /// `database.usernameKey` / `credentials.usernameKey`.
    pub fn database_username() -> String {
        "db-username".into()
    }
    /// `database.passwordKey` / `credentials.passwordKey`.
    pub fn database_password() -> String {
        "db-password".into()
    }
    /// `objectStore.accessKeyKey` / `credentials.accessKeyKey`.
    pub fn object_store_access_key() -> String {
        "s3-access-key".into()
    }
    /// `objectStore.secretKeyKey` / `credentials.secretKeyKey`.
    pub fn object_store_secret_key() -> String {
        "s3-secret-key".into()
    }
}

/// A credential Kubeflow components read. The order of the variants is the fixed order used
/// wherever several are listed (username, password, access key, secret key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Credential {
    /// The database user name.
    #[serde(rename = "database.username")]
    DatabaseUsername,
    /// The database password.
    #[serde(rename = "database.password")]
    DatabasePassword,
    /// The object store's access key (AWS access key id).
    #[serde(rename = "objectStore.accessKey")]
    ObjectStoreAccessKey,
    /// The object store's secret key (AWS secret access key).
    #[serde(rename = "objectStore.secretKey")]
    ObjectStoreSecretKey,
}

impl Credential {
    /// All four, in the fixed order.
    pub const ALL: [Credential; 4] = [
        Credential::DatabaseUsername,
        Credential::DatabasePassword,
        Credential::ObjectStoreAccessKey,
        Credential::ObjectStoreSecretKey,
    ];
    /// The database credentials.
    pub const DATABASE: [Credential; 2] = [Credential::DatabaseUsername, Credential::DatabasePassword];
    /// The object-store credentials.
    pub const OBJECT_STORE: [Credential; 2] = [Credential::ObjectStoreAccessKey, Credential::ObjectStoreSecretKey];

    /// The name used in configs and messages (`database.username`).
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::DatabaseUsername => "database.username",
            Credential::DatabasePassword => "database.password",
            Credential::ObjectStoreAccessKey => "objectStore.accessKey",
            Credential::ObjectStoreSecretKey => "objectStore.secretKey",
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Secret key that holds a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownSecretKey {
    /// Base name of the Secret (a kustomize hash suffix matches).
    pub secret: &'static str,
    /// Key in the Secret.
    pub key: &'static str,
    /// What it holds.
    pub credential: Credential,
}

const fn sk(secret: &'static str, key: &'static str, credential: Credential) -> KnownSecretKey {
    KnownSecretKey { secret, key, credential }
}

/// Every Secret key that holds a Kubeflow credential (1.9, 1.10, master; with Model Registry).
pub const KNOWN_SECRET_KEYS: &[KnownSecretKey] = &[
    // KFP: API server, cache server, MLMD (and the old Model Registry base).
    sk("mysql-secret", "username", Credential::DatabaseUsername),
    sk("mysql-secret", "password", Credential::DatabasePassword),
    // KFP object store: API server, UI, profile controller, MinIO / SeaweedFS, Argo.
    sk("mlpipeline-minio-artifact", "accesskey", Credential::ObjectStoreAccessKey),
    sk("mlpipeline-minio-artifact", "secretkey", Credential::ObjectStoreSecretKey),
    // Katib: db-manager and katib-mysql; DB_USER / DB_PASSWORD are the katib-external-db keys.
    sk("katib-mysql-secrets", "MYSQL_ROOT_PASSWORD", Credential::DatabasePassword),
    sk("katib-mysql-secrets", "DB_USER", Credential::DatabaseUsername),
    sk("katib-mysql-secrets", "DB_PASSWORD", Credential::DatabasePassword),
    // Model Registry overlays/db: model-registry-deployment and model-registry-db (envFrom).
    sk("model-registry-db-secrets", "MYSQL_USER_NAME", Credential::DatabaseUsername),
    sk("model-registry-db-secrets", "MYSQL_ROOT_PASSWORD", Credential::DatabasePassword),
    // KFP metadata/overlays/db (the legacy separate MLMD database).
    sk("metadata-db-secrets", "MYSQL_USER_NAME", Credential::DatabaseUsername),
    sk("metadata-db-secrets", "MYSQL_ROOT_PASSWORD", Credential::DatabasePassword),
];

/// An env variable that holds a credential when it has a literal value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownVariable {
    /// Variable name.
    pub name: &'static str,
    /// What it holds.
    pub credential: Credential,
    /// Workloads (base names) where the name means that credential; empty: any workload (the
    /// name is Kubeflow's own). Generic names (`AWS_ACCESS_KEY_ID`, `DB_PASSWORD`) are limited
    /// to the Kubeflow workloads that use them, so other software's own keys are left alone.
    pub workloads: &'static [&'static str],
}

const fn var(name: &'static str, credential: Credential, workloads: &'static [&'static str]) -> KnownVariable {
    KnownVariable { name, credential, workloads }
}

const ANY: &[&str] = &[];
const PROFILE_CONTROLLER_AND_UI: &[&str] = &["kubeflow-pipelines-profile-controller", "ml-pipeline-ui"];
const MYSQL_SERVERS_AND_MR: &[&str] =
    &["mysql", "katib-mysql", "metadata-db", "model-registry-db", "model-registry-deployment", "metadata-grpc-deployment"];

/// The env variables that hold a credential (facts §2, §3, §10.2).
pub const KNOWN_VARIABLES: &[KnownVariable] = &[
    var("DBCONFIG_USER", Credential::DatabaseUsername, ANY),
    var("DBCONFIG_PASSWORD", Credential::DatabasePassword, ANY),
    var("DBCONFIG_MYSQLCONFIG_USER", Credential::DatabaseUsername, ANY),
    var("DBCONFIG_MYSQLCONFIG_PASSWORD", Credential::DatabasePassword, ANY),
    var("DB_USER", Credential::DatabaseUsername, &["katib-db-manager"]),
    var("DB_PASSWORD", Credential::DatabasePassword, &["katib-db-manager"]),
    var("MYSQL_USER_NAME", Credential::DatabaseUsername, MYSQL_SERVERS_AND_MR),
    var("MYSQL_ROOT_PASSWORD", Credential::DatabasePassword, MYSQL_SERVERS_AND_MR),
    var("MINIO_ACCESS_KEY", Credential::ObjectStoreAccessKey, ANY),
    var("MINIO_SECRET_KEY", Credential::ObjectStoreSecretKey, ANY),
    var("OBJECTSTORECONFIG_ACCESSKEY", Credential::ObjectStoreAccessKey, ANY),
    var("OBJECTSTORECONFIG_SECRETACCESSKEY", Credential::ObjectStoreSecretKey, ANY),
    var("AWS_ACCESS_KEY_ID", Credential::ObjectStoreAccessKey, PROFILE_CONTROLLER_AND_UI),
    var("AWS_SECRET_ACCESS_KEY", Credential::ObjectStoreSecretKey, PROFILE_CONTROLLER_AND_UI),
];

/// The workload whose Katib db-manager gets a `DB_USER` entry.
pub const KATIB_DB_MANAGER: &str = "katib-db-manager";

/// One more Secret key to treat as a credential (components outside Kubeflow's default set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtraConsumer {
    /// Name of the Secret the component reads (a kustomize hash suffix matches). Example:
    /// `my-app-db`.
    pub secret: String,
    /// Key in that Secret. Example: `password`.
    pub key: String,
    /// What the key holds: `database.username`, `database.password`, `objectStore.accessKey` or
    /// `objectStore.secretKey`.
    pub credential: Credential,
}

// ------------------------------------------------------------------------------------------
// The target
// ------------------------------------------------------------------------------------------

/// Where the consumers of some credentials must read them from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The central Secret.
    pub secret_name: String,
    /// Its key for each credential to rewire (credentials not listed are left alone).
    pub keys: BTreeMap<Credential, String>,
    /// More catalogue entries.
    pub extra: Vec<ExtraConsumer>,
}

impl Target {
    /// A target with no credentials yet (add them with [`Target::with_key`]).
    pub fn new(secret_name: impl Into<String>) -> Self {
        Target { secret_name: secret_name.into(), keys: BTreeMap::new(), extra: Vec::new() }
    }

    /// Rewires `credential` to `key` of the central Secret.
    pub fn with_key(mut self, credential: Credential, key: impl Into<String>) -> Self {
        self.keys.insert(credential, key.into());
        self
    }

    /// Adds catalogue entries.
    pub fn with_extra(mut self, extra: Vec<ExtraConsumer>) -> Self {
        self.extra = extra;
        self
    }

    /// True if `name` is the central Secret.
    pub fn is_central(&self, name: &str) -> bool {
        name == self.secret_name
    }

    /// The central key of a credential, if the target rewires it.
    pub fn central_key(&self, credential: Credential) -> Option<&str> {
        self.keys.get(&credential).map(String::as_str)
    }

    /// The credential a central key holds, if it is one of the target's keys.
    pub fn credential_of_central_key(&self, key: &str) -> Option<Credential> {
        self.keys.iter().find(|(_, k)| *k == key).map(|(c, _)| *c)
    }

    /// Every catalogue entry (built-in and extra) of a Secret, of any credential: `(key,
    /// credential)`, each key once.
    pub fn catalogue_entries(&self, secret: &str) -> Vec<(String, Credential)> {
        let mut out: Vec<(String, Credential)> = Vec::new();
        let builtin = KNOWN_SECRET_KEYS
            .iter()
            .filter(|e| name_matches(secret, e.secret))
            .map(|e| (e.key.to_string(), e.credential));
        let extra = self.extra.iter().filter(|e| name_matches(secret, &e.secret)).map(|e| (e.key.clone(), e.credential));
        for (key, credential) in builtin.chain(extra) {
            if !out.iter().any(|(k, _)| *k == key) {
                out.push((key, credential));
            }
        }
        out
    }

    /// The credential a Secret key holds per the catalogue, whatever the target.
    pub fn catalogue(&self, secret: &str, key: &str) -> Option<Credential> {
        if self.is_central(secret) {
            return None;
        }
        self.catalogue_entries(secret).into_iter().find(|(k, _)| k == key).map(|(_, c)| c)
    }

    /// The credential and central key a reference to `secret`/`key` is rewired to, if the
    /// target rewires it.
    pub fn rewires(&self, secret: &str, key: &str) -> Option<(Credential, &str)> {
        let credential = self.catalogue(secret, key)?;
        Some((credential, self.central_key(credential)?))
    }

    /// True if the Secret holds, per the catalogue, a credential the target rewires: the Secrets
    /// [`remove_replaced_secrets`] deletes once unreferenced.
    pub fn is_credential_secret(&self, secret: &str) -> bool {
        !self.is_central(secret) && self.catalogue_entries(secret).iter().any(|(_, c)| self.keys.contains_key(c))
    }

    /// The credential a literal env variable holds in a workload, if the target rewires it.
    fn literal(&self, variable: &str, workload: &str) -> Option<(Credential, &str)> {
        let known = KNOWN_VARIABLES
            .iter()
            .find(|v| v.name == variable && (v.workloads.is_empty() || v.workloads.iter().any(|w| name_matches(workload, w))))?;
        Some((known.credential, self.central_key(known.credential)?))
    }
}

// ------------------------------------------------------------------------------------------
// Rewiring
// ------------------------------------------------------------------------------------------

/// A result about the item being edited (attached to it once the edit is done).
struct Note {
    severity: Severity,
    message: String,
    path: FieldPath,
}

impl Note {
    fn info(message: String, path: FieldPath) -> Self {
        Note { severity: Severity::Info, message, path }
    }
    fn warning(message: String, path: FieldPath) -> Self {
        Note { severity: Severity::Warning, message, path }
    }
    fn result(self, item: &Value) -> KrmResult {
        let r = match self.severity {
            Severity::Error => KrmResult::error(self.message),
            Severity::Warning => KrmResult::warning(self.message),
            Severity::Info => KrmResult::info(self.message),
        };
        let r = r.on(item);
        if self.path == FieldPath::root() { r } else { r.at(self.path) }
    }
}

/// The canonical env entry reading `key` of Secret `secret`.
pub fn secret_env(name: &str, secret: &str, key: &str, optional: Option<Value>) -> Value {
    let mut reference = Map::new();
    reference.insert("key".into(), Value::String(key.to_string()));
    reference.insert("name".into(), Value::String(secret.to_string()));
    if let Some(o) = optional {
        reference.insert("optional".into(), o);
    }
    let mut value_from = Map::new();
    value_from.insert("secretKeyRef".into(), Value::Object(reference));
    let mut entry = Map::new();
    entry.insert("name".into(), Value::String(name.to_string()));
    entry.insert("valueFrom".into(), Value::Object(value_from));
    Value::Object(entry)
}

/// Points every consumer of the target's credentials at the central Secret (see the module
/// docs), with an info result per rewritten reference and a warning per reference that still
/// reads a credential and cannot be rewritten.
pub fn centralize(items: &mut [Value], target: &Target, results: &mut Vec<KrmResult>) {
    if target.keys.is_empty() {
        return;
    }
    let secrets = SecretKeys::of(items);
    for item in items.iter_mut() {
        if object::is_local_config(item) {
            continue;
        }
        let mut notes = Vec::new();
        if pod::template(item).is_some() {
            let workload = object::name(item).to_string();
            pod::for_each_container_mut(item, |c| {
                rewire_container(c.container, &c.path, &workload, target, &secrets, &mut notes);
            });
        } else if !argo_documents(item).is_empty() {
            rewire_argo(item, target, &mut notes);
        }
        results.extend(notes.into_iter().map(|n| n.result(item)));
    }
    warn_unrewritable(items, target, &secrets, results);
}

/// The keys of the Secrets in the input (`data` then `stringData`), by name.
struct SecretKeys(Vec<(String, Vec<String>)>);

impl SecretKeys {
    fn of(items: &[Value]) -> Self {
        SecretKeys(
            items
                .iter()
                .filter(|i| Selector::core("Secret").matches(i))
                .map(|i| (object::name(i).to_string(), secret_keys(i)))
                .collect(),
        )
    }
    /// The keys of the Secret a reference names (exact name first, then same base name).
    fn get(&self, name: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| self.0.iter().find(|(n, _)| same_object(n, name)))
            .map(|(_, k)| k.as_slice())
    }
}

/// The keys of a Secret item: `data` then `stringData`, each once.
pub fn secret_keys(item: &Value) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for map in ["data", "stringData"] {
        if let Some(m) = item.get(map).and_then(Value::as_object) {
            for k in m.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    keys
}

/// True if two names denote the same object (equal once kustomize hash suffixes are dropped).
pub fn same_object(a: &str, b: &str) -> bool {
    a == b || base_name(a) == base_name(b)
}

fn env_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

/// True for an entry that is, or may become, secret-backed (the ordering rule of created entries).
fn is_secret_backed(entry: &Value) -> bool {
    entry.pointer("/valueFrom/secretKeyRef").is_some()
        || env_name(entry).is_some_and(|n| KNOWN_VARIABLES.iter().any(|v| v.name == n))
}

/// Inserts a created entry: at the end, but before trailing secret-backed entries that sort after
/// it (see the module docs). Functions that add env entries of their own use it too, so that
/// entries two functions add to one container land in the same order whichever runs first.
pub fn insert_created(env: &mut Vec<Value>, entry: Value) {
    let name = env_name(&entry).unwrap_or_default().to_string();
    let mut at = env.len();
    while at > 0 && is_secret_backed(&env[at - 1]) && env_name(&env[at - 1]).is_some_and(|n| n > name.as_str()) {
        at -= 1;
    }
    env.insert(at, entry);
}

/// The Secret and key an env entry reads through `valueFrom.secretKeyRef`.
pub fn reads_secret(entry: &Value) -> Option<(&str, &str)> {
    let r = entry.pointer("/valueFrom/secretKeyRef")?;
    Some((r.get("name")?.as_str()?, r.get("key")?.as_str()?))
}

fn is_literal(entry: &Value) -> bool {
    entry.get("valueFrom").is_none()
        && match entry.get("value") {
            Some(Value::String(s)) => !s.is_empty() && !s.contains("$("),
            Some(Value::Number(_) | Value::Bool(_)) => true,
            _ => false,
        }
}

struct Created {
    variable: String,
    credential: Credential,
    central_key: String,
    optional: Option<Value>,
    origin: String,
}

fn rewire_container(
    container: &mut Map<String, Value>,
    path: &FieldPath,
    workload: &str,
    target: &Target,
    secrets: &SecretKeys,
    notes: &mut Vec<Note>,
) {
    let central = target.secret_name.as_str();
    // 1 and 2: secretKeyRefs and literals, in place.
    if let Some(env) = container.get_mut("env").and_then(Value::as_array_mut) {
        for (i, entry) in env.iter_mut().enumerate() {
            let Some(name) = env_name(entry).map(str::to_string) else { continue };
            let at = path.key("env").entry(Some(&name), i);
            if let Some((secret, key)) = reads_secret(entry) {
                let Some((credential, central_key)) = target.rewires(secret, key) else { continue };
                let message = format!("reads {credential} from Secret {central} key {central_key} (was Secret {secret} key {key})");
                let optional = entry.pointer("/valueFrom/secretKeyRef/optional").cloned();
                *entry = secret_env(&name, central, central_key, optional);
                notes.push(Note::info(message, at));
            } else if is_literal(entry) {
                let Some((credential, central_key)) = target.literal(&name, workload) else { continue };
                *entry = secret_env(&name, central, central_key, None);
                notes.push(Note::info(
                    format!("reads {credential} from Secret {central} key {central_key} instead of a literal value"),
                    at,
                ));
            }
        }
    }

    // 3: envFrom of credential Secrets.
    let defined: BTreeSet<String> = container
        .get("env")
        .and_then(Value::as_array)
        .map(|env| env.iter().filter_map(env_name).map(str::to_string).collect())
        .unwrap_or_default();
    let mut created: Vec<Created> = Vec::new();
    let mut drop_sources: Vec<usize> = Vec::new();
    if let Some(sources) = container.get("envFrom").and_then(Value::as_array) {
        for (i, source) in sources.iter().enumerate() {
            let Some(reference) = source.get("secretRef") else { continue };
            let Some(secret) = reference.get("name").and_then(Value::as_str) else { continue };
            if target.is_central(secret) {
                continue;
            }
            let catalogue = target.catalogue_entries(secret);
            if catalogue.is_empty() {
                continue;
            }
            let (keys, assumed): (Vec<String>, bool) = match secrets.get(secret) {
                Some(keys) => (keys.to_vec(), false),
                None => (catalogue.iter().map(|(k, _)| k.clone()).collect(), true),
            };
            if !keys.iter().any(|k| target.rewires(secret, k).is_some()) {
                continue;
            }
            let prefix = source.get("prefix").and_then(Value::as_str).unwrap_or("");
            let optional = reference.get("optional").cloned();
            let at = path.key("envFrom").entry(None, i);
            let (mut moved, mut kept) = (Vec::new(), Vec::new());
            for key in &keys {
                let variable = format!("{prefix}{key}");
                match target.rewires(secret, key) {
                    Some((credential, central_key)) => {
                        let exists = defined.contains(&variable) || created.iter().any(|c| c.variable == variable);
                        if !exists {
                            created.push(Created {
                                variable,
                                credential,
                                central_key: central_key.to_string(),
                                optional: optional.clone(),
                                origin: format!("Secret {secret} key {key}"),
                            });
                        }
                        moved.push(key.as_str());
                    }
                    None if !defined.contains(&variable) => kept.push(key.as_str()),
                    None => {}
                }
            }
            if kept.is_empty() {
                drop_sources.push(i);
                notes.push(Note::info(
                    format!(
                        "removed envFrom of Secret {secret}: its credential keys ({}) are explicit env entries reading Secret {central} now",
                        moved.join(", ")
                    ),
                    at.clone(),
                ));
                if assumed {
                    notes.push(Note::warning(
                        format!(
                            "Secret {secret} is not in the input: assumed to hold only the keys {}; if it holds others, add them as env entries",
                            keys.join(", ")
                        ),
                        at,
                    ));
                }
            } else {
                notes.push(Note::info(
                    format!(
                        "kept envFrom of Secret {secret} for its other keys ({}); its credential keys ({}) are explicit env entries reading Secret {central} now",
                        kept.join(", "),
                        moved.join(", ")
                    ),
                    at,
                ));
            }
        }
    }
    if !drop_sources.is_empty() {
        if let Some(sources) = container.get_mut("envFrom").and_then(Value::as_array_mut) {
            for i in drop_sources.iter().rev() {
                sources.remove(*i);
            }
            if sources.is_empty() {
                container.shift_remove("envFrom");
            }
        }
    }

    // 4: Katib's db-manager reads the user too.
    if name_matches(workload, KATIB_DB_MANAGER) {
        if let (Some(user_key), Some(password_key)) =
            (target.central_key(Credential::DatabaseUsername), target.central_key(Credential::DatabasePassword))
        {
            let env = container.get("env").and_then(Value::as_array);
            let reads_password = env.is_some_and(|env| {
                env.iter().any(|e| env_name(e) == Some("DB_PASSWORD") && reads_secret(e) == Some((central, password_key)))
            });
            let has_user = env.is_some_and(|env| env.iter().any(|e| env_name(e) == Some("DB_USER")))
                || created.iter().any(|c| c.variable == "DB_USER");
            if reads_password && !has_user {
                created.push(Created {
                    variable: "DB_USER".into(),
                    credential: Credential::DatabaseUsername,
                    central_key: user_key.to_string(),
                    optional: None,
                    origin: "Katib's compiled-in user root".into(),
                });
            }
        }
    }

    if created.is_empty() {
        return;
    }
    let Some(env) = pod::env_mut(container) else {
        notes.push(Note::warning("env is not a list: cannot add the credential entries".into(), path.key("env")));
        return;
    };
    for c in created {
        insert_created(env, secret_env(&c.variable, central, &c.central_key, c.optional));
        notes.push(Note::info(
            format!("added: reads {} from Secret {central} key {} (replaces {})", c.credential, c.central_key, c.origin),
            path.key("env").entry(Some(&c.variable), 0),
        ));
    }
}

/// An artifact-repository document of an Argo ConfigMap.
pub struct ArgoDocument {
    /// The ConfigMap `data` key holding it.
    pub data_key: String,
    /// Where the repository sits inside the document (empty: at its top).
    pub prefix: Vec<&'static str>,
    /// The document's text.
    pub text: String,
}

/// Argo ConfigMaps holding artifact repositories, as text: `workflow-controller-configmap`
/// (`artifactRepository`, and `artifactRepository` inside `config`) and every key of an
/// `artifact-repositories` ConfigMap. Keys whose value is not a string are left out.
pub fn argo_documents(item: &Value) -> Vec<ArgoDocument> {
    let cm = Selector::core("ConfigMap");
    let Some(data) = item.get("data").and_then(Value::as_object) else { return Vec::new() };
    let keys: Vec<(&str, Vec<&'static str>)> = if cm.named("workflow-controller-configmap").matches(item) {
        vec![("artifactRepository", Vec::new()), ("config", vec!["artifactRepository"])]
    } else if cm.named("artifact-repositories").matches(item) {
        data.keys().map(|k| (k.as_str(), Vec::new())).collect()
    } else {
        Vec::new()
    };
    keys.into_iter()
        .filter_map(|(key, prefix)| {
            let text = data.get(key)?.as_str()?.to_string();
            Some(ArgoDocument { data_key: key.to_string(), prefix, text })
        })
        .collect()
}

const ARGO_SLOTS: [&str; 2] = ["accessKeySecret", "secretKeySecret"];

fn rewire_argo(item: &mut Value, target: &Target, notes: &mut Vec<Note>) {
    let central = target.secret_name.as_str();
    for ArgoDocument { data_key, prefix, text } in argo_documents(item) {
        let at = FieldPath::from_keys(&["data"]).key(&data_key);
        let doc = match Doc::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                if mentions_credential_secret(&text, target) {
                    notes.push(Note::warning(
                        format!("mentions a credential Secret but cannot be read ({e}): point its references at Secret {central} yourself"),
                        at,
                    ));
                }
                continue;
            }
        };
        let mut changes = Vec::new();
        let mut edits: Vec<(Vec<&str>, String, String)> = Vec::new();
        for slot in ARGO_SLOTS {
            let mut base: Vec<&str> = prefix.clone();
            base.extend(["s3", slot]);
            let get = |field: &str| {
                let mut p = base.clone();
                p.push(field);
                doc.get(&p).and_then(Value::as_str).map(str::to_string)
            };
            let (Some(secret), Some(key)) = (get("name"), get("key")) else { continue };
            let Some((credential, central_key)) = target.rewires(&secret, &key) else { continue };
            changes.push(format!("{}: {credential} from Secret {central} key {central_key} (was Secret {secret} key {key})", base.join(".")));
            edits.push((base, central.to_string(), central_key.to_string()));
        }
        if edits.is_empty() {
            continue;
        }
        // Line by line first (comments and styles stay); if the document's shape does not allow
        // it (flow style...), re-emit the edited value with a warning.
        let mut lines = doc.clone();
        let line_edit = edits
            .iter()
            .try_for_each(|(base, name, key)| {
                for (field, value) in [("name", name), ("key", key)] {
                    let mut p = base.clone();
                    p.push(field);
                    lines.set(&p, &Value::String(value.clone()))?;
                }
                Ok(())
            })
            .and_then(|()| lines.finish());
        let new_text = match line_edit {
            Ok(t) => t,
            Err(_) => {
                let mut value = doc.value().clone();
                for (base, name, key) in &edits {
                    let slot = base.iter().try_fold(&mut value, |v, k| v.get_mut(*k)).and_then(Value::as_object_mut);
                    if let Some(slot) = slot {
                        object::insert_sorted(slot, "name", Value::String(name.clone()));
                        object::insert_sorted(slot, "key", Value::String(key.clone()));
                    }
                }
                match yaml::to_yaml(&value) {
                    Ok(t) => {
                        notes.push(Note::warning(
                            "rewritten without its comments: it could not be edited line by line".into(),
                            at.clone(),
                        ));
                        t
                    }
                    Err(e) => {
                        notes.push(Note::warning(
                            format!("cannot rewrite its credential references ({e}): point them at Secret {central} yourself"),
                            at,
                        ));
                        continue;
                    }
                }
            }
        };
        if let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) {
            object::insert_sorted(data, &data_key, Value::String(new_text));
        }
        notes.push(Note::info(format!("Argo artifact repository reads {}", changes.join("; ")), at));
    }
}

fn mentions_credential_secret(text: &str, target: &Target) -> bool {
    KNOWN_SECRET_KEYS.iter().map(|e| e.secret).chain(target.extra.iter().map(|e| e.secret.as_str())).any(|s| text.contains(s))
}

/// Warns about every reference that still reads a credential key of a credential Secret.
fn warn_unrewritable(items: &[Value], target: &Target, secrets: &SecretKeys, results: &mut Vec<KrmResult>) {
    for r in scan(items) {
        if r.kind != RefKind::Secret || !target.is_credential_secret(&r.name) {
            continue;
        }
        let keys: Vec<String> = match secrets.get(&r.name) {
            Some(k) => k.to_vec(),
            None => target.catalogue_entries(&r.name).into_iter().map(|(k, _)| k).collect(),
        };
        let read: Vec<&str> =
            keys.iter().filter(|k| target.rewires(&r.name, k).is_some() && r.reads(k)).map(String::as_str).collect();
        if read.is_empty() {
            continue;
        }
        let central = &target.secret_name;
        let message = match r.form {
            RefForm::Volume | RefForm::ProjectedVolume => format!(
                "mounts credential Secret {} as files (keys {}): a file mount cannot be pointed at Secret {central}, whose keys differ; mount Secret {central} with items mapping its keys to these file names, then the old Secret can go",
                r.name,
                read.join(", ")
            ),
            _ => format!(
                "references credential Secret {} (keys {}) in a way this function does not rewrite: point it at Secret {central} yourself; the old Secret is kept with its credentials meanwhile",
                r.name,
                read.join(", ")
            ),
        };
        results.push(KrmResult::warning(message).on(&items[r.item]).at(r.path.clone()));
    }
    // Argo reads these references in the namespace of each workflow.
    for item in items.iter().filter(|i| !object::is_local_config(i) && !argo_documents(i).is_empty()) {
        let refs = scan(std::slice::from_ref(item));
        for ArgoDocument { data_key, .. } in argo_documents(item) {
            let field = FieldPath::from_keys(&["data"]).key(&data_key);
            let prefix = field.to_string();
            let reads_central = refs.iter().any(|r| {
                r.form == RefForm::Embedded
                    && r.kind == RefKind::Secret
                    && target.is_central(&r.name)
                    && r.path.to_string().starts_with(&prefix)
                    && r.keys.as_ref().is_some_and(|k| k.iter().any(|k| target.credential_of_central_key(k).is_some()))
            });
            if reads_central {
                results.push(
                    KrmResult::warning(format!(
                        "Argo looks up these Secret references in the namespace of each workflow: every namespace that runs pipelines without its own artifact repository (on Kubeflow 1.9 and 1.10, every profile namespace) needs Secret {} too",
                        target.secret_name
                    ))
                    .on(item)
                    .at(field),
                );
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// References
// ------------------------------------------------------------------------------------------

/// The kind of object a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RefKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// How an object is referenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefForm {
    /// `env[].valueFrom.secretKeyRef` / `configMapKeyRef` of a pod template.
    EnvKey,
    /// `envFrom[].secretRef` / `configMapRef` of a pod template.
    EnvFrom,
    /// `volumes[].secret` / `volumes[].configMap` of a pod template.
    Volume,
    /// `volumes[].projected.sources[]` of a pod template.
    ProjectedVolume,
    /// `imagePullSecrets[]` of a pod template.
    ImagePullSecret,
    /// A reference inside a YAML document embedded in an Argo ConfigMap.
    Embedded,
    /// Anything else: a `name`/`secretName` under a key naming a Secret (or ConfigMap) in any
    /// other object (ServiceAccount `secrets`, PodDefault env, custom resources...).
    Other,
}

/// One reference to a Secret or ConfigMap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Index of the referring item.
    pub item: usize,
    /// Secret or ConfigMap.
    pub kind: RefKind,
    /// The name it refers to, as written.
    pub name: String,
    /// Where, in the referring item.
    pub path: FieldPath,
    /// How.
    pub form: RefForm,
    /// The keys it reads (`None`: every key).
    pub keys: Option<BTreeSet<String>>,
    /// Keys it does not read although `keys` says every key: the envFrom keys shadowed by an
    /// explicit env entry of the same container.
    pub except: BTreeSet<String>,
}

impl Reference {
    /// True if the reference reads `key`.
    pub fn reads(&self, key: &str) -> bool {
        self.keys.as_ref().is_none_or(|k| k.contains(key)) && !self.except.contains(key)
    }
}

/// Every reference to a Secret or ConfigMap in the items (local-config items and CRDs excluded).
///
/// Pod templates are read field by field (env, envFrom, volumes, projected volumes,
/// imagePullSecrets); Argo's ConfigMaps by parsing their embedded documents; every other object
/// generically: a map with a string `name` under a key that contains `secret` (`configmap`), or a
/// string `secretName` anywhere, is a reference (with `key`/`items` giving the keys read).
pub fn scan(items: &[Value]) -> Vec<Reference> {
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if object::is_local_config(item) || object::kind(item) == "CustomResourceDefinition" {
            continue;
        }
        let mut skip: Option<&Value> = None;
        if let Some((template, base)) = pod::template(item) {
            if let Some(spec) = template.get("spec") {
                scan_pod_spec(index, spec, &base.key("spec"), &mut out);
                skip = Some(spec);
            }
        }
        for ArgoDocument { data_key, text, .. } in argo_documents(item) {
            let Ok(doc) = yaml::parse_document(&text) else { continue };
            let base = FieldPath::from_keys(&["data"]).key(&data_key);
            let mut walker = Walker { item: index, form: RefForm::Embedded, skip: None, out: &mut out, stack: Vec::new(), base };
            walker.walk(&doc, None);
        }
        if matches!(object::kind(item), "Secret" | "ConfigMap") && object::group(item).is_empty() {
            continue; // their data are values, not references
        }
        let mut walker =
            Walker { item: index, form: RefForm::Other, skip, out: &mut out, stack: Vec::new(), base: FieldPath::root() };
        walker.walk(item, None);
    }
    out
}

/// The references to one Secret or ConfigMap (same name once hash suffixes are dropped).
pub fn references(items: &[Value], kind: RefKind, name: &str) -> Vec<Reference> {
    scan(items).into_iter().filter(|r| r.kind == kind && same_object(&r.name, name)).collect()
}

/// True if anything references the Secret or ConfigMap.
pub fn is_referenced(items: &[Value], kind: RefKind, name: &str) -> bool {
    !references(items, kind, name).is_empty()
}

fn push_ref(out: &mut Vec<Reference>, item: usize, kind: RefKind, reference: &Value, field: &str, path: FieldPath, form: RefForm) {
    let Some(name) = reference.get(field).and_then(Value::as_str) else { return };
    out.push(Reference {
        item,
        kind,
        name: name.to_string(),
        path,
        form,
        keys: keys_of(reference),
        except: BTreeSet::new(),
    });
}

/// The keys a reference map reads: `key`, or `items[].key`; `None` for every key.
fn keys_of(reference: &Value) -> Option<BTreeSet<String>> {
    if let Some(k) = reference.get("key").and_then(Value::as_str) {
        return Some(BTreeSet::from([k.to_string()]));
    }
    let items = reference.get("items")?.as_array()?;
    Some(items.iter().filter_map(|i| i.get("key").and_then(Value::as_str)).map(str::to_string).collect())
}

fn scan_pod_spec(item: usize, spec: &Value, base: &FieldPath, out: &mut Vec<Reference>) {
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, c) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let cpath = base.key(list).entry(c.get("name").and_then(Value::as_str), i);
            let env = c.get("env").and_then(Value::as_array);
            for (j, e) in env.into_iter().flatten().enumerate() {
                let path = cpath.key("env").entry(env_name(e), j);
                if let Some(r) = e.pointer("/valueFrom/secretKeyRef") {
                    push_ref(out, item, RefKind::Secret, r, "name", path.clone(), RefForm::EnvKey);
                }
                if let Some(r) = e.pointer("/valueFrom/configMapKeyRef") {
                    push_ref(out, item, RefKind::ConfigMap, r, "name", path, RefForm::EnvKey);
                }
            }
            let defined: Vec<&str> = env.into_iter().flatten().filter_map(env_name).collect();
            for (j, source) in c.get("envFrom").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let prefix = source.get("prefix").and_then(Value::as_str).unwrap_or("");
                let except: BTreeSet<String> =
                    defined.iter().filter_map(|d| d.strip_prefix(prefix)).map(str::to_string).collect();
                for (field, kind) in [("secretRef", RefKind::Secret), ("configMapRef", RefKind::ConfigMap)] {
                    let Some(name) = source.get(field).and_then(|r| r.get("name")).and_then(Value::as_str) else { continue };
                    out.push(Reference {
                        item,
                        kind,
                        name: name.to_string(),
                        path: cpath.key("envFrom").entry(None, j),
                        form: RefForm::EnvFrom,
                        keys: None,
                        except: except.clone(),
                    });
                }
            }
        }
    }
    for (i, v) in spec.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let vpath = base.key("volumes").entry(v.get("name").and_then(Value::as_str), i);
        if let Some(s) = v.get("secret") {
            push_ref(out, item, RefKind::Secret, s, "secretName", vpath.clone(), RefForm::Volume);
        }
        if let Some(s) = v.get("configMap") {
            push_ref(out, item, RefKind::ConfigMap, s, "name", vpath.clone(), RefForm::Volume);
        }
        let sources = v.pointer("/projected/sources").and_then(Value::as_array);
        for (j, source) in sources.into_iter().flatten().enumerate() {
            let spath = vpath.key("projected").key("sources").entry(None, j);
            if let Some(s) = source.get("secret") {
                push_ref(out, item, RefKind::Secret, s, "name", spath.clone(), RefForm::ProjectedVolume);
            }
            if let Some(s) = source.get("configMap") {
                push_ref(out, item, RefKind::ConfigMap, s, "name", spath, RefForm::ProjectedVolume);
            }
        }
    }
    for (i, s) in spec.get("imagePullSecrets").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(name) = s.get("name").and_then(Value::as_str) else { continue };
        out.push(Reference {
            item,
            kind: RefKind::Secret,
            name: name.to_string(),
            path: base.key("imagePullSecrets").entry(Some(name), i),
            form: RefForm::ImagePullSecret,
            keys: Some([".dockerconfigjson", ".dockercfg"].iter().map(|k| k.to_string()).collect()),
            except: BTreeSet::new(),
        });
    }
}

enum Seg<'a> {
    Key(&'a str),
    Entry(Option<&'a str>, usize),
}

/// The generic walk: builds field paths only for the references it finds.
struct Walker<'v, 'o> {
    item: usize,
    form: RefForm,
    skip: Option<&'v Value>,
    out: &'o mut Vec<Reference>,
    stack: Vec<Seg<'v>>,
    base: FieldPath,
}

impl<'v> Walker<'v, '_> {
    fn path(&self) -> FieldPath {
        self.stack.iter().fold(self.base.clone(), |p, s| match s {
            Seg::Key(k) => p.key(k),
            Seg::Entry(n, i) => p.entry(*n, *i),
        })
    }

    /// `parent_key`: the nearest map key above this value (list indexes skipped).
    fn walk(&mut self, v: &'v Value, parent_key: Option<&'v str>) {
        if self.skip.is_some_and(|s| std::ptr::eq(s, v)) {
            return;
        }
        match v {
            Value::Object(m) => {
                let parent = parent_key.map(str::to_ascii_lowercase).unwrap_or_default();
                let found = |kind: RefKind, field: &str, this: &mut Self| {
                    if let Some(name) = m.get(field).and_then(Value::as_str) {
                        let path = this.path();
                        this.out.push(Reference {
                            item: this.item,
                            kind,
                            name: name.to_string(),
                            path,
                            form: this.form,
                            keys: keys_of(v),
                            except: BTreeSet::new(),
                        });
                    }
                };
                if parent.contains("secret") {
                    found(RefKind::Secret, "name", self);
                }
                if m.contains_key("secretName") {
                    found(RefKind::Secret, "secretName", self);
                }
                if parent.contains("configmap") {
                    found(RefKind::ConfigMap, "name", self);
                }
                for (k, child) in m {
                    if child.is_object() || child.is_array() {
                        self.stack.push(Seg::Key(k));
                        self.walk(child, Some(k));
                        self.stack.pop();
                    }
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    if child.is_object() || child.is_array() {
                        self.stack.push(Seg::Entry(child.get("name").and_then(Value::as_str), i));
                        self.walk(child, parent_key);
                        self.stack.pop();
                    }
                }
            }
            _ => {}
        }
    }
}

// ------------------------------------------------------------------------------------------
// Removing the replaced Secrets
// ------------------------------------------------------------------------------------------

fn describe(items: &[Value], refs: &[&Reference]) -> String {
    let mut parts: Vec<String> =
        refs.iter().take(3).map(|r| format!("{} {}", ResourceRef::of(&items[r.item]), r.path)).collect();
    if refs.len() > 3 {
        parts.push(format!("{} more", refs.len() - 3));
    }
    parts.join(", ")
}

enum Disposal {
    Delete,
    Strip(Vec<String>, String),
}

/// Deletes every in-tree credential Secret of the target (see [`Target::is_credential_secret`])
/// that nothing references any more, with an info result each. One that is still referenced for
/// keys that are not credentials is kept without its credential keys (removed from `data` and
/// `stringData`), with an info; one still read for a credential (a volume mount...) is kept as
/// it is ([`centralize`] warned about that reference). The central Secret is never touched.
pub fn remove_replaced_secrets(items: &mut Vec<Value>, target: &Target, results: &mut Vec<KrmResult>) {
    if target.keys.is_empty() {
        return;
    }
    let refs = scan(items);
    let mut plan: Vec<(usize, Disposal)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if !Selector::core("Secret").matches(item) {
            continue;
        }
        let name = object::name(item);
        if !target.is_credential_secret(name) {
            continue;
        }
        let mine: Vec<&Reference> = refs.iter().filter(|r| r.kind == RefKind::Secret && same_object(&r.name, name)).collect();
        if mine.is_empty() {
            plan.push((index, Disposal::Delete));
            continue;
        }
        let credential_keys: Vec<String> =
            secret_keys(item).into_iter().filter(|k| target.rewires(name, k).is_some()).collect();
        if credential_keys.is_empty() || mine.iter().any(|r| credential_keys.iter().any(|k| r.reads(k))) {
            continue;
        }
        plan.push((index, Disposal::Strip(credential_keys, describe(items, &mine))));
    }
    let mut deleted = Vec::new();
    for (index, disposal) in &plan {
        let item = &mut items[*index];
        match disposal {
            Disposal::Delete => deleted.push(
                KrmResult::info(format!(
                    "deleted: nothing references it any more (its credentials are read from Secret {} now)",
                    target.secret_name
                ))
                .on(item),
            ),
            Disposal::Strip(keys, by) => {
                let mut at = None;
                if let Some(obj) = item.as_object_mut() {
                    for map in ["data", "stringData"] {
                        let Some(m) = obj.get_mut(map).and_then(Value::as_object_mut) else { continue };
                        let before = m.len();
                        for k in keys {
                            m.shift_remove(k);
                        }
                        if m.len() != before {
                            at.get_or_insert(map);
                        }
                        if m.is_empty() {
                            obj.shift_remove(map);
                        }
                    }
                }
                let r = KrmResult::info(format!(
                    "kept without its credential keys ({}): still referenced for other keys by {by}",
                    keys.join(", ")
                ))
                .on(item);
                results.push(match at {
                    Some(path) => r.at(path),
                    None => r,
                });
            }
        }
    }
    for (index, disposal) in plan.iter().rev() {
        if matches!(disposal, Disposal::Delete) {
            items.remove(*index);
        }
    }
    results.extend(deleted);
}

// ------------------------------------------------------------------------------------------
// Where the central Secret is needed
// ------------------------------------------------------------------------------------------

/// The consumers of the central Secret in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The namespace (`None`: consumers without `metadata.namespace`).
    pub namespace: Option<String>,
    /// The target's credentials they read.
    pub credentials: BTreeSet<Credential>,
    /// Indexes of the consuming items.
    pub consumers: BTreeSet<usize>,
}

/// Where the central Secret is read, per namespace (sorted, `None` first), from the items as they
/// are (so a second run gives the same answer): every reference to the central Secret for one
/// of the target's keys. ExternalSecret objects are not consumers.
pub fn central_usage(items: &[Value], target: &Target) -> Vec<Usage> {
    let mut by_ns: BTreeMap<Option<String>, Usage> = BTreeMap::new();
    for r in scan(items) {
        if r.kind != RefKind::Secret || !target.is_central(&r.name) {
            continue;
        }
        let item = &items[r.item];
        if object::group(item) == "external-secrets.io" {
            continue;
        }
        let credentials: BTreeSet<Credential> =
            target.keys.iter().filter(|(_, k)| r.reads(k)).map(|(c, _)| *c).collect();
        if credentials.is_empty() {
            continue;
        }
        let ns = object::namespace(item).map(str::to_string);
        let usage = by_ns.entry(ns.clone()).or_insert_with(|| Usage {
            namespace: ns,
            credentials: BTreeSet::new(),
            consumers: BTreeSet::new(),
        });
        usage.credentials.extend(credentials);
        usage.consumers.insert(r.item);
    }
    by_ns.into_values().collect()
}

/// One info result per namespace that must hold the central Secret, naming its keys (never a
/// value).
pub fn namespace_results(usage: &[Usage], target: &Target) -> Vec<KrmResult> {
    usage
        .iter()
        .map(|u| {
            let keys: Vec<String> = u
                .credentials
                .iter()
                .filter_map(|c| target.central_key(*c).map(|k| format!("{k} ({c})")))
                .collect();
            let n = u.consumers.len();
            let by = if n == 1 { "1 resource".to_string() } else { format!("{n} resources") };
            match &u.namespace {
                Some(ns) => KrmResult::info(format!(
                    "namespace {ns} must hold Secret {} with keys {} (read by {by})",
                    target.secret_name,
                    keys.join(", ")
                )),
                None => KrmResult::info(format!(
                    "the namespace where the resources without metadata.namespace are deployed must hold Secret {} with keys {} (read by {by})",
                    target.secret_name,
                    keys.join(", ")
                )),
            }
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// Keeping centralize-credentials' ExternalSecrets in step
// ------------------------------------------------------------------------------------------

/// Which keys of which Secret each namespace reads: a snapshot taken with [`SecretReads::of`]
/// before a function stops some consumers from reading a central key, for
/// [`refresh_external_secrets`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretReads {
    /// `(namespace, Secret name)` → the keys read (`None`: every key, an envFrom or a volume).
    reads: BTreeMap<(Option<String>, String), Option<BTreeSet<String>>>,
}

impl SecretReads {
    /// Every Secret reference of the items (see [`scan`]), by the namespace of the referring
    /// item. ExternalSecrets are not readers.
    pub fn of(items: &[Value]) -> Self {
        let mut reads: BTreeMap<(Option<String>, String), Option<BTreeSet<String>>> = BTreeMap::new();
        for r in scan(items) {
            let item = &items[r.item];
            if r.kind != RefKind::Secret || object::group(item) == "external-secrets.io" {
                continue;
            }
            let slot = reads.entry((object::namespace(item).map(str::to_string), r.name.clone())).or_insert_with(|| Some(BTreeSet::new()));
            match (&r.keys, slot.as_mut()) {
                (Some(keys), Some(read)) => read.extend(keys.iter().filter(|k| !r.except.contains(*k)).cloned()),
                (None, _) => *slot = None,
                (Some(_), None) => {}
            }
        }
        SecretReads { reads }
    }

    /// True if something in `namespace` reads `key` of Secret `secret`.
    pub fn reads(&self, namespace: Option<&str>, secret: &str, key: &str) -> bool {
        self.reads
            .iter()
            .filter(|((ns, name), _)| ns.as_deref() == namespace && same_object(name, secret))
            .any(|(_, keys)| keys.as_ref().is_none_or(|k| k.contains(key)))
    }
}

/// The central Secret an ExternalSecret of `centralize-credentials` fills, if the item is one.
///
/// `centralize-credentials` recognises its ExternalSecrets by name (its `secretName`) and
/// namespace; a function that does not know that name recognises them by their shape: an
/// `external-secrets.io` ExternalSecret whose `spec.target.name` is its own name and whose `data`
/// entries each read the remote property of the same name as their `secretKey`.
pub fn central_external_secret(item: &Value) -> Option<&str> {
    if !Selector::of("external-secrets.io", "ExternalSecret").matches(item) {
        return None;
    }
    let name = object::name(item);
    let spec = item.get("spec")?;
    if spec.pointer("/target/name").and_then(Value::as_str) != Some(name) || name.is_empty() {
        return None;
    }
    let data = spec.get("data")?.as_array()?;
    let shaped = data.iter().all(|d| {
        let key = d.get("secretKey").and_then(Value::as_str);
        key.is_some() && d.pointer("/remoteRef/property").and_then(Value::as_str) == key
    });
    shaped.then_some(name)
}

/// Keeps the ExternalSecrets of `centralize-credentials` (see [`central_external_secret`]) in
/// step after a function stopped consumers from reading some central keys (for example
/// `external-object-store` with `credentials.fromEnvironment`, which empties the object-store
/// key variables): from each one, the `data` entries whose key was read in its namespace
/// `before` and is read there by nothing now are dropped; an ExternalSecret left without entries
/// is deleted. An info result per change; entries nothing read before are left alone (they serve
/// consumers outside the input).
///
/// So `centralize-credentials` then the function gives what the function then
/// `centralize-credentials` gives: the latter emits entries only for the keys read.
pub fn refresh_external_secrets(items: &mut Vec<Value>, before: &SecretReads, results: &mut Vec<KrmResult>) {
    let now = SecretReads::of(items);
    let mut deleted = Vec::new();
    for (index, item) in items.iter_mut().enumerate() {
        let Some(name) = central_external_secret(item).map(str::to_string) else { continue };
        let ns = object::namespace(item).map(str::to_string);
        let stale = |key: &str| before.reads(ns.as_deref(), &name, key) && !now.reads(ns.as_deref(), &name, key);
        let Some(data) = item.pointer_mut("/spec/data").and_then(Value::as_array_mut) else { continue };
        let dropped: Vec<String> = data
            .iter()
            .filter_map(|d| d.get("secretKey").and_then(Value::as_str))
            .filter(|k| stale(k))
            .map(str::to_string)
            .collect();
        if dropped.is_empty() {
            continue;
        }
        data.retain(|d| !d.get("secretKey").and_then(Value::as_str).is_some_and(|k| dropped.iter().any(|x| x == k)));
        if data.is_empty() {
            deleted.push(index);
            results.push(
                KrmResult::info(format!(
                    "deleted: nothing in its namespace reads Secret {name} any more (keys {} were its last entries)",
                    dropped.join(", ")
                ))
                .on(item),
            );
        } else {
            results.push(
                KrmResult::info(format!("no longer fills keys {}: nothing in its namespace reads them any more", dropped.join(", ")))
                    .on(item)
                    .at("spec.data"),
            );
        }
    }
    for index in deleted.into_iter().rev() {
        items.remove(index);
    }
}

// ------------------------------------------------------------------------------------------
// Validation shared by the functions' configs
// ------------------------------------------------------------------------------------------

/// A DNS subdomain (a Secret name): at most 253 characters, lowercase alphanumerics, `-` and
/// `.`, starting and ending with an alphanumeric.
pub fn is_dns_subdomain(s: &str) -> bool {
    let b = s.as_bytes();
    !s.is_empty()
        && s.len() <= 253
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
}

/// A Secret data key: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn is_secret_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c))
}

/// Checks the central Secret's name: a DNS subdomain, and not one of the Secrets it replaces.
pub fn check_secret_name(field: &str, name: &str, extra: &[ExtraConsumer]) -> Vec<ConfigError> {
    if name.is_empty() {
        return vec![ConfigError::new(field, "required: the name of the central Secret")];
    }
    if !is_dns_subdomain(name) {
        return vec![ConfigError::new(
            field,
            format!("{name:?} is not a valid Secret name (lowercase alphanumerics, '-' and '.', at most 253)"),
        )];
    }
    let target = Target::new("").with_extra(extra.to_vec());
    if !target.catalogue_entries(name).is_empty() {
        return vec![ConfigError::new(
            field,
            format!("{name} is one of the Secrets being replaced: choose another name for the central Secret"),
        )];
    }
    Vec::new()
}

/// Checks the central keys: each a valid Secret key, and no key used for two credentials (the
/// error names both fields).
pub fn check_keys(keys: &[(&str, &str)]) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (i, (field, key)) in keys.iter().enumerate() {
        if !is_secret_key(key) {
            errors.push(ConfigError::new(
                *field,
                format!("{key:?} is not a valid Secret key (letters, digits, '-', '_', '.')"),
            ));
            continue;
        }
        if let Some((other, _)) = keys[..i].iter().find(|(_, k)| k == key) {
            errors.push(ConfigError::new(
                *field,
                format!("{key:?} is also {other}: each credential needs its own key in the central Secret"),
            ));
        }
    }
    errors
}

/// Checks `extraConsumers`: Secret names and keys, and no Secret key given two credentials (or a
/// credential other than the built-in catalogue's).
pub fn check_extra(field: &str, extra: &[ExtraConsumer]) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (i, e) in extra.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if !is_dns_subdomain(&e.secret) {
            errors.push(ConfigError::new(format!("{at}.secret"), format!("{:?} is not a valid Secret name", e.secret)));
        }
        if !is_secret_key(&e.key) {
            errors.push(ConfigError::new(format!("{at}.key"), format!("{:?} is not a valid Secret key", e.key)));
        }
        let builtin = KNOWN_SECRET_KEYS.iter().find(|k| name_matches(&e.secret, k.secret) && k.key == e.key);
        if let Some(b) = builtin.filter(|b| b.credential != e.credential) {
            errors.push(ConfigError::new(
                format!("{at}.credential"),
                format!("{}/{} is already known to hold {}", b.secret, b.key, b.credential),
            ));
        }
        if let Some((j, other)) =
            extra[..i].iter().enumerate().find(|(_, o)| o.secret == e.secret && o.key == e.key && o.credential != e.credential)
        {
            errors.push(ConfigError::new(
                format!("{at}.credential"),
                format!("{}/{} is also {field}[{j}] with credential {}", e.secret, e.key, other.credential),
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all() -> Target {
        Target::new("central")
            .with_key(Credential::DatabaseUsername, "db-username")
            .with_key(Credential::DatabasePassword, "db-password")
            .with_key(Credential::ObjectStoreAccessKey, "s3-access-key")
            .with_key(Credential::ObjectStoreSecretKey, "s3-secret-key")
    }
    fn database() -> Target {
        Target::new("central")
            .with_key(Credential::DatabaseUsername, "db-username")
            .with_key(Credential::DatabasePassword, "db-password")
    }
    fn object_store() -> Target {
        Target::new("central")
            .with_key(Credential::ObjectStoreAccessKey, "s3-access-key")
            .with_key(Credential::ObjectStoreSecretKey, "s3-secret-key")
    }

    fn deployment(name: &str, container: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "kubeflow"},
            "spec": {"template": {"spec": {"containers": [container]}}}})
    }
    fn container(item: &Value) -> &Value {
        &item["spec"]["template"]["spec"]["containers"][0]
    }
    fn names(env: &Value) -> Vec<&str> {
        env.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect()
    }
    fn secret(name: &str, data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "kubeflow"}, "data": data})
    }

    #[test]
    fn catalogue_matches_hashed_names_and_extras() {
        let t = all().with_extra(vec![ExtraConsumer {
            secret: "my-db".into(),
            key: "pw".into(),
            credential: Credential::DatabasePassword,
        }]);
        assert_eq!(t.rewires("katib-mysql-secrets-th9dkf48dg", "DB_USER"), Some((Credential::DatabaseUsername, "db-username")));
        assert_eq!(t.rewires("my-db", "pw"), Some((Credential::DatabasePassword, "db-password")));
        assert_eq!(t.rewires("mysql-secret", "host"), None);
        assert_eq!(t.rewires("central", "db-username"), None);
        assert!(database().is_credential_secret("mysql-secret"));
        assert!(!database().is_credential_secret("mlpipeline-minio-artifact"));
    }

    #[test]
    fn secret_key_refs_keep_position_and_optional() {
        let mut items = vec![deployment(
            "ml-pipeline",
            json!({"name": "api", "env": [
                {"name": "A", "value": "1"},
                {"name": "DBCONFIG_USER", "valueFrom": {"secretKeyRef": {"name": "mysql-secret", "key": "username", "optional": true}}},
                {"name": "B", "value": "2"}]}),
        )];
        let mut results = Vec::new();
        centralize(&mut items, &all(), &mut results);
        let env = &container(&items[0])["env"];
        assert_eq!(names(env), ["A", "DBCONFIG_USER", "B"]);
        assert_eq!(env[1], json!({"name": "DBCONFIG_USER", "valueFrom": {"secretKeyRef": {"key": "db-username", "name": "central", "optional": true}}}));
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].field.as_ref().unwrap().path, "spec.template.spec.containers[name=api].env[name=DBCONFIG_USER]");
    }

    #[test]
    fn literals_are_rewired_only_where_the_name_is_kubeflows() {
        let c = json!({"name": "c", "env": [
            {"name": "MINIO_SECRET_KEY", "value": "minio123"},
            {"name": "AWS_SECRET_ACCESS_KEY", "value": "x"},
            {"name": "DBCONFIG_PASSWORD", "value": "$(OTHER)"}]});
        let mut items = vec![deployment("my-app", c.clone()), deployment("ml-pipeline-ui", c)];
        let mut results = Vec::new();
        centralize(&mut items, &all(), &mut results);
        let mine = &container(&items[0])["env"];
        assert_eq!(mine[0]["valueFrom"]["secretKeyRef"]["key"], "s3-secret-key");
        assert_eq!(mine[1]["value"], "x", "AWS_* is rewired only in Kubeflow's own workloads");
        assert_eq!(mine[2]["value"], "$(OTHER)");
        let ui = &container(&items[1])["env"];
        assert_eq!(ui[1]["valueFrom"]["secretKeyRef"]["key"], "s3-secret-key");
        for r in &results {
            assert!(!r.message.contains("minio123"), "{}", r.message);
        }
    }

    #[test]
    fn env_from_becomes_explicit_entries_with_prefix_and_precedence() {
        let mut items = vec![
            secret("mlpipeline-minio-artifact", json!({"accesskey": "bWluaW8=", "region": "dXM=", "secretkey": "eA=="})),
            deployment(
                "store",
                json!({"name": "s", "env": [{"name": "S3_secretkey", "value": "mine"}],
                    "envFrom": [{"prefix": "S3_", "secretRef": {"name": "mlpipeline-minio-artifact", "optional": true}}]}),
            ),
        ];
        let mut results = Vec::new();
        centralize(&mut items, &all(), &mut results);
        let c = container(&items[1]);
        assert_eq!(names(&c["env"]), ["S3_secretkey", "S3_accesskey"]);
        assert_eq!(c["env"][1]["valueFrom"]["secretKeyRef"], json!({"key": "s3-access-key", "name": "central", "optional": true}));
        assert_eq!(c["envFrom"].as_array().unwrap().len(), 1, "kept for `region`");
        // Removal keeps the Secret for `region`, without credentials.
        remove_replaced_secrets(&mut items, &all(), &mut results);
        assert_eq!(items[0]["data"], json!({"region": "dXM="}));
    }

    #[test]
    fn env_from_with_only_credentials_is_removed_and_env_created() {
        let mut items = vec![deployment(
            "seaweedfs",
            json!({"args": ["server"], "envFrom": [{"secretRef": {"name": "mlpipeline-minio-artifact"}}], "image": "x", "name": "seaweedfs"}),
        )];
        let mut results = Vec::new();
        centralize(&mut items, &all(), &mut results);
        let c = container(&items[0]);
        assert!(c.get("envFrom").is_none());
        assert_eq!(names(&c["env"]), ["accesskey", "secretkey"]);
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["args", "env", "image", "name"]);
        assert!(results.iter().any(|r| r.severity == Severity::Warning && r.message.contains("not in the input")));
    }

    #[test]
    fn katib_gets_db_user() {
        let mut items = vec![deployment(
            "katib-db-manager",
            json!({"name": "katib-db-manager", "env": [
                {"name": "DB_NAME", "value": "mysql"},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "MYSQL_ROOT_PASSWORD", "name": "katib-mysql-secrets"}}}]}),
        )];
        let mut results = Vec::new();
        centralize(&mut items, &object_store(), &mut results);
        assert_eq!(names(&container(&items[0])["env"]), ["DB_NAME", "DB_PASSWORD"]);
        centralize(&mut items, &database(), &mut results);
        let env = &container(&items[0])["env"];
        assert_eq!(names(env), ["DB_NAME", "DB_PASSWORD", "DB_USER"]);
        assert_eq!(env[2]["valueFrom"]["secretKeyRef"]["key"], "db-username");
    }

    #[test]
    fn partial_targets_commute() {
        let input = vec![
            secret("mixed", json!({"pw": "eA==", "ak": "eA==", "host": "eA=="})),
            deployment(
                "katib-db-manager",
                json!({"name": "katib-db-manager", "env": [
                    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "DB_PASSWORD", "name": "katib-mysql-secrets"}}},
                    {"name": "MINIO_ACCESS_KEY", "value": "minio"},
                    {"name": "Z", "valueFrom": {"secretKeyRef": {"key": "x", "name": "other"}}}],
                    "envFrom": [{"secretRef": {"name": "mixed"}}]}),
            ),
        ];
        let extra = vec![
            ExtraConsumer { secret: "mixed".into(), key: "pw".into(), credential: Credential::DatabasePassword },
            ExtraConsumer { secret: "mixed".into(), key: "ak".into(), credential: Credential::ObjectStoreAccessKey },
        ];
        let run = |order: [Target; 2]| {
            let mut items = input.clone();
            let mut results = Vec::new();
            for t in order {
                let t = t.with_extra(extra.clone());
                centralize(&mut items, &t, &mut results);
                remove_replaced_secrets(&mut items, &t, &mut results);
            }
            items
        };
        let a = run([database(), object_store()]);
        let b = run([object_store(), database()]);
        assert_eq!(a, b);
        let c = run([all(), all()]);
        assert_eq!(a, c, "two partial targets give what one full target gives");
        assert_eq!(names(&container(&a[1])["env"]), ["DB_PASSWORD", "DB_USER", "MINIO_ACCESS_KEY", "Z", "ak", "pw"]);
        assert_eq!(a[0]["data"], json!({"host": "eA=="}));
    }

    #[test]
    fn argo_references_are_edited_line_by_line() {
        let text = "archiveLogs: true\ns3:\n  endpoint: \"seaweedfs.kubeflow:9000\"\n  # a comment\n  insecure: true\n  accessKeySecret:\n    name: mlpipeline-minio-artifact\n    key: accesskey\n  secretKeySecret:\n    name: mlpipeline-minio-artifact\n    key: secretkey\n";
        let mut items = vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "workflow-controller-configmap", "namespace": "kubeflow"},
            "data": {"artifactRepository": text, "executor": "x: 1\n"}})];
        let mut results = Vec::new();
        centralize(&mut items, &all(), &mut results);
        let out = items[0]["data"]["artifactRepository"].as_str().unwrap();
        assert_eq!(out, text.replace("name: mlpipeline-minio-artifact", "name: central").replace("key: accesskey", "key: s3-access-key").replace("key: secretkey", "key: s3-secret-key"));
        assert!(results.iter().any(|r| r.severity == Severity::Warning && r.message.contains("namespace of each workflow")));
        let usage = central_usage(&items, &all());
        assert_eq!(usage.len(), 1);
        assert_eq!(usage[0].credentials, BTreeSet::from([Credential::ObjectStoreAccessKey, Credential::ObjectStoreSecretKey]));
    }

    #[test]
    fn flow_style_argo_documents_are_reemitted_with_a_warning() {
        let text = "s3: {bucket: mlpipeline, accessKeySecret: {name: mlpipeline-minio-artifact, key: accesskey}}\n";
        let mut items = vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "artifact-repositories", "namespace": "team"},
            "data": {"default-v1": text}})];
        let mut results = Vec::new();
        centralize(&mut items, &all(), &mut results);
        let out = yaml::parse_document(items[0]["data"]["default-v1"].as_str().unwrap()).unwrap();
        assert_eq!(out, json!({"s3": {"bucket": "mlpipeline", "accessKeySecret": {"key": "s3-access-key", "name": "central"}}}));
        assert!(results.iter().any(|r| r.severity == Severity::Warning && r.message.contains("without its comments")));
        let mut again = items.clone();
        centralize(&mut again, &all(), &mut Vec::new());
        assert_eq!(again, items);
    }

    #[test]
    fn scan_finds_every_form_and_volume_mounts_are_warned() {
        let mut items = vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
                "containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}],
                "imagePullSecrets": [{"name": "pull"}],
                "volumes": [{"name": "v", "secret": {"secretName": "mysql-secret"}},
                            {"name": "p", "projected": {"sources": [{"configMap": {"name": "cm2"}}]}}]}}}}),
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}, "secrets": [{"name": "tok"}]}),
            json!({"apiVersion": "kubeflow.org/v1alpha1", "kind": "PodDefault", "metadata": {"name": "pd"}, "spec": {"env": [
                {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "mlpipeline-minio-artifact", "key": "secretkey"}}}]}}),
        ];
        let refs = scan(&items);
        let found: Vec<(RefKind, &str, RefForm)> = refs.iter().map(|r| (r.kind, r.name.as_str(), r.form)).collect();
        assert!(found.contains(&(RefKind::ConfigMap, "cm", RefForm::EnvKey)));
        assert!(found.contains(&(RefKind::Secret, "pull", RefForm::ImagePullSecret)));
        assert!(found.contains(&(RefKind::Secret, "mysql-secret", RefForm::Volume)));
        assert!(found.contains(&(RefKind::ConfigMap, "cm2", RefForm::ProjectedVolume)));
        assert!(found.contains(&(RefKind::Secret, "tok", RefForm::Other)));
        assert!(found.contains(&(RefKind::Secret, "mlpipeline-minio-artifact", RefForm::Other)));
        assert_eq!(refs.iter().find(|r| r.name == "mlpipeline-minio-artifact").unwrap().path.to_string(), "spec.env[name=AWS_SECRET_ACCESS_KEY].valueFrom.secretKeyRef");
        let mut results = Vec::new();
        centralize(&mut items, &all(), &mut results);
        let warnings: Vec<&KrmResult> = results.iter().filter(|r| r.severity == Severity::Warning).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(is_referenced(&items, RefKind::ConfigMap, "cm2"));
        assert!(!is_referenced(&items, RefKind::ConfigMap, "cm3"));
    }

    #[test]
    fn unreferenced_secrets_are_deleted() {
        let mut items = vec![
            secret("mysql-secret", json!({"username": "cm9vdA=="})),
            secret("other", json!({"a": "eA=="})),
            secret("katib-mysql-secrets-th9dkf48dg", json!({"DB_USER": "eA==", "KATIB_MYSQL_DB_HOST": "eA=="})),
            deployment("katib-db-manager", json!({"name": "m", "env": [
                {"name": "KATIB_MYSQL_DB_HOST", "valueFrom": {"secretKeyRef": {"name": "katib-mysql-secrets-th9dkf48dg", "key": "KATIB_MYSQL_DB_HOST"}}},
                {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "katib-mysql-secrets-th9dkf48dg", "key": "DB_USER"}}}]})),
        ];
        let mut results = Vec::new();
        centralize(&mut items, &database(), &mut results);
        remove_replaced_secrets(&mut items, &database(), &mut results);
        let left: Vec<&str> = items.iter().map(object::name).collect();
        assert_eq!(left, ["other", "katib-mysql-secrets-th9dkf48dg", "katib-db-manager"]);
        assert_eq!(items[1]["data"], json!({"KATIB_MYSQL_DB_HOST": "eA=="}));
    }

    #[test]
    fn insertion_rule_is_order_independent() {
        let base = vec![
            json!({"name": "A", "value": "1"}),
            json!({"name": "Q", "valueFrom": {"secretKeyRef": {"name": "s", "key": "q"}}}),
        ];
        let new = ["M", "Z", "B"].map(|n| secret_env(n, "c", "k", None));
        let mut orders = Vec::new();
        for perm in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]] {
            let mut env = base.clone();
            for i in perm {
                insert_created(&mut env, new[i].clone());
            }
            orders.push(env.iter().map(|e| e["name"].as_str().unwrap().to_string()).collect::<Vec<_>>());
        }
        assert!(orders.windows(2).all(|w| w[0] == w[1]), "{orders:?}");
        assert_eq!(orders[0], ["A", "B", "M", "Q", "Z"]);
    }

    fn external_secret(ns: &str, keys: &[&str]) -> Value {
        let data: Vec<Value> = keys.iter().map(|k| json!({"remoteRef": {"key": "kubeflow/credentials", "property": k}, "secretKey": k})).collect();
        json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "central", "namespace": ns},
            "spec": {"data": data, "refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"}, "target": {"name": "central"}}})
    }

    #[test]
    fn external_secrets_follow_the_keys_still_read() {
        let reader = |env: Value| {
            let mut d = deployment("ml-pipeline", json!({"name": "api", "env": env}));
            d["metadata"]["namespace"] = json!("kubeflow");
            d
        };
        let both = json!([
            {"name": "DBCONFIG_USER", "valueFrom": {"secretKeyRef": {"key": "db-username", "name": "central"}}},
            {"name": "OBJECTSTORECONFIG_ACCESSKEY", "valueFrom": {"secretKeyRef": {"key": "s3-access-key", "name": "central"}}}]);
        let mut items = vec![
            external_secret("kubeflow", &["db-username", "s3-access-key"]),
            external_secret("team-a", &["s3-access-key"]),
            reader(both),
        ];
        let before = SecretReads::of(&items);
        assert!(before.reads(Some("kubeflow"), "central", "s3-access-key"));
        assert!(!before.reads(Some("team-a"), "central", "s3-access-key"));
        // The object-store key is no longer read in kubeflow.
        items[2]["spec"]["template"]["spec"]["containers"][0]["env"][1] = json!({"name": "OBJECTSTORECONFIG_ACCESSKEY", "value": ""});
        let mut results = Vec::new();
        refresh_external_secrets(&mut items, &before, &mut results);
        assert_eq!(items[0]["spec"]["data"].as_array().unwrap().len(), 1);
        assert_eq!(items[0]["spec"]["data"][0]["secretKey"], "db-username");
        assert_eq!(items[1]["spec"]["data"].as_array().unwrap().len(), 1, "nothing read it before: left alone");
        assert_eq!(results.len(), 1);
        // Then the database key goes too: the ExternalSecret goes.
        let before = SecretReads::of(&items);
        items[2]["spec"]["template"]["spec"]["containers"][0]["env"] = json!([]);
        refresh_external_secrets(&mut items, &before, &mut results);
        assert_eq!(items.len(), 2);
        assert!(results[1].message.starts_with("deleted"));
        // Idempotent.
        let again = items.clone();
        refresh_external_secrets(&mut items, &SecretReads::of(&again), &mut results);
        assert_eq!(items, again);
    }

    #[test]
    fn only_the_central_shape_is_an_external_secret_of_centralize_credentials() {
        let mut es = external_secret("kubeflow", &["a"]);
        assert_eq!(central_external_secret(&es), Some("central"));
        es["spec"]["target"]["name"] = json!("other");
        assert_eq!(central_external_secret(&es), None);
        let mut es = external_secret("kubeflow", &["a"]);
        es["spec"]["data"][0]["remoteRef"]["property"] = json!("b");
        assert_eq!(central_external_secret(&es), None);
    }

    #[test]
    fn validation_helpers() {
        assert!(check_secret_name("secretName", "kubeflow-credentials", &[]).is_empty());
        assert!(!check_secret_name("secretName", "", &[]).is_empty());
        assert!(!check_secret_name("secretName", "Bad_Name", &[]).is_empty());
        assert!(!check_secret_name("secretName", "mysql-secret", &[]).is_empty());
        let e = check_keys(&[("database.usernameKey", "a"), ("database.passwordKey", "a"), ("objectStore.accessKeyKey", "b c")]);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].path, "database.passwordKey");
        assert!(e[0].message.contains("database.usernameKey"));
        let extra = [ExtraConsumer { secret: "mysql-secret".into(), key: "username".into(), credential: Credential::DatabasePassword }];
        assert_eq!(check_extra("extraConsumers", &extra).len(), 1);
    }
}
