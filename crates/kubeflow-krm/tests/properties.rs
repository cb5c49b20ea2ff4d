//! Property tests over generated Kubernetes-like objects:
//! - writing and reading back is exact under the project's YAML rules, whatever the scalars
//!   (`yes`, `on`, `0755`, `1e3`, `~`, dates, `0x1F`, `.inf` as strings, `"8443"` keys, empty
//!   strings, leading/trailing spaces, block scalars that need `|+` or `|2-`, unicode, CR), and
//!   the same text with CRLF line breaks reads the same;
//! - every function is idempotent over the example base mixed with generated objects;
//! - generated objects of a kind no function targets come out of every function unchanged.

use kubeflow_krm::functions;
use krm_core::{ResourceList, function, yaml};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const TRICKY: &[&str] = &[
    "yes", "no", "on", "Off", "y", "N", "true", "False", "null", "~", "0755", "0999", "1e3", "1_000",
    "0x1F", "0o12", "0b101", ".inf", "-.Inf", ".nan", "1:20", "2024-01-01", "2001-12-14t21:59:43.10-05:00",
    "=", "<<", "", " ", " lead", "trail ", "3306", "-1", "1.0", "8443", "a: b", "#x", "- x", "---", "...",
    "|", ">", "@at", "`tick", "%pct", "ünïcödé ⇒", "\u{a0}nbsp", "tab\there", "multi\nline\n",
    "keep\n\n", "strip\nno newline", "  indented first\nsecond\n", "cr\r\nlf", "x: |\n  nested yaml\n",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(TRICKY).prop_map(|s| Value::String(s.to_string())),
        "[a-zA-Z0-9 ._/:-]{0,12}".prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(|f| json!(f)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(TRICKY).prop_map(|s| s.replace(['\n', '\r'], " ")),
        "[a-z][a-zA-Z0-9./_-]{0,10}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A Kubernetes-like object of a kind no function targets.
fn widget() -> impl Strategy<Value = Value> {
    ("[a-z][a-z0-9-]{0,10}", prop::option::of("[a-z][a-z0-9-]{0,8}"), value(), value()).prop_map(|(name, ns, spec, data)| {
        let mut metadata = json!({"name": name, "annotations": {"config.k8s.io/id": "1", "internal.config.kubernetes.io/path": "w.yaml"}});
        if let Some(ns) = ns {
            metadata["namespace"] = json!(ns);
        }
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": metadata, "spec": spec, "data": data})
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn write_then_read_is_exact(v in value()) {
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": v});
        let text = yaml::to_yaml(&doc).unwrap();
        prop_assert_eq!(yaml::parse_document(&text).unwrap(), doc, "written as:\n{}", text);
    }

    #[test]
    fn crlf_line_breaks_read_as_lf(v in value()) {
        // A file saved on Windows: every line break is CRLF. Line breaks inside block scalars
        // read as LF (YAML normalizes them); a CR that is content is written escaped.
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": v});
        let text = yaml::to_yaml(&doc).unwrap().replace('\n', "\r\n");
        prop_assert_eq!(yaml::parse_document(&text).unwrap(), doc, "written as:\n{:?}", text);
    }

    #[test]
    fn resource_list_round_trip_is_exact(items in prop::collection::vec(widget(), 1..6)) {
        let rl = ResourceList::new(items.clone());
        let text = rl.to_yaml().unwrap();
        let back = ResourceList::from_bytes(text.as_bytes()).unwrap();
        prop_assert_eq!(back.items, items);
    }
}

fn base() -> Vec<Value> {
    let path = krm_testkit::golden::root().join("examples/kubeflow-gitops/base/kubeflow.yaml");
    yaml::parse_stream(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn config_of(name: &str) -> Value {
    let path = krm_testkit::golden::root().join(format!("fn-configs/{name}.yaml"));
    yaml::parse_document(&std::fs::read_to_string(path).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn functions_are_idempotent_and_leave_untargeted_items_alone(widgets in prop::collection::vec(widget(), 1..4), at in 0usize..50) {
        // Distinct objects: two of one identity are refused before any function runs.
        let widgets: Vec<Value> = widgets
            .into_iter()
            .enumerate()
            .map(|(i, mut w)| {
                w["metadata"]["name"] = json!(format!("{}-{i}", w["metadata"]["name"].as_str().unwrap_or_default()));
                w
            })
            .collect();
        for f in functions::ALL {
            let mut items = base();
            for (i, w) in widgets.iter().enumerate() {
                items.insert((at + i * 7) % (items.len() + 1), w.clone());
            }
            let mut rl = ResourceList::new(items);
            rl.function_config = Some(config_of(f.name()));
            let results = function::run(*f, &mut rl);
            prop_assert!(!results.iter().any(|r| r.is_error()), "{}: {:?}", f.name(), results);
            for w in &widgets {
                prop_assert!(rl.items.contains(w), "{} changed or dropped a Widget", f.name());
            }
            let once = rl.items.clone();
            let mut again = ResourceList::new(once.clone());
            again.function_config = Some(config_of(f.name()));
            function::run(*f, &mut again);
            prop_assert_eq!(&again.items, &once, "{} is not idempotent", f.name());
        }
    }
}
