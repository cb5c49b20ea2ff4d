//! Functions that rewire the same credentials give the same output in either order: here
//! centralize-credentials and external-database, on every Kubeflow shape (the corpus tests check
//! all 24 orders of the four mutators over a real render).

use krm_core::{DynFunction, yaml};
use serde_json::{Value, json};

use krm_testkit::golden::fixtures as fixture;

fn run(kind: &str, config: &Value, items: &mut Vec<Value>) {
    let f = kubeflow_krm::functions::by_kind(kind).unwrap();
    let mut fc = json!({"apiVersion": krm_core::config::API_VERSION, "kind": kind, "metadata": {"name": "x"}});
    fc.as_object_mut().unwrap().extend(config.as_object().unwrap().clone());
    let results = f.apply(Some(&fc), items);
    assert!(!results.iter().any(|r| r.is_error()), "{kind}: {results:?}");
}

/// centralize-credentials and external-database, given the same Secret and keys, give the
/// same items in either order (on every Kubeflow shape, with and without removal).
#[test]
fn chain_with_centralize_credentials_commutes() {
    let inputs = [
        fixture(&["credentials-master", "database-master", "model-registry"]),
        fixture(&["credentials-v1.9", "database-model-registry-v1.10"]),
        fixture(&["database-v1.9"]),
        fixture(&["database-model-registry-base"]),
    ];
    let keys = json!({"usernameKey": "user", "passwordKey": "pass"});
    for input in inputs {
        for (remove, replace) in [(true, true), (false, true), (true, false), (false, false)] {
            let cc = json!({"secretName": "central", "removeReplacedSecrets": replace,
                "database": keys, "objectStore": {"accessKeyKey": "ak", "secretKeyKey": "sk"}});
            let mut ed = json!({"host": "db.example.com", "port": 3307, "removeInCluster": remove,
                "credentials": {"secretName": "central"}, "tls": {"mode": "required", "plaintext": ["metadata", "katib", "modelRegistry"]}});
            ed["credentials"].as_object_mut().unwrap().extend(keys.as_object().unwrap().clone());
            let mut a = input.clone();
            run("CentralizeCredentials", &cc, &mut a);
            run("ExternalDatabase", &ed, &mut a);
            let mut b = input.clone();
            run("ExternalDatabase", &ed, &mut b);
            run("CentralizeCredentials", &cc, &mut b);
            if a != b {
                let (ta, tb) = (yaml::to_yaml_stream(&a).unwrap(), yaml::to_yaml_stream(&b).unwrap());
                let line = ta.lines().zip(tb.lines()).position(|(x, y)| x != y).unwrap_or(0);
                panic!("order matters (removeInCluster {remove}, removeReplacedSecrets {replace}) at line {line}:\n{}\n---\n{}",
                    ta.lines().skip(line.saturating_sub(5)).take(10).collect::<Vec<_>>().join("\n"),
                    tb.lines().skip(line.saturating_sub(5)).take(10).collect::<Vec<_>>().join("\n"));
            }
        }
    }
}

fn fn_config(name: &str) -> Value {
    let path = krm_testkit::golden::root().join("fn-configs").join(name);
    yaml::parse_document(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The sections of `fn-configs/kubeflow-krm.yaml` (the recommended Chain) are exactly the
/// per-function files beside it, below their metadata: editing one without the other fails here.
#[test]
fn the_recommended_chain_holds_the_per_function_configs() {
    let chain = fn_config("kubeflow-krm.yaml");
    assert_eq!(chain["kind"], "Chain");
    let sections = chain.as_object().unwrap().keys().filter(|k| !["apiVersion", "kind", "metadata"].contains(&k.as_str())).count();
    assert_eq!(sections, kubeflow_krm::functions::ALL.len(), "one section per function");
    for f in kubeflow_krm::functions::ALL {
        let mut own = fn_config(&format!("{}.yaml", f.name()));
        assert_eq!(own["kind"], f.kind());
        for header in ["apiVersion", "kind", "metadata"] {
            own.as_object_mut().unwrap().remove(header);
        }
        let section = f.kind()[..1].to_lowercase() + &f.kind()[1..];
        assert_eq!(chain[&section], own, "fn-configs/kubeflow-krm.yaml {section} differs from fn-configs/{}.yaml", f.name());
    }
}

/// A Chain writes what its functions write one after the other, in the recommended order.
#[test]
fn a_chain_writes_what_its_functions_write_one_by_one() {
    let base = krm_testkit::golden::root().join("examples/kubeflow-gitops/base/kubeflow.yaml");
    let input = yaml::parse_stream(&std::fs::read_to_string(base).unwrap()).unwrap();
    let mut one_by_one = input.clone();
    for f in kubeflow_krm::functions::ALL {
        let results = f.apply(Some(&fn_config(&format!("{}.yaml", f.name()))), &mut one_by_one);
        assert!(!results.iter().any(|r| r.is_error()), "{}: {results:?}", f.name());
    }
    let mut chained = input;
    let results = kubeflow_krm::functions::CHAIN.apply(Some(&fn_config("kubeflow-krm.yaml")), &mut chained);
    assert!(!results.iter().any(|r| r.is_error()), "{results:?}");
    assert!(chained == one_by_one, "the chain's output differs from the functions' one by one");
}

/// The kpt package's copy of the Chain (a copy, so that the package works where users copy it)
/// says what `fn-configs/kubeflow-krm.yaml` says.
#[test]
fn the_kpt_package_holds_the_recommended_chain() {
    let copy = krm_testkit::golden::root().join("examples/kpt-package/fn-configs/kubeflow-krm.yaml");
    let copy = yaml::parse_document(&std::fs::read_to_string(copy).unwrap()).unwrap();
    assert!(copy == fn_config("kubeflow-krm.yaml"), "examples/kpt-package/fn-configs/kubeflow-krm.yaml differs from fn-configs/kubeflow-krm.yaml");
}
