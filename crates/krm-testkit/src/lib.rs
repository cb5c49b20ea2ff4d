//! Test tooling of kubeflow-krm (a dev-dependency only; no product crate depends on it).
//!
//! - [`golden`]: golden cases of a function (`functions/<name>/tests/golden/<case>/`), run
//!   twice to prove idempotence, with `UPDATE_GOLDEN=1` to regenerate;
//! - [`process`]: running a built binary on stdin and checking what it refuses;
//! - [`fuzz`]: the properties the fuzz targets under `fuzz/` check, and the replay of kept inputs.

pub mod fuzz;
pub mod golden;
pub mod process;
