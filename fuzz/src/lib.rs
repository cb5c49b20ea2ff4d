//! What every fuzz target shares: `kubeflow_krm_fuzz::target!("name")` defines a target whose
//! properties are `kubeflow_krm::fuzzing::check("name", input)`; with `structural`, the target
//! also mutates its inputs as YAML trees ([`mutate`]).

pub use kubeflow_krm;
pub use libfuzzer_sys;

/// Defines the fuzz target `$name` (see the crate docs).
#[macro_export]
macro_rules! target {
    ($name:literal) => {
        $crate::libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::kubeflow_krm::fuzzing::check($name, data));
    };
    ($name:literal, structural) => {
        $crate::target!($name);
        $crate::libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            $crate::mutate(data, size, max_size, seed)
        });
    };
}

/// libFuzzer's custom mutator: three mutations in four change the YAML tree when the input reads
/// as YAML (`kubeflow_krm::fuzzing::mutate`), the others are libFuzzer's own byte-level ones, so
/// that the reader's paths are still explored.
pub fn mutate(data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    if seed % 4 != 0 {
        if let Some(mutated) = kubeflow_krm::fuzzing::mutate(&data[..size], seed) {
            if mutated.len() <= max_size {
                data[..mutated.len()].copy_from_slice(&mutated);
                return mutated.len();
            }
        }
    }
    libfuzzer_sys::fuzzer_mutate(data, size, max_size)
}
