//! Helpers over untyped Kubernetes objects that every function shares: selection (with
//! kustomize hash suffixes), pod templates and env, created objects' placement, and
//! line-preserving edits of YAML embedded in ConfigMaps.
//!
//! Identity and field paths live in the core, which results need ([`krm_core::object`],
//! [`krm_core::path`]); they are re-exported here so that a function finds every object helper
//! in one place.

pub mod embedded;
pub mod generate;
pub mod pod;
pub mod shape;
pub mod select;

pub use krm_core::path::FieldPath;
pub use krm_core::{object, path};
pub use select::Selector;
