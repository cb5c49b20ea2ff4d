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
    let results = process(&mut rl, &input);
    let code = emit(&rl, &results);
    // The process ends here: freeing a 12 MB render's values would only cost time.
    std::mem::forget(rl);
    code
}

/// Writes the ResourceList and the stderr summary; returns the exit code.
fn emit(rl: &ResourceList, results: &[KrmResult]) -> i32 {
    let text = match rl.to_yaml() {
        Ok(t) => t,
        Err(e) => return fail(&format!("cannot write the output: {e}")),
    };
    report(results);
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
    let _ = emit(&rl, &[r]);
    EXIT_ERROR
}
