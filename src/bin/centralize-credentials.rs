//! The `centralize-credentials` KRM function (kind `CentralizeCredentials`).
fn main() {
    std::process::exit(kubeflow_krm::cli::function_main("centralize-credentials"));
}
