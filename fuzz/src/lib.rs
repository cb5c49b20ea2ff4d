//! What every fuzz target shares: `kubeflow_krm_fuzz::target!("name")` defines a target whose
//! properties are `krm_testkit::fuzz::check("name", input, kubeflow_krm::functions::ALL)`; with `structural`, the target
//! also mutates its inputs as YAML trees ([`mutate`]).

pub use krm_testkit;
pub use kubeflow_krm;
pub use libfuzzer_sys;

/// Defines the fuzz target `$name` (see the crate docs).
#[macro_export]
macro_rules! target {
    ($name:literal) => {
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::krm_testkit::fuzz::check($name, data, $crate::kubeflow_krm::functions::ALL));
    };
    ($name:literal, structural) => {
        $crate::target!($name);
        $crate::libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            $crate::mutate(data, size, max_size, seed)
        });
    };
}

/// libFuzzer's custom mutator: three mutations in four change the YAML tree when the input reads
/// as YAML (`krm_testkit::fuzz::mutate`), the others are libFuzzer's own byte-level ones, so
/// that the reader's paths are still explored.
pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    if seed % 4 != 0 {
        if let Some(mutated) = krm_testkit::fuzz::mutate(&data[..size], seed) {
            if mutated.len() <= max_size {
                data[..mutated.len()].copy_from_slice(&mutated);
                return mutated.len();
            }
        }
    }
    libfuzzer_sys::fuzzer_mutate(data, size, max_size)
}
