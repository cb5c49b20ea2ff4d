//! kubeflow-krm: KRM functions that make a Kubeflow render production-ready for GitOps.
//!
//! - [`krm`]: the KRM core (wire format, YAML 1.1-exact I/O, functionConfig loading, results,
//!   the process entry point). Functions never touch stdin, stdout or the exit code.
//! - [`k8s`]: helpers over untyped Kubernetes objects shared by the functions.
//! - [`kubeflow`]: Kubeflow knowledge several functions share (the credential catalogue and the
//!   one rewiring of credential consumers).
//! - [`functions`]: one module per function, each in its own folder under `functions/`.
//! - [`cli`]: the `kubeflow-krm` binary's subcommands (`run`, `schema`, help).
//! - [`fuzzing`]: the properties the fuzz targets under `fuzz/` and their regression tests check.

pub mod cli;
pub mod functions;
pub mod fuzzing;
pub mod k8s;
pub mod krm;
pub mod kubeflow;
pub mod report;
