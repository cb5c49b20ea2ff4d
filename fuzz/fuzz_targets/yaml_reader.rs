//! Fuzz target `yaml_reader`: see fuzz/README.md.
#![no_main]

kubeflow_krm_fuzz::target!("yaml_reader");
