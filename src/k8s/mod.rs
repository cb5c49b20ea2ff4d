//! Helpers over untyped Kubernetes objects that every function shares: identity and selection
//! (with kustomize hash suffixes), labels and annotations, pod templates and env, field paths,
//! created objects' placement, and line-preserving edits of YAML embedded in ConfigMaps.

pub mod embedded;
pub mod generate;
pub mod object;
pub mod path;
pub mod pod;
pub mod select;

pub use path::FieldPath;
pub use select::Selector;
