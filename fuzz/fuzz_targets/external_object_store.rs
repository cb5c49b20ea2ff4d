//! Fuzz target `external_object_store`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("external_object_store", structural);
