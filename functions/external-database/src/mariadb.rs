//! MariaDB Operator (`k8s.mariadb.com/v1alpha1`) objects: a `Database` per database the moved
//! components use, one `User`, and a `Grant` of all privileges per database.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::Value;

use super::config::{Component, Databases, MariaDbOperator, object_name_of};
use kubeflow_common::k8s::{Selector, generate, object};
use krm_core::KrmResult;

/// Group of the operator's custom resources.
pub const GROUP: &str = "k8s.mariadb.com";
/// apiVersion of the emitted objects.
pub const API_VERSION: &str = "k8s.mariadb.com/v1alpha1";
/// Name of the emitted `User`.
pub const USER_OBJECT: &str = "kubeflow";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object<S: Serialize> {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    spec: S,
}

#[derive(Serialize)]
struct Ref {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DatabaseSpec {
    character_set: String,
    cleanup_policy: &'static str,
    collate: String,
    maria_db_ref: Ref,
    name: String,
}

#[derive(Serialize)]
struct SecretKeyRef {
    key: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserSpec {
    cleanup_policy: &'static str,
    host: String,
    maria_db_ref: Ref,
    max_user_connections: i64,
    name: String,
    password_secret_key_ref: SecretKeyRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GrantSpec {
    cleanup_policy: &'static str,
    database: String,
    host: String,
    maria_db_ref: Ref,
    privileges: Vec<String>,
    table: String,
    username: String,
}

fn reference(m: &MariaDbOperator) -> Ref {
    Ref { name: m.mariadb_ref.name.clone(), namespace: m.mariadb_ref.namespace.clone() }
}

/// The databases, user and grants of the moved components, in `namespace` (where the components
/// read the credentials Secret): created, or updated in place when an object of that kind and
/// name exists.
#[allow(clippy::too_many_arguments)]
pub fn emit(
    items: &mut Vec<Value>,
    m: &MariaDbOperator,
    databases: &Databases,
    components: &[Component],
    namespace: Option<&str>,
    secret: &str,
    password_key: &str,
    results: &mut Vec<KrmResult>,
) {
    let on = match &m.mariadb_ref.namespace {
        Some(ns) => format!("MariaDB {ns}/{}", m.mariadb_ref.name),
        None => format!("MariaDB {}", m.mariadb_ref.name),
    };
    let names: Vec<&str> = components.iter().flat_map(|c| c.databases()).map(|d| databases.get(*d)).collect();
    for db in &names {
        let spec = DatabaseSpec {
            character_set: m.character_set.clone(),
            cleanup_policy: m.cleanup_policy.as_str(),
            collate: m.collate.clone(),
            maria_db_ref: reference(m),
            name: db.to_string(),
        };
        upsert(items, "Database", &object_name_of(db), namespace, spec, format!("database {db} on {on}"), results);
    }
    let user = UserSpec {
        cleanup_policy: m.cleanup_policy.as_str(),
        host: m.host.clone(),
        maria_db_ref: reference(m),
        max_user_connections: m.max_user_connections,
        name: m.username.clone(),
        password_secret_key_ref: SecretKeyRef { key: password_key.to_string(), name: secret.to_string() },
    };
    let account = format!("'{}'@'{}'", m.username, m.host);
    upsert(
        items,
        "User",
        USER_OBJECT,
        namespace,
        user,
        format!("user {account} on {on}, password from Secret {secret} key {password_key}"),
        results,
    );
    for db in &names {
        let spec = GrantSpec {
            cleanup_policy: m.cleanup_policy.as_str(),
            database: db.to_string(),
            host: m.host.clone(),
            maria_db_ref: reference(m),
            privileges: vec!["ALL PRIVILEGES".into()],
            table: "*".into(),
            username: m.username.clone(),
        };
        upsert(items, "Grant", &object_name_of(db), namespace, spec, format!("ALL PRIVILEGES on {db}.* to {account} on {on}"), results);
    }
}

fn upsert<S: Serialize>(
    items: &mut Vec<Value>,
    kind: &'static str,
    name: &str,
    namespace: Option<&str>,
    spec: S,
    what: String,
    results: &mut Vec<KrmResult>,
) {
    let desired = serde_json::to_value(&spec).expect("a MariaDB Operator spec serializes");
    let existing = items.iter().position(|i| Selector::of(GROUP, kind).matches(i) && object::name(i) == name);
    match existing {
        Some(index) => {
            let item = &mut items[index];
            let Some(obj) = item.as_object_mut() else { return };
            let current = object::child_map(obj, "spec");
            let mut changed = Vec::new();
            for (key, value) in desired.as_object().into_iter().flatten() {
                if current.get(key) != Some(value) {
                    object::insert_sorted(current, key, value.clone());
                    changed.push(key.clone());
                }
            }
            let fixed: Vec<&String> = changed.iter().filter(|k| k.as_str() != "cleanupPolicy").collect();
            if !fixed.is_empty() {
                let fixed: Vec<&str> = fixed.iter().map(|k| k.as_str()).collect();
                results.push(
                    KrmResult::warning(format!(
                        "updated ({}): {what}; the MariaDB Operator does not change {} of an existing object: delete it in the cluster so that it is created again (with cleanupPolicy Skip the SQL object itself stays)",
                        changed.join(", "),
                        fixed.join(", ")
                    ))
                    .on(item)
                    .at("spec"),
                );
            } else if !changed.is_empty() {
                results.push(KrmResult::info(format!("updated ({}): {what}", changed.join(", "))).on(item).at("spec"));
            }
        }
        None => {
            let object = Object {
                api_version: API_VERSION,
                kind,
                metadata: ObjectMeta { name: Some(name.to_string()), namespace: namespace.map(str::to_string), ..Default::default() },
                spec,
            };
            let value = serde_json::to_value(&object).expect("a MariaDB Operator object serializes");
            let index = generate::insert(items, value);
            results.push(KrmResult::info(format!("created: {what}")).on(&items[index]));
        }
    }
}
