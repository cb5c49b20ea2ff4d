//! Fuzz target `external_identity_provider`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("external_identity_provider", structural);
