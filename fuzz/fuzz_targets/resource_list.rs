//! Fuzz target `resource_list`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("resource_list", structural);
