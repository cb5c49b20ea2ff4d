//! `kubeflow-krm run` reads only regular files inside the folders it is given, and at most 256
//! MiB of each (crates/kubeflow-krm/src/files.rs): a contributor's pull request cannot make CI
//! print a file from elsewhere on the machine, or hang it.

use std::os::unix::fs::symlink;
use std::path::PathBuf;

use krm_testkit::golden::root;
use krm_testkit::process::run;

const KRM: &str = env!("CARGO_BIN_EXE_kubeflow-krm");

/// A fresh folder holding a valid input file.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kfkrm-load-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(dir.join("in/ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kubeflow\n").unwrap();
    dir
}

fn config() -> String {
    root().join("fn-configs/istio-injection.yaml").display().to_string()
}

/// Runs `run INPUT --config CONFIG`; asserts exit 1, nothing on stdout and `expected` on stderr.
fn refused(input: &str, config: &str, expected: &str) {
    let out = run(KRM, &["run", input, "--config", config], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing written");
    assert!(stderr.contains(expected), "{stderr:?} does not say {expected:?}");
}

#[test]
fn a_link_out_of_an_input_folder_is_refused() {
    let dir = folder("link-out");
    std::fs::write(dir.join("secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: kubeconfig\n").unwrap();
    symlink(dir.join("secret.yaml"), dir.join("in/stolen.yaml")).unwrap();
    refused(dir.join("in").to_str().unwrap(), &config(), "outside");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn devices_fifos_and_links_to_them_are_refused() {
    let dir = folder("devices");
    symlink("/dev/zero", dir.join("zero.yaml")).unwrap();
    refused(dir.join("zero.yaml").to_str().unwrap(), &config(), "a character device, not a regular file");
    let fifo = dir.join("in/pipe.yaml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    refused(dir.join("in").to_str().unwrap(), &config(), "a FIFO, not a regular file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_link_to_a_parent_folder_is_walked_once() {
    let dir = folder("loop");
    symlink(dir.join("in"), dir.join("in/again")).unwrap();
    let out = run(KRM, &["run", dir.join("in").to_str().unwrap(), "--config", &config()], b"");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).matches("kind: Namespace").count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_config_folder_that_lists_a_file_outside_it_is_refused() {
    let dir = folder("config-out");
    std::fs::create_dir_all(dir.join("configs")).unwrap();
    std::fs::copy(root().join("fn-configs/istio-injection.yaml"), dir.join("istio.yaml")).unwrap();
    std::fs::write(dir.join("configs/kustomization.yaml"), "resources:\n- ../istio.yaml\n").unwrap();
    refused(dir.join("in").to_str().unwrap(), dir.join("configs").to_str().unwrap(), "outside");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stdin_is_bounded() {
    // 257 MiB of spaces: refused once 256 MiB are read, without reading the rest into memory.
    let big = vec![b' '; (257 << 20) as usize];
    let out = run(KRM, &["run", "-", "--config", &config()], &big);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdin: larger than 256 MiB"), "{}", String::from_utf8_lossy(&out.stderr));
}
