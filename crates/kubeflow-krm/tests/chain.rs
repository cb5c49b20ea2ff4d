//! Functions that rewire the same credentials give the same output in either order: here
//! centralize-credentials and external-database, on every Kubeflow shape (the corpus tests check
//! all 24 orders of the four mutators over a real render).

use krm_core::yaml;
use serde_json::{Value, json};

fn fixture(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .flat_map(|n| {
            let path = format!("{}/../../tests/fixtures/{n}.yaml", env!("CARGO_MANIFEST_DIR"));
            yaml::parse_stream(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .collect()
}

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
                "credentials": {"secretName": "central"}, "tls": {"mode": "required"}});
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
