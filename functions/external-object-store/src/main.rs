//! The `external-object-store` KRM function (kind `ExternalObjectStore`): a ResourceList on stdin, the result on stdout.
fn main() {
    std::process::exit(krm_core::process::function_main(&external_object_store::FUNCTION));
}
