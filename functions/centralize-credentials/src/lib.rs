//! centralize-credentials: every Kubeflow database and object-store credential is read from one
//! Secret, and the in-tree Secrets with default passwords go.
//!
//! The rewiring itself is shared with external-database and external-object-store and lives in
//! [`kubeflow_common::credentials`]; this module adds what only this function does (the
//! ExternalSecrets). The reference docs are `README.md` beside this file.

pub mod config;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use kubeflow_common::k8s::{Selector, generate, object, shape};
use krm_core::{Function, KrmResult};
use kubeflow_common::credentials::{self, Target, Usage};
pub use config::{CentralizeCredentialsConfig, ExternalSecretApiVersion, ExternalSecretConfig, StoreKind};

/// The `centralize-credentials` function.
pub struct CentralizeCredentials;

/// The function as the process runner and `kubeflow-krm`'s dispatch take it.
pub static FUNCTION: krm_core::Registered<CentralizeCredentials> = krm_core::Registered::new();


impl Function for CentralizeCredentials {
    const NAME: &'static str = "centralize-credentials";
    const KIND: &'static str = "CentralizeCredentials";
    const DOC: &'static str = include_str!("../README.md");
    type Config = CentralizeCredentialsConfig;

    fn process(config: &CentralizeCredentialsConfig, items: &mut Vec<Value>) -> Vec<KrmResult> {
        let shape_errors = shape::input_errors(items);
        if !shape_errors.is_empty() {
            return shape_errors;
        }
        let target = config.target();
        let mut results = Vec::new();
        warn_unmatched_extra_consumers(config, items, &mut results);
        credentials::centralize(items, &target, &mut results);
        if config.remove_replaced_secrets {
            credentials::remove_replaced_secrets(items, &target, &mut results);
        }
        if let Some(es) = &config.external_secret {
            let usage = credentials::central_usage(items, &target);
            external_secrets(items, &usage, &target, es, &mut results);
        }
        results
    }

    /// Each namespace that must hold the central Secret, and the keys read there.
    fn claims(config: &CentralizeCredentialsConfig, items: &[Value]) -> Vec<KrmResult> {
        let target = config.target();
        credentials::namespace_results(&credentials::central_usage(items, &target), &target)
    }
}

/// An `extraConsumers` entry whose Secret is neither in the input nor read by anything in it
/// rewires nothing: most likely a typo; a warning names the entry (checked before the rewiring,
/// which removes the references).
fn warn_unmatched_extra_consumers(config: &CentralizeCredentialsConfig, items: &[Value], results: &mut Vec<KrmResult>) {
    for (i, e) in config.extra_consumers.iter().enumerate() {
        let defined = items.iter().any(|item| Selector::core("Secret").named(&e.secret).matches(item));
        if !defined && !credentials::is_referenced(items, credentials::RefKind::Secret, &e.secret) {
            results.push(
                KrmResult::warning(format!(
                    "no Secret {} in the input and nothing reads one: this entry rewires nothing (a typo, or a Secret of another layer?)",
                    e.secret
                ))
                .at(format!("extraConsumers[{i}].secret")),
            );
        }
    }
}

/// An External Secrets Operator `ExternalSecret` (only the fields this function sets; keys in
/// the order kustomize writes them).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecret {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: ExternalSecretSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretSpec {
    data: Vec<ExternalSecretData>,
    refresh_interval: String,
    secret_store_ref: StoreRef,
    target: TargetRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalSecretData {
    remote_ref: RemoteRef,
    secret_key: String,
}

#[derive(Serialize)]
struct RemoteRef {
    key: String,
    property: String,
}

#[derive(Serialize)]
struct StoreRef {
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
struct TargetRef {
    name: String,
}

fn spec(usage: &Usage, target: &Target, es: &ExternalSecretConfig) -> ExternalSecretSpec {
    ExternalSecretSpec {
        data: usage
            .credentials
            .iter()
            .filter_map(|c| target.central_key(*c))
            .map(|key| ExternalSecretData {
                remote_ref: RemoteRef { key: es.remote_key.clone(), property: key.to_string() },
                secret_key: key.to_string(),
            })
            .collect(),
        refresh_interval: es.refresh_interval.clone(),
        secret_store_ref: StoreRef { kind: es.secret_store_ref.kind.as_str(), name: es.secret_store_ref.name.clone() },
        target: TargetRef { name: target.secret_name.clone() },
    }
}

/// One ExternalSecret per namespace that needs the central Secret, created or updated in place.
fn external_secrets(
    items: &mut Vec<Value>,
    usage: &[Usage],
    target: &Target,
    es: &ExternalSecretConfig,
    results: &mut Vec<KrmResult>,
) {
    let name = target.secret_name.as_str();
    for u in usage {
        let ns = u.namespace.as_deref();
        let in_namespace = |i: &Value| object::name(i) == name && object::namespace(i) == ns;
        let keys: Vec<&str> = u.credentials.iter().filter_map(|c| target.central_key(*c)).collect();
        if let Some(secret) = items.iter().find(|i| Selector::core("Secret").matches(i) && in_namespace(i)) {
            results.push(
                KrmResult::info("the central Secret is in the input here: no ExternalSecret is emitted for this namespace")
                    .on(secret),
            );
            continue;
        }
        let desired = serde_json::to_value(spec(u, target, es)).expect("an ExternalSecret spec serializes");
        let existing = items
            .iter()
            .position(|i| Selector::of("external-secrets.io", "ExternalSecret").matches(i) && in_namespace(i));
        match existing {
            Some(index) => {
                let api_version = es.api_version.as_str();
                if object::api_version(&items[index]) != api_version {
                    items[index]["apiVersion"] = Value::String(api_version.to_string());
                    results.push(KrmResult::info(format!("apiVersion set to {api_version}")).on(&items[index]).at("apiVersion"));
                }
                if update_spec(&mut items[index], &desired) {
                    results.push(
                        KrmResult::info(format!("updated: reads keys {} from {}", keys.join(", "), es.remote_key))
                            .on(&items[index])
                            .at("spec"),
                    );
                }
            }
            None => {
                let external_secret = ExternalSecret {
                    api_version: es.api_version.as_str(),
                    kind: "ExternalSecret",
                    metadata: ObjectMeta {
                        name: Some(name.to_string()),
                        namespace: u.namespace.clone(),
                        ..Default::default()
                    },
                    spec: spec(u, target, es),
                };
                let value = serde_json::to_value(&external_secret).expect("an ExternalSecret serializes");
                let index = generate::insert(items, value);
                results.push(
                    KrmResult::info(format!(
                        "created: fills Secret {name} with keys {} from {} {} entry {}",
                        keys.join(", "),
                        es.secret_store_ref.kind.as_str(),
                        es.secret_store_ref.name,
                        es.remote_key
                    ))
                    .on(&items[index]),
                );
            }
        }
    }
}

/// Sets `data`, `refreshInterval`, `secretStoreRef` and `target.name` of an existing
/// ExternalSecret, keeping its other fields. Returns true if anything changed.
fn update_spec(item: &mut Value, desired: &Value) -> bool {
    let Some(obj) = item.as_object_mut() else { return false };
    let spec = object::child_map(obj, "spec");
    let mut changed = false;
    for key in ["data", "refreshInterval", "secretStoreRef"] {
        if spec.get(key) != desired.get(key) {
            object::insert_sorted(spec, key, desired[key].clone());
            changed = true;
        }
    }
    let target = object::child_map(spec, "target");
    if target.get("name") != desired.pointer("/target/name") {
        object::insert_sorted(target, "name", desired["target"]["name"].clone());
        changed = true;
    }
    changed
}
