//! The `external-identity-provider` KRM function (kind `ExternalIdentityProvider`): a ResourceList on stdin, the result on stdout.
fn main() {
    std::process::exit(krm_core::process::function_main(&external_identity_provider::FUNCTION));
}
