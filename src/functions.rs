//! The functions. Each lives in its own folder under `functions/` (processor, config, README,
//! golden cases); this module only wires them into the crate and lists them for dispatch.

#[path = "../functions/istio-injection/mod.rs"]
pub mod istio_injection;

#[path = "../functions/add-request-authentication/mod.rs"]
pub mod add_request_authentication;

#[path = "../functions/centralize-credentials/mod.rs"]
pub mod centralize_credentials;

#[path = "../functions/external-database/mod.rs"]
pub mod external_database;
#[path = "../functions/external-object-store/mod.rs"]
pub mod external_object_store;

use crate::krm::{DynFunction, Registered};

/// Every function, in the recommended order of a `transformers:` list.
pub static ALL: &[&dyn DynFunction] = &[
    &Registered::<centralize_credentials::CentralizeCredentials>::new(),
    &Registered::<external_database::ExternalDatabase>::new(),
    &Registered::<external_object_store::ExternalObjectStore>::new(),
    &Registered::<istio_injection::IstioInjection>::new(),
    &Registered::<add_request_authentication::AddRequestAuthentication>::new(),
];

/// The function whose functionConfig kind is `kind`.
pub fn by_kind(kind: &str) -> Option<&'static dyn DynFunction> {
    ALL.iter().copied().find(|f| f.kind() == kind)
}

/// The function whose binary name is `name`.
pub fn by_name(name: &str) -> Option<&'static dyn DynFunction> {
    ALL.iter().copied().find(|f| f.name() == name)
}
