//! The golden cases of the kind `Chain`: `tests/golden/<case>/` (`config.yaml`, `input.ref`,
//! `expected.yaml`), each run twice; see [`krm_testkit::golden`].
//! `UPDATE_GOLDEN=1 cargo test -p kubeflow-krm --test golden` rewrites the expected files.

#[test]
fn golden_cases() {
    krm_testkit::golden::check_cases(&kubeflow_krm::functions::CHAIN, env!("CARGO_MANIFEST_DIR"));
}
