//! The fuzz targets' properties ([`kubeflow_krm::fuzzing::check`]) over every input kept under
//! `fuzz/corpus/<target>/` (the seeds and what the fuzzer found interesting) and every crash it
//! found, kept under `fuzz/regressions/<target>/`: a crash once found stays fixed, in every
//! `cargo test`, without the fuzzer.

use std::path::{Path, PathBuf};

use kubeflow_krm::fuzzing::{TARGETS, check};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs every input of `kind` (`corpus` or `regressions`); returns the number checked.
fn check_all(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(kind);
    let mut failures = Vec::new();
    let mut n = 0;
    for target in TARGETS {
        for path in files(&root.join(target)) {
            n += 1;
            let data = std::fs::read(&path).unwrap();
            if let Err(panic) = std::panic::catch_unwind(|| check(target, &data)) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{target} {}: {message}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {n} inputs fail:\n{}", failures.len(), failures.join("\n"));
    n
}

#[test]
fn kept_corpus_inputs_hold_every_property() {
    let n = check_all("corpus");
    assert!(n >= 100, "the kept corpus has only {n} inputs: is fuzz/corpus checked out?");
}

#[test]
fn crashes_found_by_fuzzing_stay_fixed() {
    check_all("regressions");
}
