//! Fuzz target `resource_list`: the properties of `kubeflow_krm::fuzzing::check` for it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kubeflow_krm::fuzzing::check("resource_list", data));
