//! The login on every Kubeflow shape (1.9, 1.10, master), in both modes of
//! external-identity-provider: with centralize-credentials in either order the output is the
//! same, no value of any Secret of the input is left anywhere (plain or base64), no pod reads a
//! Secret that nothing provides, and the core objects still read as their Kubernetes types.

use std::collections::BTreeSet;

use krm_core::{object, yaml};
use serde_json::{Value, json};

use krm_testkit::golden::fixtures as fixture;

const RELEASES: [&str; 3] = ["login-master", "login-v1.10", "login-v1.9"];

fn run(kind: &str, config: &Value, items: &mut Vec<Value>) {
    let f = kubeflow_krm::functions::by_kind(kind).unwrap();
    let mut fc = json!({"apiVersion": krm_core::config::API_VERSION, "kind": kind, "metadata": {"name": "x"}});
    fc.as_object_mut().unwrap().extend(config.as_object().unwrap().clone());
    let results = f.apply(Some(&fc), items);
    assert!(!results.iter().any(|r| r.is_error()), "{kind}: {results:?}");
}

fn es() -> Value {
    json!({"secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"}, "remoteKey": "kubeflow"})
}

fn centralize() -> Value {
    json!({"secretName": "central", "externalSecret": es()})
}

fn modes() -> Vec<Value> {
    vec![
        json!({"mode": "dex", "secretName": "central", "cookieSecretBytes": 32, "externalSecret": es(),
            "dex": {"issuer": "https://kubeflow.example.com/dex",
                "connectors": [{"type": "github", "id": "github", "name": "GitHub", "clientID": "Iv1.x"}],
                "staticUsers": [{"email": "a@example.com", "username": "a", "userID": "1", "hashKey": "hash-a"}]}}),
        json!({"mode": "dex", "secretName": "central", "cookieSecretBytes": 16,
            "dex": {"connectors": [{"type": "ldap", "id": "ldap", "name": "LDAP", "host": "ldap:636", "bindDN": "cn=dex",
                "userSearch": {"baseDN": "dc=x", "username": "uid"}}]}}),
        json!({"mode": "oidc", "secretName": "central", "cookieSecretBytes": 24, "externalSecret": es(),
            "oidc": {"issuer": "https://idp.example.com", "redirectUrl": "https://kubeflow.example.com/oauth2/callback",
                "audiences": ["kubeflow"]}}),
    ]
}

fn first_difference(a: &[Value], b: &[Value]) -> String {
    let (ta, tb) = (yaml::to_yaml_stream(a).unwrap(), yaml::to_yaml_stream(b).unwrap());
    let line = ta.lines().zip(tb.lines()).position(|(x, y)| x != y).unwrap_or(0);
    format!(
        "{}\n---\n{}",
        ta.lines().skip(line.saturating_sub(5)).take(30).collect::<Vec<_>>().join("\n"),
        tb.lines().skip(line.saturating_sub(5)).take(30).collect::<Vec<_>>().join("\n")
    )
}

/// centralize-credentials and external-identity-provider give the same items in either order.
#[test]
fn login_commutes_with_centralize_credentials() {
    for release in RELEASES {
        let input = fixture(&[release]);
        for config in modes() {
            let mut a = input.clone();
            run("CentralizeCredentials", &centralize(), &mut a);
            run("ExternalIdentityProvider", &config, &mut a);
            let mut b = input.clone();
            run("ExternalIdentityProvider", &config, &mut b);
            run("CentralizeCredentials", &centralize(), &mut b);
            assert!(a == b, "{release}, mode {}: order matters:\n{}", config["mode"], first_difference(&a, &b));
        }
    }
}

/// Every value of every Secret of the input, as written and base64-decoded (values shorter than
/// 8 characters are too common to search for).
fn secret_values(items: &[Value]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for item in items.iter().filter(|i| object::kind(i) == "Secret") {
        for (map, encoded) in [("data", true), ("stringData", false)] {
            for v in item.get(map).and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
                let Some(s) = v.as_str() else { continue };
                out.insert(s.to_string());
                if encoded {
                    out.insert(String::from_utf8(decode_base64(s)).unwrap());
                }
            }
        }
    }
    out.retain(|v| v.len() >= 8);
    out
}

fn decode_base64(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        bits = (bits << 6) | ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

/// After centralize-credentials and external-identity-provider, no value of a Secret of the
/// upstream render is anywhere in the output, in any mode.
#[test]
fn no_public_login_secret_survives() {
    for release in RELEASES {
        let input = fixture(&[release]);
        let values = secret_values(&input);
        assert!(values.contains("12341234") || values.iter().any(|v| v.starts_with("$2y$")), "{release}: the fixture has dex's default hash");
        for config in modes() {
            let mut items = input.clone();
            run("CentralizeCredentials", &centralize(), &mut items);
            run("ExternalIdentityProvider", &config, &mut items);
            let text = yaml::to_yaml_stream(&items).unwrap();
            for v in &values {
                assert!(!text.contains(v.as_str()), "{release}, mode {}: a value of an input Secret is still in the output", config["mode"]);
            }
        }
    }
}

/// Every Secret a pod reads is in the output, or filled by an ExternalSecret there, or is the
/// central Secret the user provides (the claims name it per namespace).
#[test]
fn no_pod_reads_a_secret_nothing_provides() {
    for release in RELEASES {
        for config in modes() {
            let mut items = fixture(&[release]);
            run("CentralizeCredentials", &centralize(), &mut items);
            run("ExternalIdentityProvider", &config, &mut items);
            let provided: BTreeSet<(Option<String>, String)> = items
                .iter()
                .filter(|i| matches!(object::kind(i), "Secret" | "ExternalSecret"))
                .map(|i| (object::namespace(i).map(str::to_string), object::name(i).to_string()))
                .collect();
            for r in kubeflow_common::credentials::scan(&items) {
                if r.kind != kubeflow_common::credentials::RefKind::Secret {
                    continue;
                }
                let item = &items[r.item];
                if object::group(item) == "external-secrets.io" {
                    continue;
                }
                let ns = object::namespace(item).map(str::to_string);
                let with_es = config.get("externalSecret").is_some();
                let ok = provided.contains(&(ns.clone(), r.name.clone())) || (r.name == "central" && !with_es);
                assert!(ok, "{release}, mode {}: {} {} reads Secret {} that nothing provides", config["mode"], object::kind(item), object::name(item), r.name);
            }
        }
    }
}

/// The objects the functions change still read as their Kubernetes types.
#[test]
fn outputs_read_as_kubernetes_types() {
    use k8s_openapi::api::{apps::v1::Deployment, core::v1::ConfigMap};
    for release in RELEASES {
        for config in modes() {
            let mut items = fixture(&[release]);
            run("ExternalIdentityProvider", &config, &mut items);
            for item in &items {
                let ok = match object::kind(item) {
                    "Deployment" => serde_json::from_value::<Deployment>(item.clone()).map(drop),
                    "ConfigMap" => serde_json::from_value::<ConfigMap>(item.clone()).map(drop),
                    _ => Ok(()),
                };
                assert!(ok.is_ok(), "{release}: {} {}: {ok:?}", object::kind(item), object::name(item));
                if object::kind(item) == "RequestAuthentication" {
                    let rules = item["spec"]["jwtRules"].as_array().unwrap();
                    for rule in rules {
                        for key in rule.as_object().unwrap().keys() {
                            assert!(["issuer", "audiences", "jwksUri", "jwks", "fromHeaders", "fromParams", "outputPayloadToHeader",
                                "forwardOriginalToken", "outputClaimToHeaders", "timeout", "fromCookies"].contains(&key.as_str()), "{key}");
                        }
                    }
                }
            }
        }
    }
}
