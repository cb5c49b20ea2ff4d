//! The `external-database` KRM function (kind `ExternalDatabase`): a ResourceList on stdin, the result on stdout.
fn main() {
    std::process::exit(krm_core::process::function_main(&external_database::FUNCTION));
}
