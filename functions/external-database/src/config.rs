//! The `ExternalDatabase` functionConfig.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use krm_core::{ConfigError, Validate};
use kubeflow_common::credentials::{self, Credential, Target};
use kubeflow_common::credentials::default_keys;

/// Points Kubeflow Pipelines, Katib and Model Registry at an external MySQL or MariaDB server,
/// and removes the bundled MySQL servers.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalDatabaseConfig {
    /// DNS name or IPv4 address of the MySQL/MariaDB server, without scheme, port or path.
    /// Example: `mysql.example.com`.
    pub host: String,
    /// TCP port of the server (1-65535).
    #[serde(default = "default_port")]
    pub port: i64,
    /// Where the components read the database user and password.
    pub credentials: DatabaseCredentials,
    /// The database of each component. Two components may not share one.
    #[serde(default)]
    pub databases: Databases,
    /// The components to move (a subset of `pipelines`, `katib`, `modelRegistry`); unset: every
    /// one found in the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub components: Option<Vec<Component>>,
    /// Delete the bundled MySQL servers of the moved components and everything that only serves
    /// them (Services, PVCs, ServiceAccounts, Istio policies, Secrets and ConfigMaps nothing
    /// reads any more).
    #[serde(default = "yes")]
    pub remove_in_cluster: bool,
    /// TLS to the server, where a component can be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
    /// Also emit MariaDB Operator `Database`, `User` and `Grant` objects, so the databases, the
    /// user and its privileges exist before the components start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mariadb_operator: Option<MariaDbOperator>,
}

fn default_port() -> i64 {
    3306
}

fn yes() -> bool {
    true
}

/// The Secret holding the database user and password.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatabaseCredentials {
    /// The Secret every component reads its user and password from. It is not in git: it must
    /// exist (ExternalSecret, sops...) in every namespace that consumes it. Example:
    /// `kubeflow-credentials`.
    pub secret_name: String,
    /// Key holding the user name.
    #[serde(default = "default_keys::database_username")]
    pub username_key: String,
    /// Key holding the password.
    #[serde(default = "default_keys::database_password")]
    pub password_key: String,
}


/// The database of each component.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Databases {
    /// The Pipelines API server's database (`pipeline-install-config` key `pipelineDb`).
    #[serde(default = "mlpipeline")]
    pub pipelines: String,
    /// The Pipelines cache server's database (`cacheDb`).
    #[serde(default = "cachedb")]
    pub cache: String,
    /// The ML Metadata server's database (`mlmdDb`).
    #[serde(default = "metadb")]
    pub metadata: String,
    /// Katib's database (`KATIB_MYSQL_DB_DATABASE` of `katib-db-manager`). Katib does not create
    /// it: it must exist (see `mariadbOperator`).
    #[serde(default = "katib")]
    pub katib: String,
    /// Model Registry's database. Upstream uses `metadb` like the metadata server; sharing it is
    /// an error here, hence the default `model_registry`.
    #[serde(default = "model_registry")]
    pub model_registry: String,
}

fn mlpipeline() -> String {
    "mlpipeline".into()
}
fn cachedb() -> String {
    "cachedb".into()
}
fn metadb() -> String {
    "metadb".into()
}
fn katib() -> String {
    "katib".into()
}
fn model_registry() -> String {
    "model_registry".into()
}

impl Default for Databases {
    fn default() -> Self {
        Databases {
            pipelines: mlpipeline(),
            cache: cachedb(),
            metadata: metadb(),
            katib: katib(),
            model_registry: model_registry(),
        }
    }
}

/// Which database of [`Databases`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DatabaseOf {
    /// `databases.pipelines`.
    Pipelines,
    /// `databases.cache`.
    Cache,
    /// `databases.metadata`.
    Metadata,
    /// `databases.katib`.
    Katib,
    /// `databases.modelRegistry`.
    ModelRegistry,
}

impl DatabaseOf {
    /// All five, in the order of the config.
    pub const ALL: [DatabaseOf; 5] =
        [DatabaseOf::Pipelines, DatabaseOf::Cache, DatabaseOf::Metadata, DatabaseOf::Katib, DatabaseOf::ModelRegistry];

    /// The config field (`databases.modelRegistry`).
    pub fn field(self) -> &'static str {
        match self {
            DatabaseOf::Pipelines => "databases.pipelines",
            DatabaseOf::Cache => "databases.cache",
            DatabaseOf::Metadata => "databases.metadata",
            DatabaseOf::Katib => "databases.katib",
            DatabaseOf::ModelRegistry => "databases.modelRegistry",
        }
    }

    /// The component that uses it.
    pub fn component(self) -> Component {
        match self {
            DatabaseOf::Pipelines | DatabaseOf::Cache | DatabaseOf::Metadata => Component::Pipelines,
            DatabaseOf::Katib => Component::Katib,
            DatabaseOf::ModelRegistry => Component::ModelRegistry,
        }
    }
}

impl Databases {
    /// The name configured for one database.
    pub fn get(&self, which: DatabaseOf) -> &str {
        match which {
            DatabaseOf::Pipelines => &self.pipelines,
            DatabaseOf::Cache => &self.cache,
            DatabaseOf::Metadata => &self.metadata,
            DatabaseOf::Katib => &self.katib,
            DatabaseOf::ModelRegistry => &self.model_registry,
        }
    }
}

/// A Kubeflow component with a MySQL database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Component {
    /// Kubeflow Pipelines: API server, cache server and ML Metadata (`metadata-grpc-deployment`).
    Pipelines,
    /// Katib's `katib-db-manager`.
    Katib,
    /// Model Registry's `model-registry-deployment`.
    ModelRegistry,
}

impl Component {
    /// All three, in the fixed order.
    pub const ALL: [Component; 3] = [Component::Pipelines, Component::Katib, Component::ModelRegistry];

    /// The name used in the config and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::Pipelines => "pipelines",
            Component::Katib => "katib",
            Component::ModelRegistry => "modelRegistry",
        }
    }

    /// Its databases.
    pub fn databases(self) -> &'static [DatabaseOf] {
        match self {
            Component::Pipelines => &[DatabaseOf::Pipelines, DatabaseOf::Cache, DatabaseOf::Metadata],
            Component::Katib => &[DatabaseOf::Katib],
            Component::ModelRegistry => &[DatabaseOf::ModelRegistry],
        }
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TLS to the database server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tls {
    /// `required`: encrypted, the server certificate is not checked (go-sql-driver
    /// `tls=skip-verify`); `verify-ca`: encrypted, the certificate chain and the host name are
    /// checked (`tls=true`).
    pub mode: TlsMode,
    /// With `verify-ca`: a Secret (in the components' namespace) holding the PEM CA certificate
    /// that signed the server's certificate, for servers whose CA is not a public one. It is
    /// mounted into the components that use TLS and added to their trusted CAs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_secret: Option<String>,
    /// The clients that cannot use TLS and may connect without it, by name: `metadata` (the
    /// Pipelines ML Metadata server, MLMD 1.14), `katib` (katib-db-manager), `modelRegistry`
    /// (the ML Metadata container of Model Registry before v0.3). Such a client found in the
    /// input and not listed is an error: against a server that requires TLS
    /// (`require_secure_transport=ON`) it cannot connect. Example: `[metadata, katib]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plaintext: Vec<PlaintextClient>,
}

/// A database client that has no TLS setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum PlaintextClient {
    /// The Pipelines metadata server (Deployment `metadata-grpc-deployment`, ML Metadata 1.14):
    /// its MySQL config is built from flags that have no SSL option
    /// (`ml_metadata/metadata_store/metadata_store_server_main.cc`).
    #[serde(rename = "metadata")]
    Metadata,
    /// Katib's `katib-db-manager`: `pkg/db/v1beta1/mysql/mysql.go` `getDbName()` builds
    /// `user:pass@tcp(host:port)/db?timeout=5s` with no TLS parameter (v0.17 to v0.19).
    #[serde(rename = "katib")]
    Katib,
    /// Model Registry's `grpc-container` (ML Metadata 1.14, Model Registry v0.2.x).
    #[serde(rename = "modelRegistry")]
    ModelRegistry,
}

impl PlaintextClient {
    /// The name in `tls.plaintext`.
    pub fn as_str(self) -> &'static str {
        match self {
            PlaintextClient::Metadata => "metadata",
            PlaintextClient::Katib => "katib",
            PlaintextClient::ModelRegistry => "modelRegistry",
        }
    }
}

/// How the server is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum TlsMode {
    /// Encrypt; do not check the server certificate.
    #[serde(rename = "required")]
    Required,
    /// Encrypt and check the server certificate (chain and host name).
    #[serde(rename = "verify-ca")]
    VerifyCa,
}

impl TlsMode {
    /// The value of go-sql-driver's `tls` DSN parameter.
    pub fn dsn_value(self) -> &'static str {
        match self {
            TlsMode::Required => "skip-verify",
            TlsMode::VerifyCa => "true",
        }
    }
}

/// MariaDB Operator objects to emit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MariaDbOperator {
    /// The `MariaDB` (or `ExternalMariaDB`) object of the operator that serves `host`.
    #[serde(rename = "mariaDbRef")]
    pub mariadb_ref: MariaDbRef,
    /// The database user the components connect as: the value stored under
    /// `credentials.usernameKey` (the function cannot read it).
    pub username: String,
    /// The host part of the user account (`'user'@'host'`); `%` is any host.
    #[serde(default = "any_host")]
    pub host: String,
    /// Character set of the databases.
    #[serde(default = "utf8mb4")]
    pub character_set: String,
    /// Collation of the databases.
    #[serde(default = "utf8mb4_unicode_ci")]
    pub collate: String,
    /// What the operator does to the SQL object when the custom resource is deleted: `Skip`
    /// (keep it, so deleting the resource never drops Kubeflow's data) or `Delete`.
    #[serde(default)]
    pub cleanup_policy: CleanupPolicy,
    /// Maximum number of connections of the user (the operator's own default, 10, is too few for
    /// five components with connection pools).
    #[serde(default = "max_connections")]
    pub max_user_connections: i64,
}

fn any_host() -> String {
    "%".into()
}
fn utf8mb4() -> String {
    "utf8mb4".into()
}
fn utf8mb4_unicode_ci() -> String {
    "utf8mb4_unicode_ci".into()
}
fn max_connections() -> i64 {
    100
}

/// A reference to the operator's MariaDB object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MariaDbRef {
    /// Name of the `MariaDB` object.
    #[serde(default)]
    pub name: String,
    /// Its namespace; unset: the namespace of the emitted objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// The operator's cleanup policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum CleanupPolicy {
    /// Deleting the custom resource leaves the database, user or grant in place.
    #[default]
    Skip,
    /// Deleting the custom resource drops the database, user or grant.
    Delete,
}

impl CleanupPolicy {
    /// The value in the custom resource.
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupPolicy::Skip => "Skip",
            CleanupPolicy::Delete => "Delete",
        }
    }
}

impl ExternalDatabaseConfig {
    /// The credential target: the two database credentials.
    pub fn target(&self) -> Target {
        Target::new(self.credentials.secret_name.clone())
            .with_key(Credential::DatabaseUsername, self.credentials.username_key.clone())
            .with_key(Credential::DatabasePassword, self.credentials.password_key.clone())
    }

    /// The port as written into ConfigMaps, env values and arguments.
    pub fn port_text(&self) -> String {
        self.port.to_string()
    }
}

// ------------------------------------------------------------------------------------------
// Validation
// ------------------------------------------------------------------------------------------

/// The Services of the bundled MySQL servers (a `host` naming one would be deleted).
pub const BUNDLED_HOSTS: [&str; 4] = ["mysql", "katib-mysql", "model-registry-db", "metadata-db"];

/// True if `host` is one of the bundled Services: `mysql`, `mysql.kubeflow`,
/// `mysql.kubeflow.svc`, `mysql.kubeflow.svc.cluster.local` (and the other bundled names).
pub fn names_bundled_service(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let labels: Vec<&str> = host.split('.').collect();
    let in_cluster = labels.len() <= 2 || labels.get(2) == Some(&"svc");
    in_cluster && BUNDLED_HOSTS.contains(&labels[0])
}

/// Why `host` is not a host name or IPv4 address, if it is not.
pub fn host_problem(host: &str) -> Option<String> {
    if host.is_empty() {
        return Some("required: the DNS name or IP address of the server".into());
    }
    if host.contains("://") {
        return Some(format!("{host:?} has a scheme: give only the host name (for example mysql.example.com)"));
    }
    if host.contains('/') || host.contains('?') {
        return Some(format!("{host:?} has a path: give only the host name"));
    }
    if host.contains('@') {
        return Some(format!("{host:?} has a user part: give only the host name; the user comes from credentials"));
    }
    if host.contains(':') {
        return Some(format!(
            "{host:?} has a port or is an IPv6 address: give the port in `port`; IPv6 literals are not supported (Kubeflow's components write host:port without brackets), use a DNS name"
        ));
    }
    if host.len() > 253 {
        return Some("longer than 253 characters".into());
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let labels_ok = name.split('.').all(|label| {
        let b = label.as_bytes();
        !label.is_empty()
            && label.len() <= 63
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
    });
    if !labels_ok {
        return Some(format!(
            "{host:?} is not a DNS name or IPv4 address (labels of letters, digits, '-' and '_', separated by '.')"
        ));
    }
    None
}

/// True for a database name this function writes: `[A-Za-z0-9_]`, 1-64 characters, not only
/// digits. MySQL also takes `$` unquoted, but Kubernetes expands `$(VAR)` and `$$` in the env
/// values and args the name is written into (`kf$$db` and `kf$db` would become one database at
/// run time, and a name could smuggle in a variable reference), and none of Kubeflow's names
/// needs it.
pub fn is_database_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && !name.bytes().all(|c| c.is_ascii_digit())
}

/// The object name of a MariaDB Operator object for a database: `kubeflow-<db>` in lowercase,
/// `_` and `$` as `-` (a DNS-1123 subdomain).
pub fn object_name_of(database: &str) -> String {
    let mut s: String = database
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    while s.ends_with('-') {
        s.pop();
    }
    let s = s.trim_start_matches('-');
    format!("kubeflow-{s}").trim_end_matches('-').to_string()
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !s.is_empty()
        && s.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

impl Validate for ExternalDatabaseConfig {
    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if let Some(problem) = host_problem(&self.host) {
            errors.push(ConfigError::new("host", problem));
        } else if self.remove_in_cluster && names_bundled_service(&self.host) {
            errors.push(ConfigError::new(
                "host",
                format!(
                    "{} is a bundled MySQL Service that removeInCluster deletes: give the external server, or set removeInCluster: false",
                    self.host
                ),
            ));
        }
        if !(1..=65535).contains(&self.port) {
            errors.push(ConfigError::new("port", format!("{} is not a TCP port (1-65535)", self.port)));
        }
        errors.extend(credentials::check_secret_name("credentials.secretName", &self.credentials.secret_name, &[]));
        errors.extend(credentials::check_keys(&[
            ("credentials.usernameKey", &self.credentials.username_key),
            ("credentials.passwordKey", &self.credentials.password_key),
        ]));
        for (i, which) in DatabaseOf::ALL.iter().enumerate() {
            let name = self.databases.get(*which);
            if name.contains('$') {
                errors.push(ConfigError::new(
                    which.field(),
                    format!(
                        "{name:?} holds '$': Kubernetes expands $(VAR) and $$ in the env values and args a database name \
                         is written into, so the name the component uses would differ from the one given; use letters, \
                         digits and '_'"
                    ),
                ));
                continue;
            }
            if !is_database_name(name) {
                errors.push(ConfigError::new(
                    which.field(),
                    format!("{name:?} is not a MySQL database name (1-64 of letters, digits and '_', not only digits)"),
                ));
                continue;
            }
            if let Some(other) = DatabaseOf::ALL[..i].iter().find(|o| self.databases.get(**o) == name) {
                errors.push(ConfigError::new(
                    which.field(),
                    format!(
                        "{name} is also {}: two components on one database would share (and migrate) each other's tables; give each its own",
                        other.field()
                    ),
                ));
            }
        }
        if let Some(components) = &self.components {
            if components.is_empty() {
                errors.push(ConfigError::new(
                    "components",
                    "empty: list at least one of pipelines, katib, modelRegistry, or leave it unset for every one found",
                ));
            }
        }
        if let Some(tls) = &self.tls {
            if let Some(ca) = &tls.ca_secret {
                if !credentials::is_dns_subdomain(ca) {
                    errors.push(ConfigError::new("tls.caSecret", format!("{ca:?} is not a valid Secret name")));
                } else if tls.mode == TlsMode::Required {
                    errors.push(ConfigError::new(
                        "tls.caSecret",
                        "mode required does not check the server certificate: use mode verify-ca with a CA, or drop caSecret",
                    ));
                }
            }
        }
        if let Some(m) = &self.mariadb_operator {
            errors.extend(validate_mariadb(m, &self.databases));
        }
        errors
    }

    fn warnings(&self) -> Vec<ConfigError> {
        let mut warnings = Vec::new();
        if let Some(m) = &self.mariadb_operator {
            if m.cleanup_policy == CleanupPolicy::Delete {
                warnings.push(ConfigError::new(
                    "mariadbOperator.cleanupPolicy",
                    "Delete: deleting an emitted Database object (or pruning it from git) drops that database with all of Kubeflow's data in it",
                ));
            }
        }
        warnings
    }
}

fn validate_mariadb(m: &MariaDbOperator, databases: &Databases) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    if m.mariadb_ref.name.is_empty() {
        errors.push(ConfigError::new("mariadbOperator.mariaDbRef.name", "required: the name of the MariaDB object"));
    } else if !credentials::is_dns_subdomain(&m.mariadb_ref.name) {
        errors.push(ConfigError::new(
            "mariadbOperator.mariaDbRef.name",
            format!("{:?} is not a valid object name", m.mariadb_ref.name),
        ));
    }
    if let Some(ns) = &m.mariadb_ref.namespace {
        if !is_dns_label(ns) {
            errors.push(ConfigError::new("mariadbOperator.mariaDbRef.namespace", format!("{ns:?} is not a valid namespace")));
        }
    }
    let bad_user = |c: char| c.is_control() || matches!(c, '\'' | '"' | '`' | '\\');
    if m.username.trim().is_empty() {
        errors.push(ConfigError::new("mariadbOperator.username", "required: the user the components connect as"));
    } else if m.username.chars().count() > 80 {
        errors.push(ConfigError::new("mariadbOperator.username", "longer than 80 characters (MariaDB's limit)"));
    } else if m.username.chars().any(bad_user) || m.username.trim() != m.username {
        errors.push(ConfigError::new(
            "mariadbOperator.username",
            format!("{:?} is not a valid user name (no quotes, backslashes, control characters or surrounding spaces)", m.username),
        ));
    }
    if m.host.trim().is_empty() {
        errors.push(ConfigError::new("mariadbOperator.host", "required: the host part of the account, % for any host"));
    } else if m.host.len() > 255 || m.host.chars().any(bad_user) {
        errors.push(ConfigError::new("mariadbOperator.host", format!("{:?} is not a valid account host", m.host)));
    }
    let charset_ok = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
    if !charset_ok(&m.character_set) {
        errors.push(ConfigError::new("mariadbOperator.characterSet", format!("{:?} is not a character set name", m.character_set)));
    }
    if !charset_ok(&m.collate) {
        errors.push(ConfigError::new("mariadbOperator.collate", format!("{:?} is not a collation name", m.collate)));
    }
    if m.max_user_connections < 0 || m.max_user_connections > i64::from(i32::MAX) {
        errors.push(ConfigError::new("mariadbOperator.maxUserConnections", format!("{} is out of range", m.max_user_connections)));
    }
    // Object names derive from the database names: two names that differ only in case or in
    // `_` / `$` would give one object.
    for (i, which) in DatabaseOf::ALL.iter().enumerate() {
        let name = object_name_of(databases.get(*which));
        if let Some(other) = DatabaseOf::ALL[..i].iter().find(|o| object_name_of(databases.get(**o)) == name) {
            if databases.get(*other) != databases.get(*which) {
                errors.push(ConfigError::new(
                    which.field(),
                    format!("gives the same MariaDB Operator object name ({name}) as {}: choose names that differ in more than case, '_' or '$'", other.field()),
                ));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published functionConfig loads without errors.
    #[test]
    fn fn_config_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fn-configs/external-database.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("# yaml-language-server: $schema=../schemas/ExternalDatabase.json\n"));
        let config = krm_core::yaml::parse_document(&text).unwrap();
        let loaded = krm_core::config::load::<ExternalDatabaseConfig>("ExternalDatabase", Some(&config), None);
        assert!(loaded.is_ok(), "{:?}", loaded.err());
    }

    #[test]
    fn hosts() {
        for ok in ["mysql.example.com", "10.0.0.5", "db", "my_db.internal", "db.example.com."] {
            assert_eq!(host_problem(ok), None, "{ok}");
        }
        for bad in ["", "mysql://db", "db/x", "db:3306", "::1", "user@db", "-db", "db..x", "a b"] {
            assert!(host_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn bundled_services() {
        for bundled in ["mysql", "mysql.kubeflow", "katib-mysql.kubeflow.svc", "model-registry-db.kubeflow.svc.cluster.local"] {
            assert!(names_bundled_service(bundled), "{bundled}");
        }
        for external in ["mysql.example.com", "db", "mysql.db.example.com", "mysql-prod"] {
            assert!(!names_bundled_service(external), "{external}");
        }
    }

    #[test]
    fn database_names_and_object_names() {
        for ok in ["mlpipeline", "model_registry", "Db1"] {
            assert!(is_database_name(ok), "{ok}");
        }
        for bad in ["", "123", "my-db", "a.b", "a$b", "kf$$db", &"x".repeat(65)] {
            assert!(!is_database_name(bad), "{bad}");
        }
        assert_eq!(object_name_of("model_registry"), "kubeflow-model-registry");
        assert_eq!(object_name_of("MLPipeline"), "kubeflow-mlpipeline");
        assert_eq!(object_name_of("db_"), "kubeflow-db");
        assert_eq!(object_name_of("_"), "kubeflow");
    }
}
