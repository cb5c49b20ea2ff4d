//! The database clients of each component and how their host, port and database are set.
//!
//! Every client names the places that hold its connection: env variables (the API server, Katib)
//! and command-line flags (the cache server, ML Metadata, Model Registry's DSN). A flag whose value
//! is `$(VAR)` keeps that reference and the variable `VAR` is set instead, so the argument reads
//! the same after the edit. A place is set:
//!
//! - for Pipelines, through `pipeline-install-config` when the variable already reads the key
//!   that means this field there (`dbHost`/`mysqlHost`, `dbPort`/`mysqlPort`, `pipelineDb`,
//!   `cacheDb`, `mlmdDb`): the ConfigMap is set once for every client;
//! - otherwise as a literal, in the container itself: a literal value or argument is replaced, an
//!   env entry reading a ConfigMap or Secret becomes `{name, value}` at the same position, and a
//!   variable that comes from `envFrom` or from nowhere gets an explicit entry (explicit env wins
//!   over `envFrom` in Kubernetes). Katib and Model Registry always take literals: the ConfigMaps
//!   they read are shared with Pipelines or with their bundled server, which must not move with
//!   them.

use serde_json::{Map, Value};

use super::config::{Component, DatabaseOf, Databases, PlaintextClient, Tls, TlsMode};
use kubeflow_common::k8s::select::name_matches;
use kubeflow_common::k8s::{FieldPath, object, pod};
use krm_core::KrmResult;
use kubeflow_common::credentials::RefKind;

mod dsn;
mod tls;

pub use dsn::Dsn;
pub use tls::{CA_DIR, CA_VOLUME};
use tls::*;

/// The ConfigMap of Pipelines' install parameters.
pub const PIPELINE_INSTALL_CONFIG: &str = "pipeline-install-config";

/// A connection setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The server's host name.
    Host,
    /// The server's port.
    Port,
    /// A component's database.
    Database(DatabaseOf),
}

impl Field {
    fn describe(self) -> &'static str {
        match self {
            Field::Host => "database host",
            Field::Port => "database port",
            Field::Database(_) => "database name",
        }
    }

    /// The `pipeline-install-config` keys that hold this field.
    pub fn config_keys(self) -> &'static [&'static str] {
        match self {
            Field::Host => &["dbHost", "mysqlHost"],
            Field::Port => &["dbPort", "mysqlPort"],
            Field::Database(DatabaseOf::Pipelines) => &["pipelineDb"],
            Field::Database(DatabaseOf::Cache) => &["cacheDb"],
            Field::Database(DatabaseOf::Metadata) => &["mlmdDb"],
            Field::Database(_) => &[],
        }
    }
}

/// What the clients must connect to.
pub struct Want<'a> {
    /// `host`.
    pub host: &'a str,
    /// `port`, as text.
    pub port: String,
    /// `databases`.
    pub databases: &'a Databases,
    /// `tls`.
    pub tls: Option<&'a Tls>,
}

impl Want<'_> {
    /// The value of a field.
    pub fn value(&self, field: Field) -> String {
        match field {
            Field::Host => self.host.to_string(),
            Field::Port => self.port.clone(),
            Field::Database(which) => self.databases.get(which).to_string(),
        }
    }
}

/// How a client is told to use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsSupport {
    /// The API server: env `DBCONFIG_MYSQLCONFIG_EXTRAPARAMS`, a JSON map of DSN parameters.
    ApiServerEnv,
    /// The cache server: flag `--db_extra_params`, a JSON map of DSN parameters.
    CacheFlag,
    /// The `tls` parameter of a DSN (Model Registry).
    Dsn,
    /// No way: the name in `tls.plaintext`, and a message naming the client.
    None(PlaintextClient, &'static str),
}

/// A database client: a workload and the places of its connection settings.
struct Client {
    component: Component,
    workload: &'static str,
    /// Container names that are this client even before any setting is found in them.
    containers: &'static [&'static str],
    /// Env variables holding a field; `true`: created if missing.
    env: &'static [(&'static str, Field, bool)],
    /// Flags holding a field.
    flags: &'static [(&'static str, Field)],
    /// Append a missing flag (the binary's default would be the bundled server).
    add_missing_flags: bool,
    /// A flag holding a go-sql-driver DSN.
    dsn_flag: Option<(&'static str, DatabaseOf)>,
    tls: TlsSupport,
}

const API_SERVER: Client = Client {
    component: Component::Pipelines,
    workload: "ml-pipeline",
    containers: &["ml-pipeline-api-server"],
    env: &[
        ("DBCONFIG_MYSQLCONFIG_HOST", Field::Host, true),
        ("DBCONFIG_MYSQLCONFIG_PORT", Field::Port, true),
        ("DBCONFIG_MYSQLCONFIG_DBNAME", Field::Database(DatabaseOf::Pipelines), true),
        ("DBCONFIG_HOST", Field::Host, false),
        ("DBCONFIG_PORT", Field::Port, false),
        ("DBCONFIG_DBNAME", Field::Database(DatabaseOf::Pipelines), false),
    ],
    flags: &[],
    add_missing_flags: false,
    dsn_flag: None,
    tls: TlsSupport::ApiServerEnv,
};

const CACHE_SERVER: Client = Client {
    component: Component::Pipelines,
    workload: "cache-server",
    containers: &["server"],
    env: &[],
    flags: &[
        ("--db_host", Field::Host),
        ("--db_port", Field::Port),
        ("--db_name", Field::Database(DatabaseOf::Cache)),
    ],
    add_missing_flags: true,
    dsn_flag: None,
    tls: TlsSupport::CacheFlag,
};

const METADATA: Client = Client {
    component: Component::Pipelines,
    workload: "metadata-grpc-deployment",
    containers: &["container"],
    env: &[],
    flags: &[
        ("--mysql_config_host", Field::Host),
        ("--mysql_config_port", Field::Port),
        ("--mysql_config_database", Field::Database(DatabaseOf::Metadata)),
    ],
    add_missing_flags: true,
    dsn_flag: None,
    tls: TlsSupport::None(
        PlaintextClient::Metadata,
        "the metadata server (ML Metadata, metadata-grpc-deployment) has no MySQL TLS flag: it connects without TLS (only a MetadataStoreServerConfig file given with --metadata_store_server_config_file can set ssl_options)",
    ),
};

const KATIB: Client = Client {
    component: Component::Katib,
    workload: "katib-db-manager",
    containers: &["katib-db-manager"],
    env: &[
        ("KATIB_MYSQL_DB_HOST", Field::Host, true),
        ("KATIB_MYSQL_DB_PORT", Field::Port, true),
        ("KATIB_MYSQL_DB_DATABASE", Field::Database(DatabaseOf::Katib), true),
    ],
    flags: &[],
    add_missing_flags: false,
    dsn_flag: None,
    tls: TlsSupport::None(PlaintextClient::Katib, "Katib's katib-db-manager builds its DSN without TLS parameters: it connects without TLS"),
};

const MODEL_REGISTRY: Client = Client {
    component: Component::ModelRegistry,
    workload: "model-registry-deployment",
    containers: &[],
    env: &[],
    flags: &[
        ("--mysql_config_host", Field::Host),
        ("--mysql_config_port", Field::Port),
        ("--mysql_config_database", Field::Database(DatabaseOf::ModelRegistry)),
    ],
    add_missing_flags: false,
    dsn_flag: Some(("--embedmd-database-dsn", DatabaseOf::ModelRegistry)),
    tls: TlsSupport::Dsn,
};

const CLIENTS: [&Client; 5] = [&API_SERVER, &CACHE_SERVER, &METADATA, &KATIB, &MODEL_REGISTRY];

/// The workloads that are database clients of a component.
pub fn workloads(component: Component) -> Vec<&'static str> {
    CLIENTS.iter().filter(|c| c.component == component).map(|c| c.workload).collect()
}

/// True if the item is a database client workload of the component.
pub fn is_client(item: &Value, component: Component) -> bool {
    pod::template(item).is_some()
        && !object::is_local_config(item)
        && workloads(component).iter().any(|w| name_matches(object::name(item), w))
}

/// What editing the clients of a component found and did.
#[derive(Default)]
pub struct Outcome {
    /// Results (infos per change, warnings).
    pub results: Vec<KrmResult>,
    /// ConfigMaps and Secrets a replaced env entry used to read.
    pub dropped: Vec<(RefKind, String)>,
    /// Places that could not be set (the bundled server stays while one points at it).
    pub unresolved: Vec<String>,
}

/// A note about the item being edited.
struct Note {
    warning: bool,
    message: String,
    path: FieldPath,
}

struct Edit<'a> {
    want: &'a Want<'a>,
    /// Pipelines' ConfigMap is in the input (its keys are set once for every client).
    config_in_input: bool,
    notes: Vec<Note>,
    dropped: Vec<(RefKind, String)>,
    unresolved: Vec<String>,
}

impl Edit<'_> {
    fn info(&mut self, message: String, path: FieldPath) {
        self.notes.push(Note { warning: false, message, path });
    }
    fn warn(&mut self, message: String, path: FieldPath) {
        self.notes.push(Note { warning: true, message, path });
    }
}

/// Sets host, port and database in every client of `component`, and TLS where the client can be
/// told. The CA volume (`tls.caSecret`) is mounted into the containers that use TLS.
pub fn edit(items: &mut [Value], component: Component, want: &Want<'_>, config_in_input: bool) -> Outcome {
    let mut outcome = Outcome::default();
    let mut tls_unsupported: Vec<(usize, PlaintextClient, &'static str)> = Vec::new();
    for (index, item) in items.iter_mut().enumerate() {
        for client in CLIENTS.iter().filter(|c| c.component == component) {
            if pod::template(item).is_none()
                || object::is_local_config(item)
                || !name_matches(object::name(item), client.workload)
            {
                continue;
            }
            let mut edit = Edit { want, config_in_input, notes: Vec::new(), dropped: Vec::new(), unresolved: Vec::new() };
            let mut tls_containers: Vec<String> = Vec::new();
            let single = container_count(item) == 1;
            let mut found = false;
            pod::for_each_container_mut(item, |c| {
                if !is_this_client(c.container, client, single) {
                    return;
                }
                found = true;
                let uses_tls = edit_container(c.container, &c.path, client, &mut edit, &mut tls_unsupported, index);
                if uses_tls {
                    if let Some(name) = c.container.get("name").and_then(Value::as_str) {
                        tls_containers.push(name.to_string());
                    }
                }
            });
            if !found {
                edit.warn(
                    format!("no container of {} holds its database settings: not rewired", client.workload),
                    FieldPath::root(),
                );
                edit.unresolved.push(client.workload.to_string());
            }
            if let Some(ca) = want.tls.filter(|t| t.mode == TlsMode::VerifyCa).and_then(|t| t.ca_secret.as_deref()) {
                if !tls_containers.is_empty() {
                    mount_ca(item, ca, &tls_containers, &mut edit);
                }
            }
            for n in edit.notes {
                let r = if n.warning { KrmResult::warning(n.message) } else { KrmResult::info(n.message) }.on(item);
                outcome.results.push(if n.path == FieldPath::root() { r } else { r.at(n.path) });
            }
            outcome.dropped.extend(edit.dropped);
            outcome.unresolved.extend(edit.unresolved);
        }
    }
    if let Some(tls) = want.tls {
        tls_unsupported.dedup();
        for (index, who, why) in tls_unsupported {
            let name = who.as_str();
            outcome.results.push(if tls.plaintext.contains(&who) {
                KrmResult::warning(format!("tls: {why}; accepted by tls.plaintext ({name}): the server must accept plaintext connections from it")).on(&items[index])
            } else {
                KrmResult::error(format!(
                    "tls: {why}, so against a server that requires TLS (require_secure_transport=ON) it cannot connect and crash-loops: accept its plaintext connection with tls.plaintext: [{name}], or leave {component} out of components",
                    component = component.as_str()
                ))
                .on(&items[index])
            });
        }
    }
    outcome
}

fn container_count(item: &Value) -> usize {
    let mut n = 0;
    pod::for_each_container(item, |_, _| n += 1);
    n
}

fn args(container: &Map<String, Value>) -> Vec<&str> {
    container.get("args").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
}

fn flag_at(args: &[&str], flag: &str) -> Option<usize> {
    args.iter().rposition(|a| *a == flag || a.strip_prefix(flag).is_some_and(|rest| rest.starts_with('=')))
}

/// A flag given more than once: the clients' flag parsers (Go's `flag` in the cache server and
/// the API server, pflag in Model Registry, gflags in ML Metadata) apply the last occurrence, so
/// that is the one edited ([`flag_at`] finds it) and the earlier ones, which the component
/// ignores, are removed with an info: the output then says one thing, and says it where the
/// component reads it. `--flag value` takes its value with it.
fn drop_earlier_occurrences(container: &mut Map<String, Value>, path: &FieldPath, flag: &str, edit: &mut Edit<'_>) {
    loop {
        let (first, last) = {
            let a = args(container);
            let is = |x: &&str| *x == flag || x.strip_prefix(flag).is_some_and(|rest| rest.starts_with('='));
            (a.iter().position(is), a.iter().rposition(is))
        };
        let (Some(first), Some(last)) = (first, last) else { return };
        if first == last {
            return;
        }
        let Some(list) = container.get_mut("args").and_then(Value::as_array_mut) else { return };
        let separate_value = list[first].as_str() == Some(flag) && first + 1 < last;
        list.remove(first);
        if separate_value {
            list.remove(first);
        }
        edit.info(
            format!("removed an earlier {flag}: the component applies the last one given, which is the one set"),
            path.key("args").entry(None, first),
        );
    }
}

fn is_this_client(container: &Map<String, Value>, client: &Client, single: bool) -> bool {
    let name = container.get("name").and_then(Value::as_str).unwrap_or_default();
    let env_names: Vec<&str> = container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("name").and_then(Value::as_str))
        .collect();
    let args = args(container);
    client.env.iter().any(|(v, _, _)| env_names.contains(v))
        || client.flags.iter().any(|(f, _)| flag_at(&args, f).is_some())
        || client.dsn_flag.is_some_and(|(f, _)| flag_at(&args, f).is_some())
        || client.containers.contains(&name)
        || (single && !client.env.is_empty())
}

/// Edits one container; returns true if it was told to use TLS.
fn edit_container(
    container: &mut Map<String, Value>,
    path: &FieldPath,
    client: &Client,
    edit: &mut Edit<'_>,
    tls_unsupported: &mut Vec<(usize, PlaintextClient, &'static str)>,
    index: usize,
) -> bool {
    for (variable, field, create) in client.env {
        set_env(container, path, variable, *field, *create, client.component, edit);
    }
    let edited = client.flags.iter().map(|(f, _)| *f).chain(client.dsn_flag.map(|(f, _)| f));
    let edited: Vec<&str> = match client.tls {
        TlsSupport::CacheFlag => edited.chain([CACHE_EXTRA_PARAMS]).collect(),
        _ => edited.collect(),
    };
    for flag in edited {
        drop_earlier_occurrences(container, path, flag, edit);
    }
    let mut has_flags = false;
    for (flag, field) in client.flags {
        has_flags |= set_flag(container, path, flag, *field, client, edit);
    }
    let mut uses_tls = false;
    let mut has_dsn = false;
    if let Some((flag, db)) = client.dsn_flag {
        if let Some(tls) = set_dsn(container, path, flag, db, client.component, edit) {
            has_dsn = true;
            uses_tls = tls;
        }
    }
    let Some(tls) = edit.want.tls else { return false };
    match client.tls {
        TlsSupport::ApiServerEnv => set_api_tls(container, path, tls.mode.dsn_value(), edit),
        TlsSupport::CacheFlag => set_cache_tls(container, path, tls.mode.dsn_value(), edit),
        TlsSupport::Dsn if has_dsn => uses_tls,
        TlsSupport::Dsn => {
            if has_flags {
                tls_unsupported.push((
                    index,
                    PlaintextClient::ModelRegistry,
                    "Model Registry's grpc-container (ML Metadata) has no MySQL TLS flag: it connects without TLS",
                ));
            }
            false
        }
        TlsSupport::None(who, why) => {
            tls_unsupported.push((index, who, why));
            false
        }
    }
}

// ------------------------------------------------------------------------------------------
// Env
// ------------------------------------------------------------------------------------------

fn env_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

/// Where an env entry's value comes from, for messages (never a value of a Secret).
fn source(entry: &Value) -> String {
    if let Some(r) = entry.pointer("/valueFrom/configMapKeyRef") {
        return format!(
            "ConfigMap {} key {}",
            r.get("name").and_then(Value::as_str).unwrap_or("?"),
            r.get("key").and_then(Value::as_str).unwrap_or("?")
        );
    }
    if let Some(r) = entry.pointer("/valueFrom/secretKeyRef") {
        return format!(
            "Secret {} key {}",
            r.get("name").and_then(Value::as_str).unwrap_or("?"),
            r.get("key").and_then(Value::as_str).unwrap_or("?")
        );
    }
    if entry.get("valueFrom").is_some() {
        return "a valueFrom".into();
    }
    match entry.get("value") {
        Some(Value::String(s)) if s.is_empty() => "empty".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "empty".into(),
    }
}

/// The ConfigMap or Secret an env entry reads.
fn reference(entry: &Value) -> Option<(RefKind, String)> {
    for (ptr, kind) in [("/valueFrom/configMapKeyRef/name", RefKind::ConfigMap), ("/valueFrom/secretKeyRef/name", RefKind::Secret)] {
        if let Some(name) = entry.pointer(ptr).and_then(Value::as_str) {
            return Some((kind, name.to_string()));
        }
    }
    None
}

/// True if the entry reads the `pipeline-install-config` key that holds `field`.
fn reads_install_config(entry: &Value, field: Field) -> bool {
    let Some(r) = entry.pointer("/valueFrom/configMapKeyRef") else { return false };
    r.get("name").and_then(Value::as_str).is_some_and(|n| name_matches(n, PIPELINE_INSTALL_CONFIG))
        && r.get("key").and_then(Value::as_str).is_some_and(|k| field.config_keys().contains(&k))
}

/// Name prefixes of the database settings of Kubeflow's clients.
const DATABASE_VARIABLES: [&str; 4] = ["DBCONFIG_", "MYSQL_", "KATIB_MYSQL_", "DB_"];

/// Inserts a created entry after the last entry of its family (same first `_` segment of the
/// name), else after the last database setting, else at the end: the position does not depend
/// on entries that other functions (external-object-store) append.
pub fn insert_in_family(env: &mut Vec<Value>, entry: Value) -> usize {
    let name = env_name(&entry).unwrap_or_default().to_string();
    let family = name.split('_').next().unwrap_or_default().to_string() + "_";
    let last = |prefixes: &[&str]| {
        env.iter().rposition(|e| env_name(e).is_some_and(|n| prefixes.iter().any(|p| n.starts_with(p))))
    };
    let at = last(&[family.as_str()]).or_else(|| last(&DATABASE_VARIABLES)).map_or(env.len(), |i| i + 1);
    env.insert(at, entry);
    at
}

/// Sets variable `variable` of a container to `field`; `create`: add it if missing. Returns
/// false if it could not be set.
fn set_env(
    container: &mut Map<String, Value>,
    path: &FieldPath,
    variable: &str,
    field: Field,
    create: bool,
    component: Component,
    edit: &mut Edit<'_>,
) -> bool {
    let value = edit.want.value(field);
    let at = path.key("env").entry(Some(variable), 0);
    let exists = container
        .get("env")
        .and_then(Value::as_array)
        .and_then(|env| pod::env_index(env, variable));
    if exists.is_none() && !create {
        return true;
    }
    let Some(env) = pod::env_mut(container) else {
        edit.warn(format!("env is not a list: cannot set the {} ({variable})", field.describe()), path.key("env"));
        edit.unresolved.push(variable.to_string());
        return false;
    };
    let desired = pod::env_value(variable, &value);
    match exists {
        Some(i) => {
            let entry = &env[i];
            if component == Component::Pipelines && edit.config_in_input && reads_install_config(entry, field) {
                return true; // the ConfigMap is set for every client
            }
            if *entry == desired {
                return true;
            }
            let was = source(entry);
            if let Some(r) = reference(entry) {
                edit.dropped.push(r);
            }
            env[i] = desired;
            edit.info(format!("{}: {value} (was {was})", field.describe()), at);
        }
        None => {
            insert_in_family(env, desired);
            edit.info(format!("{}: {value} (added)", field.describe()), at);
        }
    }
    true
}

// ------------------------------------------------------------------------------------------
// Flags
// ------------------------------------------------------------------------------------------

/// A `$(VAR)` reference that is the whole text.
fn variable_of(text: &str) -> Option<&str> {
    let inner = text.strip_prefix("$(")?.strip_suffix(')')?;
    (!inner.is_empty() && inner.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'))
        .then_some(inner)
}

/// Sets flag `flag` (`--flag=value` or `--flag value`). Returns true if the container has it.
fn set_flag(container: &mut Map<String, Value>, path: &FieldPath, flag: &str, field: Field, client: &Client, edit: &mut Edit<'_>) -> bool {
    let value = edit.want.value(field);
    let found = {
        let a = args(container);
        flag_at(&a, flag).map(|i| {
            if a[i] == flag {
                (i + 1, a.get(i + 1).map(|s| s.to_string()), None)
            } else {
                (i, Some(a[i][flag.len() + 1..].to_string()), Some(format!("{flag}=")))
            }
        })
    };
    match found {
        Some((i, Some(current), prefix)) => {
            if let Some(variable) = variable_of(&current) {
                let variable = variable.to_string();
                set_env(container, path, &variable, field, true, client.component, edit);
                return true;
            }
            if current == value {
                return true;
            }
            let new = format!("{}{value}", prefix.unwrap_or_default());
            if let Some(slot) = container.get_mut("args").and_then(Value::as_array_mut).and_then(|a| a.get_mut(i)) {
                *slot = Value::String(new);
            }
            edit.info(format!("{}: {value} (was {current})", field.describe()), path.key("args").entry(None, i));
            true
        }
        Some((i, None, _)) => {
            edit.warn(format!("{flag} has no value: the {} is not set", field.describe()), path.key("args").entry(None, i - 1));
            edit.unresolved.push(flag.to_string());
            true
        }
        None if client.add_missing_flags => {
            // After the client's other database flags (`--db_`, `--mysql_config_`), else last.
            let family = &flag[..flag.rfind('_').map_or(flag.len(), |i| i + 1)];
            let Some(list) = container.get_mut("args").and_then(Value::as_array_mut) else { return false };
            let i = list
                .iter()
                .rposition(|a| a.as_str().is_some_and(|a| a.starts_with(family) && !a.starts_with("--db_extra_params")))
                .map_or(list.len(), |i| i + 1);
            list.insert(i, Value::String(format!("{flag}={value}")));
            edit.info(format!("{}: {value} (added {flag})", field.describe()), path.key("args").entry(None, i));
            true
        }
        None => false,
    }
}

/// Sets host, port, database and the TLS parameter of a DSN flag. `None` if the container has no
/// such flag; `Some(true)` if the DSN was told to use TLS.
fn set_dsn(container: &mut Map<String, Value>, path: &FieldPath, flag: &str, db: DatabaseOf, component: Component, edit: &mut Edit<'_>) -> Option<bool> {
    let (i, text) = {
        let a = args(container);
        let i = flag_at(&a, flag)?;
        (i, a[i].strip_prefix(flag)?.strip_prefix('=')?.to_string())
    };
    let at = path.key("args").entry(None, i);
    let Some(mut dsn) = Dsn::parse(&text) else {
        edit.warn(format!("{flag} is not a DSN of the form user:password@tcp(host:port)/database: not rewired"), at);
        edit.unresolved.push(flag.to_string());
        return Some(false);
    };
    let mut changes = Vec::new();
    let mut slots: Vec<(Field, String)> = vec![(Field::Host, dsn.host.clone()), (Field::Database(db), dsn.database.clone())];
    if let Some(p) = &dsn.port {
        slots.insert(1, (Field::Port, p.clone()));
    }
    for (field, current) in slots {
        let value = edit.want.value(field);
        if let Some(variable) = variable_of(&current) {
            let variable = variable.to_string();
            set_env(container, path, &variable, field, true, component, edit);
            continue;
        }
        if current != value {
            changes.push(format!("{} {value} (was {current})", field.describe()));
            match field {
                Field::Host => dsn.host = value,
                Field::Port => dsn.port = Some(value),
                Field::Database(_) => dsn.database = value,
            }
        }
    }
    if dsn.port.is_none() {
        let value = edit.want.port.clone();
        changes.push(format!("database port {value} (added)"));
        dsn.port = Some(value);
    }
    let tls = edit.want.tls.map(|t| t.mode.dsn_value());
    if let Some(v) = tls {
        if dsn.set_param("tls", v) {
            changes.push(format!("tls={v}"));
        }
    }
    if dsn.has_literal_credentials() {
        edit.warn(
            format!("{flag} carries a literal user or password: write $(VAR) references to env entries reading the credentials Secret instead"),
            at.clone(),
        );
    }
    if !changes.is_empty() {
        if let Some(slot) = container.get_mut("args").and_then(Value::as_array_mut).and_then(|a| a.get_mut(i)) {
            *slot = Value::String(format!("{flag}={}", dsn.render()));
        }
        edit.info(format!("{flag}: {}", changes.join(", ")), at);
    }
    Some(tls.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dsn_round_trip_and_edits() {
        let text = "$(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD)@tcp(model-registry-db:$(MYSQL_PORT))/$(MYSQL_DATABASE)?charset=utf8mb4";
        let mut dsn = Dsn::parse(text).unwrap();
        assert_eq!(dsn.host, "model-registry-db");
        assert_eq!(dsn.port.as_deref(), Some("$(MYSQL_PORT)"));
        assert_eq!(dsn.database, "$(MYSQL_DATABASE)");
        assert_eq!(dsn.render(), text);
        assert!(!dsn.has_literal_credentials());
        assert!(dsn.set_param("tls", "true"));
        assert!(!dsn.set_param("tls", "true"));
        dsn.host = "db.example.com".into();
        assert_eq!(
            dsn.render(),
            "$(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD)@tcp(db.example.com:$(MYSQL_PORT))/$(MYSQL_DATABASE)?charset=utf8mb4&tls=true"
        );
        let base = Dsn::parse("$(DBCONFIG_USER):$(DBCONFIG_PASSWORD)@tcp($(MYSQL_HOST):$(MYSQL_PORT))/$(MYSQL_DATABASE)?charset=utf8mb4").unwrap();
        assert_eq!((base.host.as_str(), base.port.as_deref()), ("$(MYSQL_HOST)", Some("$(MYSQL_PORT)")));
        assert!(Dsn::parse("root:secret@tcp(db)/x").unwrap().has_literal_credentials());
        assert_eq!(Dsn::parse("tcp(db)/x").unwrap().port, None);
        assert!(Dsn::parse("db:3306/x").is_none());
        assert!(Dsn::parse("a@tcp(db:1)").is_none());
    }

    #[test]
    fn family_insertion() {
        let mut env = vec![json!({"name": "DB_NAME"}), json!({"name": "MYSQL_A"}), json!({"name": "OTHER"})];
        assert_eq!(insert_in_family(&mut env, json!({"name": "MYSQL_B"})), 2);
        assert_eq!(insert_in_family(&mut env, json!({"name": "KATIB_X"})), 3);
        assert_eq!(insert_in_family(&mut env, json!({"name": "SSL_CERT_DIR"})), 3);
        let mut plain = vec![json!({"name": "A"})];
        assert_eq!(insert_in_family(&mut plain, json!({"name": "SSL_CERT_DIR"})), 1);
    }

    #[test]
    fn extra_params() {
        assert_eq!(with_tls("", "true").unwrap(), r#"{"tls":"true"}"#);
        assert_eq!(with_tls(r#"{"a":"b","tls":"false"}"#, "true").unwrap(), r#"{"a":"b","tls":"true"}"#);
        assert!(with_tls("tls=true", "true").is_none());
    }

    #[test]
    fn variables() {
        assert_eq!(variable_of("$(MYSQL_PORT)"), Some("MYSQL_PORT"));
        assert_eq!(variable_of("x$(A)"), None);
        assert_eq!(variable_of("3306"), None);
    }
}
