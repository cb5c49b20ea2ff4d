//! Replays the kept fuzzing inputs (`fuzz/corpus/` and `fuzz/regressions/`, or the folders
//! given) through the fuzz targets' properties, in a release build; `.ci/run` runs it.
//!
//! `cargo run --release --example fuzz_replay [DIR...]` prints how many inputs ran, and exits 1
//! listing each failing input and the property it breaks.

use std::path::PathBuf;

fn main() {
    std::panic::set_hook(Box::new(|_| {}));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut dirs: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        dirs = vec![root.join("corpus"), root.join("regressions")];
    }
    let mut failed = false;
    for dir in &dirs {
        match krm_testkit::fuzz::replay(dir, |_| true, kubeflow_krm::functions::ALL) {
            Ok(n) => println!("{}: {n} inputs hold every property", dir.display()),
            Err(failures) => {
                failed = true;
                println!("{}: {} inputs fail:", dir.display(), failures.len());
                for f in failures {
                    println!("  {f}");
                }
            }
        }
    }
    std::process::exit(i32::from(failed));
}
