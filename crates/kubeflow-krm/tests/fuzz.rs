//! Kept fuzzing inputs through the fuzz targets' properties ([`krm_testkit::fuzz::check`]):
//! every crash the fuzzer found (`fuzz/regressions/<target>/`), so that it stays fixed, and the
//! seeds of the corpus (`fuzz/corpus/<target>/seed-*`: the golden cases as ResourceLists). The
//! whole kept corpus is replayed by `crates/kubeflow-krm/examples/fuzz_replay.rs` in a release build (`.ci/run`): a
//! debug build takes minutes over it.

use krm_testkit::fuzz::{TARGETS, check, replay};
use kubeflow_krm::functions;

fn fuzz_dir(kind: &str) -> std::path::PathBuf {
    krm_testkit::golden::root().join("fuzz").join(kind)
}

#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    if let Err(failures) = replay(&fuzz_dir("regressions"), |_| true, functions::ALL) {
        panic!("{} kept crashes fail again:\n{}", failures.len(), failures.join("\n"));
    }
}

#[test]
fn corpus_seeds_hold_every_property() {
    match replay(&fuzz_dir("corpus"), |name| name.starts_with("seed-"), functions::ALL) {
        Ok(n) => assert!(n >= 100, "only {n} seeds: is fuzz/corpus checked out?"),
        Err(failures) => panic!("{} seeds fail:\n{}", failures.len(), failures.join("\n")),
    }
}

/// Every fuzz target names a reader or a function of the registry.
#[test]
fn every_target_is_known() {
    for target in TARGETS {
        check(target, b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", functions::ALL);
    }
    let function_targets = TARGETS.iter().filter(|t| !["yaml_reader", "resource_list"].contains(t)).count();
    assert_eq!(function_targets, functions::ALL.len(), "one fuzz target per function");
}
