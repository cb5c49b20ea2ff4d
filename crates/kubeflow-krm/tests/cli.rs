//! `kubeflow-krm` as a process: the dispatching KRM function (stdin, stdout, stderr and exit
//! codes, for good and bad input), `run` with `--report` and `--check`, `schema` and `help`.
//! Each single-function binary has the same tests in its own crate (`functions/istio-injection/
//! tests/process.rs`).
//!
//! Bad input (malformed YAML, not a ResourceList, a wrong kind, an unknown field, a bad enum
//! value, empty input, non-UTF-8 bytes, two items that are one object) must exit 1 with a
//! one-line message on stderr that names the problem, and a ResourceList on stdout holding the
//! error result and the items unchanged.

use krm_core::yaml;
use krm_testkit::golden::root;
use krm_testkit::process::{self, assert_refused, resource_list, run};
use serde_json::Value;

const KRM: &str = env!("CARGO_BIN_EXE_kubeflow-krm");


#[test]
fn transforms_and_exits_zero() {
    process::check_transforms_and_exits_zero(KRM);
}

#[test]
fn config_errors_return_items_unchanged() {
    process::check_config_errors_return_items_unchanged(KRM);
}

#[test]
fn wrong_kind() {
    let config = "apiVersion: fn.kubeflow-krm.dev/v1alpha1\nkind: IstioInjektion\nmetadata:\n  name: x\n";
    assert_refused(KRM, resource_list(config).as_bytes(), "\"IstioInjektion\" is not one of");
}

#[test]
fn two_items_that_are_one_object_are_refused_and_returned_unchanged() {
    process::check_duplicate_items_refused(KRM);
}

#[test]
fn missing_function_config() {
    process::check_missing_function_config(KRM);
}

#[test]
fn help_lists_the_functions_and_prints_their_readme() {
    let out = run(KRM, &["--help"], b"");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("istio-injection") && text.contains("IstioInjection"), "{text}");
    let out = run(KRM, &["help", "IstioInjection"], b"");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), include_str!("../../../functions/istio-injection/README.md"));
}

#[test]
fn schema_lists_every_kind() {
    let out = run(KRM, &["schema"], b"");
    let schemas: Value = serde_json::from_slice(&out.stdout).unwrap();
    let istio = &schemas["IstioInjection"];
    assert_eq!(istio["properties"]["kind"]["const"], "IstioInjection");
    assert_eq!(istio["properties"]["mode"]["default"], "sidecar");
}

#[test]
fn run_subcommand_chains_configs_and_refuses_on_error() {
    let dir = std::env::temp_dir().join(format!("kfkrm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.yaml");
    std::fs::write(&input, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kubeflow\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: other\n").unwrap();
    let good = dir.join("good.yaml");
    std::fs::write(&good, "apiVersion: fn.kubeflow-krm.dev/v1alpha1\nkind: IstioInjection\nmetadata:\n  name: x\nnamespaces: [kubeflow]\n").unwrap();
    let out = run(KRM, &["run", input.to_str().unwrap(), "--config", good.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0));
    let docs = yaml::parse_stream(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(docs[0]["metadata"]["labels"]["istio-injection"], "enabled");
    assert!(docs[1]["metadata"].get("labels").is_none());
    assert!(String::from_utf8_lossy(&out.stderr).contains("istio-injection"));

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "apiVersion: fn.kubeflow-krm.dev/v1alpha1\nkind: IstioInjection\nmetadata:\n  name: x\nmode: none\n").unwrap();
    let out = run(KRM, &["run", input.to_str().unwrap(), "-c", good.to_str().unwrap(), "-c", bad.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing is written on error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown variant `none`"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `schemas/<kind>.json` (what editors validate fn-configs against) must match the code:
/// `cargo run -- schema --write schemas` (or `UPDATE_GOLDEN=1 cargo test`) regenerates them.
#[test]
fn published_schemas_are_current() {
    let dir = root().join("schemas");
    for f in kubeflow_krm::functions::kinds() {
        let path = dir.join(format!("{}.json", f.kind()));
        let expected = kubeflow_krm::cli::schema_file_text(f);
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(actual == expected, "{} is stale: run `cargo run -- schema --write schemas`", path.display());
    }
}

/// Every fn-configs file (the Chain its kustomization lists, and each per-function file) is valid
/// for its function over the example base, is local config, and points editors at its schema.
#[test]
fn fn_configs_load_and_name_their_schema() {
    let dir = root().join("fn-configs");
    let list = yaml::parse_document(&std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap()).unwrap();
    assert_eq!(list["resources"], serde_json::json!(["kubeflow-krm.yaml"]), "the recommended set-up is the Chain");
    let mut names: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).filter(|n| n != "kustomization.yaml").collect();
    names.sort();
    assert_eq!(names.len(), kubeflow_krm::functions::ALL.len() + 1, "{names:?}");
    for name in names {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let config = yaml::parse_document(&text).unwrap();
        let kind = config["kind"].as_str().unwrap();
        assert!(text.starts_with(&format!("# yaml-language-server: $schema=../schemas/{kind}.json\n")), "{name}: modeline");
        let f = kubeflow_krm::functions::by_kind(kind).unwrap();
        let base = std::fs::read_to_string(repo("examples/kubeflow-gitops/base/kubeflow.yaml")).unwrap();
        let results = f.apply(Some(&config), &mut yaml::parse_stream(&base).unwrap());
        assert!(!results.iter().any(|r| r.is_error()), "{name}: {results:?}");
        assert_eq!(config["metadata"]["annotations"]["config.kubernetes.io/local-config"], "true", "{name}");
    }
}

fn repo(path: &str) -> String {
    root().join(path).display().to_string()
}

/// Compares with a checked-in file (`UPDATE_GOLDEN=1` rewrites it).
fn golden(actual: &str, path: &str) {
    let path = repo(path);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(expected == actual, "{path} differs from the output:\n{actual}");
}

#[test]
fn change_report_text_and_json() {
    let (base, configs) = (repo("examples/kubeflow-gitops/base"), repo("fn-configs"));
    let out = run(KRM, &["run", &base, "--config", &configs, "--report"], b"");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap().replace(&configs, "fn-configs");
    golden(&text, "tests/report/report.txt");
    let out = run(KRM, &["run", &base, "--config", &configs, "--report=json"], b"");
    let json = String::from_utf8(out.stdout).unwrap().replace(&configs, "fn-configs");
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["totals"]["added"], parsed["functions"].as_array().unwrap().iter().map(|f| f["added"].as_array().unwrap().len()).sum::<usize>());
    golden(&json, "tests/report/report.json");
}

#[test]
fn check_fails_when_the_output_is_stale_and_passes_when_current() {
    let (base, configs) = (repo("examples/kubeflow-gitops/base"), repo("fn-configs"));
    let out = run(KRM, &["run", &base, "--config", &configs, "--check"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("would change the input"));
    let rendered = run(KRM, &["run", &base, "--config", &configs], b"");
    let out = run(KRM, &["run", "-", "--config", &configs, "--check"], &rendered.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the input is current"));
}

/// Every registered function is a crate under `functions/<name>/` with its README and golden
/// cases (run by its own `tests/golden.rs`).
#[test]
fn every_function_is_a_crate_with_golden_cases() {
    for f in kubeflow_krm::functions::ALL {
        let dir = root().join("functions").join(f.name());
        for file in ["Cargo.toml", "README.md", "src/lib.rs", "src/main.rs", "tests/golden.rs"] {
            assert!(dir.join(file).is_file(), "{} has no {file}", f.name());
        }
        let cases = std::fs::read_dir(dir.join("tests/golden")).map(|d| d.count()).unwrap_or(0);
        assert!(cases >= 3, "{} has {cases} golden cases", f.name());
        assert_eq!(f.doc(), std::fs::read_to_string(dir.join("README.md")).unwrap(), "{}: --help is the README", f.name());
    }
}

/// A ConfigMap functionConfig cannot pick a function: the dispatching binary says which binary
/// or image takes one.
#[test]
fn a_configmap_functionconfig_points_at_the_functions_own_binary() {
    let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data: {mode: ambient}\n";
    assert_refused(KRM, input.as_bytes(), "does not say which function to run: give it to the function's own binary or image");
}

/// Config mistakes are said in the user's terms: types in plain words, a field at the wrong
/// level with where it belongs.
#[test]
fn config_errors_speak_yaml_not_rust() {
    let config = |body: &str| format!("apiVersion: fn.kubeflow-krm.dev/v1alpha1\nkind: ExternalDatabase\nmetadata:\n  name: x\n{body}");
    assert_refused(KRM, resource_list(&config("host: db\nport: \"3306\"\ncredentials: {secretName: s}\n")).as_bytes(),
        "port: expected a whole number, got the string \"3306\"");
    assert_refused(KRM, resource_list(&config("host: db\nsecretName: s\n")).as_bytes(),
        "(`secretName` is an option at credentials.secretName)");
}

/// `run -o FILE` writes the resources to the file and says so; stdout stays empty.
#[test]
fn run_writes_to_a_file_with_output() {
    let dir = std::env::temp_dir().join(format!("kfkrm-output-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("rendered.yaml");
    let (base, configs) = (repo("examples/kubeflow-gitops/base"), repo("fn-configs"));
    let out = run(KRM, &["run", &base, "--config", &configs, "-o", out_file.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let stdout_run = run(KRM, &["run", &base, "--config", &configs], b"");
    assert_eq!(std::fs::read(&out_file).unwrap(), stdout_run.stdout, "the file holds what stdout would");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.ends_with(&format!("wrote 61 resources to {}\n", out_file.display())), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `completion bash` prints a script bash loads, which completes the subcommands.
#[test]
fn shell_completion_loads_in_bash() {
    let out = run(KRM, &["completion", "bash"], b"");
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8(out.stdout).unwrap();
    for word in ["run", "schema", "completion", "--config", "--report"] {
        assert!(script.contains(word), "{word} missing from the completion script");
    }
    let loaded = std::process::Command::new("bash")
        .args(["-c", "source /dev/stdin && complete -p kubeflow-krm"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(script.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(String::from_utf8_lossy(&loaded.stdout).contains("kubeflow-krm"), "bash did not register the completion");
    for shell in ["zsh", "fish"] {
        assert_eq!(run(KRM, &["completion", shell], b"").status.code(), Some(0), "{shell}");
    }
}

/// `init DIR` writes a folder that works where it is put: the Chain, a kustomization listing it,
/// and the schemas its modeline names; it never overwrites.
#[test]
fn init_writes_a_working_config_folder() {
    let dir = std::env::temp_dir().join(format!("kfkrm-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let out = run(KRM, &["init", d], b"");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let chain = std::fs::read_to_string(dir.join("kubeflow-krm.yaml")).unwrap();
    let schema = chain.lines().next().unwrap().strip_prefix("# yaml-language-server: $schema=").unwrap();
    assert!(dir.join(schema).is_file(), "the modeline names {schema}, which init wrote");
    let rendered = run(KRM, &["run", &repo("examples/kubeflow-gitops/base"), "--config", d], b"");
    assert_eq!(rendered.status.code(), Some(0));
    assert_eq!(rendered.stdout, std::fs::read(repo("tests/e2e/expected/run.yaml")).unwrap(), "the same render as fn-configs/");
    let again = run(KRM, &["init", d], b"");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty; nothing was written"));
    std::fs::remove_dir_all(&dir).unwrap();
}
