//! The properties the fuzz targets check, in one place so that the regression tests check the
//! same ones.
//!
//! `fuzz/` (a `cargo fuzz` crate, run by `fuzz/run.sh`, not in every CI run) has one libFuzzer
//! target per entry of [`TARGETS`]; each passes its input to [`check`]. [`replay`] passes kept
//! inputs to the same function: `tests/fuzz.rs` (in `cargo test`) every crash kept under
//! `fuzz/regressions/` and the seeds under `fuzz/corpus/`, and `crates/kubeflow-krm/examples/fuzz_replay.rs` (in
//! `.ci/run`, a release build) the whole kept corpus, so a crash the fuzzer found stays fixed.
//!
//! A violated property panics with a message saying which one: libFuzzer reports a panic as a
//! crash and keeps the input.
//!
//! Most byte-level mutations of a ResourceList break its YAML, so they exercise the reader and
//! not the functions. [`mutate`] is a structure-aware mutator for the function targets: it reads
//! the input, changes the value tree (a scalar replaced by a Kubeflow name or a tricky scalar, a
//! key renamed to one the functions look for, an entry deleted, duplicated or copied elsewhere,
//! a type changed) and writes it back, so that the functions see valid YAML of odd shapes.
//!
//! The properties, over arbitrary bytes:
//! - `yaml_reader`: [`krm_core::yaml::reader`] reads exactly what serde-saphyr reads (values, or an
//!   error on both sides), for one document and for a stream; what is read writes back and reads
//!   back equal, and writing is stable (the second write is the first).
//! - `resource_list`: a ResourceList that reads writes back and reads back equal, items,
//!   functionConfig, results and other fields; the split reads of large inputs
//!   ([`yaml::parse_resource_list_split`], [`yaml::parse_stream_split`]), forced at any size,
//!   read exactly what the whole-document reads give.
//! - one target per function (`centralize_credentials`, ...): the input runs through the function
//!   as the process does ([`function::run_with`], the items restored by reading the input again).
//!   No panic (no "internal error" result); on an error result, the items come out as they went
//!   in; otherwise the output writes and reads back equal, a second run over it changes nothing
//!   and gives no error, and no result names the value of a Secret in the input.

use serde_json::Value;

use krm_core::result::has_errors;
use krm_core::yaml::reader;
use krm_core::{DynFunction, ResourceList, function, yaml};

/// The fuzz targets, by name: the two readers, then one per function (its name with `_`).
pub const TARGETS: &[&str] = &[
    "yaml_reader",
    "resource_list",
    "centralize_credentials",
    "external_database",
    "external_object_store",
    "external_identity_provider",
    "istio_injection",
    "add_request_authentication",
];

/// Inputs longer than this are skipped (the fuzz scripts cap inputs below it; the regression
/// tests keep the checks fast in a debug build).
pub const MAX_INPUT: usize = 256 * 1024;

/// Checks the properties of `target` over `data`; panics, naming the property, if one fails.
///
/// A function target runs the function of that name (with `_` for `-`) among `functions` (the
/// callers pass `kubeflow_krm::functions::ALL`; this crate depends on no function).
pub fn check(target: &str, data: &[u8], functions: &[&dyn DynFunction]) {
    if data.len() > MAX_INPUT {
        return;
    }
    match target {
        "yaml_reader" => check_reader(data),
        "resource_list" => check_resource_list(data),
        other => {
            let f = functions
                .iter()
                .find(|f| f.name().replace('-', "_") == other)
                .unwrap_or_else(|| panic!("no fuzz target {other:?}: one of {TARGETS:?}"));
            check_function(*f, data);
        }
    }
}

/// Replays every kept input under `root` (`root/<target>/*`, for each of [`TARGETS`]) whose file
/// name passes `keep`, through [`check`]. Returns how many inputs ran, or a line per failing
/// input (its path and the property it breaks).
pub fn replay(root: &std::path::Path, keep: impl Fn(&str) -> bool, functions: &[&dyn DynFunction]) -> Result<usize, Vec<String>> {
    let mut failures = Vec::new();
    let mut n = 0;
    for target in TARGETS {
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(root.join(target))
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
            .unwrap_or_default();
        files.retain(|p| p.file_name().and_then(|f| f.to_str()).is_some_and(&keep));
        files.sort();
        for path in files {
            let Ok(data) = std::fs::read(&path) else {
                failures.push(format!("{}: unreadable", path.display()));
                continue;
            };
            n += 1;
            if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(target, &data, functions))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    if failures.is_empty() { Ok(n) } else { Err(failures) }
}

/// Compact JSON: the exact comparison of two values (key order and number types included).
fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).expect("a value always serializes to JSON")
}

fn check_reader(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    readers_agree("document", reader::read_document(text).map(|v| json(&v)), yaml::parse_document_serde_saphyr(text).map(|v| json(&v)));
    readers_agree("stream", reader::read_stream(text).map(|v| json(&v)), yaml::parse_stream_serde_saphyr(text).map(|v| json(&v)));
    if let Ok(value) = reader::read_document(text) {
        round_trip(&value);
    }
}

/// The project's reader and serde-saphyr read the same value, or both refuse.
fn readers_agree(what: &str, new: Result<String, impl std::fmt::Debug>, old: Result<String, impl std::fmt::Debug>) {
    match (&new, &old) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the reader and serde-saphyr read different values ({what})"),
        (Err(_), Err(_)) => {}
        // The project's own limit, which serde-saphyr does not have (reader::limits).
        (Err(e), Ok(_)) if format!("{e:?}").contains("MiB of text (alias bomb?)") => {}
        _ => panic!("only one reader accepts the {what}:\n  reader:       {new:?}\n  serde-saphyr: {old:?}"),
    }
}

/// A value writes, reads back equal, and writes again identically.
fn round_trip(value: &Value) {
    let written = yaml::to_yaml(value).unwrap_or_else(|e| panic!("a value read cannot be written: {e}"));
    let again = yaml::parse_document(&written).unwrap_or_else(|e| panic!("written YAML does not read back: {e}\n{written}"));
    assert_same(value, &again, || format!("written YAML reads back as another value:\n{written}"));
    let rewritten = yaml::to_yaml(&again).expect("it was written once");
    assert_eq!(written, rewritten, "writing is not stable");
}

fn check_resource_list(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(split) = yaml::parse_resource_list_split(text) {
        let whole = yaml::parse_document(text).map(|v| json(&v));
        assert_eq!(whole.as_ref().ok(), Some(&json(&split)), "the split read differs from the whole read ({whole:?})");
    }
    if let Some(split) = yaml::parse_stream_split(text) {
        let whole = reader::read_stream(text).map(|v| json(&v));
        assert_eq!(whole.as_ref().ok(), Some(&json(&split)), "the split stream read differs from the whole read ({whole:?})");
    }
    let Ok(rl) = ResourceList::from_bytes(data) else { return };
    let out = rl.to_yaml().unwrap_or_else(|e| panic!("a ResourceList read cannot be written: {e}"));
    let back = ResourceList::from_bytes(out.as_bytes()).unwrap_or_else(|e| panic!("the written ResourceList does not read back: {e}\n{out}"));
    assert_eq!(json(&rl), json(&back), "the written ResourceList reads back different:\n{out}");
    assert_eq!(out, back.to_yaml().expect("it was written once"), "writing a ResourceList is not stable");
}

fn check_function(f: &dyn DynFunction, data: &[u8]) {
    let Ok(mut rl) = ResourceList::from_bytes(data) else { return };
    let before = Value::Array(rl.items.clone());
    let secrets = secret_values(&rl);
    let results = function::run_with(f, &mut rl, || ResourceList::from_bytes(data).map(|again| again.items).unwrap_or_default());
    if let Some(bug) = results.iter().find(|r| r.message.starts_with("internal error")) {
        panic!("{}: {}", f.name(), bug.message);
    }
    let said = json(&results);
    for secret in &secrets {
        assert!(!said.contains(secret.as_str()), "{}: a result shows the value of a Secret", f.name());
    }
    if has_errors(&results) {
        assert_same(&before, &Value::Array(rl.items), || format!("{}: an error result, but the items changed", f.name()));
        return;
    }
    let out = rl.to_yaml().unwrap_or_else(|e| panic!("{}: the output cannot be written: {e}", f.name()));
    let mut again = ResourceList::from_bytes(out.as_bytes()).unwrap_or_else(|e| panic!("{}: the output does not read back: {e}", f.name()));
    let first = Value::Array(rl.items);
    assert_same(&first, &Value::Array(again.items.clone()), || format!("{}: the output reads back different", f.name()));
    let results = function::run(f, &mut again);
    assert!(!has_errors(&results), "{}: the second run over the output fails: {results:?}", f.name());
    assert_same(&first, &Value::Array(again.items), || format!("{}: a second run changes the output (not idempotent)", f.name()));
}

/// Panics with `what` and the first place where `a` and `b` differ, unless they are exactly equal
/// (key order and number types included).
fn assert_same(a: &Value, b: &Value, what: impl Fn() -> String) {
    if json(a) != json(b) {
        panic!("{}: first difference at {}", what(), first_difference(a, b, "$"));
    }
}

/// Where two values first differ (`$[3].spec.template`), with both sides, shortened.
fn first_difference(a: &Value, b: &Value, path: &str) -> String {
    let short = |v: &Value| {
        let text = json(v);
        if text.chars().count() > 300 { format!("{}...", text.chars().take(300).collect::<String>()) } else { text }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) if x.keys().eq(y.keys()) => x
            .iter()
            .zip(y.values())
            .find(|((_, u), v)| json(u) != json(v))
            .map(|((k, u), v)| first_difference(u, v, &format!("{path}.{k}")))
            .unwrap_or_else(|| format!("{path}: equal")),
        (Value::Object(x), Value::Object(y)) => {
            format!("{path}: keys {:?} != {:?}", x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>())
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find(|(_, (u, v))| json(u) != json(v))
            .map(|(i, (u, v))| first_difference(u, v, &format!("{path}[{i}]")))
            .unwrap_or_else(|| format!("{path}: equal")),
        (Value::Array(x), Value::Array(y)) => {
            // Different lengths: the entries only one side has.
            let only = |x: &[Value], y: &[Value]| {
                let others: Vec<String> = y.iter().map(json).collect();
                x.iter().filter(|e| !others.contains(&json(e))).map(short).collect::<Vec<_>>()
            };
            format!("{path}: {} entries != {}\n  only left:  {:?}\n  only right: {:?}", x.len(), y.len(), only(x, y), only(y, x))
        }
        _ => format!("{path}:\n  {}\n  {}", short(a), short(b)),
    }
}

/// The values of the input's Secrets (`stringData`, and `data` decoded) that a result could show
/// without it being a coincidence: 8 characters or more, and nowhere in the input outside
/// Secret values (a password that is also a namespace name may be named as the namespace).
fn secret_values(rl: &ResourceList) -> Vec<String> {
    let mut values = Vec::new();
    let mut public = rl.clone();
    for item in public.items.iter_mut().filter(|i| i.get("kind").and_then(Value::as_str) == Some("Secret")) {
        let Some(obj) = item.as_object_mut() else { continue };
        for field in ["data", "stringData"] {
            if let Some(Value::Object(map)) = obj.get_mut(field) {
                for v in map.values_mut() {
                    if let Some(s) = v.as_str() {
                        let decoded = if field == "data" { base64_decode(s) } else { Some(s.to_string()) };
                        values.extend(decoded.filter(|d| d.chars().count() >= 8));
                    }
                    *v = Value::Null;
                }
            }
        }
    }
    let public = json(&public);
    values.retain(|v| !public.contains(json(v).trim_matches('"')));
    values
}

/// Standard base64 (as a Secret's `data` holds it) to UTF-8 text; `None` if it is not that.
fn base64_decode(s: &str) -> Option<String> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// Scalars a structural mutation writes: Kubeflow names the functions look for, and the scalars
/// YAML 1.1 and 1.2 read differently.
const TOKENS: &[&str] = &[
    "kubeflow", "istio-system", "kubeflow-user-example-com", "mysql-secret", "mlpipeline-minio-artifact",
    "katib-mysql-secrets", "model-registry-db-secrets", "pipeline-install-config", "workflow-controller-configmap",
    "kfp-launcher", "namespace-labels-data", "ml-pipeline", "ml-pipeline-ui", "katib-db-manager", "katib-mysql",
    "mysql", "minio", "seaweedfs", "cache-server", "metadata-grpc-deployment", "model-registry-deployment",
    "kubeflow-pipelines-profile-controller", "istio-ingressgateway", "kubeflow-credentials", "username", "password",
    "accesskey", "secretkey", "DBCONFIG_USER", "DBCONFIG_PASSWORD", "DB_PASSWORD", "MINIO_ACCESS_KEY", "enabled",
    "disabled", "ambient", "sidecar", "https://token.actions.githubusercontent.com", "Secret", "ConfigMap",
    "Deployment", "Namespace", "StatefulSet", "RequestAuthentication", "ExternalSecret", "v1", "apps/v1",
    "yes", "on", "0755", "1e3", "~", "2024-01-01", "0x1F", "", " ", "a\nb\n", "\r\n", "é",
];

/// Keys a structural mutation adds or renames to: the ones the functions read.
const KEYS: &[&str] = &[
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "data", "stringData", "spec",
    "template", "containers", "initContainers", "env", "envFrom", "valueFrom", "secretKeyRef", "configMapKeyRef",
    "secretRef", "configMapRef", "key", "value", "args", "command", "volumes", "secret", "secretName",
    "serviceAccountName", "jwtRules", "selector", "matchLabels", "items", "functionConfig", "mode", "namespaces",
    "istio-injection", "istio.io/dataplane-mode", "config.kubernetes.io/local-config", "artifactRepository",
];

/// A small deterministic generator (xorshift64*): a mutation depends on libFuzzer's seed only.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// The JSON pointers of every node of `value` (the root is `""`).
fn pointers(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(String::new(), value)];
    while let Some((at, v)) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    stack.push((format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), child));
                }
            }
            Value::Array(list) => {
                for (i, child) in list.iter().enumerate() {
                    stack.push((format!("{at}/{i}"), child));
                }
            }
            _ => {}
        }
        out.push(at);
    }
    out
}

fn random_scalar(rng: &mut Rng) -> Value {
    match rng.below(8) {
        0 => Value::Null,
        1 => Value::Bool(rng.below(2) == 0),
        2 => Value::from([0i64, 1, -1, 3306, 65536, i64::MAX][rng.below(6)]),
        3 => Value::Object(serde_json::Map::new()),
        4 => Value::Array(Vec::new()),
        _ => Value::String(rng.pick(TOKENS).to_string()),
    }
}

/// One structural change at a random node.
fn mutate_once(value: &mut Value, rng: &mut Rng) {
    let all = pointers(value);
    let at = all[rng.below(all.len())].clone();
    let donor = value.pointer(&all[rng.below(all.len())]).cloned().unwrap_or(Value::Null);
    let (parent, last) = at.rsplit_once('/').map_or((None, None), |(p, l)| (Some(p.to_string()), Some(l.replace("~1", "/").replace("~0", "~"))));
    let op = rng.below(6);
    match op {
        // Delete the node from its map or list.
        0 => {
            if let (Some(parent), Some(last)) = (parent, last) {
                match value.pointer_mut(&parent) {
                    Some(Value::Object(map)) => {
                        map.shift_remove(&last);
                    }
                    Some(Value::Array(list)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            if i < list.len() {
                                list.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        // Rename the node's key (kept in place).
        1 => {
            if let (Some(parent), Some(last)) = (parent, last) {
                if let Some(Value::Object(map)) = value.pointer_mut(&parent) {
                    let key = rng.pick(KEYS).to_string();
                    if let Some(i) = map.keys().position(|k| *k == last) {
                        if !map.contains_key(&key) {
                            let v = map.shift_remove(&last).expect("the key was just found");
                            map.shift_insert(i, key, v);
                        }
                    }
                }
            }
        }
        // Duplicate a list entry, or add a key to a map.
        2 => match value.pointer_mut(&at) {
            Some(Value::Array(list)) if !list.is_empty() => {
                let entry = list[rng.below(list.len())].clone();
                let to = rng.below(list.len() + 1);
                list.insert(to, entry);
            }
            Some(Value::Object(map)) => {
                let key = rng.pick(KEYS).to_string();
                let v = if rng.below(2) == 0 { donor } else { random_scalar(rng) };
                map.insert(key, v);
            }
            _ => {}
        },
        // Replace the node by a copy of another one.
        3 => {
            if let Some(node) = value.pointer_mut(&at) {
                *node = donor;
            }
        }
        // Replace the node by a scalar or an empty collection.
        _ => {
            let scalar = random_scalar(rng);
            if let Some(node) = value.pointer_mut(&at) {
                *node = scalar;
            }
        }
    }
}

/// A structure-aware mutation of `input` (see the module docs), or `None` if it does not read
/// as YAML.
pub fn mutate(input: &[u8], seed: u32) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(input).ok()?;
    let mut value = yaml::parse_document(text).ok()?;
    let mut rng = Rng(u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for _ in 0..=rng.below(3) {
        mutate_once(&mut value, &mut rng);
    }
    yaml::to_yaml(&value).ok().map(String::into_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_a_secret_value() {
        assert_eq!(base64_decode("bWluaW8xMjM=").as_deref(), Some("minio123"));
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn structural_mutations_keep_valid_yaml_and_change_the_tree() {
        let input = b"apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: mysql-secret\n  data:\n    username: cm9vdA==\n";
        let original = yaml::parse_document(std::str::from_utf8(input).unwrap()).unwrap();
        let mut changed = 0;
        for seed in 0..200 {
            let out = mutate(input, seed).expect("a YAML input mutates");
            let value = yaml::parse_document(std::str::from_utf8(&out).unwrap()).expect("the mutation is valid YAML");
            changed += usize::from(value != original);
            assert_eq!(mutate(input, seed), Some(out), "deterministic for a seed");
        }
        assert!(changed > 150, "only {changed} of 200 mutations changed the tree");
        assert_eq!(mutate(b"a: [", 1), None);
    }

    #[test]
    #[should_panic(expected = "no fuzz target")]
    fn an_unknown_target_is_refused() {
        check("nope", b"", &[]);
    }

    #[test]
    fn a_leaked_secret_value_is_caught() {
        let rl = ResourceList::new(vec![serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"password": "bWluaW8xMjM="}, "stringData": {"user": "kubeflow", "token": "long-token-value"},
        })]);
        // "kubeflow" is 8 characters and only a Secret value here, so it counts.
        assert_eq!(secret_values(&rl), ["minio123", "kubeflow", "long-token-value"]);
        let mut named = rl.clone();
        named.items[0]["metadata"]["namespace"] = "kubeflow".into();
        assert_eq!(secret_values(&named), ["minio123", "long-token-value"], "a value also used as a name is not secret");
    }
}
