//! The `istio-injection` binary as a process: stdin, stdout, stderr and exit codes, for good and
//! bad input (`kubeflow-krm`, which dispatches to it, has the same tests in its crate).
//!
//! Bad input (malformed YAML, not a ResourceList, a wrong kind, an unknown field, a bad enum
//! value, empty input, non-UTF-8 bytes, two items that are one object) must exit 1 with a
//! one-line message on stderr that names the problem, and a ResourceList on stdout holding the
//! error result and the items unchanged.

use krm_testkit::process::{self, assert_refused, resource_list, run};

const ISTIO: &str = env!("CARGO_BIN_EXE_istio-injection");


#[test]
fn transforms_and_exits_zero() {
    process::check_transforms_and_exits_zero(ISTIO);
}

#[test]
fn config_errors_return_items_unchanged() {
    process::check_config_errors_return_items_unchanged(ISTIO);
}

#[test]
fn wrong_kind() {
    let config = "apiVersion: fn.kubeflow-krm.dev/v1alpha1\nkind: IstioInjektion\nmetadata:\n  name: x\n";
    assert_refused(ISTIO, resource_list(config).as_bytes(), "is not IstioInjection");
}

#[test]
fn unreadable_input() {
    for (input, expected) in [
        (&b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: [\n"[..], "invalid YAML"),
        (b"apiVersion: v1\nkind: ConfigMap\n", "not a ResourceList"),
        (b"", "empty input"),
        (b"\xff\xfeapiVersion", "not UTF-8"),
        (b"- 1\n- 2\n", "not a mapping"),
        (b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- 1\n", "items[0]"),
        (b"a: 1\na: 2\n", "invalid YAML"),
    ] {
        assert_refused(ISTIO, input, expected);
    }
    // A billion laughs (10^10 nodes once expanded) and nesting 100,000 deep: refused as they
    // are read, before anything is built.
    let mut bomb = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- a: &a [x,x,x,x,x,x,x,x,x,x]\n");
    for (n, level) in "bcdefghij".chars().enumerate() {
        let previous = "abcdefghij".as_bytes()[n] as char;
        bomb.push_str(&format!("  {level}: &{level} [{}]\n", vec![format!("*{previous}"); 10].join(",")));
    }
    assert_refused(ISTIO, bomb.as_bytes(), "alias bomb");
    let deep = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    assert_refused(ISTIO, deep.as_bytes(), "recursion limit exceeded");
}

#[test]
fn two_items_that_are_one_object_are_refused_and_returned_unchanged() {
    process::check_duplicate_items_refused(ISTIO);
}

#[test]
fn missing_function_config() {
    process::check_missing_function_config(ISTIO);
}

#[test]
fn help_is_the_readme_and_version_the_workspace_version() {
    let out = run(ISTIO, &["--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), include_str!("../README.md"));
    let out = run(ISTIO, &["--version"], b"");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), format!("istio-injection {}\n", env!("CARGO_PKG_VERSION")));
}
