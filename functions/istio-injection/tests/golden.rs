//! The golden cases of istio-injection: `tests/golden/<case>/` (`config.yaml`, `input.yaml` or
//! `input.ref`, `expected.yaml`), each run twice; see [`krm_testkit::golden`].
//! `UPDATE_GOLDEN=1 cargo test -p istio-injection --test golden` rewrites the expected files.

#[test]
fn golden_cases() {
    krm_testkit::golden::check_cases(&istio_injection::FUNCTION, env!("CARGO_MANIFEST_DIR"));
}
