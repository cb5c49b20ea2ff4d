//! centralize-credentials: every Kubeflow database and object-store credential is read from one
//! Secret, and the in-tree Secrets with default passwords go.
//!
//! The rewiring itself is shared with external-database and external-object-store and lives in
//! [`kubeflow_common::credentials`]; so are the ExternalSecrets
//! ([`kubeflow_common::credentials::emit_external_secrets`]); this module only wires them up. The reference docs are `README.md` beside this file.

pub mod config;
mod launcher;

use serde_json::Value;

use kubeflow_common::k8s::{Selector, shape};
use krm_core::{Function, KrmResult};
use kubeflow_common::credentials;
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
        launcher::providers(items, &target, &mut results);
        if config.remove_replaced_secrets {
            credentials::remove_replaced_secrets(items, &target, &mut results);
        }
        if let Some(es) = &config.external_secret {
            let usage = credentials::central_usage(items, &target);
            credentials::emit_external_secrets(items, &usage, &target, es, &mut results);
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
