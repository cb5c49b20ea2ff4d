//! The `istio-injection` KRM function (kind `IstioInjection`).
fn main() {
    std::process::exit(kubeflow_krm::cli::function_main("istio-injection"));
}
