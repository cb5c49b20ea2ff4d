//! A built binary as a process: stdin in, stdout, stderr and the exit code out, and what a
//! refusal must look like (exit 1, one `error:` line on stderr naming the problem, a
//! ResourceList on stdout with the error result).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use krm_core::yaml;
use serde_json::Value;

/// Runs `bin` with `args`, writing `stdin` to it from another thread (so that a large input
/// cannot deadlock against the child's output; a child that stops reading ends the write).
pub fn run(bin: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{bin}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    std::thread::scope(|scope| {
        scope.spawn(move || match pipe.write_all(stdin) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.unwrap(),
        });
        child.wait_with_output().unwrap()
    })
}

/// A ResourceList holding one Namespace `kubeflow` (labelled `istio-injection: enabled` and
/// `note: "on"`, a string that must stay one) and `config` as its functionConfig.
pub fn resource_list(config: &str) -> String {
    format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: kubeflow\n    labels:\n      istio-injection: enabled\n      note: \"on\"\nfunctionConfig:\n{}",
        config.lines().map(|l| format!("  {l}\n")).collect::<String>()
    )
}

/// The ResourceList a process wrote on stdout.
pub fn stdout_rl(out: &Output) -> Value {
    yaml::parse_document(std::str::from_utf8(&out.stdout).unwrap()).expect("stdout is a ResourceList")
}

/// Runs a bad input; asserts exit 1, one stderr line naming `expected`, and a ResourceList with
/// the error result on stdout, which it returns.
pub fn assert_refused(bin: &str, input: &[u8], expected: &str) -> Value {
    let out = run(bin, &[], input);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exit code; stderr: {stderr}");
    assert!(stderr.contains(expected), "stderr {stderr:?} does not name {expected:?}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    let rl = stdout_rl(&out);
    assert_eq!(rl["kind"], "ResourceList");
    assert_eq!(rl["results"][0]["severity"], "error");
    rl
}
