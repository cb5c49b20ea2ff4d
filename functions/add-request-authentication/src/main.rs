//! The `add-request-authentication` KRM function (kind `AddRequestAuthentication`): a ResourceList on stdin, the result on stdout.
fn main() {
    std::process::exit(krm_core::process::function_main(&add_request_authentication::FUNCTION));
}
