//! kubeflow-krm: the command line over every function of the workspace.
//!
//! - [`chain`]: the kind `Chain`, every function's config in one functionConfig, run in one
//!   process with results true of the final output;
//! - [`functions`]: the registry of every function, in the recommended order, by kind and name;
//! - [`cli`]: the `kubeflow-krm` binary: a KRM function that dispatches on the functionConfig's
//!   kind, and `run`, `schema`, `fmt` and `help` for people;
//! - [`files`]: what `run` reads (the load restrictor: roots, regular files, a size bound);
//! - [`report`]: what `run --report` and `run --check` print about a change.
//!
//! The functions themselves live in their own crates under `functions/`; the KRM core in
//! `krm-core`.

pub mod chain;
pub mod cli;
pub mod files;
pub mod functions;
pub mod report;
