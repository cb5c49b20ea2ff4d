//! The process side of a KRM function: stdin, stdout, stderr and the exit code.
//!
//! A function's binary is one line, `std::process::exit(krm_core::process::function_main(&F))`;
//! `kubeflow-krm` calls [`serve`] with its dispatch on the functionConfig's kind.

use std::io::{Read, Write};

use super::function::{DynFunction, quiet_panics, run_with};
use super::resource_list::ResourceList;
use super::result::{KrmResult, Severity, has_errors};

/// Exit code of a run whose results contain an error.
pub const EXIT_ERROR: i32 = 1;

/// Entry of a single-function binary: a KRM function on stdin/stdout, or `--help` (the
/// function's README) and `--version`; returns the exit code.
pub fn function_main(f: &'static dyn DynFunction) -> i32 {
    let name = f.name();
    match std::env::args().nth(1).as_deref() {
        Some("-h" | "--help" | "help") => {
            print!("{}", f.doc());
            0
        }
        Some("--version" | "-V") => {
            println!("{name} {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some(other) => {
            eprintln!("error: {name} takes no arguments (got {other:?}): it reads a ResourceList on stdin; see {name} --help");
            2
        }
        None => serve(|_| Ok(f)),
    }
}

/// Runs one function as a KRM function process; returns the exit code.
///
/// `pick` chooses the function for the input's functionConfig (the single-function binaries
/// ignore it; `kubeflow-krm` dispatches on the kind).
pub fn serve(pick: impl Fn(Option<&serde_json::Value>) -> Result<&'static dyn DynFunction, String>) -> i32 {
    serve_with(|rl, input| match pick(rl.function_config.as_ref()) {
        Ok(f) => run_with(f, rl, || ResourceList::from_bytes(input).map(|again| again.items).unwrap_or_default()),
        Err(message) => {
            let r = KrmResult::error(message);
            rl.results.push(r.clone());
            vec![r]
        }
    })
}

/// Reads the ResourceList, lets `process` change it (given the input bytes too) and return its
/// results, writes it back.
pub fn serve_with(process: impl FnOnce(&mut ResourceList, &[u8]) -> Vec<KrmResult>) -> i32 {
    quiet_panics();
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut input) {
        return fail(&format!("cannot read stdin: {e}"));
    }
    let mut rl = match ResourceList::from_bytes(&input) {
        Ok(rl) => rl,
        Err(e) => return fail(&e.to_string()),
    };
    let kpt = under_kpt(&rl.items);
    let results = process(&mut rl, &input);
    if kpt {
        // kpt prints the results (and truncates long lists): errors and warnings first, and no
        // second copy on stderr.
        rl.results.sort_by_key(|r| r.severity);
    }
    let code = emit(&rl, &results, !kpt);
    // The process ends here: freeing a 12 MB render's values would only cost time.
    std::mem::forget(rl);
    code
}

/// True when kpt sent the input: kpt marks every item with the file it came from
/// (`internal.config.kubernetes.io/path`, checked with kpt 1.0.0-beta.56), kustomize never does
/// and marks its items with `kustomize.config.k8s.io/id` instead. kpt shows the results, so a
/// line on stderr would say each one twice; kustomize discards the results, so stderr is where
/// its users see warnings and errors.
pub fn under_kpt(items: &[serde_json::Value]) -> bool {
    use crate::object::annotation;
    items.iter().any(|i| annotation(i, "internal.config.kubernetes.io/path").is_some())
        && !items.iter().any(|i| annotation(i, "kustomize.config.k8s.io/id").is_some())
}

/// Writes the ResourceList and, with `to_stderr`, one line per error and warning of `results`
/// (this run's); returns the exit code (1 iff `results` hold an error).
fn emit(rl: &ResourceList, results: &[KrmResult], to_stderr: bool) -> i32 {
    let text = match rl.to_yaml() {
        Ok(t) => t,
        Err(e) => return fail(&format!("cannot write the output: {e}")),
    };
    if to_stderr {
        report(results);
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        eprintln!("error: cannot write stdout: {e}");
        return EXIT_ERROR;
    }
    if has_errors(results) { EXIT_ERROR } else { 0 }
}

/// One stderr line per error and warning (kustomize shows stderr and discards results).
pub fn report(results: &[KrmResult]) {
    let mut stderr = std::io::stderr().lock();
    for r in results.iter().filter(|r| r.severity != Severity::Info) {
        let _ = writeln!(stderr, "{r}");
    }
}

/// The input could not be read: a ResourceList with only the error result, exit 1.
fn fail(message: &str) -> i32 {
    let mut rl = ResourceList::new(Vec::new());
    let r = KrmResult::error(message);
    rl.results.push(r.clone());
    let _ = emit(&rl, &[r], true);
    EXIT_ERROR
}

#[cfg(test)]
mod tests {
    use super::under_kpt;
    use serde_json::json;

    #[test]
    fn kpt_is_told_from_kustomize_by_the_annotations_it_adds() {
        let kpt = json!({"kind": "ConfigMap", "metadata": {"name": "a", "annotations": {"internal.config.kubernetes.io/path": "a.yaml", "config.kubernetes.io/path": "a.yaml"}}});
        let kustomize = json!({"kind": "ConfigMap", "metadata": {"name": "b", "annotations": {"kustomize.config.k8s.io/id": "kind: ConfigMap\nname: b\n", "internal.config.kubernetes.io/index": "0"}}});
        let bare = json!({"kind": "ConfigMap", "metadata": {"name": "c"}});
        assert!(under_kpt(&[kpt.clone(), bare.clone()]));
        assert!(!under_kpt(std::slice::from_ref(&kustomize)));
        assert!(!under_kpt(&[kpt, kustomize]), "kustomize's mark wins");
        assert!(!under_kpt(&[bare]), "a plain ResourceList (kubeflow-krm run, tests) prints to stderr");
        assert!(!under_kpt(&[]));
    }
}
