//! The `AddRequestAuthentication` functionConfig.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use krm_core::{ConfigError, Validate};
pub use kubeflow_common::url::{Url, is_in_cluster_host, parse_url};

/// Trusts extra JWT issuers (GitHub Actions OIDC, Pocket ID, any OIDC provider) at the Kubeflow
/// gateway with one Istio RequestAuthentication per issuer, audiences required, and optional
/// required claims enforced by a DENY AuthorizationPolicy.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddRequestAuthenticationConfig {
    /// Namespace of the emitted policies: the namespace of the gateway workload.
    #[serde(default = "default_namespace")]
    pub namespace: String,
    /// Workload selector (`spec.selector.matchLabels`) of the emitted policies: the gateway pods.
    #[serde(default = "default_selector")]
    pub selector: IndexMap<String, String>,
    /// The issuers to trust, at least one.
    pub issuers: Vec<Issuer>,
}

fn default_namespace() -> String {
    "istio-system".to_string()
}

fn default_selector() -> IndexMap<String, String> {
    IndexMap::from([("app".to_string(), "istio-ingressgateway".to_string())])
}

/// One trusted JWT issuer.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Issuer {
    /// Name of the RequestAuthentication (a DNS label); the required-claims AuthorizationPolicy
    /// is `<name>-required-claims`.
    pub name: String,
    /// The token's `iss` claim, exactly: an https URL (http only for in-cluster `*.svc` and
    /// `*.svc.cluster.local` hosts).
    pub issuer: String,
    /// URL of the issuer's JSON Web Key Set (https; http only for in-cluster hosts). Exactly one
    /// of `jwksUri` and `jwks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The issuer's JSON Web Key Set inline, as a JSON string (public keys only). Exactly one of
    /// `jwksUri` and `jwks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
    /// Accepted `aud` values, at least one: without them every token of the issuer would be
    /// admitted.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Claims copied to request headers for Kubeflow.
    #[serde(default = "default_output_claim_to_headers")]
    pub output_claim_to_headers: Vec<ClaimToHeader>,
    /// Keep the token in the request forwarded to Kubeflow.
    #[serde(default = "yes")]
    pub forward_original_token: bool,
    /// Where the token is read.
    #[serde(default = "default_from_headers")]
    pub from_headers: Vec<FromHeader>,
    /// Claims a token of this issuer must carry: claim name → allowed values (a token whose claim
    /// is missing or not one of the values is denied).
    /// Exact values only: `*` is refused here (Istio reads it as a wildcard).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub required_claims: IndexMap<String, Vec<String>>,
    /// Like `requiredClaims`, but each value is an Istio pattern: `prefix*`, `*suffix` or `*`
    /// (any value). A pattern admits values nobody listed (`my-org*` admits `my-org-evil`), so
    /// each one gets a warning, and patterns never count as the pin GitHub Actions issuers need.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub required_claim_patterns: IndexMap<String, Vec<String>>,
}

/// A claim copied to a request header.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimToHeader {
    /// Header name (letters, digits, `-`, `_`).
    pub header: String,
    /// Claim name.
    pub claim: String,
}

/// A request header the token is read from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FromHeader {
    /// Header name.
    pub name: String,
    /// Prefix stripped before the token (`"Bearer "`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_output_claim_to_headers() -> Vec<ClaimToHeader> {
    [("kubeflow-userid", "email"), ("kubeflow-groups", "groups")]
        .into_iter()
        .map(|(header, claim)| ClaimToHeader { header: header.into(), claim: claim.into() })
        .collect()
}

fn default_from_headers() -> Vec<FromHeader> {
    vec![FromHeader { name: "Authorization".into(), prefix: Some("Bearer ".into()) }]
}

/// GitHub Actions' issuer host: any workflow of any repository can get a token from it, for any
/// audience it asks for.
const GITHUB_ACTIONS_HOST: &str = "token.actions.githubusercontent.com";
/// GitHub Actions claims that pin the repository or its owner.
const GITHUB_OWNER_CLAIMS: [&str; 5] = ["repository_owner", "repository_owner_id", "repository", "repository_id", "sub"];

/// An RFC 1123 DNS label: at most 63 lowercase alphanumerics or `-`, alphanumeric at both ends.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// An RFC 1123 DNS subdomain: dot-separated DNS labels, at most 253 characters.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// An HTTP header name (an RFC 9110 token).
pub fn is_http_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// A header name Istio accepts in `outputClaimToHeaders` (`^[-_A-Za-z0-9]+$`).
fn is_output_header(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// A label name segment: at most 63 alphanumerics, `-`, `_`, `.`, alphanumeric at both ends.
fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
}

/// A label key: `[prefix/]name`, the prefix a DNS subdomain.
fn is_label_key(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

/// A label value: empty, or a label name segment.
fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

/// The path of a map key below `base`, written as [`kubeflow_common::k8s::FieldPath`] writes it: `.key` for
/// simple words, `[key]` otherwise.
fn key_path(base: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        format!("{base}.{key}")
    } else {
        format!("{base}[{key}]")
    }
}

/// Checks an https URL (http for in-cluster hosts); returns the problem.
fn check_url<'a>(s: &'a str, what: &str) -> Result<Url<'a>, String> {
    let url = parse_url(s)?;
    if url.scheme == "http" && !is_in_cluster_host(url.host) {
        return Err(format!(
            "uses plain http: {what} must be https (http only for in-cluster *.svc or *.svc.cluster.local hosts, not {})",
            url.host
        ));
    }
    if url.fragment {
        return Err("has a #fragment: remove it".into());
    }
    Ok(url)
}

/// Members of a JWK that only a private or symmetric key has (RFC 7518 section 6).
const PRIVATE_JWK_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Checks an inline JSON Web Key Set; the messages never quote key material.
pub fn check_jwks(text: &str) -> Result<(), String> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("is not JSON ({}, line {} column {})", e.classify_str(), e.line(), e.column()))?;
    let Some(keys) = value.as_object().and_then(|o| o.get("keys")) else {
        return Err("is not a JSON Web Key Set: expected an object with a \"keys\" list".into());
    };
    let Some(keys) = keys.as_array() else {
        return Err("is not a JSON Web Key Set: \"keys\" is not a list".into());
    };
    if keys.is_empty() {
        return Err("is a JSON Web Key Set without keys".into());
    }
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key.as_object() else {
            return Err(format!("keys[{i}] is not a JSON Web Key object"));
        };
        match key.get("kty").and_then(Value::as_str) {
            Some(kty) if !kty.is_empty() => {}
            _ => return Err(format!("keys[{i}] has no \"kty\" (key type)")),
        }
        if let Some(member) = PRIVATE_JWK_MEMBERS.iter().find(|m| key.contains_key(**m)) {
            return Err(format!(
                "keys[{i}] has the private or symmetric member {member:?}: a JWKS here must hold public keys only (this one would put a secret in git)"
            ));
        }
    }
    Ok(())
}

/// `serde_json::error::Category` as words.
trait Classify {
    fn classify_str(&self) -> &'static str;
}

impl Classify for serde_json::Error {
    fn classify_str(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "read error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end",
        }
    }
}

impl Issuer {
    /// True if this is GitHub Actions' issuer (or a GitHub Enterprise issuer below it).
    pub fn is_github_actions(&self) -> bool {
        parse_url(&self.issuer).is_ok_and(|u| u.host.eq_ignore_ascii_case(GITHUB_ACTIONS_HOST))
    }

    /// Kubeflow takes `kubeflow-userid` as the user: an issuer that fills it from `email` makes
    /// anyone who can set an email at that identity provider, unverified, any Kubeflow user.
    /// Quiet when a pin narrows it: `email_verified: ["true"]`, an `email` (or `hd`, Google's
    /// hosted domain) pin or pattern, or a `groups` pin.
    fn unverified_identity(&self) -> Option<String> {
        let from_email = self.output_claim_to_headers.iter().any(|c| c.header.eq_ignore_ascii_case("kubeflow-userid") && c.claim == "email");
        if !from_email {
            return None;
        }
        let pinned = |claim: &str| self.required_claims.contains_key(claim) || self.required_claim_patterns.contains_key(claim);
        let verified = self.required_claims.get("email_verified").is_some_and(|v| v.iter().all(|x| x == "true"));
        if verified || pinned("email") || pinned("hd") || pinned("groups") {
            return None;
        }
        Some(format!(
            "{} fills kubeflow-userid from the email claim and nothing narrows it: where users can set an unverified email at \
             that identity provider, anyone becomes any Kubeflow user. Pin requiredClaims email_verified: [\"true\"] (or the \
             email domain in requiredClaimPatterns, or groups); for GitHub Actions, map sub or repository instead",
            self.issuer
        ))
    }

    /// An issuer on an in-cluster host (dex at `dex.auth.svc.cluster.local`, the Kubernetes API
    /// at `kubernetes.default.svc`) names identities inside this cluster: its keys must come
    /// from inside the cluster too (its own host, or an in-cluster JWKS proxy such as Kubeflow's
    /// m2m `cluster-jwks-proxy`). Inline keys, or keys from an outside host, would let whoever
    /// holds them mint Kubeflow identities, whatever else the input holds.
    fn check_in_cluster_keys(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let Ok(issuer) = parse_url(&self.issuer) else { return };
        if !is_in_cluster_host(issuer.host) {
            return;
        }
        let why = format!(
            "{} is an in-cluster issuer, so its keys must come from an in-cluster address (its own host, or an in-cluster \
             JWKS proxy such as Kubeflow's cluster-jwks-proxy)",
            self.issuer
        );
        if self.jwks.is_some() {
            errors.push(ConfigError::new(
                format!("{at}.jwks"),
                format!("{why}: an inline key set would let whoever holds its private key mint tokens of that issuer; use jwksUri"),
            ));
        }
        if let Some(uri) = &self.jwks_uri {
            if let Ok(u) = parse_url(uri) {
                if !is_in_cluster_host(u.host) {
                    errors.push(ConfigError::new(
                        format!("{at}.jwksUri"),
                        format!("{why}, not from {}: keys from outside would let their holder mint tokens of that issuer", u.host),
                    ));
                }
            }
        }
    }

    fn validate(&self, at: &str, errors: &mut Vec<ConfigError>) {
        let field = |f: &str| format!("{at}.{f}");
        if !is_dns_label(&self.name) {
            errors.push(ConfigError::new(
                field("name"),
                format!("{:?} is not a DNS label (at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)", self.name),
            ));
        }
        match check_url(&self.issuer, "an issuer") {
            Err(m) => errors.push(ConfigError::new(field("issuer"), m)),
            Ok(url) if url.query => errors.push(ConfigError::new(
                field("issuer"),
                "has a ?query: an OpenID Connect issuer has none",
            )),
            Ok(_) => {}
        }
        match (&self.jwks_uri, &self.jwks) {
            (None, None) => errors.push(ConfigError::new(
                at,
                "set jwksUri (the issuer's key set URL) or jwks (the key set inline): exactly one is required",
            )),
            (Some(_), Some(_)) => errors.push(ConfigError::new(at, "set only one of jwksUri and jwks")),
            (Some(uri), None) => {
                if uri.len() > 2048 {
                    errors.push(ConfigError::new(field("jwksUri"), "is longer than 2048 characters"));
                } else if let Err(m) = check_url(uri, "a jwksUri") {
                    errors.push(ConfigError::new(field("jwksUri"), m));
                }
            }
            (None, Some(jwks)) => {
                if let Err(m) = check_jwks(jwks) {
                    errors.push(ConfigError::new(field("jwks"), m));
                }
            }
        }
        self.check_in_cluster_keys(at, errors);
        if self.audiences.is_empty() {
            errors.push(ConfigError::new(
                field("audiences"),
                "must list at least one audience: Kubeflow's gateway admits any token a RequestAuthentication trusts, so without audiences every token of this issuer would get in",
            ));
        }
        for (i, aud) in self.audiences.iter().enumerate() {
            if aud.is_empty() {
                errors.push(ConfigError::new(format!("{at}.audiences[{i}]"), "must not be empty"));
            }
        }
        let mut headers: Vec<&str> = Vec::new();
        for (i, c) in self.output_claim_to_headers.iter().enumerate() {
            let here = format!("{at}.outputClaimToHeaders[{i}]");
            if !is_output_header(&c.header) {
                errors.push(ConfigError::new(
                    format!("{here}.header"),
                    format!("{:?} is not a header name Istio accepts (letters, digits, '-', '_')", c.header),
                ));
            } else if headers.iter().any(|h| h.eq_ignore_ascii_case(&c.header)) {
                errors.push(ConfigError::new(format!("{here}.header"), format!("{:?} is set twice", c.header)));
            }
            headers.push(&c.header);
            if c.claim.is_empty() {
                errors.push(ConfigError::new(format!("{here}.claim"), "must not be empty"));
            }
        }
        if self.from_headers.is_empty() {
            errors.push(ConfigError::new(
                field("fromHeaders"),
                "must not be empty: Istio would then also read tokens from the access_token query parameter; omit the field for Authorization: Bearer",
            ));
        }
        for (i, h) in self.from_headers.iter().enumerate() {
            if !is_http_token(&h.name) {
                errors.push(ConfigError::new(
                    format!("{at}.fromHeaders[{i}].name"),
                    format!("{:?} is not a valid HTTP header name", h.name),
                ));
            }
        }
        for (field, map, patterns) in [("requiredClaims", &self.required_claims, false), ("requiredClaimPatterns", &self.required_claim_patterns, true)] {
            check_claims(&format!("{at}.{field}"), map, patterns, errors);
        }
    }
}

/// What an Istio pattern admits, in words.
fn pattern_scope(pattern: &str) -> String {
    if pattern == "*" {
        "exists (any value at all)".into()
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        format!("starts with {prefix:?}")
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        format!("ends with {suffix:?}")
    } else {
        format!("equals {pattern:?}")
    }
}

/// Checks `requiredClaims` (exact values) or `requiredClaimPatterns` (Istio patterns).
fn check_claims(field: &str, map: &IndexMap<String, Vec<String>>, patterns: bool, errors: &mut Vec<ConfigError>) {
    {
        for (claim, values) in map {
            let here = key_path(field, claim);
            if claim.is_empty() {
                errors.push(ConfigError::new(field, "a claim name must not be empty"));
                continue;
            }
            if claim.contains(['[', ']']) || claim.chars().any(char::is_whitespace) {
                errors.push(ConfigError::new(here.clone(), format!("{claim:?} is not a claim name (no brackets or spaces)")));
            }
            if values.is_empty() {
                errors.push(ConfigError::new(here.clone(), "must list at least one allowed value"));
            }
            for (i, v) in values.iter().enumerate() {
                if v.is_empty() {
                    errors.push(ConfigError::new(format!("{here}[{i}]"), "must not be empty"));
                } else if !patterns && v.contains('*') {
                    errors.push(ConfigError::new(
                        format!("{here}[{i}]"),
                        format!(
                            "{v:?} holds '*', which Istio reads as a wildcard ({v:?} admits values nobody listed, \
                             such as my-org-evil for my-org*): requiredClaims pins exact values; put patterns in \
                             requiredClaimPatterns, which warns about each"
                        ),
                    ));
                } else if patterns && (v.len() > 1 && v[1..v.len() - 1].contains('*') || v.matches('*').count() > 1) {
                    errors.push(ConfigError::new(
                        format!("{here}[{i}]"),
                        format!("{v:?}: Istio takes one '*', at the start or the end of a value (prefix*, *suffix or *)"),
                    ));
                }
            }
        }
    }
}

impl Validate for AddRequestAuthenticationConfig {
    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if !is_dns_label(&self.namespace) {
            errors.push(ConfigError::new("namespace", format!("{:?} is not a namespace name (a DNS label)", self.namespace)));
        }
        if self.selector.is_empty() {
            errors.push(ConfigError::new(
                "selector",
                "must not be empty: an empty selector applies the policies to every workload of the namespace (mesh-wide in Istio's root namespace)",
            ));
        }
        for (key, value) in &self.selector {
            if !is_label_key(key) {
                errors.push(ConfigError::new(key_path("selector", key), format!("{key:?} is not a label key")));
            }
            if !is_label_value(value) {
                errors.push(ConfigError::new(key_path("selector", key), format!("{value:?} is not a label value (no wildcards)")));
            }
        }
        if self.issuers.is_empty() {
            errors.push(ConfigError::new("issuers", "must list at least one issuer"));
        }
        for (i, issuer) in self.issuers.iter().enumerate() {
            let at = format!("issuers[{i}]");
            issuer.validate(&at, &mut errors);
            for (j, earlier) in self.issuers[..i].iter().enumerate() {
                if earlier.name == issuer.name {
                    errors.push(ConfigError::new(
                        format!("{at}.name"),
                        format!("{:?} is also the name of issuers[{j}]: each issuer needs its own name", issuer.name),
                    ));
                }
                if earlier.issuer == issuer.issuer {
                    errors.push(ConfigError::new(
                        format!("{at}.issuer"),
                        format!("{:?} is also the issuer of issuers[{j}] ({}): list each issuer once, with all its audiences", issuer.issuer, earlier.name),
                    ));
                }
            }
        }
        errors
    }

    fn warnings(&self) -> Vec<ConfigError> {
        let mut warnings = Vec::new();
        for (i, issuer) in self.issuers.iter().enumerate() {
            if issuer.is_github_actions() && !issuer.required_claims.keys().any(|c| GITHUB_OWNER_CLAIMS.contains(&c.as_str())) {
                warnings.push(ConfigError::new(
                    format!("issuers[{i}].requiredClaims"),
                    "pins no repository or owner: any workflow on GitHub can request a token for any audience, so set requiredClaims on repository_owner (or repository_owner_id, repository)",
                ));
            }
            if let Some(w) = issuer.unverified_identity() {
                warnings.push(ConfigError::new(format!("issuers[{i}].outputClaimToHeaders"), w));
            }
            for (claim, values) in &issuer.required_claim_patterns {
                for (j, v) in values.iter().enumerate() {
                    warnings.push(ConfigError::new(
                        format!("{}[{j}]", key_path(&format!("issuers[{i}].requiredClaimPatterns"), claim)),
                        format!("the pattern {v:?} admits every {claim} value that {}: make sure nobody else can get such a value", pattern_scope(v)),
                    ));
                }
            }
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = parse_url("https://token.actions.githubusercontent.com").unwrap();
        assert_eq!((u.scheme, u.host, u.query, u.fragment), ("https", "token.actions.githubusercontent.com", false, false));
        let u = parse_url("http://dex.auth.svc.cluster.local:5556/dex").unwrap();
        assert_eq!(u.host, "dex.auth.svc.cluster.local");
        assert!(is_in_cluster_host(u.host));
        assert!(parse_url("https://[::1]:8443/x?y").unwrap().query);
        assert!(parse_url("https://user:pw@host/").is_err());
        assert!(parse_url("https://host:99999/").is_err());
        assert!(parse_url("https://host:/").is_err());
        assert!(parse_url("ftp://host/").is_err());
        assert!(parse_url("token.actions.githubusercontent.com").is_err());
        assert!(parse_url("https:///path").is_err());
        assert!(parse_url("https://ho st/").is_err());
        assert!(check_url("http://example.com/dex", "an issuer").is_err());
        assert!(check_url("http://dex.auth.svc:5556/dex", "an issuer").is_ok());
        assert!(check_url("http://evil.svc.cluster.local.example.com/", "an issuer").is_err());
        assert!(check_url("https://a.example/#x", "an issuer").is_err());
    }

    #[test]
    fn names() {
        assert!(is_dns_label("github-actions"));
        assert!(!is_dns_label("GitHub"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_http_token("Authorization"));
        assert!(is_http_token("x-forwarded-access-token"));
        assert!(!is_http_token("Bad Header"));
        assert!(!is_http_token("a:b"));
        assert!(is_output_header("kubeflow-userid"));
        assert!(!is_output_header("x.y"));
        assert!(is_label_key("app.kubernetes.io/name"));
        assert!(!is_label_key("a/b/c"));
        assert!(!is_label_value("istio-*"));
    }

    #[test]
    fn jwks_checks() {
        let public = r#"{"keys":[{"kty":"RSA","kid":"a","use":"sig","alg":"RS256","n":"xyz","e":"AQAB"}]}"#;
        assert!(check_jwks(public).is_ok());
        assert!(check_jwks("not json").unwrap_err().contains("not JSON"));
        assert!(check_jwks(r#"{"keys":[]}"#).is_err());
        assert!(check_jwks(r#"[{"kty":"RSA"}]"#).is_err());
        assert!(check_jwks(r#"{"keys":[{"n":"x"}]}"#).unwrap_err().contains("kty"));
        let private = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"SECRETVALUE"}]}"#;
        let err = check_jwks(private).unwrap_err();
        assert!(err.contains("\"d\"") && !err.contains("SECRETVALUE"), "{err}");
        assert!(check_jwks(r#"{"keys":[{"kty":"oct","k":"SECRETVALUE"}]}"#).is_err());
    }
}
