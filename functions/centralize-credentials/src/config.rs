//! The `CentralizeCredentials` functionConfig.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use krm_core::{ConfigError, Validate};
use kubeflow_common::credentials::{self, Credential, ExtraConsumer, Target};
use kubeflow_common::credentials::default_keys;

/// Points every consumer of Kubeflow's database and object-store credentials at one Secret.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CentralizeCredentialsConfig {
    /// The central Secret every consumer reads. It is not in git: it must exist (ExternalSecret,
    /// sops...) in every namespace that consumes it. Example: `kubeflow-credentials`.
    pub secret_name: String,
    /// Keys of the database credentials in the central Secret.
    #[serde(default)]
    pub database: DatabaseKeys,
    /// Keys of the object-store credentials in the central Secret.
    #[serde(default)]
    pub object_store: ObjectStoreKeys,
    /// Delete the in-tree credential Secrets (they hold default passwords) once nothing
    /// references them; one still referenced for other keys loses its credential keys.
    #[serde(default = "yes")]
    pub remove_replaced_secrets: bool,
    /// Also emit an External Secrets Operator `ExternalSecret` named `secretName` in each
    /// namespace that needs the central Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_secret: Option<ExternalSecretConfig>,
    /// More Secret keys to treat as credentials (components outside Kubeflow's default set).
    #[serde(default)]
    pub extra_consumers: Vec<ExtraConsumer>,
}

fn yes() -> bool {
    true
}

/// Keys of the database credentials in the central Secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseKeys {
    /// Key holding the database user name.
    #[serde(default = "default_keys::database_username")]
    pub username_key: String,
    /// Key holding the database password.
    #[serde(default = "default_keys::database_password")]
    pub password_key: String,
}


impl Default for DatabaseKeys {
    fn default() -> Self {
        DatabaseKeys { username_key: default_keys::database_username(), password_key: default_keys::database_password() }
    }
}

/// Keys of the object-store credentials in the central Secret.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectStoreKeys {
    /// Key holding the access key (AWS access key id).
    #[serde(default = "default_keys::object_store_access_key")]
    pub access_key_key: String,
    /// Key holding the secret key (AWS secret access key).
    #[serde(default = "default_keys::object_store_secret_key")]
    pub secret_key_key: String,
}


impl Default for ObjectStoreKeys {
    fn default() -> Self {
        ObjectStoreKeys { access_key_key: default_keys::object_store_access_key(), secret_key_key: default_keys::object_store_secret_key() }
    }
}

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

impl CentralizeCredentialsConfig {
    /// The rewiring target: all four credentials.
    pub fn target(&self) -> Target {
        Target::new(self.secret_name.clone())
            .with_key(Credential::DatabaseUsername, self.database.username_key.clone())
            .with_key(Credential::DatabasePassword, self.database.password_key.clone())
            .with_key(Credential::ObjectStoreAccessKey, self.object_store.access_key_key.clone())
            .with_key(Credential::ObjectStoreSecretKey, self.object_store.secret_key_key.clone())
            .with_extra(self.extra_consumers.clone())
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

impl Validate for CentralizeCredentialsConfig {
    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = credentials::check_secret_name("secretName", &self.secret_name, &self.extra_consumers);
        errors.extend(credentials::check_keys(&[
            ("database.usernameKey", &self.database.username_key),
            ("database.passwordKey", &self.database.password_key),
            ("objectStore.accessKeyKey", &self.object_store.access_key_key),
            ("objectStore.secretKeyKey", &self.object_store.secret_key_key),
        ]));
        errors.extend(credentials::check_extra("extraConsumers", &self.extra_consumers));
        if let Some(es) = &self.external_secret {
            if !credentials::is_dns_subdomain(&es.secret_store_ref.name) {
                errors.push(ConfigError::new(
                    "externalSecret.secretStoreRef.name",
                    format!("{:?} is not a valid store name", es.secret_store_ref.name),
                ));
            }
            if es.remote_key.trim().is_empty() {
                errors.push(ConfigError::new("externalSecret.remoteKey", "required: the entry of the external store"));
            }
            if !is_duration(&es.refresh_interval) {
                errors.push(ConfigError::new(
                    "externalSecret.refreshInterval",
                    format!("{:?} is not a duration (for example 1h, 30m, 1h30m)", es.refresh_interval),
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
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fn-configs/centralize-credentials.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("# yaml-language-server: $schema=../schemas/CentralizeCredentials.json\n"));
        let config = krm_core::yaml::parse_document(&text).unwrap();
        let f: &dyn krm_core::DynFunction = &krm_core::Registered::<crate::CentralizeCredentials>::new();
        let results = f.apply(Some(&config), &mut Vec::new());
        assert!(!results.iter().any(|r| r.is_error()), "{results:?}");
    }

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
