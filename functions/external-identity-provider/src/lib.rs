//! external-identity-provider: Kubeflow's login from the user's identity provider. dex stays
//! with connectors (`mode: dex`) or goes, oauth2-proxy then logging users in at an OIDC
//! provider (`mode: oidc`); in both, every login secret is read from the central Secret and no
//! public default credential of the upstream render is left.
//!
//! The pieces:
//! - the login credentials (oauth2-proxy's client id, client secret and cookie secret, dex's
//!   static client) are rewired by [`kubeflow_common::credentials::centralize`], exactly as
//!   `centralize-credentials` rewires them, so the two functions agree in either order;
//! - [`dex`] edits dex's config and Deployment (`mode: dex`);
//! - [`oauth2_proxy`] edits `oauth2_proxy.cfg` and oauth2-proxy's parameters (both modes);
//! - [`removal`] removes dex and replaces its RequestAuthentication (`mode: oidc`);
//! - [`policy`] holds tokens to the same e-mail and group rules as the login.
//!
//! The reference docs are `README.md` beside this file.

pub mod cfg;
pub mod config;
pub mod dex;
pub mod oauth2_proxy;
pub mod policy;
pub mod removal;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use krm_core::{Function, KrmResult};
use kubeflow_common::credentials::{self, RefKind, SecretReads};
use kubeflow_common::k8s::{Selector, object, shape};
pub use config::{ExternalIdentityProviderConfig, Mode};

/// The `external-identity-provider` function.
pub struct ExternalIdentityProvider;

/// The function as the process runner and `kubeflow-krm`'s dispatch take it.
pub static FUNCTION: krm_core::Registered<ExternalIdentityProvider> = krm_core::Registered::new();

impl Function for ExternalIdentityProvider {
    const NAME: &'static str = "external-identity-provider";
    const KIND: &'static str = "ExternalIdentityProvider";
    const DOC: &'static str = include_str!("../README.md");
    type Config = ExternalIdentityProviderConfig;

    fn process(config: &ExternalIdentityProviderConfig, items: &mut Vec<Value>) -> Vec<KrmResult> {
        let shape_errors = shape::input_errors(items);
        if !shape_errors.is_empty() {
            return shape_errors;
        }
        let proxy = match oauth2_proxy::locate(items) {
            Ok(p) => p,
            Err(e) => return vec![*e],
        };
        let dex_found = dex::locate(items);
        if config.mode == Mode::Dex {
            if let Err(e) = &dex_found {
                return vec![(**e).clone()];
            }
        }
        let before = SecretReads::of(items);
        let target = config.target();
        let mut results = Vec::new();
        // The issuer dex had before: what the RequestAuthentications and oauth2-proxy trust now.
        let old_issuer = dex_found.as_ref().ok().and_then(|d| d.issuer.clone());
        if config.mode == Mode::Oidc {
            // dex goes first, so that nothing is said about rewiring what is then deleted.
            let oidc = config.oidc.as_ref().expect("validated: mode oidc has oidc");
            removal::replace_request_authentication(oidc, old_issuer.as_deref(), items, &mut results);
            removal::remove_dex(items, &mut results);
        }
        credentials::centralize(items, &target, &mut results);
        match config.mode {
            Mode::Dex => {
                let found = dex_found.expect("checked above");
                dex::apply(config, &found, items, &mut results);
                oauth2_proxy::apply_dex(config, &proxy, &found, items, &mut results);
                dex::trust_issuer(config, old_issuer.as_deref(), &found, items, &mut results);
            }
            Mode::Oidc => {
                let oidc = config.oidc.as_ref().expect("validated: mode oidc has oidc");
                oauth2_proxy::apply_oidc(oidc, &proxy, items, &mut results);
            }
        }
        oauth2_proxy::apply_common(config, &proxy, old_issuer.as_deref(), items, &mut results);
        policy::apply(config, items, &mut results);
        credentials::remove_replaced_secrets(items, &target, &mut results);
        dex::remove_default_user_secret(items, &mut results);
        credentials::refresh_external_secrets(items, &before, &mut results);
        if let Some(es) = &config.external_secret {
            let usage = credentials::central_usage(items, &target);
            credentials::emit_external_secrets(items, &usage, &target, es, &mut results);
        }
        if results.iter().any(KrmResult::is_error) {
            return results.into_iter().filter(KrmResult::is_error).collect();
        }
        results.extend(oauth2_proxy::cookie_secret_warning(config, items));
        results
    }

    /// Each namespace that must hold the central Secret, and the keys read there (the login
    /// keys, the connectors' and the static users').
    fn claims(config: &ExternalIdentityProviderConfig, items: &[Value]) -> Vec<KrmResult> {
        let mut keys: BTreeSet<String> = config.target().keys.into_values().collect();
        if let Some(d) = &config.dex {
            keys.extend(d.connectors.iter().flat_map(|c| c.secret_variables()).map(|(_, k)| k));
            keys.extend(d.static_users.iter().map(|u| u.hash_key.clone()));
        }
        let mut by_ns: BTreeMap<Option<String>, (BTreeSet<String>, BTreeSet<usize>)> = BTreeMap::new();
        for r in credentials::references(items, RefKind::Secret, &config.secret_name) {
            let item = &items[r.item];
            if object::group(item) == "external-secrets.io" {
                continue;
            }
            let read: Vec<String> = keys.iter().filter(|k| r.reads(k)).cloned().collect();
            if read.is_empty() {
                continue;
            }
            let slot = by_ns.entry(object::namespace(item).map(str::to_string)).or_default();
            slot.0.extend(read);
            slot.1.insert(r.item);
        }
        by_ns
            .into_iter()
            .map(|(ns, (keys, by))| {
                let keys: Vec<String> = keys.into_iter().collect();
                let n = by.len();
                let by = if n == 1 { "1 resource".to_string() } else { format!("{n} resources") };
                let place = ns.map_or("the namespace where the resources without metadata.namespace are deployed".to_string(), |ns| {
                    format!("namespace {ns}")
                });
                KrmResult::info(format!("{place} must hold Secret {} with keys {} (read by {by})", config.secret_name, keys.join(", ")))
            })
            .collect()
    }
}

/// The first item a selector matches, with its index.
pub(crate) fn first(items: &[Value], selector: Selector<'_>) -> Option<usize> {
    items.iter().position(|i| selector.matches(i))
}
