//! The `istio-injection` KRM function (kind `IstioInjection`): a ResourceList on stdin, the result on stdout.
fn main() {
    std::process::exit(krm_core::process::function_main(&istio_injection::FUNCTION));
}
