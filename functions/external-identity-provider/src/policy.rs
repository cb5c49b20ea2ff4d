//! The login's e-mail and group rules, for tokens too.
//!
//! oauth2-proxy checks `email_domains` and `allowed_groups` at login, but Kubeflow's gateway
//! sends a request that carries an `Authorization` header past oauth2-proxy (the CUSTOM policy
//! `istio-ingressgateway-oauth2-proxy` applies only `when request.headers[authorization]
//! notValues ["*"]`, facts §10.7), to be checked by the RequestAuthentications alone. A token the
//! provider issued for Kubeflow's client to a user outside the allowed domains or groups would
//! get in that way. So when the rules restrict anything, a DENY AuthorizationPolicy beside the
//! login's RequestAuthentication refuses the login issuer's tokens whose e-mail claim does not
//! end in an allowed domain (Istio suffix values `*@example.com`; `*.example.com` for
//! subdomains) or whose groups claim holds none of the allowed groups (for a list claim Istio
//! matches when any element matches: `security/v1beta1/authorization.proto`, `Condition`).

use serde_json::{Value, json};

use krm_core::KrmResult;
use kubeflow_common::k8s::{Selector, generate};

use crate::config::{ExternalIdentityProviderConfig, Mode};

/// Name of the DENY policy.
pub const POLICY: &str = "login-required-claims";

/// Istio values for oauth2-proxy's e-mail domains; `None` when any domain is allowed.
fn email_values(domains: &[String]) -> Option<Vec<String>> {
    if domains.iter().any(|d| d == "*") {
        return None;
    }
    Some(
        domains
            .iter()
            .map(|d| match d.strip_prefix("*.").or_else(|| d.strip_prefix('.')) {
                Some(parent) => format!("*.{parent}"),
                None => format!("*@{d}"),
            })
            .collect(),
    )
}

/// Creates, updates or deletes the DENY policy for the login issuer's tokens.
pub fn apply(config: &ExternalIdentityProviderConfig, items: &mut Vec<Value>, results: &mut Vec<KrmResult>) {
    let (issuer, user_claim, groups_claim) = match (config.mode, &config.oidc) {
        (Mode::Oidc, Some(o)) => (o.issuer.clone(), o.claims.user_id.clone(), o.claims.groups.clone()),
        _ => (config.dex_issuer().to_string(), "email".to_string(), "groups".to_string()),
    };
    let from = json!([{"source": {"requestPrincipals": [format!("{issuer}/*")]}}]);
    let mut rules = Vec::new();
    if let Some(values) = email_values(&config.allowed_email_domains) {
        rules.push(json!({"from": from, "when": [{"key": format!("request.auth.claims[{user_claim}]"), "notValues": values}]}));
    }
    if !config.allowed_groups.is_empty() {
        rules.push(json!({"from": from, "when": [{"key": format!("request.auth.claims[{groups_claim}]"), "notValues": config.allowed_groups}]}));
    }
    let existing = items.iter().position(|i| Selector::of("security.istio.io", "AuthorizationPolicy").named(POLICY).matches(i));
    if rules.is_empty() {
        if let Some(index) = existing {
            results.push(KrmResult::info("deleted: any e-mail domain and group may log in now").on(&items[index]));
            items.remove(index);
        }
        return;
    }
    // Beside the RequestAuthentication that trusts the issuer (dex-jwt or oidc-jwt).
    let ra = items.iter().find(|i| {
        Selector::of("security.istio.io", "RequestAuthentication").matches(i)
            && i.pointer("/spec/jwtRules").and_then(Value::as_array).is_some_and(|r| r.iter().any(|r| r.get("issuer").and_then(Value::as_str) == Some(&issuer)))
    });
    let namespace = ra.and_then(|r| r.pointer("/metadata/namespace").cloned()).unwrap_or(json!("istio-system"));
    let selector = ra.and_then(|r| r.pointer("/spec/selector").cloned()).unwrap_or(json!({"matchLabels": {"app": "istio-ingressgateway"}}));
    let spec = json!({"action": "DENY", "rules": rules, "selector": selector});
    let what = format!("denies {issuer} tokens outside allowedEmailDomains / allowedGroups (they skip oauth2-proxy at the gateway)");
    match existing {
        Some(index) => {
            if items[index].get("spec") != Some(&spec) {
                items[index]["spec"] = spec;
                results.push(KrmResult::info(format!("updated: {what}")).on(&items[index]).at("spec"));
            }
        }
        None => {
            let policy = json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "AuthorizationPolicy",
                "metadata": {"name": POLICY, "namespace": namespace, "labels": {"app.kubernetes.io/managed-by": "kubeflow-krm"}},
                "spec": spec,
            });
            let index = generate::insert(items, policy);
            results.push(KrmResult::info(format!("created: {what}")).on(&items[index]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_domains_become_suffix_values() {
        assert_eq!(email_values(&["*".into()]), None);
        assert_eq!(
            email_values(&["example.com".into(), ".corp.example".into(), "*.lab.example".into()]),
            Some(vec!["*@example.com".into(), "*.corp.example".into(), "*.lab.example".into()])
        );
    }
}
