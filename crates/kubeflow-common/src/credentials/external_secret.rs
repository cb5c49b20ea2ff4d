//! The External Secrets Operator `ExternalSecret`s that fill the central Secret, one per
//! namespace that reads it: the options users give (`externalSecret:` of
//! `centralize-credentials` and `external-identity-provider`) and the objects emitted.
//!
//! Two functions emit them for the same central Secret, each for its own credentials. So that
//! their output does not depend on which ran first, an ExternalSecret fills every key of the
//! central Secret that something in its namespace reads (the caller's credentials and any other
//! key, a dex connector's client secret say), sorted by key. Both functions compute that from
//! the same items, and [`refresh_external_secrets`] keeps it so after a function that emits none.

use super::*;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::k8s::generate;

/// The ExternalSecret to emit per namespace.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalSecretConfig {
    /// The SecretStore or ClusterSecretStore to read from.
    pub secret_store_ref: SecretStoreRef,
    /// The entry of the external store holding the credentials; each central key is read from
    /// the property of the same name. Example: `kubeflow/credentials`.
    pub remote_key: String,
    /// How often External Secrets Operator refreshes the Secret (a Go duration).
    #[serde(default = "one_hour")]
    pub refresh_interval: String,
    /// The ExternalSecret API version: `external-secrets.io/v1` (External Secrets Operator
    /// v0.16.0 and later; v0.17.0 stopped serving v1beta1) or `external-secrets.io/v1beta1` (for
    /// operators older than v0.16.0). The fields written are the same in both.
    #[serde(default)]
    pub api_version: ExternalSecretApiVersion,
}

/// The API version of the ExternalSecrets emitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ExternalSecretApiVersion {
    /// External Secrets Operator v0.16.0 and later.
    #[default]
    #[serde(rename = "external-secrets.io/v1")]
    V1,
    /// External Secrets Operator before v0.17.0 (v0.17.0 stopped serving it).
    #[serde(rename = "external-secrets.io/v1beta1")]
    V1beta1,
}

impl ExternalSecretApiVersion {
    /// The `apiVersion` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalSecretApiVersion::V1 => "external-secrets.io/v1",
            ExternalSecretApiVersion::V1beta1 => "external-secrets.io/v1beta1",
        }
    }
}

fn one_hour() -> String {
    "1h".into()
}

/// A reference to a SecretStore or ClusterSecretStore.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretStoreRef {
    /// `SecretStore` (in the same namespace, the External Secrets Operator default) or
    /// `ClusterSecretStore`.
    #[serde(default)]
    pub kind: StoreKind,
    /// Name of the store.
    pub name: String,
}

/// The kind of secret store.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum StoreKind {
    /// A namespaced store (one per namespace).
    #[default]
    SecretStore,
    /// A cluster-wide store.
    ClusterSecretStore,
}

impl StoreKind {
    /// The kind name.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretStore => "SecretStore",
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
        }
    }
}

/// A Go duration as External Secrets Operator reads it (`1h`, `30m`, `1h30m`, `0`).
pub fn is_duration(s: &str) -> bool {
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..digits];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') || number.matches('.').count() > 1 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"].iter().find(|u| rest.starts_with(**u));
        // `ms` before `m`: the list is ordered so the longer unit wins.
        let Some(unit) = unit else { return false };
        rest = &rest[unit.len()..];
    }
    true
}

/// An External Secrets Operator `ExternalSecret` (only the fields this function sets; keys in
/// the order kustomize writes them).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecret {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: ExternalSecretSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretSpec {
    data: Vec<ExternalSecretData>,
    refresh_interval: String,
    secret_store_ref: StoreRef,
    target: TargetRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretData {
    remote_ref: RemoteRef,
    secret_key: String,
}

#[derive(Serialize)]
struct RemoteRef {
    key: String,
    property: String,
}

#[derive(Serialize)]
struct StoreRef {
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
struct TargetRef {
    name: String,
}

/// The spec filling `keys` (in that order).
fn spec(keys: &[&str], target: &Target, es: &ExternalSecretConfig) -> ExternalSecretSpec {
    ExternalSecretSpec {
        data: keys
            .iter()
            .map(|key| ExternalSecretData {
                remote_ref: RemoteRef { key: es.remote_key.clone(), property: key.to_string() },
                secret_key: key.to_string(),
            })
            .collect(),
        refresh_interval: es.refresh_interval.clone(),
        secret_store_ref: StoreRef { kind: es.secret_store_ref.kind.as_str(), name: es.secret_store_ref.name.clone() },
        target: TargetRef { name: target.secret_name.clone() },
    }
}

/// One ExternalSecret per namespace that needs the central Secret (see [`central_usage`]),
/// created or updated in place; none where the central Secret itself is in the input.
pub fn emit_external_secrets(
    items: &mut Vec<Value>,
    usage: &[Usage],
    target: &Target,
    es: &ExternalSecretConfig,
    results: &mut Vec<KrmResult>,
) {
    let name = target.secret_name.as_str();
    for u in usage {
        let ns = u.namespace.as_deref();
        let in_namespace = |i: &Value| object::name(i) == name && object::namespace(i) == ns;
        let keys: Vec<&str> = u.credentials.iter().filter_map(|c| target.central_key(*c)).collect();
        if let Some(secret) = items.iter().find(|i| Selector::core("Secret").matches(i) && in_namespace(i)) {
            results.push(
                KrmResult::info("the central Secret is in the input here: no ExternalSecret is emitted for this namespace")
                    .on(secret),
            );
            continue;
        }
        let others = other_keys_read(items, target, ns);
        let mut keys: Vec<&str> = others.iter().map(String::as_str).chain(keys).collect();
        keys.sort_unstable();
        let desired = serde_json::to_value(spec(&keys, target, es)).expect("an ExternalSecret spec serializes");
        let existing = items
            .iter()
            .position(|i| Selector::of("external-secrets.io", "ExternalSecret").matches(i) && in_namespace(i));
        match existing {
            Some(index) => {
                let api_version = es.api_version.as_str();
                if object::api_version(&items[index]) != api_version {
                    items[index]["apiVersion"] = Value::String(api_version.to_string());
                    results.push(KrmResult::info(format!("apiVersion set to {api_version}")).on(&items[index]).at("apiVersion"));
                }
                if update_spec(&mut items[index], &desired) {
                    results.push(
                        KrmResult::info(format!("updated: reads keys {} from {}", keys.join(", "), es.remote_key))
                            .on(&items[index])
                            .at("spec"),
                    );
                }
            }
            None => {
                let external_secret = ExternalSecret {
                    api_version: es.api_version.as_str(),
                    kind: "ExternalSecret",
                    metadata: ObjectMeta {
                        name: Some(name.to_string()),
                        namespace: u.namespace.clone(),
                        ..Default::default()
                    },
                    spec: spec(&keys, target, es),
                };
                let value = serde_json::to_value(&external_secret).expect("an ExternalSecret serializes");
                let index = generate::insert(items, value);
                results.push(
                    KrmResult::info(format!(
                        "created: fills Secret {name} with keys {} from {} {} entry {}",
                        keys.join(", "),
                        es.secret_store_ref.kind.as_str(),
                        es.secret_store_ref.name,
                        es.remote_key
                    ))
                    .on(&items[index]),
                );
            }
        }
    }
}

/// The keys of the central Secret that something in `namespace` reads but that are not the
/// target's credentials (another function's, such as a dex connector's client secret), sorted.
fn other_keys_read(items: &[Value], target: &Target, namespace: Option<&str>) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for r in references(items, RefKind::Secret, &target.secret_name) {
        let item = &items[r.item];
        if object::group(item) == "external-secrets.io" || object::namespace(item) != namespace {
            continue;
        }
        if let Some(read) = &r.keys {
            keys.extend(read.iter().filter(|k| target.credential_of_central_key(k).is_none() && !r.except.contains(*k)).cloned());
        }
    }
    keys.into_iter().collect()
}

/// Sets `data`, `refreshInterval`, `secretStoreRef` and `target.name` of an existing
/// ExternalSecret, keeping its other fields. Returns true if anything changed.
fn update_spec(item: &mut Value, desired: &Value) -> bool {
    let Some(obj) = item.as_object_mut() else { return false };
    let spec = object::child_map(obj, "spec");
    let mut changed = false;
    for key in ["data", "refreshInterval", "secretStoreRef"] {
        if spec.get(key) != desired.get(key) {
            object::insert_sorted(spec, key, desired[key].clone());
            changed = true;
        }
    }
    let target = object::child_map(spec, "target");
    if target.get("name") != desired.pointer("/target/name") {
        object::insert_sorted(target, "name", desired["target"]["name"].clone());
        changed = true;
    }
    changed
}

impl ExternalSecretConfig {
    /// The errors of these options, under the field `at` (`externalSecret`).
    pub fn validate_at(&self, at: &str) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if !is_dns_subdomain(&self.secret_store_ref.name) {
            errors.push(ConfigError::new(
                format!("{at}.secretStoreRef.name"),
                format!("{:?} is not a valid store name", self.secret_store_ref.name),
            ));
        }
        if self.remote_key.trim().is_empty() {
            errors.push(ConfigError::new(format!("{at}.remoteKey"), "required: the entry of the external store"));
        }
        if !is_duration(&self.refresh_interval) {
            errors.push(ConfigError::new(
                format!("{at}.refreshInterval"),
                format!("{:?} is not a duration (for example 1h, 30m, 1h30m)", self.refresh_interval),
            ));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for ok in ["1h", "30m", "1h30m", "0", "10s", "1.5h", "100ms"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "1", "h", "1d", "1h ", "-1h", ".5h", "1..5h"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }
}
