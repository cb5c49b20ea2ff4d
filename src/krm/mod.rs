//! The KRM core: the wire format, YAML, functionConfig loading, results and the process entry.
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
pub mod main;
pub mod parallel;
pub mod reader;
pub mod resource_list;
pub mod result;
pub mod yaml;

pub use config::{ConfigError, Validate};
pub use function::{DynFunction, Function, Registered};
pub use resource_list::ResourceList;
pub use result::{KrmResult, Severity};
