//! Golden tests: every folder `functions/<function>/tests/golden/<case>/` holds
//!
//! - `config.yaml`: the functionConfig given to that function (of its kind, a ConfigMap, or a
//!   wrong one for an error case);
//! - `input.yaml`: the resources (a YAML stream), or `input.ref`: the path of a shared fixture
//!   (relative to the repository root), so cases over the same Kubeflow shape share one file
//!   (several paths, one per line, are read as one stream);
//! - `expected.yaml`: the ResourceList the function writes (items, functionConfig and results),
//!   exactly as the binary prints it.
//!
//! Each case runs twice: the second run over the first run's items must change nothing (no item
//! differs, no info result about a change). A case whose results hold an error must return the
//! items unchanged, and its name starts with `error-`; a case named so must end in an error (so a
//! behaviour case cannot silently turn into an error case when a check gets stricter).
//!
//! A function's `tests/golden.rs` calls [`check_cases`]; `UPDATE_GOLDEN=1 cargo test -p <function>
//! --test golden` (or `UPDATE_GOLDEN=1 cargo test` for all) rewrites the `expected.yaml` files
//! from the code; review the diff before committing it.

use std::path::{Path, PathBuf};

use krm_core::result::has_errors;
use krm_core::{DynFunction, ResourceList, function, yaml};

/// The repository root (shared fixtures are named relative to it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root")
}

/// The items of the shared fixtures `tests/fixtures/<name>.yaml`, one stream after the other.
pub fn fixtures(names: &[&str]) -> Vec<serde_json::Value> {
    names
        .iter()
        .flat_map(|n| yaml::parse_stream(&read(&root().join(format!("tests/fixtures/{n}.yaml")))).unwrap())
        .collect()
}

/// The case folders under `dir`, in name order.
fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for case in entries {
            let case = case.unwrap().path();
            if case.join("config.yaml").exists() {
                cases.push(case);
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
        // One fixture path per line; several are read as one stream.
        let paths = read(&reference);
        let texts: Vec<String> = paths.lines().map(str::trim).filter(|l| !l.is_empty()).map(|p| read(&root().join(p))).collect();
        texts.join("\n---\n")
    } else {
        read(&case.join("input.yaml"))
    }
}

/// Runs one case; returns a description of what is wrong, if anything.
fn check(f: &dyn DynFunction, case: &Path, update: bool) -> Option<String> {
    let name = case.strip_prefix(root()).unwrap_or(case).display().to_string();
    let config = yaml::parse_document(&read(&case.join("config.yaml"))).unwrap();
    let items = yaml::parse_stream(&input_of(case)).unwrap();

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

    let error_case = case.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("error-"));
    if has_errors(&results) != error_case {
        let errors: Vec<&str> = results.iter().filter(|r| r.is_error()).map(|r| r.message.as_str()).collect();
        return Some(if error_case {
            format!("{name}: named error-*, but no error result")
        } else {
            format!("{name}: an error result in a case not named error-*: {errors:?}")
        });
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

/// Runs every golden case of `f` under `<manifest_dir>/tests/golden/` (a function crate passes
/// `env!("CARGO_MANIFEST_DIR")`), each twice; panics listing every failing case. Fewer than
/// three cases is a failure too: a function's behaviours each have one.
pub fn check_cases(f: &dyn DynFunction, manifest_dir: &str) {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let dir = Path::new(manifest_dir).join("tests/golden");
    let cases = cases(&dir);
    assert!(cases.len() >= 3, "{} has {} golden cases in {}", f.name(), cases.len(), dir.display());
    let failures: Vec<String> = cases.iter().filter_map(|c| check(f, c, update)).collect();
    assert!(failures.is_empty(), "{} of {} golden cases failed:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
