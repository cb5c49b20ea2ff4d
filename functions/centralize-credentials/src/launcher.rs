//! The KFP v2 launcher's object-store session in the Pipelines namespace.
//!
//! Why: the launcher reads its bucket credentials through the Kubernetes API, by name, not
//! through a reference in the manifests. With no `providers` in ConfigMap `kfp-launcher`, a
//! `minio://` root (the API server's default, `minio://mlpipeline/v2/artifacts`) gets the default
//! session: Secret `mlpipeline-minio-artifact`, keys `accesskey`/`secretkey`, in the run's
//! namespace (`backend/src/v2/config/env.go` `getDefaultMinioSessionInfo()`, read by
//! `objectstore/object_store.go` `getS3BucketCredential()`; KFP 2.2.0, 2.5.0, 2.16.0). This
//! function deletes that Secret in `kubeflow` once no manifest reads it, so runs there would fail
//! with `secrets "mlpipeline-minio-artifact" not found`. Instead the launcher is given a
//! `minio` provider with the same endpoint, region and TLS as the default session and the central
//! Secret (`config/minio.go` `ProvideSessionInfo()` then reads only the named Secret). Profile
//! namespaces keep their own `mlpipeline-minio-artifact`, which the profile controller writes.
//!
//! The endpoint is the default session's, by the input's KFP release: before 2.16
//! `objectstore.MinioDefaultEndpoint()` (the `minio-service` Service, `minio-service.kubeflow:9000`),
//! from 2.16 `objectstore.DefaultEndpointInMultiUserMode` (`seaweedfs.kubeflow:9000`); for an
//! unknown release, the bundled store Service the input has. Only launchers in a namespace that
//! reads the central Secret's object-store keys get it (so the Secret is claimed there); a
//! `providers` that is already there (external-object-store writes one) is left alone, so the two
//! functions give the same output in either order.

use serde_json::Value;

use krm_core::KrmResult;
use krm_core::yaml;
use kubeflow_common::credentials::{self, Credential, Target};
use kubeflow_common::k8s::{FieldPath, Selector, object};
use kubeflow_common::kfp::Kfp;

/// The Secret of the launcher's default session.
const DEFAULT_SESSION_SECRET: &str = "mlpipeline-minio-artifact";

/// The bundled store Services and the port of their S3 API, as the default session names them.
const BUNDLED_STORES: &[(&str, u16)] = &[("seaweedfs", 9000), ("minio-service", 9000)];

/// Gives each `kfp-launcher` ConfigMap without `providers` a `minio` provider reading the
/// central Secret (see the module docs).
pub fn providers(items: &mut [Value], target: &Target, results: &mut Vec<KrmResult>) {
    let (Some(access), Some(secret)) = (target.central_key(Credential::ObjectStoreAccessKey), target.central_key(Credential::ObjectStoreSecretKey)) else {
        return;
    };
    let endpoint = default_session_endpoint(items);
    // The namespaces whose pods read both object-store keys of the central Secret.
    let reading: Vec<Option<String>> = credentials::central_usage(items, target)
        .into_iter()
        .filter(|u| u.credentials.contains(&Credential::ObjectStoreAccessKey) && u.credentials.contains(&Credential::ObjectStoreSecretKey))
        .map(|u| u.namespace)
        .collect();
    let provider = endpoint.map(|e| (provider_text(&e, &target.secret_name, access, secret), e));
    let selector = Selector::core("ConfigMap").named("kfp-launcher");
    for item in items.iter_mut().filter(|i| selector.matches(i) && !object::is_local_config(i)) {
        let current = item.pointer("/data/providers").and_then(Value::as_str).unwrap_or_default();
        let namespace = object::namespace(item).map(str::to_string);
        let warning = if !current.trim().is_empty() {
            names_default_secret(current).then(|| {
                format!(
                    "providers names Secret {DEFAULT_SESSION_SECRET}, which the launcher reads by name: point its secretRef at Secret {} (keys {access}, {secret}) yourself",
                    target.secret_name
                )
            })
        } else if !reading.contains(&namespace) {
            Some(format!(
                "no providers: the launcher's default session reads Secret {DEFAULT_SESSION_SECRET} in this namespace by name, and nothing here reads the object-store keys of Secret {}: keep {DEFAULT_SESSION_SECRET} here, or set providers to a Secret that exists here",
                target.secret_name
            ))
        } else if let Some((text, endpoint)) = &provider {
            if let Some(obj) = item.as_object_mut() {
                object::insert_sorted(object::child_map(obj, "data"), "providers", Value::String(text.clone()));
            }
            results.push(
                KrmResult::info(format!(
                    "providers: minio:// roots read Secret {} (keys {access}, {secret}) at {endpoint}, instead of the default session's Secret {DEFAULT_SESSION_SECRET}",
                    target.secret_name
                ))
                .on(item)
                .at(FieldPath::from_keys(&["data", "providers"])),
            );
            None
        } else {
            Some(format!(
                "no providers, and no bundled store Service (seaweedfs, minio-service) in the input to name: the launcher's default session reads Secret {DEFAULT_SESSION_SECRET} in this namespace by name; keep it there or set providers"
            ))
        };
        if let Some(message) = warning {
            results.push(KrmResult::warning(message).on(item).at("data.providers"));
        }
    }
}

/// The endpoint of the launcher's default session (see the module docs).
fn default_session_endpoint(items: &[Value]) -> Option<String> {
    let service = |name: &str| items.iter().find(|i| Selector::core("Service").named(name).matches(i) && !object::is_local_config(i));
    let at = |name: &str, port: u16| {
        let ns = service(name).and_then(object::namespace).unwrap_or("kubeflow");
        format!("{name}.{ns}:{port}")
    };
    match Kfp::of(items) {
        // A constant from 2.16 on, whatever the Services.
        Some(kfp) if kfp.at_least(2, 16, 0) => Some("seaweedfs.kubeflow:9000".to_string()),
        Some(_) => Some(at("minio-service", 9000)),
        None => BUNDLED_STORES.iter().find(|(name, _)| service(name).is_some()).map(|(name, port)| at(name, *port)),
    }
}

/// Whether a `providers` document names the default session's Secret in a `secretName`.
fn names_default_secret(text: &str) -> bool {
    fn walk(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, v)| (k == "secretName" && v.as_str() == Some(DEFAULT_SESSION_SECRET)) || walk(v)),
            Value::Array(a) => a.iter().any(walk),
            _ => false,
        }
    }
    // Text that is not YAML: looked at as text (the launcher refuses it anyway).
    yaml::parse_document(text).map(|v| walk(&v)).unwrap_or_else(|_| text.contains(DEFAULT_SESSION_SECRET))
}

/// The `providers` document: the default session's endpoint, region and TLS, the central Secret.
fn provider_text(endpoint: &str, secret_name: &str, access: &str, secret: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
    format!(
        "minio:\n  default:\n    endpoint: {}\n    region: minio\n    disableSSL: true\n    credentials:\n      fromEnv: false\n      secretRef:\n        secretName: {}\n        accessKeyKey: {}\n        secretKeyKey: {}\n",
        q(endpoint),
        q(secret_name),
        q(access),
        q(secret)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target::new("kubeflow-credentials")
            .with_key(Credential::ObjectStoreAccessKey, "s3-access-key")
            .with_key(Credential::ObjectStoreSecretKey, "s3-secret-key")
    }

    fn launcher(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kfp-launcher", "namespace": "kubeflow"}, "data": data})
    }

    fn service(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "kubeflow"}})
    }

    /// A pod in `namespace` reading both object-store keys of the central Secret.
    fn consumer(namespace: &str) -> Value {
        let env = |name: &str, key: &str| json!({"name": name, "valueFrom": {"secretKeyRef": {"name": "kubeflow-credentials", "key": key}}});
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ml-pipeline", "namespace": namespace},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x/api-server:2.5.0",
                "env": [env("A", "s3-access-key"), env("B", "s3-secret-key")]}]}}}})
    }

    #[test]
    fn the_default_session_endpoint_with_the_central_secret() {
        let mut items = vec![service("seaweedfs"), launcher(json!({"defaultPipelineRoot": ""})), consumer("kubeflow")];
        items[2]["spec"]["template"]["spec"]["containers"][0]["image"] = json!("x/kfp-api-server:2.16.0");
        let mut results = Vec::new();
        providers(&mut items, &target(), &mut results);
        let text = items[1]["data"]["providers"].as_str().unwrap();
        assert!(text.contains("endpoint: \"seaweedfs.kubeflow:9000\"") && text.contains("secretName: \"kubeflow-credentials\""), "{text}");
        assert_eq!(results.len(), 1);
        // Idempotent, and an existing providers is left alone.
        let before = items.clone();
        let mut again = Vec::new();
        providers(&mut items, &target(), &mut again);
        assert_eq!(items, before);
        assert!(again.is_empty());
    }

    #[test]
    fn the_endpoint_follows_the_release_and_a_warning_without_one() {
        // KFP 2.5.0 uses minio-service, even beside a seaweedfs Service.
        let mut items = vec![service("seaweedfs"), service("minio-service"), launcher(json!({})), consumer("kubeflow")];
        providers(&mut items, &target(), &mut Vec::new());
        assert!(items[2]["data"]["providers"].as_str().unwrap().contains("minio-service.kubeflow:9000"));
        // No release, no Service: nothing to name.
        let mut consumer_without_release = consumer("kubeflow");
        consumer_without_release["spec"]["template"]["spec"]["containers"][0]["image"] = json!("app:1");
        let mut alone = vec![launcher(json!({})), consumer_without_release];
        let mut results = Vec::new();
        providers(&mut alone, &target(), &mut results);
        assert!(alone[0]["data"].get("providers").is_none());
        assert!(results[0].message.contains("keep it there or set providers"));
    }

    #[test]
    fn only_where_the_central_secret_is_read() {
        let mut items = vec![service("seaweedfs"), launcher(json!({})), consumer("elsewhere")];
        let mut results = Vec::new();
        providers(&mut items, &target(), &mut results);
        assert!(items[1]["data"].get("providers").is_none());
        assert!(results[0].message.contains("nothing here reads the object-store keys"));
    }

    #[test]
    fn a_providers_naming_the_default_secret_is_reported() {
        assert!(names_default_secret("minio:\n  default:\n    credentials:\n      secretRef:\n        secretName: mlpipeline-minio-artifact\n"));
        assert!(!names_default_secret("# was mlpipeline-minio-artifact\nminio:\n  default:\n    credentials: {fromEnv: true}\n"));
    }

    #[test]
    fn nothing_without_object_store_keys() {
        let mut items = vec![service("seaweedfs"), launcher(json!({}))];
        providers(&mut items, &Target::new("kubeflow-credentials"), &mut Vec::new());
        assert!(items[1]["data"].get("providers").is_none());
    }
}
