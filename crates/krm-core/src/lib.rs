//! The KRM function core: what every kubeflow-krm function is built on, with no Kubeflow
//! knowledge in it.
//!
//! - [`resource_list`]: the wire format, a `ResourceList` in and out;
//! - [`yaml`]: reading and writing YAML exactly as Kubernetes tools read it (YAML 1.1), with the
//!   reader split by concern under [`yaml::reader`] and large inputs split on every core by
//!   [`yaml::split`];
//! - [`config`]: functionConfig loading (typed kind or ConfigMap, then defaults, then
//!   validation);
//! - [`function`]: the [`Function`] trait every function implements, and the runner;
//! - [`result`]: results as data;
//! - [`process`]: stdin, stdout, stderr and the exit code of a function binary;
//! - [`object`] and [`path`]: identity and field paths of untyped Kubernetes objects, which
//!   results and errors name.
//!
//! Data flow of one function run:
//!
//! ```text
//! stdin bytes → ResourceList::from_bytes → config::load (typed | ConfigMap → defaults → validate)
//!   → Function::process (pure) → items restored if any error → ResourceList::to_yaml → stdout
//!   → one stderr line per error/warning → exit code 1 iff an error result
//! ```

pub mod config;
pub mod function;
pub mod object;
pub mod path;
pub mod process;
pub mod resource_list;
pub mod result;
pub mod yaml;

pub use config::{ConfigError, Validate};
pub use function::{DynFunction, Function, Observer, Registered};
pub use path::FieldPath;
pub use resource_list::ResourceList;
pub use result::{KrmResult, Severity};
