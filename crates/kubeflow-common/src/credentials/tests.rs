use super::*;
use serde_json::json;

fn all() -> Target {
    Target::new("central")
        .with_key(Credential::DatabaseUsername, "db-username")
        .with_key(Credential::DatabasePassword, "db-password")
        .with_key(Credential::ObjectStoreAccessKey, "s3-access-key")
        .with_key(Credential::ObjectStoreSecretKey, "s3-secret-key")
}
fn database() -> Target {
    Target::new("central")
        .with_key(Credential::DatabaseUsername, "db-username")
        .with_key(Credential::DatabasePassword, "db-password")
}
fn object_store() -> Target {
    Target::new("central")
        .with_key(Credential::ObjectStoreAccessKey, "s3-access-key")
        .with_key(Credential::ObjectStoreSecretKey, "s3-secret-key")
}

fn deployment(name: &str, container: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "kubeflow"},
        "spec": {"template": {"spec": {"containers": [container]}}}})
}
fn container(item: &Value) -> &Value {
    &item["spec"]["template"]["spec"]["containers"][0]
}
fn names(env: &Value) -> Vec<&str> {
    env.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect()
}
fn secret(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "kubeflow"}, "data": data})
}

#[test]
fn catalogue_matches_hashed_names_and_extras() {
    let t = all().with_extra(vec![ExtraConsumer {
        secret: "my-db".into(),
        key: "pw".into(),
        credential: Credential::DatabasePassword,
    }]);
    assert_eq!(t.rewires("katib-mysql-secrets-th9dkf48dg", "DB_USER"), Some((Credential::DatabaseUsername, "db-username")));
    assert_eq!(t.rewires("my-db", "pw"), Some((Credential::DatabasePassword, "db-password")));
    assert_eq!(t.rewires("mysql-secret", "host"), None);
    assert_eq!(t.rewires("central", "db-username"), None);
    assert!(database().is_credential_secret("mysql-secret"));
    assert!(!database().is_credential_secret("mlpipeline-minio-artifact"));
}

#[test]
fn secret_key_refs_keep_position_and_optional() {
    let mut items = vec![deployment(
        "ml-pipeline",
        json!({"name": "api", "env": [
            {"name": "A", "value": "1"},
            {"name": "DBCONFIG_USER", "valueFrom": {"secretKeyRef": {"name": "mysql-secret", "key": "username", "optional": true}}},
            {"name": "B", "value": "2"}]}),
    )];
    let mut results = Vec::new();
    centralize(&mut items, &all(), &mut results);
    let env = &container(&items[0])["env"];
    assert_eq!(names(env), ["A", "DBCONFIG_USER", "B"]);
    assert_eq!(env[1], json!({"name": "DBCONFIG_USER", "valueFrom": {"secretKeyRef": {"key": "db-username", "name": "central", "optional": true}}}));
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].field.as_ref().unwrap().path, "spec.template.spec.containers[name=api].env[name=DBCONFIG_USER]");
}

#[test]
fn literals_are_rewired_only_where_the_name_is_kubeflows() {
    let c = json!({"name": "c", "env": [
        {"name": "MINIO_SECRET_KEY", "value": "minio123"},
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "x"},
        {"name": "DBCONFIG_PASSWORD", "value": "$(OTHER)"}]});
    let mut items = vec![deployment("my-app", c.clone()), deployment("ml-pipeline-ui", c)];
    let mut results = Vec::new();
    centralize(&mut items, &all(), &mut results);
    let mine = &container(&items[0])["env"];
    assert_eq!(mine[0]["valueFrom"]["secretKeyRef"]["key"], "s3-secret-key");
    assert_eq!(mine[1]["value"], "x", "AWS_* is rewired only in Kubeflow's own workloads");
    assert_eq!(mine[2]["value"], "$(OTHER)");
    let ui = &container(&items[1])["env"];
    assert_eq!(ui[1]["valueFrom"]["secretKeyRef"]["key"], "s3-secret-key");
    for r in &results {
        assert!(!r.message.contains("minio123"), "{}", r.message);
    }
}

#[test]
fn env_from_becomes_explicit_entries_with_prefix_and_precedence() {
    let mut items = vec![
        secret("mlpipeline-minio-artifact", json!({"accesskey": "bWluaW8=", "region": "dXM=", "secretkey": "eA=="})),
        deployment(
            "store",
            json!({"name": "s", "env": [{"name": "S3_secretkey", "value": "mine"}],
                "envFrom": [{"prefix": "S3_", "secretRef": {"name": "mlpipeline-minio-artifact", "optional": true}}]}),
        ),
    ];
    let mut results = Vec::new();
    centralize(&mut items, &all(), &mut results);
    let c = container(&items[1]);
    assert_eq!(names(&c["env"]), ["S3_secretkey", "S3_accesskey"]);
    assert_eq!(c["env"][1]["valueFrom"]["secretKeyRef"], json!({"key": "s3-access-key", "name": "central", "optional": true}));
    assert_eq!(c["envFrom"].as_array().unwrap().len(), 1, "kept for `region`");
    // Removal keeps the Secret for `region`, without credentials.
    remove_replaced_secrets(&mut items, &all(), &mut results);
    assert_eq!(items[0]["data"], json!({"region": "dXM="}));
}

#[test]
fn env_from_with_only_credentials_is_removed_and_env_created() {
    let mut items = vec![deployment(
        "seaweedfs",
        json!({"args": ["server"], "envFrom": [{"secretRef": {"name": "mlpipeline-minio-artifact"}}], "image": "x", "name": "seaweedfs"}),
    )];
    let mut results = Vec::new();
    centralize(&mut items, &all(), &mut results);
    let c = container(&items[0]);
    assert!(c.get("envFrom").is_none());
    assert_eq!(names(&c["env"]), ["accesskey", "secretkey"]);
    let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["args", "env", "image", "name"]);
    assert!(results.iter().any(|r| r.severity == Severity::Warning && r.message.contains("not in the input")));
}

#[test]
fn katib_gets_db_user() {
    let mut items = vec![deployment(
        "katib-db-manager",
        json!({"name": "katib-db-manager", "env": [
            {"name": "DB_NAME", "value": "mysql"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "MYSQL_ROOT_PASSWORD", "name": "katib-mysql-secrets"}}}]}),
    )];
    let mut results = Vec::new();
    centralize(&mut items, &object_store(), &mut results);
    assert_eq!(names(&container(&items[0])["env"]), ["DB_NAME", "DB_PASSWORD"]);
    centralize(&mut items, &database(), &mut results);
    let env = &container(&items[0])["env"];
    assert_eq!(names(env), ["DB_NAME", "DB_PASSWORD", "DB_USER"]);
    assert_eq!(env[2]["valueFrom"]["secretKeyRef"]["key"], "db-username");
}

#[test]
fn partial_targets_commute() {
    let input = vec![
        secret("mixed", json!({"pw": "eA==", "ak": "eA==", "host": "eA=="})),
        deployment(
            "katib-db-manager",
            json!({"name": "katib-db-manager", "env": [
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"key": "DB_PASSWORD", "name": "katib-mysql-secrets"}}},
                {"name": "MINIO_ACCESS_KEY", "value": "minio"},
                {"name": "Z", "valueFrom": {"secretKeyRef": {"key": "x", "name": "other"}}}],
                "envFrom": [{"secretRef": {"name": "mixed"}}]}),
        ),
    ];
    let extra = vec![
        ExtraConsumer { secret: "mixed".into(), key: "pw".into(), credential: Credential::DatabasePassword },
        ExtraConsumer { secret: "mixed".into(), key: "ak".into(), credential: Credential::ObjectStoreAccessKey },
    ];
    let run = |order: [Target; 2]| {
        let mut items = input.clone();
        let mut results = Vec::new();
        for t in order {
            let t = t.with_extra(extra.clone());
            centralize(&mut items, &t, &mut results);
            remove_replaced_secrets(&mut items, &t, &mut results);
        }
        items
    };
    let a = run([database(), object_store()]);
    let b = run([object_store(), database()]);
    assert_eq!(a, b);
    let c = run([all(), all()]);
    assert_eq!(a, c, "two partial targets give what one full target gives");
    assert_eq!(names(&container(&a[1])["env"]), ["DB_PASSWORD", "DB_USER", "MINIO_ACCESS_KEY", "Z", "ak", "pw"]);
    assert_eq!(a[0]["data"], json!({"host": "eA=="}));
}

#[test]
fn argo_references_are_edited_line_by_line() {
    let text = "archiveLogs: true\ns3:\n  endpoint: \"seaweedfs.kubeflow:9000\"\n  # a comment\n  insecure: true\n  accessKeySecret:\n    name: mlpipeline-minio-artifact\n    key: accesskey\n  secretKeySecret:\n    name: mlpipeline-minio-artifact\n    key: secretkey\n";
    let mut items = vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "workflow-controller-configmap", "namespace": "kubeflow"},
        "data": {"artifactRepository": text, "executor": "x: 1\n"}})];
    let mut results = Vec::new();
    centralize(&mut items, &all(), &mut results);
    let out = items[0]["data"]["artifactRepository"].as_str().unwrap();
    assert_eq!(out, text.replace("name: mlpipeline-minio-artifact", "name: central").replace("key: accesskey", "key: s3-access-key").replace("key: secretkey", "key: s3-secret-key"));
    assert!(results.iter().any(|r| r.severity == Severity::Warning && r.message.contains("namespace of each workflow")));
    let usage = central_usage(&items, &all());
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].credentials, BTreeSet::from([Credential::ObjectStoreAccessKey, Credential::ObjectStoreSecretKey]));
}

#[test]
fn flow_style_argo_documents_are_reemitted_with_a_warning() {
    let text = "s3: {bucket: mlpipeline, accessKeySecret: {name: mlpipeline-minio-artifact, key: accesskey}}\n";
    let mut items = vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "artifact-repositories", "namespace": "team"},
        "data": {"default-v1": text}})];
    let mut results = Vec::new();
    centralize(&mut items, &all(), &mut results);
    let out = yaml::parse_document(items[0]["data"]["default-v1"].as_str().unwrap()).unwrap();
    assert_eq!(out, json!({"s3": {"bucket": "mlpipeline", "accessKeySecret": {"key": "s3-access-key", "name": "central"}}}));
    assert!(results.iter().any(|r| r.severity == Severity::Warning && r.message.contains("without its comments")));
    let mut again = items.clone();
    centralize(&mut again, &all(), &mut Vec::new());
    assert_eq!(again, items);
}

#[test]
fn scan_finds_every_form_and_volume_mounts_are_warned() {
    let mut items = vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": {
            "containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}],
            "imagePullSecrets": [{"name": "pull"}],
            "volumes": [{"name": "v", "secret": {"secretName": "mysql-secret"}},
                        {"name": "p", "projected": {"sources": [{"configMap": {"name": "cm2"}}]}}]}}}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}, "secrets": [{"name": "tok"}]}),
        json!({"apiVersion": "kubeflow.org/v1alpha1", "kind": "PodDefault", "metadata": {"name": "pd"}, "spec": {"env": [
            {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "mlpipeline-minio-artifact", "key": "secretkey"}}}]}}),
    ];
    let refs = scan(&items);
    let found: Vec<(RefKind, &str, RefForm)> = refs.iter().map(|r| (r.kind, r.name.as_str(), r.form)).collect();
    assert!(found.contains(&(RefKind::ConfigMap, "cm", RefForm::EnvKey)));
    assert!(found.contains(&(RefKind::Secret, "pull", RefForm::ImagePullSecret)));
    assert!(found.contains(&(RefKind::Secret, "mysql-secret", RefForm::Volume)));
    assert!(found.contains(&(RefKind::ConfigMap, "cm2", RefForm::ProjectedVolume)));
    assert!(found.contains(&(RefKind::Secret, "tok", RefForm::Other)));
    assert!(found.contains(&(RefKind::Secret, "mlpipeline-minio-artifact", RefForm::Other)));
    assert_eq!(refs.iter().find(|r| r.name == "mlpipeline-minio-artifact").unwrap().path.to_string(), "spec.env[name=AWS_SECRET_ACCESS_KEY].valueFrom.secretKeyRef");
    let mut results = Vec::new();
    centralize(&mut items, &all(), &mut results);
    let warnings: Vec<&KrmResult> = results.iter().filter(|r| r.severity == Severity::Warning).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(is_referenced(&items, RefKind::ConfigMap, "cm2"));
    assert!(!is_referenced(&items, RefKind::ConfigMap, "cm3"));
}

#[test]
fn unreferenced_secrets_are_deleted() {
    let mut items = vec![
        secret("mysql-secret", json!({"username": "cm9vdA=="})),
        secret("other", json!({"a": "eA=="})),
        secret("katib-mysql-secrets-th9dkf48dg", json!({"DB_USER": "eA==", "KATIB_MYSQL_DB_HOST": "eA=="})),
        deployment("katib-db-manager", json!({"name": "m", "env": [
            {"name": "KATIB_MYSQL_DB_HOST", "valueFrom": {"secretKeyRef": {"name": "katib-mysql-secrets-th9dkf48dg", "key": "KATIB_MYSQL_DB_HOST"}}},
            {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": "katib-mysql-secrets-th9dkf48dg", "key": "DB_USER"}}}]})),
    ];
    let mut results = Vec::new();
    centralize(&mut items, &database(), &mut results);
    remove_replaced_secrets(&mut items, &database(), &mut results);
    let left: Vec<&str> = items.iter().map(object::name).collect();
    assert_eq!(left, ["other", "katib-mysql-secrets-th9dkf48dg", "katib-db-manager"]);
    assert_eq!(items[1]["data"], json!({"KATIB_MYSQL_DB_HOST": "eA=="}));
}

#[test]
fn insertion_rule_is_order_independent() {
    let base = vec![
        json!({"name": "A", "value": "1"}),
        json!({"name": "Q", "valueFrom": {"secretKeyRef": {"name": "s", "key": "q"}}}),
    ];
    let new = ["M", "Z", "B"].map(|n| secret_env(n, "c", "k", None));
    let mut orders = Vec::new();
    for perm in [[0, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0]] {
        let mut env = base.clone();
        for i in perm {
            insert_created(&mut env, new[i].clone());
        }
        orders.push(env.iter().map(|e| e["name"].as_str().unwrap().to_string()).collect::<Vec<_>>());
    }
    assert!(orders.windows(2).all(|w| w[0] == w[1]), "{orders:?}");
    assert_eq!(orders[0], ["A", "B", "M", "Q", "Z"]);
}

fn external_secret(ns: &str, keys: &[&str]) -> Value {
    let data: Vec<Value> = keys.iter().map(|k| json!({"remoteRef": {"key": "kubeflow/credentials", "property": k}, "secretKey": k})).collect();
    json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "central", "namespace": ns},
        "spec": {"data": data, "refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"}, "target": {"name": "central"}}})
}

#[test]
fn external_secrets_follow_the_keys_still_read() {
    let reader = |env: Value| {
        let mut d = deployment("ml-pipeline", json!({"name": "api", "env": env}));
        d["metadata"]["namespace"] = json!("kubeflow");
        d
    };
    let both = json!([
        {"name": "DBCONFIG_USER", "valueFrom": {"secretKeyRef": {"key": "db-username", "name": "central"}}},
        {"name": "OBJECTSTORECONFIG_ACCESSKEY", "valueFrom": {"secretKeyRef": {"key": "s3-access-key", "name": "central"}}}]);
    let mut items = vec![
        external_secret("kubeflow", &["db-username", "s3-access-key"]),
        external_secret("team-a", &["s3-access-key"]),
        reader(both),
    ];
    let before = SecretReads::of(&items);
    assert!(before.reads(Some("kubeflow"), "central", "s3-access-key"));
    assert!(!before.reads(Some("team-a"), "central", "s3-access-key"));
    // The object-store key is no longer read in kubeflow.
    items[2]["spec"]["template"]["spec"]["containers"][0]["env"][1] = json!({"name": "OBJECTSTORECONFIG_ACCESSKEY", "value": ""});
    let mut results = Vec::new();
    refresh_external_secrets(&mut items, &before, &mut results);
    assert_eq!(items[0]["spec"]["data"].as_array().unwrap().len(), 1);
    assert_eq!(items[0]["spec"]["data"][0]["secretKey"], "db-username");
    assert_eq!(items[1]["spec"]["data"].as_array().unwrap().len(), 1, "nothing read it before: left alone");
    assert_eq!(results.len(), 1);
    // Then the database key goes too: the ExternalSecret goes.
    let before = SecretReads::of(&items);
    items[2]["spec"]["template"]["spec"]["containers"][0]["env"] = json!([]);
    refresh_external_secrets(&mut items, &before, &mut results);
    assert_eq!(items.len(), 2);
    assert!(results[1].message.starts_with("deleted"));
    // Idempotent.
    let again = items.clone();
    refresh_external_secrets(&mut items, &SecretReads::of(&again), &mut results);
    assert_eq!(items, again);
}

#[test]
fn only_the_central_shape_is_an_external_secret_of_centralize_credentials() {
    let mut es = external_secret("kubeflow", &["a"]);
    assert_eq!(central_external_secret(&es), Some("central"));
    es["spec"]["target"]["name"] = json!("other");
    assert_eq!(central_external_secret(&es), None);
    let mut es = external_secret("kubeflow", &["a"]);
    es["spec"]["data"][0]["remoteRef"]["property"] = json!("b");
    assert_eq!(central_external_secret(&es), None);
}

#[test]
fn validation_helpers() {
    assert!(check_secret_name("secretName", "kubeflow-credentials", &[]).is_empty());
    assert!(!check_secret_name("secretName", "", &[]).is_empty());
    assert!(!check_secret_name("secretName", "Bad_Name", &[]).is_empty());
    assert!(!check_secret_name("secretName", "mysql-secret", &[]).is_empty());
    let e = check_keys(&[("database.usernameKey", "a"), ("database.passwordKey", "a"), ("objectStore.accessKeyKey", "b c")]);
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].path, "database.passwordKey");
    assert!(e[0].message.contains("database.usernameKey"));
    let extra = [ExtraConsumer { secret: "mysql-secret".into(), key: "username".into(), credential: Credential::DatabasePassword }];
    assert_eq!(check_extra("extraConsumers", &extra).len(), 1);
}
