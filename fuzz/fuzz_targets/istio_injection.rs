//! Fuzz target `istio_injection`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("istio_injection", structural);
