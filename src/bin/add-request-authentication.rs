//! The `add-request-authentication` KRM function (kind `AddRequestAuthentication`).
fn main() {
    std::process::exit(kubeflow_krm::cli::function_main("add-request-authentication"));
}
