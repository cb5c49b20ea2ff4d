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

/// An IstioInjection functionConfig in ambient mode: the good config of the process checks
/// below, which every binary that runs istio-injection (its own and `kubeflow-krm`) must pass.
pub const AMBIENT: &str = "apiVersion: fn.kubeflow-krm.dev/v1alpha1\nkind: IstioInjection\nmetadata:\n  name: x\nmode: ambient\n";

/// A good run: exit 0, the Namespace labelled, a string that reads as a boolean in YAML 1.1
/// still a string, an info result, nothing on stderr.
pub fn check_transforms_and_exits_zero(bin: &str) {
    let out = run(bin, &[], resource_list(AMBIENT).as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let rl = stdout_rl(&out);
    assert_eq!(rl["items"][0]["metadata"]["labels"]["istio.io/dataplane-mode"], "ambient");
    assert_eq!(rl["items"][0]["metadata"]["labels"]["note"], "on", "a string stays a string");
    assert!(std::str::from_utf8(&out.stdout).unwrap().contains("note: \"on\""));
    assert_eq!(rl["results"][0]["severity"], "info");
    assert!(out.stderr.is_empty(), "infos are not printed on stderr");
}

/// Config errors (an unknown field, a bad enum value, a bad combination) are refused with the
/// items unchanged.
pub fn check_config_errors_return_items_unchanged(bin: &str) {
    let cases = [
        ("mode: ambient\nnamespaces: [kubeflow]\nnamespace: x\n", "unknown field `namespace`"),
        ("mode: ambiant\n", "unknown variant `ambiant`"),
        ("revision: 1-29\nmode: ambient\n", "revision"),
    ];
    for (body, expected) in cases {
        let config = format!("apiVersion: fn.kubeflow-krm.dev/v1alpha1\nkind: IstioInjection\nmetadata:\n  name: x\n{body}");
        let rl = assert_refused(bin, resource_list(&config).as_bytes(), expected);
        assert_eq!(rl["items"][0]["metadata"]["labels"]["istio-injection"], "enabled", "items unchanged");
    }
}

/// Two items that are one object are refused, and come back as they were.
pub fn check_duplicate_items_refused(bin: &str) {
    let input = resource_list(AMBIENT).replacen("items:\n", "items:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: kubeflow\n", 1);
    let rl = assert_refused(bin, input.as_bytes(), "items[1] is the same object as items[0]");
    assert_eq!(rl["items"].as_array().unwrap().len(), 2);
    assert_eq!(rl["items"][1]["metadata"]["labels"]["istio-injection"], "enabled", "items unchanged");
}

/// No functionConfig is an error.
pub fn check_missing_function_config(bin: &str) {
    assert_refused(bin, b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n", "missing functionConfig");
}
