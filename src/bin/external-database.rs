//! The `external-database` KRM function (kind `ExternalDatabase`).
fn main() {
    std::process::exit(kubeflow_krm::cli::function_main("external-database"));
}
