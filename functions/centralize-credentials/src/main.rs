//! The `centralize-credentials` KRM function (kind `CentralizeCredentials`): a ResourceList on stdin, the result on stdout.
fn main() {
    std::process::exit(krm_core::process::function_main(&centralize_credentials::FUNCTION));
}
