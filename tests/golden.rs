//! Golden tests: every folder `functions/<function>/testdata/<case>/` holds
//!
//! - `config.yaml`: the functionConfig (its kind picks the function);
//! - `input.yaml`: the resources (a YAML stream), or `input.ref`: the paths of shared fixtures
//!   (relative to the repository root, one per line, joined as one stream), so cases over the
//!   same Kubeflow shape share their files;
//! - `expected.yaml`: the ResourceList the function writes (items, functionConfig and results),
//!   exactly as the binary prints it.
//!
//! Each case runs twice: the second run over the first run's items must change nothing (no item
//! differs, no info result about a change). A case whose results hold an error must return the
//! items unchanged.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the `expected.yaml` files from the code;
//! review the diff before committing it.

use std::path::{Path, PathBuf};

use kubeflow_krm::functions;
use kubeflow_krm::krm::result::has_errors;
use kubeflow_krm::krm::{ResourceList, function, yaml};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cases() -> Vec<PathBuf> {
    let mut cases = Vec::new();
    for f in std::fs::read_dir(root().join("functions")).unwrap() {
        let testdata = f.unwrap().path().join("testdata");
        if let Ok(entries) = std::fs::read_dir(&testdata) {
            for case in entries {
                let case = case.unwrap().path();
                if case.join("config.yaml").exists() {
                    cases.push(case);
                }
            }
        }
    }
    cases.sort();
    cases
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn input_of(case: &Path) -> String {
    let reference = case.join("input.ref");
    if reference.exists() {
        // One fixture path per line; several are joined as one stream.
        let text = read(&reference);
        let files: Vec<String> =
            text.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| read(&root().join(l))).collect();
        files.join("\n---\n")
    } else {
        read(&case.join("input.yaml"))
    }
}

/// Runs one case; returns a description of what is wrong, if anything.
fn check(case: &Path, update: bool) -> Option<String> {
    let name = case.strip_prefix(root()).unwrap().display().to_string();
    let config = yaml::parse_document(&read(&case.join("config.yaml"))).unwrap();
    let items = yaml::parse_stream(&input_of(case)).unwrap();
    let kind = config["kind"].as_str().unwrap_or_default();
    let f = functions::by_kind(kind)
        .or_else(|| case.parent()?.parent()?.file_name()?.to_str().and_then(functions::by_name))
        .unwrap_or_else(|| panic!("{name}: no function for kind {kind:?}"));

    let mut rl = ResourceList::new(items.clone());
    rl.function_config = Some(config.clone());
    let results = function::run(f, &mut rl);
    let out = rl.to_yaml().unwrap();

    let expected_path = case.join("expected.yaml");
    if update {
        std::fs::write(&expected_path, &out).unwrap();
    } else {
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != out {
            return Some(format!("{name}: output differs from expected.yaml\n{}", diff(&expected, &out)));
        }
    }

    if has_errors(&results) {
        if rl.items != items {
            return Some(format!("{name}: an error result, but the items were changed"));
        }
        return None;
    }
    // Idempotence: the output, run again, changes nothing.
    let mut again = ResourceList::new(rl.items.clone());
    again.function_config = Some(config);
    let second = function::run(f, &mut again);
    if again.items != rl.items {
        let a = yaml::to_yaml_stream(&rl.items).unwrap();
        let b = yaml::to_yaml_stream(&again.items).unwrap();
        return Some(format!("{name}: not idempotent, the second run changed items\n{}", diff(&a, &b)));
    }
    if has_errors(&second) {
        return Some(format!("{name}: the second run reported an error: {second:?}"));
    }
    None
}

/// The first differing lines, with context.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = e.iter().zip(&a).position(|(x, y)| x != y).unwrap_or(e.len().min(a.len()));
    let from = first.saturating_sub(3);
    let show = |lines: &[&str]| lines.iter().skip(from).take(12).map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
    format!("  line {}:\n  expected:\n{}\n  actual:\n{}", first + 1, show(&e), show(&a))
}

#[test]
fn golden_cases() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let cases = cases();
    assert!(!cases.is_empty(), "no golden cases found");
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c, update)).collect();
    assert!(failures.is_empty(), "{} of {} golden cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}

#[test]
fn every_function_has_golden_cases() {
    for f in functions::ALL {
        let dir = root().join("functions").join(f.name()).join("testdata");
        let n = std::fs::read_dir(&dir).map(|d| d.count()).unwrap_or(0);
        assert!(n >= 3, "{} has {n} golden cases in {}", f.name(), dir.display());
    }
}
