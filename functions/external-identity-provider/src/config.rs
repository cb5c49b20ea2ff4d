//! The `ExternalIdentityProvider` functionConfig.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use krm_core::{ConfigError, Validate};
use kubeflow_common::credentials::{self, Credential, ExternalSecretConfig, Target, default_keys};
use kubeflow_common::url::{is_in_cluster_host, parse_url};

/// dex's in-cluster issuer in every Kubeflow render (1.9.1, 1.10.2, master; facts §11).
pub const IN_CLUSTER_DEX_ISSUER: &str = "http://dex.auth.svc.cluster.local:5556/dex";

/// Login for Kubeflow from the user's identity provider: dex with connectors (`mode: dex`), or
/// oauth2-proxy straight to an OIDC provider (`mode: oidc`); every login secret read from the
/// central Secret, no public default credential left.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExternalIdentityProviderConfig {
    /// `dex`: dex stays and users log in through its connectors; `oidc`: dex is removed and
    /// oauth2-proxy talks to the OIDC provider directly.
    pub mode: Mode,
    /// The central Secret (not in Git) that holds the login secrets; the same as
    /// `centralize-credentials`' `secretName`. Example: `kubeflow-credentials`.
    pub secret_name: String,
    /// Keys of the login credentials in the central Secret.
    #[serde(default)]
    pub keys: LoginKeys,
    /// The length in bytes of the cookie secret in your store, when you know it (an External
    /// Secrets generator's length, for example): 16, 24 or 32, the lengths oauth2-proxy accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_secret_bytes: Option<u32>,
    /// The scopes oauth2-proxy asks for. Default: `openid profile email groups` with dex,
    /// `openid email profile` with `oidc` (oauth2-proxy's own default; add `groups` if your
    /// provider has that scope).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// E-mail domains allowed to log in (`*`: any). oauth2-proxy requires at least one.
    #[serde(default = "any_domain")]
    pub allowed_email_domains: Vec<String>,
    /// Groups allowed to log in (any one of them); empty: no group check. Checked together with
    /// `allowedEmailDomains` (both must pass).
    #[serde(default)]
    pub allowed_groups: Vec<String>,
    /// Send oauth2-proxy's session cookie over https only (`FORCE_HTTPS`, upstream `false`).
    /// Browsers also send secure cookies to `http://localhost`, so a port-forward still works.
    #[serde(default = "yes")]
    pub secure_cookies: bool,
    /// Also emit an External Secrets Operator `ExternalSecret` named `secretName` in each
    /// namespace that reads the central Secret (`auth`, `oauth2-proxy`); the same options as
    /// `centralize-credentials`' `externalSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_secret: Option<ExternalSecretConfig>,
    /// `mode: dex` only: dex's issuer and connectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dex: Option<DexConfig>,
    /// `mode: oidc` only: the OIDC provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcConfig>,
}

fn any_domain() -> Vec<String> {
    vec!["*".to_string()]
}

fn yes() -> bool {
    true
}

/// Which component users log in through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// dex stays, with connectors to the user's identity providers.
    Dex,
    /// No dex: oauth2-proxy logs users in at an OIDC provider.
    Oidc,
}

/// Keys of the login credentials in the central Secret (the same names and defaults as
/// `centralize-credentials`' `login`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LoginKeys {
    /// Key holding oauth2-proxy's OAuth client id (with dex, also dex's static client's id).
    #[serde(default = "default_keys::login_client_id")]
    pub client_id_key: String,
    /// Key holding that client's secret.
    #[serde(default = "default_keys::login_client_secret")]
    pub client_secret_key: String,
    /// Key holding oauth2-proxy's cookie secret: 16, 24 or 32 bytes, or the URL-safe base64 of
    /// 16, 24 or 32 bytes (`openssl rand -base64 32 | tr -- '+/' '-_'`).
    #[serde(default = "default_keys::login_cookie_secret")]
    pub cookie_secret_key: String,
}

impl Default for LoginKeys {
    fn default() -> Self {
        LoginKeys {
            client_id_key: default_keys::login_client_id(),
            client_secret_key: default_keys::login_client_secret(),
            cookie_secret_key: default_keys::login_cookie_secret(),
        }
    }
}

/// dex's options (`mode: dex`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DexConfig {
    /// dex's issuer: the URL users' browsers reach dex at, ending in `/dex` (the Kubeflow
    /// gateway routes `/dex/` to dex). Default: the in-cluster
    /// `http://dex.auth.svc.cluster.local:5556/dex` of the upstream render, which only works
    /// when Kubeflow and dex share a host. Example: `https://kubeflow.example.com/dex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// dex connectors: where users log in.
    #[serde(default)]
    pub connectors: Vec<Connector>,
    /// Users of dex's own password database; empty (the default): the password database and the
    /// upstream default user `user@example.com` are removed.
    #[serde(default)]
    pub static_users: Vec<StaticUser>,
}

/// A dex connector. The typed fields are written into the connector's `config` under dex's
/// names; `config` adds any other field (it wins over a typed one).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Connector {
    /// The connector type: `github`, `oidc`, `ldap`, `microsoft`, `google` (typed fields), or any
    /// other dex connector type (`gitlab`, `saml`, ...) with its options in `config`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The connector's id (letters, digits, `-`, `_`): part of dex's user ids, so keep it stable.
    pub id: String,
    /// The name on dex's login page.
    pub name: String,
    /// github, oidc, microsoft, google: the OAuth client id at the provider.
    #[serde(rename = "clientID", default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// github, oidc, microsoft, google: the key of the central Secret holding the client secret.
    /// Default: `dex-<id>-client-secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_key: Option<String>,
    /// oidc: the provider's issuer (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// oidc: scopes to ask for (dex's default: `openid profile email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// github: organizations (and teams) whose members may log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orgs: Option<Vec<GithubOrg>>,
    /// github: the user's teams as groups, in every organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_all_groups: Option<bool>,
    /// microsoft: the tenant (`common`, `organizations`, a tenant id or domain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// microsoft, google: groups whose members may log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// google: the Google Workspace domains whose users may log in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_domains: Option<Vec<String>>,
    /// ldap: `host:port` of the LDAP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// ldap: the DN dex binds as to search.
    #[serde(rename = "bindDN", default, skip_serializing_if = "Option::is_none")]
    pub bind_dn: Option<String>,
    /// ldap: the key of the central Secret holding the bind password. Default:
    /// `dex-<id>-bind-password` when `bindDN` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_password_key: Option<String>,
    /// ldap: how users are found (dex's `userSearch`: `baseDN`, `filter`, `username`, `idAttr`,
    /// `emailAttr`, `nameAttr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_search: Option<Map<String, Value>>,
    /// ldap: how groups are found (dex's `groupSearch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_search: Option<Map<String, Value>>,
    /// More options of the connector, under dex's names; required for a type without typed
    /// fields. Secrets are never written here: write `$VARIABLE` and list it in `secretEnv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Map<String, Value>>,
    /// Variables for `$VARIABLE` references in `config`: variable name → key of the central
    /// Secret. dex expands them when it loads its config.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub secret_env: IndexMap<String, String>,
}

/// A GitHub organization, optionally limited to some teams.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GithubOrg {
    /// The organization.
    pub name: String,
    /// Teams of it whose members may log in (empty: any member).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
}

/// A user of dex's password database.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StaticUser {
    /// The e-mail address users log in with (and Kubeflow's user id).
    pub email: String,
    /// The display name.
    pub username: String,
    /// A stable, unique id.
    #[serde(rename = "userID")]
    pub user_id: String,
    /// The key of the central Secret that holds the bcrypt hash of the password (cost 10 to 16:
    /// `htpasswd -BnC 12 "" | tr -d ':\n'`).
    pub hash_key: String,
}

/// The OIDC provider oauth2-proxy logs users in at (`mode: oidc`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OidcConfig {
    /// The provider's issuer, exactly as its discovery document says (a trailing `/` matters):
    /// https. Example: `https://accounts.google.com`.
    pub issuer: String,
    /// The absolute URL of oauth2-proxy's callback as users' browsers reach it; register it at
    /// the provider. Example: `https://kubeflow.example.com/oauth2/callback`.
    pub redirect_url: String,
    /// The `aud` values the Kubeflow gateway accepts in this provider's tokens: your client id.
    /// Required: without it a token the provider issued to any other application would log in.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// The claims copied to Kubeflow's user and groups headers.
    #[serde(default)]
    pub claims: Claims,
    /// The name of the login button (oauth2-proxy's `provider_display_name`).
    #[serde(default = "default_display_name")]
    pub display_name: String,
}

fn default_display_name() -> String {
    "Login".to_string()
}

/// Token claims Kubeflow reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Claims {
    /// The claim with the user's e-mail address (header `kubeflow-userid`).
    #[serde(default = "email")]
    pub user_id: String,
    /// The claim with the user's groups (header `kubeflow-groups`).
    #[serde(default = "groups")]
    pub groups: String,
}

fn email() -> String {
    "email".into()
}

fn groups() -> String {
    "groups".into()
}

impl Default for Claims {
    fn default() -> Self {
        Claims { user_id: email(), groups: groups() }
    }
}

/// The connector types with typed fields, and the typed fields each takes.
pub const TYPED: &[(&str, &[&str])] = &[
    ("github", &["clientID", "clientSecretKey", "orgs", "loadAllGroups"]),
    ("oidc", &["clientID", "clientSecretKey", "issuer", "scopes"]),
    ("microsoft", &["clientID", "clientSecretKey", "tenant", "groups"]),
    ("google", &["clientID", "clientSecretKey", "groups", "hostedDomains"]),
    ("ldap", &["host", "bindDN", "bindPasswordKey", "userSearch", "groupSearch"]),
];

/// The dex connector types of v2.39.1 to v2.45.0 (`server/server.go`, `ConnectorsConfig`: the
/// same list in the three).
pub const DEX_TYPES: &[&str] = &[
    "keystone", "mockCallback", "mockPassword", "ldap", "gitea", "github", "gitlab", "google", "oidc", "oauth", "saml",
    "authproxy", "linkedin", "microsoft", "bitbucket-cloud", "openshift", "atlassian-crowd", "samlExperimental",
];

/// Connector types that let anyone log in (`authproxy` trusts a request header, which the
/// gateway lets through to `/dex/` without login; the mocks are test fixtures).
pub const REFUSED_TYPES: &[&str] = &["authproxy", "mockCallback", "mockPassword"];

/// Connector types that take a password form, not a redirect to the provider (no
/// `redirectURI`).
pub const PASSWORD_TYPES: &[&str] = &["ldap", "keystone", "atlassian-crowd"];

/// Options of a connector's `config` that weaken it: TLS off or unverified, unverified e-mail
/// addresses accepted (the e-mail is Kubeflow's user id, so users could impersonate each other).
/// `insecureEnableGroups` (dex's oidc connector: read the groups claim) is not one of them.
pub const INSECURE_OPTIONS: &[&str] = &["insecureSkipVerify", "insecureNoSSL", "insecureSkipEmailVerified", "insecureSkipIssuerCheck"];

/// Field names that hold a secret in a dex connector's config (github/oidc/microsoft/google
/// `clientSecret`, ldap `bindPW`, keystone `adminPassword`, ...): never a literal from Git.
const SECRET_FIELDS: &[&str] = &["clientSecret", "bindPW", "adminPassword", "password", "secret", "token", "privateKey"];

impl Connector {
    /// The typed fields that are set, by their config name.
    fn typed_fields(&self) -> Vec<&'static str> {
        let set = [
            ("clientID", self.client_id.is_some()),
            ("clientSecretKey", self.client_secret_key.is_some()),
            ("issuer", self.issuer.is_some()),
            ("scopes", self.scopes.is_some()),
            ("orgs", self.orgs.is_some()),
            ("loadAllGroups", self.load_all_groups.is_some()),
            ("tenant", self.tenant.is_some()),
            ("groups", self.groups.is_some()),
            ("hostedDomains", self.hosted_domains.is_some()),
            ("host", self.host.is_some()),
            ("bindDN", self.bind_dn.is_some()),
            ("bindPasswordKey", self.bind_password_key.is_some()),
            ("userSearch", self.user_search.is_some()),
            ("groupSearch", self.group_search.is_some()),
        ];
        set.into_iter().filter(|(_, s)| *s).map(|(n, _)| n).collect()
    }

    /// True for a type that takes a client id and secret.
    pub fn is_oauth(&self) -> bool {
        matches!(self.kind.as_str(), "github" | "oidc" | "microsoft" | "google")
    }

    /// True for a type that redirects browsers to the provider and back to `<issuer>/callback`.
    pub fn redirects(&self) -> bool {
        !PASSWORD_TYPES.contains(&self.kind.as_str())
    }

    /// The central key of the client secret (OAuth types).
    pub fn client_secret_key(&self) -> String {
        self.client_secret_key.clone().unwrap_or_else(|| format!("dex-{}-client-secret", self.id))
    }

    /// The central key of the LDAP bind password (when `bindDN` is set).
    pub fn bind_password_key(&self) -> String {
        self.bind_password_key.clone().unwrap_or_else(|| format!("dex-{}-bind-password", self.id))
    }

    /// The variable dex reads a secret of this connector from (`DEX_GITHUB_CLIENT_SECRET`).
    pub fn variable(&self, what: &str) -> String {
        let id: String = self.id.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
        format!("DEX_{id}_{what}")
    }

    /// Every variable of this connector and the central key it reads.
    pub fn secret_variables(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.is_oauth() {
            out.push((self.variable("CLIENT_SECRET"), self.client_secret_key()));
        }
        if self.kind == "ldap" && self.bind_dn.is_some() {
            out.push((self.variable("BIND_PASSWORD"), self.bind_password_key()));
        }
        out.extend(self.secret_env.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }

    fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        if self.id.is_empty() || !self.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            errors.push(ConfigError::new(format!("{at}.id"), format!("{:?} is not a connector id (letters, digits, '-', '_')", self.id)));
        }
        if self.id == "local" {
            errors.push(ConfigError::new(format!("{at}.id"), "\"local\" is dex's password database: use staticUsers"));
        }
        if self.name.trim().is_empty() {
            errors.push(ConfigError::new(format!("{at}.name"), "required: the name on dex's login page"));
        }
        if REFUSED_TYPES.contains(&self.kind.as_str()) {
            errors.push(ConfigError::new(
                format!("{at}.type"),
                format!("{} lets anyone log in behind Kubeflow's gateway (the gateway lets /dex/ through without login): not allowed", self.kind),
            ));
        }
        let typed = TYPED.iter().find(|(t, _)| *t == self.kind);
        if !DEX_TYPES.contains(&self.kind.as_str()) && typed.is_none() {
            errors.push(ConfigError::new(
                format!("{at}.type"),
                format!("{:?} is not a dex connector type (one of {})", self.kind, DEX_TYPES.join(", ")),
            ));
        }
        let allowed: &[&str] = typed.map_or(&[], |(_, f)| f);
        for field in self.typed_fields() {
            if !allowed.contains(&field) {
                errors.push(ConfigError::new(
                    format!("{at}.{field}"),
                    format!("not a field of type {}: write dex's own options in config", self.kind),
                ));
            }
        }
        match self.kind.as_str() {
            "github" | "oidc" | "microsoft" | "google" => {
                if self.client_id.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    errors.push(ConfigError::new(format!("{at}.clientID"), "required: the OAuth client id at the provider"));
                }
            }
            "ldap" => {
                if self.host.as_deref().is_none_or(|s| s.trim().is_empty()) {
                    errors.push(ConfigError::new(format!("{at}.host"), "required: host:port of the LDAP server"));
                }
                let search = self.user_search.as_ref();
                for key in ["baseDN", "username"] {
                    if search.and_then(|s| s.get(key)).and_then(Value::as_str).is_none_or(str::is_empty) {
                        errors.push(ConfigError::new(format!("{at}.userSearch.{key}"), "required by dex's LDAP connector"));
                    }
                }
            }
            _ => {
                if self.config.as_ref().is_none_or(Map::is_empty) {
                    errors.push(ConfigError::new(
                        format!("{at}.config"),
                        format!("required: type {} has no typed fields here, so its options go in config", self.kind),
                    ));
                }
            }
        }
        if self.kind == "microsoft" && self.groups.is_some() && self.tenant.as_deref().is_none_or(|t| ["common", "organizations", "consumers"].contains(&t)) {
            errors.push(ConfigError::new(
                format!("{at}.tenant"),
                "required with groups: dex checks groups only for one organization's tenant (connector/microsoft, groupsRequired), so with the default common tenant any Microsoft account logs in",
            ));
        }
        if self.kind == "oidc" {
            match self.issuer.as_deref() {
                None => errors.push(ConfigError::new(format!("{at}.issuer"), "required: the provider's issuer")),
                Some(issuer) => check_https(&format!("{at}.issuer"), issuer, errors),
            }
        }
        if let Some(config) = &self.config {
            let own: Vec<String> = self.secret_variables().into_iter().map(|(v, _)| v).collect();
            for (key, value) in config {
                let path = format!("{at}.config.{key}");
                if key == "redirectURI" {
                    errors.push(ConfigError::new(path, "always <issuer>/callback, which this function writes (dex refuses any other)"));
                } else if ["clientSecret", "bindPW"].contains(&key.as_str()) && !is_reference(value) {
                    errors.push(ConfigError::new(path, "a secret in Git: write $VARIABLE and map it in secretEnv"));
                } else if INSECURE_OPTIONS.contains(&key.as_str()) && value != &Value::Bool(false) {
                    errors.push(ConfigError::new(path, "weakens the login (TLS unverified or off, or unverified e-mail addresses, which are Kubeflow user ids): not allowed"));
                }
            }
            walk_secrets(&format!("{at}.config"), &Value::Object(config.clone()), errors);
            walk_references(&format!("{at}.config"), &Value::Object(config.clone()), &own, errors);
        }
        let mut keys: Vec<(String, String)> = Vec::new();
        if self.is_oauth() {
            keys.push((format!("{at}.clientSecretKey"), self.client_secret_key()));
        }
        if self.kind == "ldap" && self.bind_dn.is_some() {
            keys.push((format!("{at}.bindPasswordKey"), self.bind_password_key()));
        }
        for (variable, key) in &self.secret_env {
            let field = format!("{at}.secretEnv.{variable}");
            if !is_variable(variable) {
                errors.push(ConfigError::new(field.clone(), format!("{variable:?} is not a variable name (letters, digits, '_')")));
            }
            keys.push((field, key.clone()));
        }
        for (field, key) in keys {
            if !credentials::is_secret_key(&key) {
                errors.push(ConfigError::new(field, format!("{key:?} is not a valid Secret key (letters, digits, '-', '_', '.')")));
            }
        }
    }
}

/// A value that is a `$VARIABLE` / `${VARIABLE}` reference (dex expands it).
fn is_reference(value: &Value) -> bool {
    match value {
        Value::String(s) => {
            let name = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')).or_else(|| s.strip_prefix('$'));
            name.is_some_and(is_variable)
        }
        _ => false,
    }
}

/// The variables a string references the way Go's `os.ExpandEnv` reads them (`$NAME`,
/// `${NAME}`; `$$` is not special there, so it is not skipped).
fn referenced_variables(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        rest = &rest[i + 1..];
        let name: String = if let Some(r) = rest.strip_prefix('{') {
            r.split('}').next().unwrap_or_default().to_string()
        } else {
            rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
        };
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// Every `$VARIABLE` in a connector's config must be one this function sets (the connector's
/// own or its `secretEnv`): dex expands any other to an empty string, silently.
fn walk_references(at: &str, value: &Value, own: &[String], errors: &mut Vec<ConfigError>) {
    match value {
        Value::String(s) => {
            for name in referenced_variables(s) {
                if !own.contains(&name) {
                    errors.push(ConfigError::new(
                        at,
                        format!("references ${name}, which nothing sets: map it in secretEnv (dex would read it as empty)"),
                    ));
                }
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk_references(&format!("{at}.{k}"), v, own, errors);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                walk_references(&format!("{at}[{i}]"), v, own, errors);
            }
        }
        _ => {}
    }
}

/// Secret-looking fields anywhere in a free-form config must be `$VARIABLE` references.
fn walk_secrets(at: &str, value: &Value, errors: &mut Vec<ConfigError>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let path = format!("{at}.{key}");
                let secret = SECRET_FIELDS.iter().any(|s| key.eq_ignore_ascii_case(s)) && key != "clientSecret" && key != "bindPW";
                if secret && !v.is_object() && !v.is_array() && !is_reference(v) {
                    errors.push(ConfigError::new(path, "a secret in Git: write $VARIABLE and map it in secretEnv"));
                } else {
                    walk_secrets(&path, v, errors);
                }
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                walk_secrets(&format!("{at}[{i}]"), v, errors);
            }
        }
        _ => {}
    }
}

/// A POSIX shell variable name (what `os.ExpandEnv` reads after `$`).
pub fn is_variable(s: &str) -> bool {
    !s.is_empty() && !s.starts_with(|c: char| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An https URL (http only for in-cluster hosts) without query or fragment.
fn check_https(field: &str, url: &str, errors: &mut Vec<ConfigError>) {
    match parse_url(url) {
        Err(problem) => errors.push(ConfigError::new(field, problem)),
        Ok(u) if u.scheme == "http" && !is_in_cluster_host(u.host) => errors.push(ConfigError::new(
            field,
            format!("uses plain http: it must be https (http only for in-cluster *.svc or *.svc.cluster.local hosts, not {})", u.host),
        )),
        Ok(u) if u.query || u.fragment => {
            errors.push(ConfigError::new(field, "has a ?query or #fragment: an issuer has neither"))
        }
        Ok(_) => {}
    }
}

impl ExternalIdentityProviderConfig {
    /// dex's issuer (`mode: dex`).
    pub fn dex_issuer(&self) -> &str {
        self.dex.as_ref().and_then(|d| d.issuer.as_deref()).unwrap_or(IN_CLUSTER_DEX_ISSUER)
    }

    /// The scopes oauth2-proxy asks for.
    pub fn scopes(&self) -> Vec<String> {
        match (&self.scopes, self.mode) {
            (Some(s), _) => s.clone(),
            (None, Mode::Dex) => ["profile", "email", "groups", "openid"].map(String::from).to_vec(),
            (None, Mode::Oidc) => ["openid", "email", "profile"].map(String::from).to_vec(),
        }
    }

    /// The rewiring target: the login credentials. Dex's default user's password hash is not
    /// one: this function removes that user (its static users read their own keys).
    pub fn target(&self) -> Target {
        Target::new(self.secret_name.clone())
            .with_key(Credential::LoginClientId, self.keys.client_id_key.clone())
            .with_key(Credential::LoginClientSecret, self.keys.client_secret_key.clone())
            .with_key(Credential::LoginCookieSecret, self.keys.cookie_secret_key.clone())
    }
}

impl Validate for ExternalIdentityProviderConfig {
    fn warnings(&self) -> Vec<ConfigError> {
        self.config_warnings()
    }

    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = credentials::check_secret_name("secretName", &self.secret_name, &[]);
        let mut keys: Vec<(String, String)> = vec![
            ("keys.clientIdKey".into(), self.keys.client_id_key.clone()),
            ("keys.clientSecretKey".into(), self.keys.client_secret_key.clone()),
            ("keys.cookieSecretKey".into(), self.keys.cookie_secret_key.clone()),
        ];
        if let Some(n) = self.cookie_secret_bytes {
            if ![16, 24, 32].contains(&n) {
                errors.push(ConfigError::new(
                    "cookieSecretBytes",
                    format!("{n}: oauth2-proxy accepts a cookie secret of 16, 24 or 32 bytes only (pkg/validation/cookie.go, validateCookieSecret) and would not start"),
                ));
            }
        }
        if self.allowed_email_domains.is_empty() {
            errors.push(ConfigError::new(
                "allowedEmailDomains",
                "must not be empty: oauth2-proxy refuses to start without an e-mail rule (use [\"*\"] for any domain)",
            ));
        }
        for (i, d) in self.allowed_email_domains.iter().chain(&self.allowed_groups).enumerate() {
            if d.trim().is_empty() || d.contains(['"', '\\', '\n']) {
                let field = if i < self.allowed_email_domains.len() {
                    format!("allowedEmailDomains[{i}]")
                } else {
                    format!("allowedGroups[{}]", i - self.allowed_email_domains.len())
                };
                errors.push(ConfigError::new(field, "must be a non-empty value without quotes, backslashes or newlines"));
            }
        }
        for (i, d) in self.allowed_email_domains.iter().enumerate() {
            let host = d.strip_prefix("*.").or_else(|| d.strip_prefix('.')).unwrap_or(d);
            if d != "*" && (host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')) {
                errors.push(ConfigError::new(
                    format!("allowedEmailDomains[{i}]"),
                    format!("{d:?} is not a domain (example.com, .example.com or *.example.com for subdomains, or * for any)"),
                ));
            }
        }
        if let Some(scopes) = &self.scopes {
            if !scopes.iter().any(|s| s == "openid") {
                errors.push(ConfigError::new("scopes", "must include openid: oauth2-proxy's oidc provider needs an ID token"));
            }
            for (i, s) in scopes.iter().enumerate() {
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_graphic() && c != '"' && c != '\\') {
                    errors.push(ConfigError::new(format!("scopes[{i}]"), format!("{s:?} is not a scope")));
                }
            }
        }
        match self.mode {
            Mode::Dex => {
                if self.oidc.is_some() {
                    errors.push(ConfigError::new("oidc", "a field of mode oidc: remove it, or set mode: oidc"));
                }
                let dex = self.dex.clone().unwrap_or_default();
                if let Some(issuer) = &dex.issuer {
                    check_https("dex.issuer", issuer, &mut errors);
                    if let Ok(u) = parse_url(issuer) {
                        if u.path != "/dex" {
                            errors.push(ConfigError::new(
                                "dex.issuer",
                                format!("has path {:?}: it must end in /dex, where the Kubeflow gateway routes dex (VirtualService dex, the gateway policies' notPaths, oauth2-proxy's skip_auth_routes)", u.path),
                            ));
                        }
                    }
                }
                if dex.connectors.is_empty() && dex.static_users.is_empty() {
                    errors.push(ConfigError::new(
                        "dex.connectors",
                        "required: at least one connector (or staticUsers): dex does not start without one, and this function removes the public default user",
                    ));
                }
                for (i, c) in dex.connectors.iter().enumerate() {
                    let at = format!("dex.connectors[{i}]");
                    c.validate(&at, &mut errors);
                    if let Some((j, _)) = dex.connectors[..i].iter().enumerate().find(|(_, e)| e.id == c.id) {
                        errors.push(ConfigError::new(format!("{at}.id"), format!("{:?} is also the id of dex.connectors[{j}]", c.id)));
                    }
                    for (variable, key) in c.secret_variables() {
                        keys.push((format!("{at} ({variable})"), key));
                    }
                }
                let mut variables: Vec<(String, String)> = Vec::new();
                for (i, c) in dex.connectors.iter().enumerate() {
                    for (v, _) in c.secret_variables() {
                        let at = format!("dex.connectors[{i}]");
                        if let Some((other, _)) = variables.iter().find(|(_, x)| *x == v) {
                            errors.push(ConfigError::new(at.clone(), format!("variable {v} is also set for {other}")));
                        }
                        if RESERVED_VARIABLES.contains(&v.as_str()) || v.starts_with("DEX_STATIC_PASSWORD_") {
                            errors.push(ConfigError::new(at.clone(), format!("variable {v} is one dex's Deployment already uses")));
                        }
                        variables.push((at, v));
                    }
                }
                for (i, u) in dex.static_users.iter().enumerate() {
                    let at = format!("dex.staticUsers[{i}]");
                    if !u.email.contains('@') {
                        errors.push(ConfigError::new(format!("{at}.email"), format!("{:?} is not an e-mail address", u.email)));
                    }
                    for (field, value) in [("username", &u.username), ("userID", &u.user_id)] {
                        if value.trim().is_empty() {
                            errors.push(ConfigError::new(format!("{at}.{field}"), "required"));
                        }
                    }
                    if let Some((j, _)) = dex.static_users[..i].iter().enumerate().find(|(_, e)| e.email == u.email || e.user_id == u.user_id) {
                        errors.push(ConfigError::new(at.clone(), format!("the same email or userID as dex.staticUsers[{j}]")));
                    }
                    keys.push((format!("{at}.hashKey"), u.hash_key.clone()));
                }
            }
            Mode::Oidc => {
                if self.dex.is_some() {
                    errors.push(ConfigError::new("dex", "a field of mode dex: remove it, or set mode: dex"));
                }
                match &self.oidc {
                    None => errors.push(ConfigError::new("oidc", "required with mode: oidc (issuer, redirectUrl, audiences)")),
                    Some(o) => {
                        check_https("oidc.issuer", &o.issuer, &mut errors);
                        match parse_url(&o.redirect_url) {
                            Err(problem) => errors.push(ConfigError::new("oidc.redirectUrl", problem)),
                            Ok(u) => {
                                if u.scheme != "https" && !matches!(u.host, "localhost" | "127.0.0.1" | "[::1]") {
                                    errors.push(ConfigError::new("oidc.redirectUrl", "must be https (http only for localhost)"));
                                }
                                if u.path != "/oauth2/callback" || u.query || u.fragment {
                                    errors.push(ConfigError::new(
                                        "oidc.redirectUrl",
                                        format!("has path {:?}: oauth2-proxy's callback is /oauth2/callback (the gateway routes /oauth2/ to it)", u.path),
                                    ));
                                }
                            }
                        }
                        if o.audiences.is_empty() {
                            errors.push(ConfigError::new(
                                "oidc.audiences",
                                "required: your client id; without it the gateway accepts a token the provider issued to any other application",
                            ));
                        }
                        for (i, a) in o.audiences.iter().enumerate() {
                            if a.trim().is_empty() || a.contains('*') {
                                errors.push(ConfigError::new(format!("oidc.audiences[{i}]"), "must be an exact value"));
                            }
                        }
                        for (field, claim) in [("oidc.claims.userId", &o.claims.user_id), ("oidc.claims.groups", &o.claims.groups)] {
                            if claim.trim().is_empty() {
                                errors.push(ConfigError::new(field, "required: a claim name"));
                            }
                        }
                        if o.display_name.contains(['"', '\\', '\n']) {
                            errors.push(ConfigError::new("oidc.displayName", "must not contain quotes, backslashes or newlines"));
                        }
                    }
                }
            }
        }
        let pairs: Vec<(&str, &str)> = keys.iter().map(|(f, k)| (f.as_str(), k.as_str())).collect();
        errors.extend(credentials::check_keys(&pairs));
        if let Some(es) = &self.external_secret {
            errors.extend(es.validate_at("externalSecret"));
        }
        errors
    }
}

impl ExternalIdentityProviderConfig {
    /// Valid choices that deserve a warning.
    fn config_warnings(&self) -> Vec<ConfigError> {
        let mut out = Vec::new();
        for (i, c) in self.dex.iter().flat_map(|d| d.connectors.iter()).enumerate() {
            let groups_scope = c.scopes.as_ref().is_some_and(|s| s.iter().any(|x| x == "groups"));
            let enabled = c.config.as_ref().and_then(|m| m.get("insecureEnableGroups")) == Some(&Value::Bool(true));
            if c.kind == "oidc" && groups_scope && !enabled {
                out.push(ConfigError::new(
                    format!("dex.connectors[{i}].scopes"),
                    "asks for groups, but dex's oidc connector drops the groups claim unless config.insecureEnableGroups is true: kubeflow-groups stays empty",
                ));
            }
        }
        if self.mode == Mode::Oidc {
            out.push(ConfigError::new(
                "oidc",
                "oauth2-proxy keeps a session for cookie_expire (24h upstream) but forwards the provider's ID token, which expires sooner (1h at Google): then the gateway answers 401 until the user logs in again, unless oauth2-proxy can refresh (cookie_refresh with a refresh token)",
            ));
        }
        out
    }
}

/// Variables the dex Deployment already sets (upstream) or this function sets for the static
/// client: a connector may not reuse them.
pub const RESERVED_VARIABLES: &[&str] = &["OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "DEX_USER_PASSWORD", "KUBERNETES_POD_NAMESPACE", "DEX_EXPAND_ENV"];

#[cfg(test)]
mod tests {
    use super::*;

    /// The published functionConfig loads without errors.
    #[test]
    fn fn_config_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fn-configs/external-identity-provider.yaml");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.starts_with("# yaml-language-server: $schema=../schemas/ExternalIdentityProvider.json\n"));
        let config = krm_core::yaml::parse_document(&text).unwrap();
        let f: &dyn krm_core::DynFunction = &krm_core::Registered::<crate::ExternalIdentityProvider>::new();
        let results = f.apply(Some(&config), &mut Vec::new());
        // No error but the empty input's: the config itself is valid.
        assert!(results.iter().all(|r| !r.is_error() || r.message.contains("no Deployment oauth2-proxy")), "{results:?}");
    }

    #[test]
    fn references() {
        for ok in ["$A", "${A_B}", "$_x1"] {
            assert!(is_reference(&Value::String(ok.into())), "{ok}");
        }
        for bad in ["A", "$1A", "${A", "$A B", "pre$A", ""] {
            assert!(!is_reference(&Value::String(bad.into())), "{bad}");
        }
        assert!(!is_reference(&Value::Null));
        assert_eq!(referenced_variables("a$B c${D_1}$"), vec!["B".to_string(), "D_1".to_string()]);
    }

    #[test]
    fn variables() {
        let c = Connector { kind: "github".into(), id: "git-hub".into(), ..Default::default() };
        assert_eq!(c.variable("CLIENT_SECRET"), "DEX_GIT_HUB_CLIENT_SECRET");
        assert_eq!(c.client_secret_key(), "dex-git-hub-client-secret");
    }
}
