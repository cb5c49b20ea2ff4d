//! add-request-authentication: trusts extra JWT issuers at the Kubeflow gateway with one Istio
//! RequestAuthentication per issuer (audiences required), and pins required claims with a DENY
//! AuthorizationPolicy.
//!
//! The whole logic is here; the reference docs are `README.md` beside this file.

pub mod config;

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::{Map, Value};

use kubeflow_common::k8s::{FieldPath, Selector, generate, object};
use krm_core::{Function, KrmResult};
pub use config::{AddRequestAuthenticationConfig, ClaimToHeader, FromHeader, Issuer};

/// The `add-request-authentication` function.
pub struct AddRequestAuthentication;

/// The function as the process runner and `kubeflow-krm`'s dispatch take it.
pub static FUNCTION: krm_core::Registered<AddRequestAuthentication> = krm_core::Registered::new();

const GROUP: &str = "security.istio.io";
const API_VERSION: &str = "security.istio.io/v1";
const REQUEST_AUTHENTICATION: &str = "RequestAuthentication";
const AUTHORIZATION_POLICY: &str = "AuthorizationPolicy";
/// The label that marks the objects this function created (and may update).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Its value.
pub const MANAGED_BY: &str = "kubeflow-krm";
/// Suffix of the required-claims AuthorizationPolicy's name.
const REQUIRED_CLAIMS_SUFFIX: &str = "-required-claims";

impl Function for AddRequestAuthentication {
    const NAME: &'static str = "add-request-authentication";
    const KIND: &'static str = "AddRequestAuthentication";
    const DOC: &'static str = include_str!("../README.md");
    type Config = AddRequestAuthenticationConfig;

    fn process(config: &AddRequestAuthenticationConfig, items: &mut Vec<Value>) -> Vec<KrmResult> {
        let desired = desired_objects(config);
        let mut results = trust_conflicts(config, items);
        let actions: Vec<Action> = desired.iter().map(|d| plan(config, d, items, &mut results)).collect();
        if results.iter().any(KrmResult::is_error) {
            return results;
        }
        // Updates first: the planned indexes hold only until a created object is inserted.
        let mut notes: Vec<Option<KrmResult>> = vec![None; desired.len()];
        for (n, (d, action)) in desired.iter().zip(&actions).enumerate() {
            if let Action::Update(index) = *action {
                if let Some(obj) = items[index].as_object_mut() {
                    object::insert_sorted(obj, "spec", d.value["spec"].clone());
                }
                notes[n] = Some(KrmResult::info(format!("updated: {}", d.summary)).on(&items[index]).at("spec"));
            }
        }
        for (n, (d, action)) in desired.iter().zip(&actions).enumerate() {
            if let Action::Create = action {
                let index = generate::insert(items, d.value.clone());
                notes[n] = Some(KrmResult::info(format!("created: {}", d.summary)).on(&items[index]));
            }
        }
        results.extend(notes.into_iter().flatten());
        if !requires_jwt(config, items) {
            results.push(KrmResult::warning(format!(
                "no DENY AuthorizationPolicy in namespace {} requires a token at workloads {} (like Kubeflow's istio-ingressgateway-require-jwt, with notRequestPrincipals [\"*\"]): the tokens of these issuers are checked when present, but nothing requires one",
                config.namespace,
                selector_text(&config.selector)
            )));
        }
        results
    }
}

// ---------------------------------------------------------------------------------------------
// The objects this function emits (Istio CRDs: local serde structs, field order = output order).

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<'a, S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata<'a>,
    spec: S,
}

#[derive(Serialize)]
struct Metadata<'a> {
    name: String,
    namespace: &'a str,
    labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WorkloadSelector<'a> {
    match_labels: &'a IndexMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestAuthenticationSpec<'a> {
    selector: WorkloadSelector<'a>,
    jwt_rules: Vec<JwtRule<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JwtRule<'a> {
    issuer: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks_uri: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwks: Option<&'a str>,
    audiences: &'a [String],
    forward_original_token: bool,
    from_headers: &'a [FromHeader],
    #[serde(skip_serializing_if = "<[ClaimToHeader]>::is_empty")]
    output_claim_to_headers: &'a [ClaimToHeader],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuthorizationPolicySpec<'a> {
    selector: WorkloadSelector<'a>,
    action: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
struct Rule {
    from: Vec<From>,
    when: Vec<Condition>,
}

#[derive(Serialize)]
struct From {
    source: Source,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    request_principals: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Condition {
    key: String,
    not_values: Vec<String>,
}

/// One object to emit, with what it does (for results).
struct Desired {
    /// Index of the issuer in the config.
    issuer: usize,
    kind: &'static str,
    name: String,
    value: Value,
    summary: String,
}

fn metadata<'a>(name: String, config: &'a AddRequestAuthenticationConfig) -> Metadata<'a> {
    Metadata { name, namespace: &config.namespace, labels: BTreeMap::from([(MANAGED_BY_LABEL, MANAGED_BY)]) }
}

/// The request principal pattern of every token of an issuer (`<iss>/<sub>`).
pub fn principal_pattern(issuer: &str) -> String {
    format!("{issuer}/*")
}

fn desired_objects(config: &AddRequestAuthenticationConfig) -> Vec<Desired> {
    let mut out = Vec::new();
    let selector = || WorkloadSelector { match_labels: &config.selector };
    for (i, issuer) in config.issuers.iter().enumerate() {
        let ra = Object {
            api_version: API_VERSION,
            kind: REQUEST_AUTHENTICATION,
            metadata: metadata(issuer.name.clone(), config),
            spec: RequestAuthenticationSpec {
                selector: selector(),
                jwt_rules: vec![JwtRule {
                    issuer: &issuer.issuer,
                    jwks_uri: issuer.jwks_uri.as_deref(),
                    jwks: issuer.jwks.as_deref(),
                    audiences: &issuer.audiences,
                    forward_original_token: issuer.forward_original_token,
                    from_headers: &issuer.from_headers,
                    output_claim_to_headers: &issuer.output_claim_to_headers,
                }],
            },
        };
        out.push(Desired {
            issuer: i,
            kind: REQUEST_AUTHENTICATION,
            name: issuer.name.clone(),
            value: serde_json::to_value(&ra).expect("a RequestAuthentication serializes"),
            summary: format!(
                "trusts tokens of {} for audience{} {} at workloads {}",
                issuer.issuer,
                if issuer.audiences.len() == 1 { "" } else { "s" },
                issuer.audiences.join(", "),
                selector_text(&config.selector)
            ),
        });
        if issuer.required_claims.is_empty() && issuer.required_claim_patterns.is_empty() {
            continue;
        }
        let rules = issuer
            .required_claims
            .iter()
            .chain(&issuer.required_claim_patterns)
            .map(|(claim, values)| Rule {
                from: vec![From { source: Source { request_principals: vec![principal_pattern(&issuer.issuer)] } }],
                when: vec![Condition { key: format!("request.auth.claims[{claim}]"), not_values: values.clone() }],
            })
            .collect();
        let name = format!("{}{REQUIRED_CLAIMS_SUFFIX}", issuer.name);
        let ap = Object {
            api_version: API_VERSION,
            kind: AUTHORIZATION_POLICY,
            metadata: metadata(name.clone(), config),
            spec: AuthorizationPolicySpec { selector: selector(), action: "DENY", rules },
        };
        let claims: Vec<String> = issuer
            .required_claims
            .iter()
            .map(|(c, v)| format!("{c} in [{}]", v.join(", ")))
            .chain(issuer.required_claim_patterns.iter().map(|(c, v)| format!("{c} matches [{}]", v.join(", "))))
            .collect();
        out.push(Desired {
            issuer: i,
            kind: AUTHORIZATION_POLICY,
            name,
            value: serde_json::to_value(&ap).expect("an AuthorizationPolicy serializes"),
            summary: format!("denies tokens of {} unless {}", issuer.issuer, claims.join(" and ")),
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// What is already there.

/// True if this function created the item (and so may update it).
fn is_own(item: &Value) -> bool {
    object::label(item, MANAGED_BY_LABEL) == Some(MANAGED_BY)
}

/// True if the item is (or, without a namespace, may be deployed) in the configured namespace.
fn in_namespace(item: &Value, config: &AddRequestAuthenticationConfig) -> bool {
    object::namespace(item).is_none_or(|ns| ns == config.namespace)
}

/// `spec.selector.matchLabels` of an Istio policy: `Some(empty)` without a selector (the policy
/// applies to every workload of its namespace), `None` if the policy targets resources
/// (`targetRef`/`targetRefs`, Gateway API) or the selector is not a label map.
fn match_labels(item: &Value) -> Option<Map<String, Value>> {
    let spec = item.get("spec")?;
    if spec.get("targetRef").is_some() || spec.get("targetRefs").is_some() {
        return None;
    }
    match spec.get("selector").and_then(|s| s.get("matchLabels")) {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => None,
    }
}

/// True if a policy with these labels may apply to a workload the configured selector selects:
/// no label key has different values in the two (a pod can carry both sets of labels).
fn overlaps(labels: &Map<String, Value>, selector: &IndexMap<String, String>) -> bool {
    labels.iter().all(|(k, v)| selector.get(k).is_none_or(|want| v.as_str() == Some(want)))
}

/// True if a policy with these labels applies to every workload the configured selector selects.
fn covers(labels: &Map<String, Value>, selector: &IndexMap<String, String>) -> bool {
    labels.iter().all(|(k, v)| selector.get(k).is_some_and(|want| v.as_str() == Some(want)))
}

fn selector_text(selector: &IndexMap<String, String>) -> String {
    selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Errors for every configured issuer that another RequestAuthentication on the same workloads
/// already trusts.
fn trust_conflicts(config: &AddRequestAuthenticationConfig, items: &[Value]) -> Vec<KrmResult> {
    let mut results = Vec::new();
    let ras = Selector::of(GROUP, REQUEST_AUTHENTICATION);
    for item in items.iter().filter(|i| ras.matches(i) && in_namespace(i, config)) {
        if !match_labels(item).is_some_and(|l| overlaps(&l, &config.selector)) {
            continue;
        }
        let rules = item.get("spec").and_then(|s| s.get("jwtRules")).and_then(Value::as_array);
        for (j, rule) in rules.into_iter().flatten().enumerate() {
            let Some(trusted) = rule.get("issuer").and_then(Value::as_str) else { continue };
            for (i, issuer) in config.issuers.iter().enumerate() {
                if issuer.issuer != trusted || (is_own(item) && object::name(item) == issuer.name) {
                    continue;
                }
                let path = FieldPath::from_keys(&["spec", "jwtRules"]).entry(None, j).key("issuer");
                results.push(
                    KrmResult::error(format!(
                        "issuers[{i}].issuer {trusted} ({}) is already trusted by this RequestAuthentication, which applies to the same workloads ({}): Istio would validate the issuer's tokens under two sets of rules; drop the issuer from the functionConfig or from this object",
                        issuer.name,
                        selector_text(&config.selector)
                    ))
                    .on(item)
                    .at(path),
                );
            }
        }
    }
    results
}

enum Action {
    Create,
    Update(usize),
    Keep,
    /// A foreign object has the name (the error is in the results).
    Refused,
}

/// What to do for one desired object; an error result if a foreign object has its name.
fn plan(config: &AddRequestAuthenticationConfig, d: &Desired, items: &[Value], results: &mut Vec<KrmResult>) -> Action {
    let selector = Selector::of(GROUP, d.kind);
    let Some(index) = items
        .iter()
        .position(|i| selector.matches(i) && object::name(i) == d.name && in_namespace(i, config))
    else {
        return Action::Create;
    };
    let existing = &items[index];
    if !is_own(existing) {
        let field = if d.kind == REQUEST_AUTHENTICATION {
            format!("issuers[{}].name", d.issuer)
        } else {
            format!("issuers[{}].name (with {REQUIRED_CLAIMS_SUFFIX})", d.issuer)
        };
        results.push(KrmResult::error(format!(
            "{field} {}: this {} already exists and was not created by add-request-authentication (it lacks the label {MANAGED_BY_LABEL}: {MANAGED_BY}); choose another name",
            d.name, d.kind
        ))
        .on(existing)
        .at("metadata.name"));
        return Action::Refused;
    }
    if existing.get("spec") == d.value.get("spec") { Action::Keep } else { Action::Update(index) }
}

/// True if a DENY AuthorizationPolicy in the namespace, applying to every selected workload,
/// denies requests without a request principal (`notRequestPrincipals: ["*"]`).
fn requires_jwt(config: &AddRequestAuthenticationConfig, items: &[Value]) -> bool {
    let aps = Selector::of(GROUP, AUTHORIZATION_POLICY);
    items.iter().filter(|i| aps.matches(i) && in_namespace(i, config)).any(|ap| {
        let spec = ap.get("spec");
        spec.and_then(|s| s.get("action")).and_then(Value::as_str) == Some("DENY")
            && match_labels(ap).is_some_and(|l| covers(&l, &config.selector))
            && spec
                .and_then(|s| s.get("rules"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|r| r.get("from").and_then(Value::as_array).into_iter().flatten())
                .filter_map(|f| f.get("source")?.get("notRequestPrincipals")?.as_array())
                .any(|p| p.iter().any(|v| v.as_str() == Some("*")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(pairs: &[(&str, &str)]) -> IndexMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn selector_relations() {
        let gw = sel(&[("app", "istio-ingressgateway")]);
        let both = sel(&[("app", "istio-ingressgateway"), ("istio", "ingressgateway")]);
        let labels = |v: Value| v.as_object().unwrap().clone();
        assert!(overlaps(&Map::new(), &gw) && covers(&Map::new(), &gw), "no selector: every workload");
        assert!(overlaps(&labels(json!({"app": "istio-ingressgateway"})), &both));
        assert!(covers(&labels(json!({"app": "istio-ingressgateway"})), &both));
        assert!(overlaps(&labels(json!({"istio": "ingressgateway"})), &gw), "a gateway pod can carry both");
        assert!(!covers(&labels(json!({"istio": "ingressgateway"})), &gw));
        assert!(!overlaps(&labels(json!({"app": "cluster-local-gateway"})), &gw));
    }

    #[test]
    fn target_refs_are_not_selectors() {
        let ra = json!({"spec": {"targetRefs": [{"kind": "Gateway", "name": "x"}]}});
        assert!(match_labels(&ra).is_none());
        let ra = json!({"spec": {"jwtRules": []}});
        assert_eq!(match_labels(&ra), Some(Map::new()));
    }
}
