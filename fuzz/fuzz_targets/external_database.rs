//! Fuzz target `external_database`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("external_database", structural);
