//! Fuzz target `add_request_authentication`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("add_request_authentication", structural);
