//! The `CentralizeCredentials` functionConfig.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use krm_core::{ConfigError, Validate};
use kubeflow_common::credentials::{self, Credential, ExtraConsumer, Target};
pub use kubeflow_common::credentials::{ExternalSecretApiVersion, ExternalSecretConfig, SecretStoreRef, StoreKind};
use kubeflow_common::credentials::default_keys;

/// Points every consumer of Kubeflow's database, object-store and login credentials at one Secret.
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
    /// Keys of the login credentials (oauth2-proxy and dex) in the central Secret.
    #[serde(default)]
    pub login: LoginKeys,
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

/// Keys of the login credentials in the central Secret: the same names as
/// `external-identity-provider`'s `keys`, so that the two agree when both run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginKeys {
    /// Key holding the OAuth client id shared by oauth2-proxy and dex's static client.
    #[serde(default = "default_keys::login_client_id")]
    pub client_id_key: String,
    /// Key holding that client's secret.
    #[serde(default = "default_keys::login_client_secret")]
    pub client_secret_key: String,
    /// Key holding oauth2-proxy's cookie secret (16, 24 or 32 bytes, or their base64).
    #[serde(default = "default_keys::login_cookie_secret")]
    pub cookie_secret_key: String,
    /// Key holding the bcrypt hash of the password of dex's default static user.
    #[serde(default = "default_keys::login_password_hash")]
    pub password_hash_key: String,
}

impl Default for LoginKeys {
    fn default() -> Self {
        LoginKeys {
            client_id_key: default_keys::login_client_id(),
            client_secret_key: default_keys::login_client_secret(),
            cookie_secret_key: default_keys::login_cookie_secret(),
            password_hash_key: default_keys::login_password_hash(),
        }
    }
}

impl CentralizeCredentialsConfig {
    /// The rewiring target: every credential.
    pub fn target(&self) -> Target {
        Target::new(self.secret_name.clone())
            .with_key(Credential::DatabaseUsername, self.database.username_key.clone())
            .with_key(Credential::DatabasePassword, self.database.password_key.clone())
            .with_key(Credential::ObjectStoreAccessKey, self.object_store.access_key_key.clone())
            .with_key(Credential::ObjectStoreSecretKey, self.object_store.secret_key_key.clone())
            .with_key(Credential::LoginClientId, self.login.client_id_key.clone())
            .with_key(Credential::LoginClientSecret, self.login.client_secret_key.clone())
            .with_key(Credential::LoginCookieSecret, self.login.cookie_secret_key.clone())
            .with_key(Credential::LoginPasswordHash, self.login.password_hash_key.clone())
            .with_extra(self.extra_consumers.clone())
    }
}

impl Validate for CentralizeCredentialsConfig {
    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = credentials::check_secret_name("secretName", &self.secret_name, &self.extra_consumers);
        errors.extend(credentials::check_keys(&[
            ("database.usernameKey", &self.database.username_key),
            ("database.passwordKey", &self.database.password_key),
            ("objectStore.accessKeyKey", &self.object_store.access_key_key),
            ("objectStore.secretKeyKey", &self.object_store.secret_key_key),
            ("login.clientIdKey", &self.login.client_id_key),
            ("login.clientSecretKey", &self.login.client_secret_key),
            ("login.cookieSecretKey", &self.login.cookie_secret_key),
            ("login.passwordHashKey", &self.login.password_hash_key),
        ]));
        errors.extend(credentials::check_extra("extraConsumers", &self.extra_consumers));
        if let Some(es) = &self.external_secret {
            errors.extend(es.validate_at("externalSecret"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
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

}
