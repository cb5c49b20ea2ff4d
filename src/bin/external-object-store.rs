//! The `external-object-store` KRM function (kind `ExternalObjectStore`).
fn main() {
    std::process::exit(kubeflow_krm::cli::function_main("external-object-store"));
}
