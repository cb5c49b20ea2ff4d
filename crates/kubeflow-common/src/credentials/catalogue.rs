//! The catalogue: every Secret key and env variable that holds a Kubeflow database, object-store
//! or login credential (1.9, 1.10, master; Model Registry included), the contract's default
//! central keys, and the consumers users add.

use super::*;

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
    /// `login.clientIdKey`: the OAuth client id oauth2-proxy (and dex's static client) use.
    pub fn login_client_id() -> String {
        "oidc-client-id".into()
    }
    /// `login.clientSecretKey`: that client's secret.
    pub fn login_client_secret() -> String {
        "oidc-client-secret".into()
    }
    /// `login.cookieSecretKey`: oauth2-proxy's cookie secret (16, 24 or 32 bytes).
    pub fn login_cookie_secret() -> String {
        "oauth2-proxy-cookie-secret".into()
    }
    /// `login.passwordHashKey`: the bcrypt hash of dex's default static user's password.
    pub fn login_password_hash() -> String {
        "dex-password-hash".into()
    }
}

/// A credential Kubeflow components read. The order of the variants is the fixed order used
/// wherever several are listed (username, password, access key, secret key, then the login
/// credentials).
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
    /// The OAuth client id of Kubeflow's login (oauth2-proxy's `client-id`, dex's static
    /// client `OIDC_CLIENT_ID`). Not a secret by itself, but its public default is part of the
    /// public default login.
    #[serde(rename = "login.clientId")]
    LoginClientId,
    /// The OAuth client secret (oauth2-proxy's `client-secret`, dex's `OIDC_CLIENT_SECRET`).
    #[serde(rename = "login.clientSecret")]
    LoginClientSecret,
    /// oauth2-proxy's cookie secret: whoever knows it can forge sessions.
    #[serde(rename = "login.cookieSecret")]
    LoginCookieSecret,
    /// The bcrypt hash of dex's static user's password (`DEX_USER_PASSWORD`).
    #[serde(rename = "login.passwordHash")]
    LoginPasswordHash,
}

impl Credential {
    /// All of them, in the fixed order.
    pub const ALL: [Credential; 8] = [
        Credential::DatabaseUsername,
        Credential::DatabasePassword,
        Credential::ObjectStoreAccessKey,
        Credential::ObjectStoreSecretKey,
        Credential::LoginClientId,
        Credential::LoginClientSecret,
        Credential::LoginCookieSecret,
        Credential::LoginPasswordHash,
    ];
    /// The database credentials.
    pub const DATABASE: [Credential; 2] = [Credential::DatabaseUsername, Credential::DatabasePassword];
    /// The object-store credentials.
    pub const OBJECT_STORE: [Credential; 2] = [Credential::ObjectStoreAccessKey, Credential::ObjectStoreSecretKey];
    /// The login credentials (oauth2-proxy and dex).
    pub const LOGIN: [Credential; 4] = [
        Credential::LoginClientId,
        Credential::LoginClientSecret,
        Credential::LoginCookieSecret,
        Credential::LoginPasswordHash,
    ];

    /// The name used in configs and messages (`database.username`).
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::DatabaseUsername => "database.username",
            Credential::DatabasePassword => "database.password",
            Credential::ObjectStoreAccessKey => "objectStore.accessKey",
            Credential::ObjectStoreSecretKey => "objectStore.secretKey",
            Credential::LoginClientId => "login.clientId",
            Credential::LoginClientSecret => "login.clientSecret",
            Credential::LoginCookieSecret => "login.cookieSecret",
            Credential::LoginPasswordHash => "login.passwordHash",
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

pub(super) const fn sk(secret: &'static str, key: &'static str, credential: Credential) -> KnownSecretKey {
    KnownSecretKey { secret, key, credential }
}

/// Every Secret key that holds a Kubeflow credential (1.9, 1.10, master; with Model Registry).
///
/// The login Secrets are the same in 1.9.1, 1.10.2 and master (facts §11): dex reads
/// `dex-oidc-client` and `dex-passwords` whole through `envFrom` (its config names the variables
/// in `staticClients[0].idEnv` / `secretEnv` and `staticPasswords[0].hashFromEnv`), and
/// oauth2-proxy reads `oauth2-proxy-<hash>` key by key into `OAUTH2_PROXY_CLIENT_ID`,
/// `OAUTH2_PROXY_CLIENT_SECRET` and `OAUTH2_PROXY_COOKIE_SECRET`.
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
    // Login: dex's static client and default user, and oauth2-proxy.
    sk("dex-oidc-client", "OIDC_CLIENT_ID", Credential::LoginClientId),
    sk("dex-oidc-client", "OIDC_CLIENT_SECRET", Credential::LoginClientSecret),
    sk("dex-passwords", "DEX_USER_PASSWORD", Credential::LoginPasswordHash),
    sk("oauth2-proxy", "client-id", Credential::LoginClientId),
    sk("oauth2-proxy", "client-secret", Credential::LoginClientSecret),
    sk("oauth2-proxy", "cookie-secret", Credential::LoginCookieSecret),
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

pub(super) const fn var(name: &'static str, credential: Credential, workloads: &'static [&'static str]) -> KnownVariable {
    KnownVariable { name, credential, workloads }
}

pub(super) const ANY: &[&str] = &[];
pub(super) const PROFILE_CONTROLLER_AND_UI: &[&str] = &["kubeflow-pipelines-profile-controller", "ml-pipeline-ui"];
pub(super) const OAUTH2_PROXY: &[&str] = &["oauth2-proxy"];
pub(super) const DEX: &[&str] = &["dex"];
pub(super) const MYSQL_SERVERS_AND_MR: &[&str] =
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
    var("OAUTH2_PROXY_CLIENT_ID", Credential::LoginClientId, OAUTH2_PROXY),
    var("OAUTH2_PROXY_CLIENT_SECRET", Credential::LoginClientSecret, OAUTH2_PROXY),
    var("OAUTH2_PROXY_COOKIE_SECRET", Credential::LoginCookieSecret, OAUTH2_PROXY),
    var("OIDC_CLIENT_ID", Credential::LoginClientId, DEX),
    var("OIDC_CLIENT_SECRET", Credential::LoginClientSecret, DEX),
    var("DEX_USER_PASSWORD", Credential::LoginPasswordHash, DEX),
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
    /// What the key holds: `database.username`, `database.password`, `objectStore.accessKey`,
    /// `objectStore.secretKey`, `login.clientId`, `login.clientSecret`, `login.cookieSecret` or
    /// `login.passwordHash`.
    pub credential: Credential,
}
