//! The golden cases of external-identity-provider: `tests/golden/<case>/` (`config.yaml`,
//! `input.yaml` or `input.ref`, `expected.yaml`), each run twice; see [`krm_testkit::golden`].
//! `UPDATE_GOLDEN=1 cargo test -p external-identity-provider --test golden` rewrites the expected files.

#[test]
fn golden_cases() {
    krm_testkit::golden::check_cases(&external_identity_provider::FUNCTION, env!("CARGO_MANIFEST_DIR"));
}
