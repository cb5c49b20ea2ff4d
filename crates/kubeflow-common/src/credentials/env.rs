//! Pod env edits: every consumer of a target credential in a pod template (`env`
//! `secretKeyRef`, literal values of known variables, `envFrom`) pointed at the central Secret,
//! and [`centralize`], the entry point that also rewires Argo and warns about what it cannot.

use super::*;

/// A result about the item being edited (attached to it once the edit is done).
pub(super) struct Note {
    pub(super) severity: Severity,
    pub(super) message: String,
    pub(super) path: FieldPath,
}

impl Note {
    pub(super) fn info(message: String, path: FieldPath) -> Self {
        Note { severity: Severity::Info, message, path }
    }
    pub(super) fn warning(message: String, path: FieldPath) -> Self {
        Note { severity: Severity::Warning, message, path }
    }
    pub(super) fn result(self, item: &Value) -> KrmResult {
        let r = match self.severity {
            Severity::Error => KrmResult::error(self.message),
            Severity::Warning => KrmResult::warning(self.message),
            Severity::Info => KrmResult::info(self.message),
        };
        let r = r.on(item);
        if self.path == FieldPath::root() { r } else { r.at(self.path) }
    }
}

/// The canonical env entry reading `key` of Secret `secret`.
pub fn secret_env(name: &str, secret: &str, key: &str, optional: Option<Value>) -> Value {
    let mut reference = Map::new();
    reference.insert("key".into(), Value::String(key.to_string()));
    reference.insert("name".into(), Value::String(secret.to_string()));
    if let Some(o) = optional {
        reference.insert("optional".into(), o);
    }
    let mut value_from = Map::new();
    value_from.insert("secretKeyRef".into(), Value::Object(reference));
    let mut entry = Map::new();
    entry.insert("name".into(), Value::String(name.to_string()));
    entry.insert("valueFrom".into(), Value::Object(value_from));
    Value::Object(entry)
}

/// Points every consumer of the target's credentials at the central Secret (see the module
/// docs), with an info result per rewritten reference and a warning per reference that still
/// reads a credential and cannot be rewritten.
pub fn centralize(items: &mut [Value], target: &Target, results: &mut Vec<KrmResult>) {
    if target.keys.is_empty() {
        return;
    }
    let secrets = SecretKeys::of(items);
    for item in items.iter_mut() {
        if object::is_local_config(item) {
            continue;
        }
        let mut notes = Vec::new();
        if pod::template(item).is_some() {
            let workload = object::name(item).to_string();
            pod::for_each_container_mut(item, |c| {
                rewire_container(c.container, &c.path, &workload, target, &secrets, &mut notes);
            });
        } else if !argo_documents(item).is_empty() {
            rewire_argo(item, target, &mut notes);
        }
        results.extend(notes.into_iter().map(|n| n.result(item)));
    }
    warn_unrewritable(items, target, &secrets, results);
}

/// The keys of the Secrets in the input (`data` then `stringData`), by name.
pub(super) struct SecretKeys(Vec<(String, Vec<String>)>);

impl SecretKeys {
    pub(super) fn of(items: &[Value]) -> Self {
        SecretKeys(
            items
                .iter()
                .filter(|i| Selector::core("Secret").matches(i))
                .map(|i| (object::name(i).to_string(), secret_keys(i)))
                .collect(),
        )
    }
    /// The keys of the Secret a reference names (exact name first, then same base name).
    pub(super) fn get(&self, name: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .or_else(|| self.0.iter().find(|(n, _)| same_object(n, name)))
            .map(|(_, k)| k.as_slice())
    }
}

/// The keys of a Secret item: `data` then `stringData`, each once.
pub fn secret_keys(item: &Value) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for map in ["data", "stringData"] {
        if let Some(m) = item.get(map).and_then(Value::as_object) {
            for k in m.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    keys
}

/// True if two names denote the same object (equal once kustomize hash suffixes are dropped).
pub fn same_object(a: &str, b: &str) -> bool {
    a == b || base_name(a) == base_name(b)
}

pub(super) fn env_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

/// True for an entry that is, or may become, secret-backed (the ordering rule of created entries).
pub(super) fn is_secret_backed(entry: &Value) -> bool {
    entry.pointer("/valueFrom/secretKeyRef").is_some()
        || env_name(entry).is_some_and(|n| KNOWN_VARIABLES.iter().any(|v| v.name == n))
}

/// Inserts a created entry: at the end, but before trailing secret-backed entries that sort after
/// it (see the module docs). Functions that add env entries of their own use it too, so that
/// entries two functions add to one container land in the same order whichever runs first.
pub fn insert_created(env: &mut Vec<Value>, entry: Value) {
    let name = env_name(&entry).unwrap_or_default().to_string();
    let mut at = env.len();
    while at > 0 && is_secret_backed(&env[at - 1]) && env_name(&env[at - 1]).is_some_and(|n| n > name.as_str()) {
        at -= 1;
    }
    env.insert(at, entry);
}

/// The Secret and key an env entry reads through `valueFrom.secretKeyRef`.
pub fn reads_secret(entry: &Value) -> Option<(&str, &str)> {
    let r = entry.pointer("/valueFrom/secretKeyRef")?;
    Some((r.get("name")?.as_str()?, r.get("key")?.as_str()?))
}

pub(super) fn is_literal(entry: &Value) -> bool {
    entry.get("valueFrom").is_none()
        && match entry.get("value") {
            Some(Value::String(s)) => !s.is_empty() && !s.contains("$("),
            Some(Value::Number(_) | Value::Bool(_)) => true,
            _ => false,
        }
}

pub(super) struct Created {
    pub(super) variable: String,
    pub(super) credential: Credential,
    pub(super) central_key: String,
    pub(super) optional: Option<Value>,
    pub(super) origin: String,
}

pub(super) fn rewire_container(
    container: &mut Map<String, Value>,
    path: &FieldPath,
    workload: &str,
    target: &Target,
    secrets: &SecretKeys,
    notes: &mut Vec<Note>,
) {
    let central = target.secret_name.as_str();
    // 1 and 2: secretKeyRefs and literals, in place.
    if let Some(env) = container.get_mut("env").and_then(Value::as_array_mut) {
        for (i, entry) in env.iter_mut().enumerate() {
            let Some(name) = env_name(entry).map(str::to_string) else { continue };
            let at = path.key("env").entry(Some(&name), i);
            if let Some((secret, key)) = reads_secret(entry) {
                let Some((credential, central_key)) = target.rewires(secret, key) else { continue };
                let message = format!("reads {credential} from Secret {central} key {central_key} (was Secret {secret} key {key})");
                let optional = entry.pointer("/valueFrom/secretKeyRef/optional").cloned();
                *entry = secret_env(&name, central, central_key, optional);
                notes.push(Note::info(message, at));
            } else if is_literal(entry) {
                let Some((credential, central_key)) = target.literal(&name, workload) else { continue };
                *entry = secret_env(&name, central, central_key, None);
                notes.push(Note::info(
                    format!("reads {credential} from Secret {central} key {central_key} instead of a literal value"),
                    at,
                ));
            }
        }
    }

    // 3: envFrom of credential Secrets.
    let defined: BTreeSet<String> = container
        .get("env")
        .and_then(Value::as_array)
        .map(|env| env.iter().filter_map(env_name).map(str::to_string).collect())
        .unwrap_or_default();
    let mut created: Vec<Created> = Vec::new();
    let mut drop_sources: Vec<usize> = Vec::new();
    if let Some(sources) = container.get("envFrom").and_then(Value::as_array) {
        for (i, source) in sources.iter().enumerate() {
            let Some(reference) = source.get("secretRef") else { continue };
            let Some(secret) = reference.get("name").and_then(Value::as_str) else { continue };
            if target.is_central(secret) {
                continue;
            }
            let catalogue = target.catalogue_entries(secret);
            if catalogue.is_empty() {
                continue;
            }
            let (keys, assumed): (Vec<String>, bool) = match secrets.get(secret) {
                Some(keys) => (keys.to_vec(), false),
                None => (catalogue.iter().map(|(k, _)| k.clone()).collect(), true),
            };
            if !keys.iter().any(|k| target.rewires(secret, k).is_some()) {
                continue;
            }
            let prefix = source.get("prefix").and_then(Value::as_str).unwrap_or("");
            let optional = reference.get("optional").cloned();
            let at = path.key("envFrom").entry(None, i);
            let (mut moved, mut kept) = (Vec::new(), Vec::new());
            for key in &keys {
                let variable = format!("{prefix}{key}");
                match target.rewires(secret, key) {
                    Some((credential, central_key)) => {
                        let exists = defined.contains(&variable) || created.iter().any(|c| c.variable == variable);
                        if !exists {
                            created.push(Created {
                                variable,
                                credential,
                                central_key: central_key.to_string(),
                                optional: optional.clone(),
                                origin: format!("Secret {secret} key {key}"),
                            });
                        }
                        moved.push(key.as_str());
                    }
                    None if !defined.contains(&variable) => kept.push(key.as_str()),
                    None => {}
                }
            }
            if kept.is_empty() {
                drop_sources.push(i);
                notes.push(Note::info(
                    format!(
                        "removed envFrom of Secret {secret}: its credential keys ({}) are explicit env entries reading Secret {central} now",
                        moved.join(", ")
                    ),
                    at.clone(),
                ));
                if assumed {
                    notes.push(Note::warning(
                        format!(
                            "Secret {secret} is not in the input: assumed to hold only the keys {}; if it holds others, add them as env entries",
                            keys.join(", ")
                        ),
                        at,
                    ));
                }
            } else {
                notes.push(Note::info(
                    format!(
                        "kept envFrom of Secret {secret} for its other keys ({}); its credential keys ({}) are explicit env entries reading Secret {central} now",
                        kept.join(", "),
                        moved.join(", ")
                    ),
                    at,
                ));
            }
        }
    }
    if !drop_sources.is_empty() {
        if let Some(sources) = container.get_mut("envFrom").and_then(Value::as_array_mut) {
            for i in drop_sources.iter().rev() {
                sources.remove(*i);
            }
            if sources.is_empty() {
                container.shift_remove("envFrom");
            }
        }
    }

    // 4: Katib's db-manager reads the user too.
    if name_matches(workload, KATIB_DB_MANAGER) {
        if let (Some(user_key), Some(password_key)) =
            (target.central_key(Credential::DatabaseUsername), target.central_key(Credential::DatabasePassword))
        {
            let env = container.get("env").and_then(Value::as_array);
            let reads_password = env.is_some_and(|env| {
                env.iter().any(|e| env_name(e) == Some("DB_PASSWORD") && reads_secret(e) == Some((central, password_key)))
            });
            let has_user = env.is_some_and(|env| env.iter().any(|e| env_name(e) == Some("DB_USER")))
                || created.iter().any(|c| c.variable == "DB_USER");
            if reads_password && !has_user {
                created.push(Created {
                    variable: "DB_USER".into(),
                    credential: Credential::DatabaseUsername,
                    central_key: user_key.to_string(),
                    optional: None,
                    origin: "Katib's compiled-in user root".into(),
                });
            }
        }
    }

    if created.is_empty() {
        return;
    }
    let Some(env) = pod::env_mut(container) else {
        notes.push(Note::warning("env is not a list: cannot add the credential entries".into(), path.key("env")));
        return;
    };
    for c in created {
        insert_created(env, secret_env(&c.variable, central, &c.central_key, c.optional));
        notes.push(Note::info(
            format!("added: reads {} from Secret {central} key {} (replaces {})", c.credential, c.central_key, c.origin),
            path.key("env").entry(Some(&c.variable), 0),
        ));
    }
}
