//! Kept fuzzing inputs through the fuzz targets' properties ([`kubeflow_krm::fuzzing::check`]):
//! every crash the fuzzer found (`fuzz/regressions/<target>/`), so that it stays fixed, and the
//! seeds of the corpus (`fuzz/corpus/<target>/seed-*`: the golden cases as ResourceLists). The
//! whole kept corpus is replayed by `examples/fuzz_replay.rs` in a release build (`.ci/run`): a
//! debug build takes minutes over it.

use std::path::Path;

use kubeflow_krm::fuzzing::replay;

fn fuzz_dir(kind: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(kind)
}

#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    if let Err(failures) = replay(&fuzz_dir("regressions"), |_| true) {
        panic!("{} kept crashes fail again:\n{}", failures.len(), failures.join("\n"));
    }
}

#[test]
fn corpus_seeds_hold_every_property() {
    match replay(&fuzz_dir("corpus"), |name| name.starts_with("seed-")) {
        Ok(n) => assert!(n >= 100, "only {n} seeds: is fuzz/corpus checked out?"),
        Err(failures) => panic!("{} seeds fail:\n{}", failures.len(), failures.join("\n")),
    }
}
