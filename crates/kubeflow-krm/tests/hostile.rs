//! Hostile input through every function: malformed objects where the functions look (env that is
//! not a list, a Deployment without containers, metadata that is not a map, two items with the
//! same identity...), and a marker secret value that must never reach a result or stderr.
//!
//! Each function runs with its `fn-configs/` functionConfig over the example base plus one
//! hostile item. Whatever it decides (refuse with an error, warn, or transform), it must not
//! panic (a panic is reported as "internal error"), an error must leave the items unchanged, and
//! the output must still be writable.

use std::io::Write;
use std::process::{Command, Stdio};

use kubeflow_krm::functions;
use krm_core::{ResourceList, function, yaml};
use serde_json::{Value, json};

fn repo(path: &str) -> String {
    krm_testkit::golden::root().join(path).display().to_string()
}

fn base() -> Vec<Value> {
    yaml::parse_stream(&std::fs::read_to_string(repo("examples/kubeflow-gitops/base/kubeflow.yaml")).unwrap()).unwrap()
}

fn config_of(name: &str) -> Value {
    let path = repo(&format!("fn-configs/{name}.yaml"));
    yaml::parse_document(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

fn deployment(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "kubeflow"}, "spec": spec})
}

/// Items shaped wrong exactly where the functions read.
fn hostile_items() -> Vec<(&'static str, Value)> {
    let with_container = |c: Value| json!({"template": {"spec": {"containers": [c]}}});
    vec![
        ("env is not a list", deployment("ml-pipeline", with_container(json!({"name": "ml-pipeline-api-server", "env": "DB=1"})))),
        ("env entry is not a map", deployment("ml-pipeline", with_container(json!({"name": "ml-pipeline-api-server", "env": [1, null]})))),
        ("envFrom is a map", deployment("model-registry-deployment", with_container(json!({"name": "rest-container", "envFrom": {"secretRef": "x"}})))),
        ("args are numbers", deployment("model-registry-deployment", with_container(json!({"name": "rest-container", "args": [1, 2]})))),
        ("no containers", deployment("ml-pipeline", json!({"template": {"spec": {}}}))),
        ("containers is null", deployment("cache-server", json!({"template": {"spec": {"containers": null}}}))),
        ("spec is a string", deployment("katib-db-manager", json!("spec"))),
        ("template is a number", deployment("ml-pipeline-ui", json!({"template": 5}))),
        ("metadata is a list", json!({"apiVersion": "v1", "kind": "Namespace", "metadata": ["kubeflow"]})),
        ("labels is a string", json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubeflow-x", "labels": "a=b"}})),
        ("no metadata", json!({"apiVersion": "v1", "kind": "Secret"})),
        ("kind is a number", json!({"apiVersion": "v1", "kind": 7, "metadata": {"name": "x"}})),
        ("secret data is a list", json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mysql-secret", "namespace": "kubeflow"}, "data": ["x"]})),
        ("configmap data values are not strings", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pipeline-install-config", "namespace": "kubeflow"}, "data": {"dbHost": 5, "bucketName": {"a": 1}}})),
        ("argo artifactRepository is not YAML", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "workflow-controller-configmap", "namespace": "kubeflow"}, "data": {"artifactRepository": "s3: [\n"}})),
        ("profile labels are a list", json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "namespace-labels-data-2k29b64d74", "namespace": "kubeflow"}, "data": {"namespace-labels.yaml": "- a\n- b\n"}})),
        ("request authentication rules are a map", json!({"apiVersion": "security.istio.io/v1", "kind": "RequestAuthentication", "metadata": {"name": "other", "namespace": "istio-system"}, "spec": {"jwtRules": {"issuer": "x"}, "selector": {"matchLabels": {"app": "istio-ingressgateway"}}}})),
        ("a duplicate of a base item", json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kubeflow", "labels": {"istio-injection": "enabled"}}})),
    ]
}

#[test]
fn hostile_items_never_panic_and_errors_leave_items_unchanged() {
    let mut failures = Vec::new();
    for f in functions::ALL {
        let config = config_of(f.name());
        for (what, item) in hostile_items() {
            let mut items = base();
            items.push(item);
            let before = items.clone();
            let mut rl = ResourceList::new(items);
            rl.function_config = Some(config.clone());
            let results = function::run(*f, &mut rl);
            if let Some(panic) = results.iter().find(|r| r.message.contains("internal error")) {
                failures.push(format!("{} / {what}: {}", f.name(), panic.message));
            }
            if results.iter().any(|r| r.is_error()) && rl.items != before {
                failures.push(format!("{} / {what}: error but items changed", f.name()));
            }
            if let Err(e) = rl.to_yaml() {
                failures.push(format!("{} / {what}: output not writable: {e}", f.name()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const MARKER: &str = "S3CR3T-MARKER-7f3a";

fn marker_b64() -> String {
    // base64 of the marker, as a Secret's `data` would hold it.
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = MARKER.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The base with every Secret value and every literal credential env value set to the marker.
fn base_with_marker() -> Vec<Value> {
    let b64 = marker_b64();
    let mut items = base();
    for item in &mut items {
        if item["kind"] == "Secret" {
            for field in ["data", "stringData"] {
                if let Some(map) = item.get_mut(field).and_then(Value::as_object_mut) {
                    for v in map.values_mut() {
                        *v = Value::String(if field == "data" { b64.clone() } else { MARKER.to_string() });
                    }
                }
            }
        }
    }
    let literal = |name: &str| json!({"name": name, "value": MARKER});
    // The UI's own Deployment (the AWS variables count as credentials there): its env gains
    // literal credentials. (A second ml-pipeline-ui would be refused as a duplicate before any
    // function ran, and the test would check nothing.)
    let ui = items.iter_mut().find(|i| i["kind"] == "Deployment" && i["metadata"]["name"] == "ml-pipeline-ui").expect("the base has the UI");
    let env = ui["spec"]["template"]["spec"]["containers"][0]["env"].as_array_mut().expect("the UI has env");
    env.retain(|e| !["MINIO_SECRET_KEY", "MINIO_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"].contains(&e["name"].as_str().unwrap_or_default()));
    env.extend([literal("MINIO_SECRET_KEY"), literal("MINIO_ACCESS_KEY"), literal("AWS_SECRET_ACCESS_KEY")]);
    items.push(deployment("katib-db-manager-literal", json!({"template": {"spec": {"containers": [{"name": "katib-db-manager",
        "env": [literal("DB_PASSWORD"), literal("DB_USER"), literal("DBCONFIG_PASSWORD")]}]}}})));
    items.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "mlpipeline-minio-artifact", "namespace": "user-ns"},
        "stringData": {"accesskey": MARKER, "secretkey": MARKER}}));
    items
}

fn assert_no_marker(text: &str, context: &str) {
    assert!(!text.contains(MARKER) && !text.contains(&marker_b64()), "{context}: a secret value leaked:\n{text}");
}

#[test]
fn secret_values_never_reach_results() {
    for f in functions::ALL {
        // The normal path, and error paths: a bad field, and the items of another function's
        // config (each function refuses a config of another kind).
        let good = config_of(f.name());
        let mut bad = good.clone();
        bad.as_object_mut().unwrap().insert("notAField".into(), json!(MARKER));
        let other = functions::ALL.iter().find(|g| g.name() != f.name()).map(|g| config_of(g.name())).unwrap();
        for config in [good, bad, other] {
            let mut rl = ResourceList::new(base_with_marker());
            rl.function_config = Some(config);
            let results = function::run(*f, &mut rl);
            assert!(!results.iter().any(|r| r.message.contains("is the same object as")), "{}: the input must reach the function", f.name());
            for r in &results {
                assert_no_marker(&format!("{r} {:?}", r.field), f.name());
            }
        }
    }
}

#[test]
fn secret_values_never_reach_stderr_even_on_unreadable_input() {
    let krm = env!("CARGO_BIN_EXE_kubeflow-krm");
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for f in functions::ALL {
        let mut rl = ResourceList::new(base_with_marker());
        rl.function_config = Some(config_of(f.name()));
        let text = rl.to_yaml().unwrap();
        assert!(text.contains(MARKER), "the marker is in the input");
        inputs.push(text.clone().into_bytes());
        // Break the YAML right at a secret value (a bad escape, an unclosed flow), and where a
        // key repeats: each must be refused without quoting the value.
        for broken in [
            text.replacen(&format!(": {MARKER}"), &format!(": \"{MARKER}\\q\""), 1),
            text.replacen(&format!(": {MARKER}"), &format!(": [{MARKER}"), 1),
            text.replacen("  stringData:\n", &format!("  stringData:\n      dup: {MARKER}\n      dup: {MARKER}\n"), 1),
        ] {
            assert_ne!(broken, text, "the input was broken");
            inputs.push(broken.into_bytes());
        }
    }
    let mut refused = 0;
    for input in inputs {
        let mut child = Command::new(krm).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_no_marker(&stderr, "stderr");
        refused += usize::from(stderr.contains("invalid YAML"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        if let Ok(rl) = yaml::parse_document(&stdout) {
            assert_no_marker(&serde_json::to_string(&rl["results"]).unwrap(), "results");
        }
    }
    assert_eq!(refused, 3 * functions::ALL.len(), "every broken input is refused as invalid YAML");
}

/// `run --report` (text and JSON) never shows a secret value: not the Secrets' data, not literal
/// credential env values, not a password in a container argument or a DSN.
#[test]
fn secret_values_never_reach_the_report() {
    let dir = std::env::temp_dir().join(format!("kfkrm-report-marker-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut items = base_with_marker();
    items.push(deployment("model-registry-deployment-literal", json!({"template": {"spec": {"containers": [{"name": "rest-container",
        "args": [format!("--embedmd-database-dsn=root:{MARKER}@tcp(model-registry-db:3306)/metadb"),
                 format!("--mysql_config_password={MARKER}"), "--db_password".to_string(), MARKER.to_string()],
        "env": [{"name": "MINIO_SECRET_KEY", "value": MARKER}]}]}}})));
    let input = dir.join("in.yaml");
    std::fs::write(&input, yaml::to_yaml_stream(&items).unwrap()).unwrap();
    let krm = env!("CARGO_BIN_EXE_kubeflow-krm");
    for format in ["--report", "--report=json"] {
        let out = std::process::Command::new(krm)
            .args(["run", input.to_str().unwrap(), "--config", &repo("fn-configs"), format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("(masked)"), "the report masks something");
        assert_no_marker(&text, format);
        assert_no_marker(&String::from_utf8_lossy(&out.stderr), format);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
