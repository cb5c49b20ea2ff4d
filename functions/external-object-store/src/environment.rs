//! `fromEnvironment`: the identities that talk to the store (ServiceAccount annotations), the
//! pipeline-root query the input's KFP release needs, and the warnings where the environment's
//! credentials cannot work as configured.

use super::*;

/// The annotations on the ServiceAccounts that talk to the store: the API server's, the UI's,
/// Argo's workflow controller's, and `pipeline-runner` (runs in the Pipelines namespace).
pub(crate) fn service_accounts(items: &mut [Value], store: &Store, results: &mut Vec<KrmResult>) {
    if store.annotations.is_empty() {
        return;
    }
    let mut wanted: Vec<(String, Option<String>, usize)> = Vec::new();
    for workload in ["ml-pipeline", "ml-pipeline-ui", "workflow-controller"] {
        let selector = Selector::of("apps", "Deployment").named(workload);
        for (i, item) in items.iter().enumerate().filter(|(_, i)| selector.matches(i)) {
            let spec = item.pointer("/spec/template/spec");
            let account = spec
                .and_then(|s| s.get("serviceAccountName").or_else(|| s.get("serviceAccount")))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("default");
            wanted.push((account.to_string(), object::namespace(item).map(str::to_string), i));
        }
    }
    for (i, item) in items.iter().enumerate() {
        if Selector::core("ServiceAccount").named("pipeline-runner").matches(item) {
            wanted.push((object::name(item).to_string(), object::namespace(item).map(str::to_string), i));
        }
    }
    let mut done: Vec<usize> = Vec::new();
    for (account, namespace, by) in wanted {
        let found: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                Selector::core("ServiceAccount").matches(i)
                    && object::name(i) == account
                    && (namespace.is_none() || object::namespace(i).is_none() || object::namespace(i) == namespace.as_deref())
            })
            .map(|(i, _)| i)
            .collect();
        if found.is_empty() {
            let keys: Vec<&str> = store.annotations.keys().map(String::as_str).collect();
            results.push(
                KrmResult::warning(format!(
                    "runs as ServiceAccount {account}, which is not in the input: give it the annotations {} yourself",
                    keys.join(", ")
                ))
                .on(&items[by])
                .at("spec.template.spec.serviceAccountName"),
            );
        }
        for i in found {
            if done.contains(&i) {
                continue;
            }
            done.push(i);
            let Some(obj) = items[i].as_object_mut() else { continue };
            let annotations = object::child_map(object::child_map(obj, "metadata"), "annotations");
            let mut changed = Vec::new();
            for (key, value) in &store.annotations {
                if annotations.get(key).and_then(Value::as_str) != Some(value.as_str()) {
                    object::insert_sorted(annotations, key, Value::String(value.clone()));
                    changed.push(key.as_str());
                }
            }
            if !changed.is_empty() {
                results.push(
                    KrmResult::info(format!("annotated {} for the store's credentials", changed.join(", ")))
                        .on(&items[i])
                        .at("metadata.annotations"),
                );
            }
        }
    }
}

/// With `fromEnvironment`: the pipeline-root query for the input's KFP release (set on
/// `store`), and warnings where the environment's credentials cannot work as configured.
///
/// Google Cloud Storage: its S3 interface (XML API) takes HMAC keys only, and no KFP client
/// reaches it with Google credentials: the launcher's `fromEnv` opens the bucket with the AWS
/// default chain (`object_store.go` `OpenBucket()`), the API server's minio-go (`minio-go/v6`,
/// `v7` `credentials` chain) and the UI's AWS SDK chain (`frontend/server/minio-helper.ts`
/// `createMinioClient()`) know only AWS sources. Workload Identity works only for native
/// `gs://` roots, which this function does not write.
pub(crate) fn environment_warnings(kfp: Option<&Kfp>, store: &mut Store) -> Vec<KrmResult> {
    let mut results = Vec::new();
    let field = "credentials.fromEnvironment";
    if store.host == "storage.googleapis.com" || store.host.ends_with(".storage.googleapis.com") {
        results.push(
            KrmResult::warning(
                "Google Cloud Storage's S3 interface takes HMAC keys, and no KFP client (launcher, API server, UI) turns GKE Workload Identity or other Google credentials into them: use credentials.secretName with an HMAC key pair of a service account",
            )
            .at(field),
        );
    }
    match kfp {
        Some(kfp) => {
            store.root_query = kfp::root_query(kfp, &store.origin(), &store.region);
            if store.root_query.is_empty() {
                return results;
            }
            if !store.is_aws() {
                results.push(
                    KrmResult::warning(format!(
                        "KFP {} opens artifacts outside the run's pipeline root (cached results of earlier runs, imported artifacts) without the root's query (backend/src/v2/component/launcher_v2.go fetchNonDefaultBuckets(): the same bucket gets the run's session, which is empty with fromEnv, but not its query), so with the environment's credentials it looks for them on AWS's endpoint, not on {}: such tasks fail; use static keys (credentials.secretName), KFP 2.17 or later, or turn caching off",
                        kfp.version, store.endpoint
                    ))
                    .at(field),
                );
            }
            results.push(
                KrmResult::info(format!(
                    "KFP {} ignores the launcher's providers with the environment's credentials: every default pipeline root carries the store as the query {} (the names of its gocloud)",
                    kfp.version, store.root_query
                ))
                .at(field),
            );
        }
        None => results.push(
            KrmResult::warning(
                "the input shows no KFP release (the image tag of Deployment ml-pipeline, or appVersion of pipeline-install-config): KFP before 2.17 ignores the launcher's providers with the environment's credentials and opens the bucket from the pipeline root alone, whose query names depend on the release; the default pipeline roots are written without one, which reaches only AWS's own endpoint of the region the pod's environment gives",
            )
            .at(field),
        ),
    }
    results
}
