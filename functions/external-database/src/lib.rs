//! external-database: Kubeflow Pipelines, Katib and Model Registry on an external MySQL or
//! MariaDB server, with the bundled MySQL servers removed, and optionally the databases, user and
//! grants declared for the MariaDB Operator.
//!
//! The credential rewiring is shared with centralize-credentials and lives in
//! [`kubeflow_common::credentials`]; the clients and their connection settings are in
//! [`clients`], the bundled servers in [`backends`], the MariaDB Operator objects in [`mariadb`].
//! The reference docs are `README.md` beside this file.

pub mod backends;
pub mod clients;
pub mod config;
pub mod mariadb;

use std::collections::BTreeMap;

use serde_json::Value;

use kubeflow_common::k8s::select::name_matches;
use kubeflow_common::k8s::{FieldPath, Selector, object, pod, shape};
use krm_core::{Function, KrmResult};
use kubeflow_common::credentials::{self, RefForm, RefKind, Target};
use clients::{Field, PIPELINE_INSTALL_CONFIG, Want};
pub use config::{Component, DatabaseOf, ExternalDatabaseConfig};

/// The `external-database` function.
pub struct ExternalDatabase;

/// The function as the process runner and `kubeflow-krm`'s dispatch take it.
pub static FUNCTION: krm_core::Registered<ExternalDatabase> = krm_core::Registered::new();

impl Function for ExternalDatabase {
    const NAME: &'static str = "external-database";
    const KIND: &'static str = "ExternalDatabase";
    const DOC: &'static str = include_str!("../README.md");
    type Config = ExternalDatabaseConfig;

    fn process(config: &ExternalDatabaseConfig, items: &mut Vec<Value>) -> Vec<KrmResult> {
        let shape_errors = shape::input_errors(items);
        if !shape_errors.is_empty() {
            return shape_errors;
        }
        let mut results = Vec::new();
        let Some(active) = components(config, items, &mut results) else { return results };
        let target = config.target();

        // Credentials first (the shared rewiring), for the clients of the moved components only:
        // the bundled servers and the components left in place keep theirs.
        let excluded: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                backends::is_server(i)
                    || Component::ALL.iter().any(|c| !active.contains(c) && clients::is_client(i, *c))
            })
            .map(|(n, _)| n)
            .collect();
        centralize_except(items, &target, &excluded, &mut results);

        // Host, port and databases.
        let want = Want {
            host: &config.host,
            port: config.port_text(),
            databases: &config.databases,
            tls: config.tls.as_ref(),
        };
        let config_in_input = items.iter().any(|i| Selector::core("ConfigMap").named(PIPELINE_INSTALL_CONFIG).matches(i));
        if active.contains(&Component::Pipelines) {
            set_install_config(items, &want, &mut results);
        }
        let mut unresolved: Vec<(Component, Vec<String>)> = Vec::new();
        let mut dropped: Vec<(RefKind, String)> = Vec::new();
        for c in &active {
            let outcome = clients::edit(items, *c, &want, config_in_input && *c == Component::Pipelines);
            results.extend(outcome.results);
            dropped.extend(outcome.dropped);
            unresolved.push((*c, outcome.unresolved));
        }
        if active.contains(&Component::ModelRegistry) {
            set_excluded_port(items, &config.port_text(), &mut results);
        }
        if config.mariadb_operator.is_none() {
            results.extend(databases_to_create(items, config, &active));
        }

        // The bundled servers.
        if config.remove_in_cluster {
            let mut candidates = Vec::new();
            for (c, left) in &unresolved {
                if !left.is_empty() {
                    results.push(KrmResult::warning(format!(
                        "{c}: kept the bundled MySQL server, since {} still point at it",
                        left.join(", ")
                    )));
                    continue;
                }
                let backend = backends::of(*c);
                let client_items: Vec<usize> =
                    items.iter().enumerate().filter(|(_, i)| clients::is_client(i, *c)).map(|(n, _)| n).collect();
                backends::drop_server_env_from(items, backend, &client_items, &mut results);
                let namespaces = present_in(items, *c);
                candidates.extend(backends::remove(items, backend, &namespaces, &config.host, &mut results));
            }
            credentials::remove_replaced_secrets(items, &target, &mut results);
            if backends::remove_unused(items, &candidates, &config.host, &mut results) {
                // What it deleted may have been the last reference to a replaced Secret.
                credentials::remove_replaced_secrets(items, &target, &mut results);
            }
        } else {
            remove_dropped_credential_secrets(items, &target, &dropped, &mut results);
        }

        let namespace = namespace_of(items, &active);
        if let Some(m) = &config.mariadb_operator {
            mariadb::emit(
                items,
                m,
                &config.databases,
                &active,
                namespace.as_deref(),
                &config.credentials.secret_name,
                &config.credentials.password_key,
                &mut results,
            );
        }
        results
    }

    /// Each namespace that must hold the central Secret with the database keys, and the CA
    /// Secret (`tls.caSecret`) where pods mount it.
    fn claims(config: &ExternalDatabaseConfig, items: &[Value]) -> Vec<KrmResult> {
        let target = config.target();
        let mut results = credentials::namespace_results(&credentials::central_usage(items, &target), &target);
        if let Some(ca) = config.tls.as_ref().and_then(|t| t.ca_secret.as_deref()) {
            results.extend(ca_claims(items, ca));
        }
        results
    }
}

/// What shows that a component is in the input: its client workloads (and, for Pipelines, its
/// `pipeline-install-config`).
fn is_present(items: &[Value], component: Component) -> bool {
    !present_in(items, component).is_empty()
}

/// The namespaces the component is in: of its client workloads (and, for Pipelines, of its
/// `pipeline-install-config`).
fn present_in(items: &[Value], component: Component) -> std::collections::BTreeSet<Option<String>> {
    items
        .iter()
        .filter(|i| {
            clients::is_client(i, component)
                || (component == Component::Pipelines && Selector::core("ConfigMap").named(PIPELINE_INSTALL_CONFIG).matches(i))
        })
        .map(|i| object::namespace(i).map(str::to_string))
        .collect()
}

/// The components to move: selected and present. `None` (with an error result) if there is none.
fn components(config: &ExternalDatabaseConfig, items: &[Value], results: &mut Vec<KrmResult>) -> Option<Vec<Component>> {
    let mut selected: Vec<Component> = config.components.clone().unwrap_or_else(|| Component::ALL.to_vec());
    selected.sort();
    selected.dedup();
    let mut active = Vec::new();
    for c in &selected {
        if is_present(items, *c) {
            active.push(*c);
            continue;
        }
        let mut shows = clients::workloads(*c).join(", ");
        if *c == Component::Pipelines {
            shows.push_str(" or ConfigMap pipeline-install-config");
        }
        if config.components.is_some() {
            results.push(KrmResult::warning(format!(
                "{c} is listed in components but is not in the input (no {shows}): skipped"
            )));
        } else {
            results.push(KrmResult::info(format!("{c} is not in the input (no {shows}): skipped")));
        }
    }
    if active.is_empty() {
        let names: Vec<&str> = selected.iter().map(|c| c.as_str()).collect();
        results.push(KrmResult::error(format!(
            "none of the components ({}) is in the input: nothing to point at {}",
            names.join(", "),
            config.host
        )));
        return None;
    }
    Some(active)
}

/// [`credentials::centralize`] over every item but the `excluded` ones (sorted indexes).
fn centralize_except(items: &mut Vec<Value>, target: &Target, excluded: &[usize], results: &mut Vec<KrmResult>) {
    let mut held = Vec::with_capacity(excluded.len());
    for &i in excluded.iter().rev() {
        held.push((i, items.remove(i)));
    }
    credentials::centralize(items, target, results);
    for (i, item) in held.into_iter().rev() {
        items.insert(i, item);
    }
}

/// The `pipeline-install-config` keys and what they hold: both host and port pairs (`dbHost`/
/// `dbPort` still drive the cache server and ML Metadata, `mysqlHost`/`mysqlPort` the API server)
/// and the three database names.
const INSTALL_CONFIG_KEYS: [(&str, Field); 7] = [
    ("dbHost", Field::Host),
    ("dbPort", Field::Port),
    ("mysqlHost", Field::Host),
    ("mysqlPort", Field::Port),
    ("pipelineDb", Field::Database(DatabaseOf::Pipelines)),
    ("cacheDb", Field::Database(DatabaseOf::Cache)),
    ("mlmdDb", Field::Database(DatabaseOf::Metadata)),
];

fn set_install_config(items: &mut [Value], want: &Want<'_>, results: &mut Vec<KrmResult>) {
    for item in items.iter_mut().filter(|i| Selector::core("ConfigMap").named(PIPELINE_INSTALL_CONFIG).matches(i)) {
        let mut notes = Vec::new();
        if let Some(obj) = item.as_object_mut() {
            let data = object::child_map(obj, "data");
            for (key, field) in INSTALL_CONFIG_KEYS {
                let value = want.value(field);
                let was = match data.get(key) {
                    Some(Value::String(s)) if *s == value => continue,
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "absent".to_string(),
                };
                object::insert_sorted(data, key, Value::String(value.clone()));
                let what = match field {
                    Field::Host => "database host",
                    Field::Port => "database port",
                    Field::Database(_) => "database name",
                };
                notes.push((format!("{what}: {value} (was {was})"), FieldPath::from_keys(&["data", key])));
            }
        }
        for (message, path) in notes {
            results.push(KrmResult::info(message).on(item).at(path));
        }
    }
}

const EXCLUDE_OUTBOUND_PORTS: &str = "traffic.sidecar.istio.io/excludeOutboundPorts";

/// Keeps Model Registry's sidecar exclusion of the database port equal to the port.
fn set_excluded_port(items: &mut [Value], port: &str, results: &mut Vec<KrmResult>) {
    for item in items.iter_mut().filter(|i| clients::is_client(i, Component::ModelRegistry)) {
        let Some(current) = pod::template_annotation(item, EXCLUDE_OUTBOUND_PORTS).map(str::to_string) else { continue };
        let entries: Vec<&str> = current.split(',').map(str::trim).collect();
        if entries.contains(&port) {
            continue;
        }
        let Some((template, base)) = pod::template_mut(item) else { continue };
        let path = base.key("metadata").key("annotations").key(EXCLUDE_OUTBOUND_PORTS);
        if entries.len() != 1 {
            results.push(
                KrmResult::warning(format!("lists several ports ({current}): add the database port {port} yourself"))
                    .on(item)
                    .at(path),
            );
            continue;
        }
        if let Some(annotations) = template.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
            object::insert_sorted(annotations, EXCLUDE_OUTBOUND_PORTS, Value::String(port.to_string()));
        }
        results.push(KrmResult::info(format!("sidecar bypass of the database port: {port} (was {current})")).on(item).at(path));
    }
}

/// Without `removeInCluster`: a credential Secret (Katib's `katib-external-db` one) that the
/// clients no longer read for anything still goes, as centralize-credentials would delete it.
fn remove_dropped_credential_secrets(items: &mut Vec<Value>, target: &Target, dropped: &[(RefKind, String)], results: &mut Vec<KrmResult>) {
    for (kind, name) in dropped {
        if *kind != RefKind::Secret || !target.is_credential_secret(name) {
            continue;
        }
        let Some(index) = items.iter().position(|i| Selector::core("Secret").matches(i) && credentials::same_object(object::name(i), name))
        else {
            continue;
        };
        if credentials::is_referenced(items, RefKind::Secret, object::name(&items[index])) {
            continue;
        }
        results.push(
            KrmResult::info(format!(
                "deleted: nothing references it any more (its credentials are read from Secret {} now)",
                target.secret_name
            ))
            .on(&items[index]),
        );
        items.remove(index);
    }
}

/// The namespace where the moved components read the credentials Secret: that of the first
/// client found (Pipelines, then Katib, then Model Registry).
fn namespace_of(items: &[Value], active: &[Component]) -> Option<String> {
    for c in active {
        for w in clients::workloads(*c) {
            let found = items
                .iter()
                .find(|i| pod::template(i).is_some() && !object::is_local_config(i) && name_matches(object::name(i), w));
            if let Some(item) = found {
                return object::namespace(item).map(str::to_string);
            }
        }
        if *c == Component::Pipelines {
            if let Some(cm) = items.iter().find(|i| Selector::core("ConfigMap").named(PIPELINE_INSTALL_CONFIG).matches(i)) {
                return object::namespace(cm).map(str::to_string);
            }
        }
    }
    None
}

/// Components that never create their database: a warning naming it and the SQL to run, where
/// no MariaDB Operator `Database` is emitted.
///
/// - Katib: `katib-db-manager` (`pkg/db/v1beta1/mysql/mysql.go` `NewDBInterface()`, v0.17 to
///   v0.19) connects to `user:pass@tcp(host:port)/<db>` and creates only its tables.
/// - Model Registry v0.3 (embedmd, Kubeflow master): `internal/datastore/embedmd/mysql/connect.go`
///   `(*MySQLDBConnector).Connect()` opens the DSN's database and migrates it; a missing one ends
///   in `Error 1049: Unknown database` and a crash loop. Its v0.2 `grpc-container` (ML Metadata
///   1.14, `MySqlMetadataSource::ConnectImpl()`) runs `CREATE DATABASE IF NOT EXISTS`, which
///   needs the CREATE privilege, so the SQL is the same for both.
fn databases_to_create(items: &[Value], config: &ExternalDatabaseConfig, active: &[Component]) -> Vec<KrmResult> {
    let mut results = Vec::new();
    for (component, db, who) in [
        (Component::Katib, &config.databases.katib, "katib-db-manager (Katib v0.19 and older) does not create its database"),
        (
            Component::ModelRegistry,
            &config.databases.model_registry,
            "Model Registry does not create its database (v0.3's embedmd fails with \"Unknown database\"; v0.2's ML Metadata creates it only with the CREATE privilege)",
        ),
    ] {
        if !active.contains(&component) {
            continue;
        }
        if let Some(item) = items.iter().find(|i| clients::is_client(i, component)) {
            results.push(
                KrmResult::warning(format!(
                    "{who}: before it starts, run on {host}: CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4; GRANT ALL PRIVILEGES ON `{db}`.* TO '<the user in {secret}>'@'%'; or set mariadbOperator",
                    host = config.host,
                    secret = config.credentials.secret_name,
                ))
                .on(item),
            );
        }
    }
    results
}

/// An info per namespace whose pods mount the CA Secret: a volume's Secret is read from the pod's
/// own namespace, so the Secret must be there (the function cannot see the cluster).
fn ca_claims(items: &[Value], ca: &str) -> Vec<KrmResult> {
    let mut by_namespace: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in credentials::references(items, RefKind::Secret, ca).into_iter().filter(|r| r.form == RefForm::Volume) {
        let item = &items[r.item];
        let workloads = by_namespace.entry(object::namespace(item).unwrap_or("(the namespace it is applied to)")).or_default();
        if !workloads.contains(&object::name(item)) {
            workloads.push(object::name(item));
        }
    }
    by_namespace
        .into_iter()
        .map(|(ns, workloads)| {
            KrmResult::info(format!(
                "Secret {ca} (the database server's CA, PEM) must exist in namespace {ns}: {} mount it",
                workloads.join(", ")
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use krm_core::DynFunction;
    use serde_json::json;

    use krm_testkit::golden::fixtures as fixture;

    /// Local-config items are never touched, and the function's own output is left as it is.
    #[test]
    fn local_config_items_are_left_alone() {
        let mut items = fixture(&["database-master"]);
        for item in items.iter_mut() {
            let metadata = item["metadata"].as_object_mut().unwrap();
            metadata.insert("annotations".into(), json!({"config.kubernetes.io/local-config": "true"}));
        }
        let before = items.clone();
        let f = &krm_core::Registered::<crate::ExternalDatabase>::new();
        let fc = json!({"apiVersion": krm_core::config::API_VERSION, "kind": "ExternalDatabase",
            "host": "db.example.com", "credentials": {"secretName": "central"}});
        let results = f.apply(Some(&fc), &mut items);
        assert!(results.iter().any(|r| r.is_error() && r.message.contains("none of the components")), "{results:?}");
        assert_eq!(items, before);
    }
}
