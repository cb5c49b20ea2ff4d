//! Fuzz target `centralize_credentials`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("centralize_credentials", structural);
