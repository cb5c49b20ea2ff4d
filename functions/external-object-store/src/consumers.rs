//! The consumers of the store in the Pipelines namespace: the API server, the UI, Argo's
//! repositories, the launcher's ConfigMap and `pipeline-install-config`. Each setting's doc names
//! the KFP file and function that reads it (`docs/upstream/kfp-object-store.md`).

use super::*;

/// The API server: `OBJECTSTORECONFIG_*` (old releases have no HOST/PORT: the code fell back to
/// the service links of `minio-service`).
pub(crate) fn api_server(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    edit_workload(items, "ml-pipeline", "ml-pipeline-api-server", results, |env| {
        env.literal("OBJECTSTORECONFIG_HOST", &store.host);
        env.literal("OBJECTSTORECONFIG_PORT", &store.port);
        env.literal("OBJECTSTORECONFIG_SECURE", store.tls());
        env.literal("OBJECTSTORECONFIG_REGION", &store.region);
        let bucket_from_config = env.get("OBJECTSTORECONFIG_BUCKETNAME").is_some_and(|e| e.pointer("/valueFrom/configMapKeyRef").is_some());
        if !bucket_from_config {
            env.literal("OBJECTSTORECONFIG_BUCKETNAME", &store.bucket);
        }
        env.key("OBJECTSTORECONFIG_ACCESSKEY", Credential::ObjectStoreAccessKey, store);
        env.key("OBJECTSTORECONFIG_SECRETACCESSKEY", Credential::ObjectStoreSecretKey, store);
    });
}

/// The UI: the MinIO client (`minio://` artifacts and Argo's archived logs) and the S3 client.
/// `MINIO_NAMESPACE` is emptied: the UI appends it to `MINIO_HOST`.
pub(crate) fn ui(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    edit_workload(items, "ml-pipeline-ui", "ml-pipeline-ui", results, |env| {
        env.key("MINIO_ACCESS_KEY", Credential::ObjectStoreAccessKey, store);
        env.key("MINIO_SECRET_KEY", Credential::ObjectStoreSecretKey, store);
        env.key("AWS_ACCESS_KEY_ID", Credential::ObjectStoreAccessKey, store);
        env.key("AWS_SECRET_ACCESS_KEY", Credential::ObjectStoreSecretKey, store);
        env.literal("MINIO_HOST", &store.host);
        env.literal("MINIO_PORT", &store.port);
        env.literal("MINIO_SSL", store.tls());
        env.literal("MINIO_NAMESPACE", "");
        env.literal("AWS_S3_ENDPOINT", &store.host);
        // KFP UIs up to 2.17 have no port for the S3 client (frontend/server/configs.ts
        // loadConfigs()); later ones read AWS_S3_PORT (kubeflow/pipelines#14349). Only a port
        // that is not the scheme's default needs saying.
        if store.endpoint.ends_with(&format!(":{}", store.port)) {
            env.literal("AWS_S3_PORT", &store.port);
        } else {
            env.remove("AWS_S3_PORT", "the store's port is the scheme's default");
        }
        env.literal("AWS_REGION", &store.region);
        env.literal("AWS_SSL", store.tls());
        env.literal("ARGO_ARCHIVE_BUCKETNAME", &store.bucket);
        if store.profiles {
            // The archive is read only with ARGO_ARCHIVE_LOGS (default false: 1.9's UI has none).
            env.literal("ARGO_ARCHIVE_LOGS", "true");
            env.literal("ARGO_KEYFORMAT", UI_LOG_KEY_FORMAT);
        }
        env.allow_origin(store);
    });
}

/// A comma-separated origin list with `origin` in it: `None` if an entry is that origin
/// already (compared as `URL.origin` does: case of scheme and host, a trailing `/`, the scheme's
/// default port).
pub(crate) fn allow_origin(list: &str, origin: &str) -> Option<String> {
    fn normal(entry: &str) -> String {
        let e = entry.trim().trim_end_matches('/').to_ascii_lowercase();
        e.strip_suffix(":443").filter(|h| h.starts_with("https://")).or_else(|| e.strip_suffix(":80").filter(|h| h.starts_with("http://"))).map(str::to_string).unwrap_or(e)
    }
    let wanted = normal(origin);
    if list.split(',').any(|e| normal(e) == wanted) {
        return None;
    }
    let kept: Vec<&str> = list.split(',').map(str::trim).filter(|e| !e.is_empty()).collect();
    Some(kept.into_iter().chain([origin]).collect::<Vec<_>>().join(","))
}

/// Argo's artifact repositories: endpoint, bucket, TLS, region, and the keys (the central Secret)
/// or `useSDKCreds` (the environment's credentials). Every other line stays.
pub(crate) fn argo(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    for item in items.iter_mut() {
        if object::is_local_config(item) {
            continue;
        }
        for credentials::ArgoDocument { data_key, prefix, text } in credentials::argo_documents(item) {
            let at = FieldPath::from_keys(&["data"]).key(&data_key);
            let doc = match Doc::parse(&text) {
                Ok(d) => d,
                Err(e) => {
                    results.push(KrmResult::warning(format!("cannot be read ({e}): point its artifact repository at {} yourself", store.endpoint)).on(item).at(at));
                    continue;
                }
            };
            let mut s3: Vec<&str> = prefix.clone();
            s3.push("s3");
            if !doc.get(&s3).is_some_and(Value::is_object) {
                continue;
            }
            let p = |field: &[&'static str]| -> Vec<&str> {
                let mut v = s3.clone();
                v.extend_from_slice(field);
                v
            };
            let mut edits: Vec<(Vec<&str>, Option<Value>)> = vec![
                (p(&["endpoint"]), Some(Value::String(store.endpoint.clone()))),
                (p(&["bucket"]), Some(Value::String(store.bucket.clone()))),
                (p(&["insecure"]), Some(Value::Bool(!store.secure))),
                (p(&["region"]), Some(Value::String(store.region.clone()))),
            ];
            match (store.central(Credential::ObjectStoreAccessKey), store.central(Credential::ObjectStoreSecretKey)) {
                (Some((secret, access)), Some((_, secret_key))) => {
                    edits.push((p(&["accessKeySecret", "name"]), Some(Value::String(secret.to_string()))));
                    edits.push((p(&["accessKeySecret", "key"]), Some(Value::String(access.to_string()))));
                    edits.push((p(&["secretKeySecret", "name"]), Some(Value::String(secret.to_string()))));
                    edits.push((p(&["secretKeySecret", "key"]), Some(Value::String(secret_key.to_string()))));
                    edits.push((p(&["useSDKCreds"]), None));
                }
                _ => {
                    edits.push((p(&["accessKeySecret"]), None));
                    edits.push((p(&["secretKeySecret"]), None));
                    edits.push((p(&["useSDKCreds"]), Some(Value::Bool(true))));
                }
            }
            let mut changed = Vec::new();
            let mut lines = doc.clone();
            let line_edit: Result<(), EmbeddedError> = edits.iter().try_for_each(|(path, value)| {
                let did = match value {
                    Some(v) => lines.set(path, v)?,
                    None => lines.remove(path)?,
                };
                if did {
                    changed.push(path[s3.len()..].join("."));
                }
                Ok(())
            });
            if changed.is_empty() && line_edit.is_ok() {
                continue;
            }
            let new_text = match line_edit.and_then(|()| lines.finish()) {
                Ok(t) => t,
                Err(_) => {
                    // Re-emit the edited value (flow-style documents and the like).
                    let mut value = doc.value().clone();
                    changed = edits.iter().filter(|(path, v)| edit_value(&mut value, path, v.clone())).map(|(path, _)| path[s3.len()..].join(".")).collect();
                    match yaml::to_yaml(&value) {
                        Ok(t) => {
                            results.push(KrmResult::warning("rewritten without its comments: it could not be edited line by line").on(item).at(at.clone()));
                            t
                        }
                        Err(e) => {
                            results.push(KrmResult::warning(format!("cannot be rewritten ({e}): point its artifact repository at {} yourself", store.endpoint)).on(item).at(at));
                            continue;
                        }
                    }
                }
            };
            if new_text == text {
                continue;
            }
            if let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) {
                object::insert_sorted(data, &data_key, Value::String(new_text));
            }
            results.push(
                KrmResult::info(format!("Argo artifact repository on {} bucket {} (s3: {})", store.endpoint, store.bucket, changed.join(", ")))
                    .on(item)
                    .at(at),
            );
        }
    }
}

/// Sets (`Some`) or removes (`None`) the value at a path of a parsed document (the re-emit
/// fallback); true if it changed.
pub(crate) fn edit_value(root: &mut Value, path: &[&str], value: Option<Value>) -> bool {
    let (last, parents) = path.split_last().expect("a path");
    let mut slot = root;
    for p in parents {
        let Some(m) = slot.as_object_mut() else { return false };
        if value.is_none() && !m.contains_key(*p) {
            return false;
        }
        slot = m.entry(p.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    let Some(m) = slot.as_object_mut() else { return false };
    match value {
        Some(v) if m.get(*last) == Some(&v) => false,
        Some(v) => {
            m.insert(last.to_string(), v);
            true
        }
        None => m.shift_remove(*last).is_some(),
    }
}

/// The launcher's ConfigMap of the Pipelines namespace: the default root on the bucket and the
/// store as provider.
pub(crate) fn launcher(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    let secret = match (store.central(Credential::ObjectStoreAccessKey), store.central(Credential::ObjectStoreSecretKey)) {
        (Some((name, access)), Some((_, secret))) => Some((name, access, secret)),
        _ => None,
    };
    let root = format!("s3://{}/v2/artifacts{}", store.bucket, store.root_query);
    let desired = [("defaultPipelineRoot", root.clone()), ("providers", store.providers(secret))];
    let selector = Selector::core("ConfigMap").named("kfp-launcher");
    for item in items.iter_mut().filter(|i| selector.matches(i)) {
        let mut changed = Vec::new();
        if let Some(obj) = item.as_object_mut() {
            let data = object::child_map(obj, "data");
            for (key, value) in &desired {
                if data.get(*key).and_then(Value::as_str) != Some(value.as_str()) {
                    object::insert_sorted(data, key, Value::String(value.clone()));
                    changed.push(*key);
                }
            }
        }
        for key in changed {
            let what = if key == "providers" {
                format!("the store {} (region {}, TLS {}) for s3:// and minio:// roots", store.endpoint, store.region, store.tls())
            } else {
                root.clone()
            };
            results.push(KrmResult::info(format!("{key}: {what}")).on(item).at(FieldPath::from_keys(&["data", key])));
        }
    }
}

/// A `defaultPipelineRoot` of the user's, which the profile controller gives every profile
/// namespace's launcher (`KFP_DEFAULT_PIPELINE_ROOT`): what it does that the user may not mean.
pub(crate) fn custom_root(root: &str, store: &Store) -> Option<String> {
    let (scheme, rest) = root.split_once("://").unwrap_or(("", root));
    let bucket = rest.split(['/', '?']).next().unwrap_or_default();
    if !matches!(scheme, "s3" | "minio") || bucket != store.bucket {
        return Some(format!(
            "profile namespaces' launchers use this root (the profile controller's KFP_DEFAULT_PIPELINE_ROOT), so their artifacts go to {root}, not to bucket {} of the store this function configures; empty it to use s3://{}/private-artifacts/<namespace>/v2/artifacts",
            store.bucket, store.bucket
        ));
    }
    if root.contains('?') && !store.root_query.is_empty() {
        return Some(format!(
            "this root has a query of its own, so profile namespaces' launchers get it instead of the store's ({}); the launcher reads only the root's query with the environment's credentials",
            store.root_query
        ));
    }
    None
}

/// `pipeline-install-config`: `bucketName` (read by the API server; `minioServiceHost` and
/// `minioServiceRegion` too where an old `env/aws` render has them), and a warning about the
/// artifact retention SeaweedFS applied.
pub(crate) fn install_config(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    let selector = Selector::core("ConfigMap").named("pipeline-install-config");
    for item in items.iter_mut().filter(|i| selector.matches(i)) {
        if let Some(root) = item.pointer("/data/defaultPipelineRoot").and_then(Value::as_str).filter(|r| !r.trim().is_empty()) {
            if let Some(message) = custom_root(root, store) {
                results.push(KrmResult::warning(message).on(item).at("data.defaultPipelineRoot"));
            }
        }
        let retention = item.pointer("/data/ARTIFACT_RETENTION_DAYS").and_then(Value::as_str).and_then(|s| s.trim().parse::<i64>().ok());
        let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) else { continue };
        // `bucketName` always; the old `env/aws` keys where they exist.
        let mut changed = Vec::new();
        for (key, value, always) in [
            ("bucketName", &store.bucket, true),
            ("minioServiceHost", &store.host, false),
            ("minioServiceRegion", &store.region, false),
        ] {
            let current = data.get(key).and_then(Value::as_str);
            if (always || current.is_some()) && current != Some(value.as_str()) {
                object::insert_sorted(data, key, Value::String(value.clone()));
                changed.push((key, value.clone()));
            }
        }
        // The allow-list of newer UIs, only where the input has it.
        if let Some(list) = data.get(ALLOWED_ENDPOINTS).and_then(Value::as_str).and_then(|list| allow_origin(list, &store.origin())) {
            object::insert_sorted(data, ALLOWED_ENDPOINTS, Value::String(list.clone()));
            changed.push((ALLOWED_ENDPOINTS, list));
        }
        for (key, value) in changed {
            results.push(KrmResult::info(format!("{key}: {value}")).on(item).at(FieldPath::from_keys(&["data", key])));
        }
        if retention.is_some_and(|d| d > 0) {
            results.push(
                KrmResult::warning(format!(
                    "ARTIFACT_RETENTION_DAYS is not applied to the external bucket (the profile controller set it as a SeaweedFS lifecycle rule): add an expiration rule for the prefix private-artifacts/ to bucket {} yourself",
                    store.bucket
                ))
                .on(item)
                .at("data.ARTIFACT_RETENTION_DAYS"),
            );
        }
    }
}
