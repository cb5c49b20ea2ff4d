//! oauth2-proxy: its `oauth2_proxy.cfg` and the parameters ConfigMap its env reads.
//!
//! What oauth2-proxy reads (v7.6.0, v7.7.1, v7.14.3 alike unless said):
//! - settings from the file and from `OAUTH2_PROXY_<KEY>` variables, the variable winning
//!   (`pkg/apis/options/load.go`, `Load`: `SetEnvPrefix("OAUTH2_PROXY")`, `AutomaticEnv`); the
//!   client id, client secret and cookie secret come from variables, so they never touch the
//!   file;
//! - with `skip_oidc_discovery`, `oidc_jwks_url` is required and `login_url` / `redeem_url` are
//!   taken as given (`pkg/providers/oidc/provider_verifier.go`, `validate`;
//!   `providers/providers.go`, `newProviderDataFromConfig`); without it, oauth2-proxy fetches
//!   `<issuer>/.well-known/openid-configuration` once at start and exits if that fails, and the
//!   document's issuer must equal `oidc_issuer_url` exactly (`pkg/providers/oidc/provider.go`,
//!   `NewProvider`);
//! - one of `email_domains` must be set (`pkg/validation/options.go`), and a user passes when the
//!   e-mail domain and, if set, one of `allowed_groups` match (`oauthproxy.go`, `OAuthCallback`);
//! - a relative `redirect_url` gets the request's host, and `relative_redirect_url = true` sends
//!   it to the provider as a path (`oauthproxy.go`, `getOAuthRedirectURI`): dex, which lists
//!   the relative `/oauth2/callback`, accepts that; a provider on another host does not, so
//!   `mode: oidc` writes the absolute URL;
//! - `OAUTH2_PROXY_SSL_INSECURE_SKIP_VERIFY` (upstream parameter `ALLOW_SELF_SIGNED_ISSUER`,
//!   `true`) turns off TLS verification of every call to the provider: this function sets it to
//!   `false`; `OAUTH2_PROXY_COOKIE_SECURE` (parameter `FORCE_HTTPS`) follows `secureCookies`;
//! - `OAUTH2_PROXY_EXTRA_JWT_ISSUERS` (`issuer=audience,...`, parameter `EXTRA_JWT_ISSUERS`) is
//!   split on the first `=` (`pkg/validation/options.go`, `parseJwtIssuers`): entries for dex's
//!   old issuer follow it.

use serde_json::Value;

use krm_core::KrmResult;
use kubeflow_common::k8s::{FieldPath, Selector, object, pod};

use crate::cfg::{Cfg, Toml};
use crate::config::{ExternalIdentityProviderConfig, IN_CLUSTER_DEX_ISSUER, Mode, OidcConfig};
use crate::dex::DexFound;
use crate::first;

/// The key of oauth2-proxy's config file in its ConfigMap.
pub const CFG_KEY: &str = "oauth2_proxy.cfg";

/// Where oauth2-proxy is in the input.
#[derive(Debug, Clone)]
pub struct ProxyFound {
    /// Namespace of the Deployment.
    pub namespace: Option<String>,
    /// Name of the ConfigMap holding `oauth2_proxy.cfg`.
    pub cfg_map: String,
    /// For each `OAUTH2_PROXY_*` variable read from a ConfigMap: (variable, ConfigMap, key).
    pub parameters: Vec<(String, String, String)>,
}

/// Finds oauth2-proxy's Deployment, its config ConfigMap and the parameters its env reads.
/// The error is boxed: a result is large, and the found case is the common one.
pub fn locate(items: &[Value]) -> Result<ProxyFound, Box<KrmResult>> {
    let deployment = first(items, Selector::of("apps", "Deployment").named("oauth2-proxy")).ok_or_else(|| {
        Box::new(KrmResult::error("no Deployment oauth2-proxy in the input (is the login stack, common/oauth2-proxy, in this render?)").at("mode"))
    })?;
    let namespace = object::namespace(&items[deployment]).map(str::to_string);
    let in_ns = |i: &Value| object::namespace(i) == namespace.as_deref();
    let cfg_map = items
        .iter()
        .find(|i| Selector::core("ConfigMap").matches(i) && in_ns(i) && i.pointer("/data").and_then(|d| d.get(CFG_KEY)).is_some())
        .map(|i| object::name(i).to_string())
        .ok_or_else(|| Box::new(KrmResult::error(format!("no ConfigMap with key {CFG_KEY} beside Deployment oauth2-proxy")).on(&items[deployment])))?;
    let mut parameters = Vec::new();
    pod::for_each_container(&items[deployment], |c, _| {
        let Some(env) = c.get("env").and_then(Value::as_array) else { return };
        for e in env {
            let (Some(name), Some(cm), Some(key)) = (
                e.get("name").and_then(Value::as_str),
                e.pointer("/valueFrom/configMapKeyRef/name").and_then(Value::as_str),
                e.pointer("/valueFrom/configMapKeyRef/key").and_then(Value::as_str),
            ) else {
                continue;
            };
            parameters.push((name.to_string(), cm.to_string(), key.to_string()));
        }
    });
    Ok(ProxyFound { namespace, cfg_map, parameters })
}

/// Applies `edit` to `oauth2_proxy.cfg`, with an info result listing the changes.
fn edit_cfg(proxy: &ProxyFound, items: &mut [Value], results: &mut Vec<KrmResult>, edit: impl FnOnce(&mut Cfg) -> Vec<String>) {
    let Some(index) = items.iter().position(|i| {
        Selector::core("ConfigMap").named(&proxy.cfg_map).matches(i) && object::namespace(i) == proxy.namespace.as_deref()
    }) else {
        return;
    };
    let Some(text) = items[index].pointer("/data").and_then(|d| d.get(CFG_KEY)).and_then(Value::as_str) else { return };
    let mut cfg = Cfg::parse(text);
    let changes = edit(&mut cfg);
    let new = cfg.text();
    if new != text {
        items[index]["data"][CFG_KEY] = Value::String(new);
        let path = FieldPath::root().key("data").key(CFG_KEY);
        results.push(KrmResult::info(format!("oauth2-proxy: {}", changes.join("; "))).on(&items[index]).at(path.to_string()));
    }
}

/// Sets `key`, noting the change.
fn set(cfg: &mut Cfg, changes: &mut Vec<String>, key: &str, value: Toml) {
    let shown = match &value {
        Toml::Str(s) => s.clone(),
        Toml::Bool(b) => b.to_string(),
        Toml::List(l) => l.join(", "),
    };
    if cfg.set(key, &value) {
        changes.push(format!("{key} = {shown}"));
    }
}

/// Removes `key`, noting the change.
fn remove(cfg: &mut Cfg, changes: &mut Vec<String>, key: &str, why: &str) {
    if cfg.remove(key) {
        changes.push(format!("{key} removed ({why})"));
    }
}

/// Removes `key` with the comment that explains it (dex's settings, in mode oidc).
fn remove_explained(cfg: &mut Cfg, changes: &mut Vec<String>, key: &str, why: &str) {
    if cfg.remove_with_comment(key) {
        changes.push(format!("{key} removed ({why})"));
    }
}

/// `mode: dex`: oauth2-proxy trusts dex's issuer, sends browsers to dex's public URL and
/// redeems codes and fetches keys inside the cluster.
pub fn apply_dex(config: &ExternalIdentityProviderConfig, proxy: &ProxyFound, found: &DexFound, items: &mut [Value], results: &mut Vec<KrmResult>) {
    let issuer = config.dex_issuer().to_string();
    let internal = found.internal(&issuer);
    let login = if issuer == IN_CLUSTER_DEX_ISSUER { "/dex/auth".to_string() } else { format!("{issuer}/auth") };
    edit_cfg(proxy, items, results, |cfg| {
        let mut changes = Vec::new();
        set(cfg, &mut changes, "oidc_issuer_url", Toml::Str(issuer.clone()));
        set(cfg, &mut changes, "skip_oidc_discovery", Toml::Bool(true));
        set(cfg, &mut changes, "login_url", Toml::Str(login));
        set(cfg, &mut changes, "redeem_url", Toml::Str(format!("{internal}/token")));
        set(cfg, &mut changes, "oidc_jwks_url", Toml::Str(format!("{internal}/keys")));
        changes
    });
}

/// `mode: oidc`: oauth2-proxy discovers the provider and sends browsers there.
pub fn apply_oidc(oidc: &OidcConfig, proxy: &ProxyFound, items: &mut [Value], results: &mut Vec<KrmResult>) {
    edit_cfg(proxy, items, results, |cfg| {
        let mut changes = Vec::new();
        set(cfg, &mut changes, "oidc_issuer_url", Toml::Str(oidc.issuer.clone()));
        for key in ["skip_oidc_discovery", "login_url", "redeem_url", "oidc_jwks_url"] {
            remove_explained(cfg, &mut changes, key, "discovery finds it");
        }
        remove(cfg, &mut changes, "relative_redirect_url", "the provider needs the absolute callback URL");
        remove_explained(cfg, &mut changes, "prompt", "dex's workaround; the provider's default applies");
        set(cfg, &mut changes, "redirect_url", Toml::Str(oidc.redirect_url.clone()));
        set(cfg, &mut changes, "provider_display_name", Toml::Str(oidc.display_name.clone()));
        for (key, claim, default) in [("oidc_email_claim", &oidc.claims.user_id, "email"), ("oidc_groups_claim", &oidc.claims.groups, "groups")] {
            if claim == default {
                remove(cfg, &mut changes, key, "the default");
            } else {
                set(cfg, &mut changes, key, Toml::Str(claim.clone()));
            }
        }
        let removed = cfg.remove_from_list("skip_auth_routes", &["^/dex/"]);
        if !removed.is_empty() {
            changes.push("skip_auth_routes without ^/dex/ (dex is removed)".into());
            if cfg.list("skip_auth_routes").is_some_and(|l| l.is_empty()) {
                cfg.remove_with_comment("skip_auth_routes");
            }
        }
        changes
    });
}

/// Both modes: scopes, e-mail domains and groups, TLS verification, secure cookies, and the
/// extra JWT issuers that named dex's old issuer.
pub fn apply_common(config: &ExternalIdentityProviderConfig, proxy: &ProxyFound, old_issuer: Option<&str>, items: &mut [Value], results: &mut Vec<KrmResult>) {
    edit_cfg(proxy, items, results, |cfg| {
        let mut changes = Vec::new();
        set(cfg, &mut changes, "scope", Toml::Str(config.scopes().join(" ")));
        set(cfg, &mut changes, "email_domains", Toml::List(config.allowed_email_domains.clone()));
        if config.allowed_groups.is_empty() {
            remove(cfg, &mut changes, "allowed_groups", "no group check");
        } else {
            set(cfg, &mut changes, "allowed_groups", Toml::List(config.allowed_groups.clone()));
        }
        changes
    });
    let secure = if config.secure_cookies { "true" } else { "false" };
    set_parameter(proxy, "OAUTH2_PROXY_SSL_INSECURE_SKIP_VERIFY", |_| Some("false".into()), "TLS verification of the identity provider on", items, results);
    set_parameter(proxy, "OAUTH2_PROXY_COOKIE_SECURE", |_| Some(secure.into()), "session cookie sent over https only", items, results);
    let issuers: Vec<&str> = [old_issuer, Some(IN_CLUSTER_DEX_ISSUER)].into_iter().flatten().collect();
    let new_issuer = match config.mode {
        Mode::Dex => Some(config.dex_issuer().to_string()),
        Mode::Oidc => None,
    };
    set_parameter(
        proxy,
        "OAUTH2_PROXY_EXTRA_JWT_ISSUERS",
        |current| {
            let entries: Vec<String> = current
                .split(',')
                .filter(|e| !e.trim().is_empty())
                .filter_map(|e| {
                    let (iss, aud) = e.split_once('=').unwrap_or((e, ""));
                    if issuers.contains(&iss.trim()) || new_issuer.as_deref() == Some(iss.trim()) {
                        new_issuer.as_ref().map(|n| format!("{n}={aud}"))
                    } else {
                        Some(e.to_string())
                    }
                })
                .collect();
            let mut seen = Vec::new();
            let entries: Vec<String> = entries.into_iter().filter(|e| if seen.contains(e) { false } else { seen.push(e.clone()); true }).collect();
            Some(entries.join(","))
        },
        if new_issuer.is_some() { "extra JWT issuers follow dex's issuer" } else { "dex's issuer is no longer trusted (dex is removed)" },
        items,
        results,
    );
}

/// Sets the value a `OAUTH2_PROXY_*` variable reads from its ConfigMap (or its literal value).
fn set_parameter(
    proxy: &ProxyFound,
    variable: &str,
    value: impl FnOnce(&str) -> Option<String>,
    why: &str,
    items: &mut [Value],
    results: &mut Vec<KrmResult>,
) {
    if let Some((_, cm, key)) = proxy.parameters.iter().find(|(v, _, _)| v == variable) {
        let Some(index) = items.iter().position(|i| {
            Selector::core("ConfigMap").named(cm).matches(i) && object::namespace(i) == proxy.namespace.as_deref()
        }) else {
            return;
        };
        let current = items[index].pointer("/data").and_then(|d| d.get(key)).and_then(Value::as_str).map(str::to_string);
        let Some(current) = current else { return };
        if let Some(new) = value(&current) {
            if new != current {
                items[index]["data"][key.as_str()] = Value::String(new.clone());
                let path = FieldPath::root().key("data").key(key);
                results.push(KrmResult::info(format!("{key} = {new:?}: {why} ({variable})")).on(&items[index]).at(path.to_string()));
            }
        }
        return;
    }
    let Some(index) = items.iter().position(|i| {
        Selector::of("apps", "Deployment").named("oauth2-proxy").matches(i) && object::namespace(i) == proxy.namespace.as_deref()
    }) else {
        return;
    };
    let mut note = None;
    let mut value = Some(value);
    pod::for_each_container_mut(&mut items[index], |c| {
        let Some(env) = c.container.get_mut("env").and_then(Value::as_array_mut) else { return };
        let Some(i) = pod::env_index(env, variable) else { return };
        let Some(current) = env[i].get("value").and_then(Value::as_str).map(str::to_string) else { return };
        let Some(f) = value.take() else { return };
        if let Some(new) = f(&current) {
            if new != current {
                env[i]["value"] = Value::String(new.clone());
                note = Some(KrmResult::info(format!("{variable} = {new:?}: {why}")).at(c.path.key("env").entry(Some(variable), i).to_string()));
            }
        }
    });
    if let Some(n) = note {
        results.push(n.on(&items[index]));
    }
}

/// The warning about what this function cannot check: the cookie secret's length.
pub fn cookie_secret_warning(config: &ExternalIdentityProviderConfig, items: &[Value]) -> Option<KrmResult> {
    if config.cookie_secret_bytes.is_some() {
        return None;
    }
    let deployment = first(items, Selector::of("apps", "Deployment").named("oauth2-proxy"))?;
    Some(
        KrmResult::warning(format!(
            "oauth2-proxy starts only with a cookie secret of 16, 24 or 32 bytes, or the URL-safe base64 of that many (pkg/encryption/utils.go, SecretBytes; pkg/validation/cookie.go, validateCookieSecret): make key {} of Secret {} one (openssl rand -base64 32 | tr -- '+/' '-_'), and set cookieSecretBytes to say so",
            config.keys.cookie_secret_key, config.secret_name
        ))
        .on(&items[deployment]),
    )
}
