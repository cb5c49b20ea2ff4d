//! `mode: oidc`: dex goes, and the gateway trusts the provider's tokens instead of dex's.
//!
//! dex's objects in every render (facts §11): Deployment, Service, VirtualService, ConfigMap,
//! ServiceAccount `dex` in namespace `auth`; ClusterRole and ClusterRoleBinding `dex`; the
//! `*.dex.coreos.com` CRDs (dex's kubernetes storage); Secrets `dex-oidc-client` and
//! `dex-passwords`; RequestAuthentication `istio-system/dex-jwt`; the gateway policies'
//! `notPaths` `/dex/*` and `/dex/**`. Namespace `auth` holds nothing else but NetworkPolicies
//! for dex, so it goes too, unless something else is in it (then it stays, with a warning).
//!
//! The new RequestAuthentication keeps dex-jwt's place (namespace and selector), its token
//! location (`fromHeaders`, `forwardOriginalToken`) and header mapping (`kubeflow-userid`,
//! `kubeflow-groups`, claims configurable), and adds the audiences: Istio accepts any `aud`
//! when a rule has none (`security/v1/request_authentication.proto`, `audiences`), and a public
//! provider's tokens are issued to every application that uses it.

use serde::Serialize;
use serde_json::{Value, json};

use krm_core::KrmResult;
use kubeflow_common::credentials;
use kubeflow_common::k8s::{Selector, generate, object};

use crate::config::{IN_CLUSTER_DEX_ISSUER, OidcConfig};

/// Name of the RequestAuthentication for the provider.
pub const REQUEST_AUTHENTICATION: &str = "oidc-jwt";
/// Paths the gateway policies let through for dex.
const DEX_PATHS: [&str; 2] = ["/dex/*", "/dex/**"];

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JwtRule {
    issuer: String,
    audiences: Vec<String>,
    forward_original_token: Value,
    from_headers: Value,
    output_claim_to_headers: Value,
}

/// Removes the rules that trust dex from every RequestAuthentication (an RA left without rules
/// goes) and puts the provider's rule in `oidc-jwt` beside where dex's was.
pub fn replace_request_authentication(oidc: &OidcConfig, old: Option<&str>, items: &mut Vec<Value>, results: &mut Vec<KrmResult>) {
    let dex_issuers: Vec<&str> = [old, Some(IN_CLUSTER_DEX_ISSUER)].into_iter().flatten().collect();
    let mut place: Option<(Option<String>, Value)> = None;
    let mut template: Option<Value> = None;
    let mut emptied = Vec::new();
    for (index, item) in items.iter_mut().enumerate() {
        if !Selector::of("security.istio.io", "RequestAuthentication").matches(item) || object::name(item) == REQUEST_AUTHENTICATION {
            continue;
        }
        let ns = object::namespace(item).map(str::to_string);
        let selector = item.pointer("/spec/selector").cloned().unwrap_or(Value::Null);
        let Some(rules) = item.pointer_mut("/spec/jwtRules").and_then(Value::as_array_mut) else { continue };
        let before = rules.len();
        let mut removed = Vec::new();
        rules.retain(|r| {
            let dex = r.get("issuer").and_then(Value::as_str).is_some_and(|i| dex_issuers.contains(&i));
            if dex {
                removed.push(r.clone());
            }
            !dex
        });
        if removed.is_empty() {
            continue;
        }
        template.get_or_insert(removed[0].clone());
        place.get_or_insert((ns, selector));
        if rules.is_empty() {
            emptied.push(index);
            results.push(KrmResult::info(format!("deleted: it only trusted dex; {REQUEST_AUTHENTICATION} trusts {} now", oidc.issuer)).on(item));
        } else {
            results.push(
                KrmResult::info(format!("removed {} rule(s) for dex's issuer; {REQUEST_AUTHENTICATION} trusts {} now", before - rules.len(), oidc.issuer))
                    .on(item)
                    .at("spec.jwtRules"),
            );
        }
    }
    for index in emptied.into_iter().rev() {
        items.remove(index);
    }
    let existing = items.iter().position(|i| Selector::of("security.istio.io", "RequestAuthentication").named(REQUEST_AUTHENTICATION).matches(i));
    let template = template.or_else(|| existing.and_then(|e| items[e].pointer("/spec/jwtRules/0").cloned())).unwrap_or(Value::Null);
    let rule = JwtRule {
        issuer: oidc.issuer.clone(),
        audiences: oidc.audiences.clone(),
        forward_original_token: template.get("forwardOriginalToken").cloned().unwrap_or(json!(true)),
        from_headers: template.get("fromHeaders").cloned().unwrap_or(json!([{"name": "Authorization", "prefix": "Bearer "}])),
        output_claim_to_headers: json!([
            {"claim": oidc.claims.user_id, "header": "kubeflow-userid"},
            {"claim": oidc.claims.groups, "header": "kubeflow-groups"},
        ]),
    };
    let rule = serde_json::to_value(rule).expect("a rule serializes");
    match existing {
        Some(index) => {
            // The provider's rule replaces the one for its issuer; rules the user added stay.
            let mut rules: Vec<Value> = items[index].pointer("/spec/jwtRules").and_then(Value::as_array).cloned().unwrap_or_default();
            match rules.iter().position(|r| r.get("issuer").and_then(Value::as_str) == Some(&oidc.issuer)) {
                Some(i) => rules[i] = rule,
                None => rules.insert(0, rule),
            }
            let mut spec = items[index].get("spec").cloned().unwrap_or(json!({}));
            spec["jwtRules"] = Value::Array(rules);
            if items[index].get("spec") != Some(&spec) {
                items[index]["spec"] = spec;
                results.push(KrmResult::info(format!("updated: trusts {} for audiences {}", oidc.issuer, oidc.audiences.join(", "))).on(&items[index]).at("spec"));
            }
        }
        None => {
            let (ns, selector) = place.unwrap_or((Some("istio-system".into()), json!({"matchLabels": {"app": "istio-ingressgateway"}})));
            let ra = json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "RequestAuthentication",
                "metadata": {"name": REQUEST_AUTHENTICATION, "namespace": ns, "labels": {"app.kubernetes.io/managed-by": "kubeflow-krm"}},
                "spec": {"jwtRules": [rule], "selector": selector},
            });
            let index = generate::insert(items, ra);
            results.push(
                KrmResult::info(format!(
                    "created: trusts {} for audiences {}, claims {} and {} to kubeflow-userid and kubeflow-groups",
                    oidc.issuer,
                    oidc.audiences.join(", "),
                    oidc.claims.user_id,
                    oidc.claims.groups
                ))
                .on(&items[index]),
            );
        }
    }
}

/// True for an object that exists only for dex.
fn is_dex_object(item: &Value) -> bool {
    let name = object::name(item);
    let dex_named = |kind: &str, group: &str| Selector::of(group, kind).named("dex").matches(item);
    dex_named("Deployment", "apps")
        || dex_named("Service", "")
        || dex_named("ConfigMap", "")
        || dex_named("ServiceAccount", "")
        || dex_named("VirtualService", "networking.istio.io")
        || dex_named("ClusterRole", "rbac.authorization.k8s.io")
        || dex_named("ClusterRoleBinding", "rbac.authorization.k8s.io")
        || Selector::core("Secret").named("dex-oidc-client").matches(item)
        || Selector::core("Secret").named("dex-passwords").matches(item)
        || (Selector::of("apiextensions.k8s.io", "CustomResourceDefinition").matches(item) && name.ends_with(".dex.coreos.com"))
}

/// Removes dex (see the module docs) and the gateway's exemptions for its paths.
pub fn remove_dex(items: &mut Vec<Value>, results: &mut Vec<KrmResult>) {
    let dex_ns: Option<String> = items
        .iter()
        .find(|i| Selector::of("apps", "Deployment").named("dex").matches(i))
        .map(|i| object::namespace(i).unwrap_or_default().to_string());
    let mut remove: Vec<usize> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if is_dex_object(item) {
            results.push(KrmResult::info("deleted: dex is removed (mode oidc)").on(item));
            remove.push(index);
        }
    }
    if let Some(ns) = &dex_ns {
        let others: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(i, item)| !remove.contains(i) && object::namespace(item) == Some(ns.as_str()))
            .map(|(i, _)| i)
            .collect();
        let only_dex_leftovers = others.iter().all(|&i| {
            let item = &items[i];
            Selector::of("networking.k8s.io", "NetworkPolicy").matches(item)
                || credentials::central_external_secret(item).is_some()
        });
        let namespace = items.iter().position(|i| Selector::core("Namespace").named(ns).matches(i) && object::name(i) == ns);
        if only_dex_leftovers {
            for i in others.into_iter().chain(namespace) {
                results.push(KrmResult::info(format!("deleted: namespace {ns} only held dex")).on(&items[i]));
                remove.push(i);
            }
        } else if let Some(n) = namespace {
            let names: Vec<String> = others
                .iter()
                .filter(|&&i| !Selector::of("networking.k8s.io", "NetworkPolicy").matches(&items[i]))
                .take(3)
                .map(|&i| format!("{} {}", object::kind(&items[i]), object::name(&items[i])))
                .collect();
            results.push(
                KrmResult::warning(format!("kept: namespace {ns} held dex but also {}; its NetworkPolicies for dex stay too", names.join(", ")))
                    .on(&items[n]),
            );
        }
    }
    remove.sort_unstable();
    remove.dedup();
    for index in remove.into_iter().rev() {
        items.remove(index);
    }
    remove_dex_paths(items, results);
}

/// Drops `/dex/*` and `/dex/**` from the `notPaths` of every AuthorizationPolicy: with dex gone
/// they would only exempt paths from login.
fn remove_dex_paths(items: &mut [Value], results: &mut Vec<KrmResult>) {
    for item in items.iter_mut() {
        if !Selector::of("security.istio.io", "AuthorizationPolicy").matches(item) {
            continue;
        }
        let mut notes = Vec::new();
        let Some(rules) = item.pointer_mut("/spec/rules").and_then(Value::as_array_mut) else { continue };
        for (r, rule) in rules.iter_mut().enumerate() {
            let Some(to) = rule.get_mut("to").and_then(Value::as_array_mut) else { continue };
            for (t, entry) in to.iter_mut().enumerate() {
                let Some(op) = entry.get_mut("operation").and_then(Value::as_object_mut) else { continue };
                let Some(paths) = op.get_mut("notPaths").and_then(Value::as_array_mut) else { continue };
                let before = paths.len();
                paths.retain(|p| !p.as_str().is_some_and(|p| DEX_PATHS.contains(&p)));
                if paths.len() != before {
                    let empty = paths.is_empty();
                    if empty {
                        op.shift_remove("notPaths");
                    }
                    notes.push(
                        KrmResult::info("removed /dex/ paths from notPaths: dex is removed, so they would only skip login")
                            .at(format!("spec.rules[{r}].to[{t}].operation.notPaths")),
                    );
                }
            }
        }
        for n in notes {
            results.push(n.on(item));
        }
    }
}
