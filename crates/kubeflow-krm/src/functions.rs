//! The functions. Each is its own crate under `functions/<name>/` (processor, config, README,
//! golden cases, binary); this module only lists them for dispatch.

use krm_core::{DynFunction, Registered};

use crate::chain::Chain;

/// Every function, in the recommended order of a `transformers:` list.
pub static ALL: &[&dyn DynFunction] = &[
    &centralize_credentials::FUNCTION,
    &external_database::FUNCTION,
    &external_object_store::FUNCTION,
    &external_identity_provider::FUNCTION,
    &istio_injection::FUNCTION,
    &add_request_authentication::FUNCTION,
];

/// The composite kind `Chain`: the functions of [`ALL`] configured in one functionConfig and run
/// in one process (see [`crate::chain`]).
pub static CHAIN: Registered<Chain> = Registered::new();

/// Every kind `kubeflow-krm` runs: each function's, then `Chain`.
pub fn kinds() -> impl Iterator<Item = &'static dyn DynFunction> {
    ALL.iter().copied().chain(std::iter::once(&CHAIN as &'static dyn DynFunction))
}

/// The function whose functionConfig kind is `kind` (`Chain` included).
pub fn by_kind(kind: &str) -> Option<&'static dyn DynFunction> {
    kinds().find(|f| f.kind() == kind)
}

/// The function whose binary name is `name` (`chain` for the kind `Chain`).
pub fn by_name(name: &str) -> Option<&'static dyn DynFunction> {
    kinds().find(|f| f.name() == name)
}
