//! Kubeflow knowledge shared by several functions: where Kubeflow keeps things, and the edits
//! that more than one function must make identically (so their output does not depend on the
//! order they run in).
//!
//! - [`credentials`]: the database and object-store credentials (the catalogue of Secrets and
//!   variables that hold them, the one rewiring to a central Secret, and the reference scan used
//!   to decide whether a Secret or ConfigMap is still needed).

pub mod credentials;
