//! The golden cases of add-request-authentication: `tests/golden/<case>/` (`config.yaml`, `input.yaml` or
//! `input.ref`, `expected.yaml`), each run twice; see [`krm_testkit::golden`].
//! `UPDATE_GOLDEN=1 cargo test -p add-request-authentication --test golden` rewrites the expected files.

#[test]
fn golden_cases() {
    krm_testkit::golden::check_cases(&add_request_authentication::FUNCTION, env!("CARGO_MANIFEST_DIR"));
}
