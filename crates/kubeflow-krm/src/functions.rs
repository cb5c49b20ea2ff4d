//! The functions. Each is its own crate under `functions/<name>/` (processor, config, README,
//! golden cases, binary); this module only lists them for dispatch.

use krm_core::DynFunction;

/// Every function, in the recommended order of a `transformers:` list.
pub static ALL: &[&dyn DynFunction] = &[
    &centralize_credentials::FUNCTION,
    &external_database::FUNCTION,
    &external_object_store::FUNCTION,
    &istio_injection::FUNCTION,
    &add_request_authentication::FUNCTION,
];

/// The function whose functionConfig kind is `kind`.
pub fn by_kind(kind: &str) -> Option<&'static dyn DynFunction> {
    ALL.iter().copied().find(|f| f.kind() == kind)
}

/// The function whose binary name is `name`.
pub fn by_name(name: &str) -> Option<&'static dyn DynFunction> {
    ALL.iter().copied().find(|f| f.name() == name)
}
