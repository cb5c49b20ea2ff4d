//! What several kubeflow-krm functions share, so that where two functions touch the same field
//! they write exactly the same thing, whichever runs first.
//!
//! - [`k8s`]: helpers over untyped Kubernetes objects (selection, pod templates and env,
//!   placement of created objects, line-preserving edits of YAML embedded in ConfigMaps);
//! - [`credentials`]: Kubeflow's database, object-store and login credentials: the catalogue of Secrets
//!   and variables that hold them, the one rewiring of their consumers to a central Secret, the
//!   reference scan that says whether a Secret or ConfigMap is still needed, the clean-up, and
//!   the ExternalSecrets that fill the central Secret;
//! - [`kfp`]: the Kubeflow Pipelines release an input shows;
//! - [`url`]: the http(s) URLs of functionConfigs (issuers, JWKS and redirect URLs).
//!
//! A function depends on this crate and on `krm-core`, never on another function.

pub mod credentials;
pub mod k8s;
pub mod kfp;
pub mod url;
