//! Editing a container's env: one note per change, every entry set the way the shared credential
//! rewiring sets it (in place, or inserted by its rule), so that this function and
//! centralize-credentials write the same entries whichever runs first.

use super::*;

/// A container being edited, collecting one note per change.
pub(crate) struct Env<'a> {
    pub(crate) container: &'a mut Map<String, Value>,
    pub(crate) path: FieldPath,
    pub(crate) notes: Vec<(String, FieldPath)>,
}

pub(crate) fn env_name(entry: &Value) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

impl Env<'_> {
    pub(crate) fn entries(&self) -> &[Value] {
        self.container.get("env").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    }

    /// The entry in effect ([`pod::env_index`]: the last of that name).
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        let entries = self.entries();
        pod::env_index(entries, name).map(|i| &entries[i])
    }

    pub(crate) fn at(&self, name: &str) -> FieldPath {
        self.path.key("env").entry(Some(name), 0)
    }

    /// Sets `entry` (replacing the entry of that name in place, or adding one by the shared
    /// insertion rule); `what` describes the new value. Returns true if anything changed.
    pub(crate) fn put(&mut self, entry: Value, what: String) -> bool {
        let name = env_name(&entry).unwrap_or_default().to_string();
        if self.get(&name) == Some(&entry) {
            return false;
        }
        let at = self.at(&name);
        let Some(env) = pod::env_mut(self.container) else {
            self.notes.push((format!("env is not a list: cannot set {name}"), self.path.key("env")));
            return false;
        };
        match pod::env_index(env, &name) {
            Some(i) => {
                env[i] = entry;
                self.notes.push((what, at));
            }
            None => {
                credentials::insert_created(env, entry);
                self.notes.push((format!("added: {what}"), at));
            }
        }
        true
    }

    /// A literal value (not a credential: the value goes in the message).
    pub(crate) fn literal(&mut self, name: &str, value: &str) {
        self.put(pod::env_value(name, value), format!("set to {value:?}"));
    }

    /// An emptied key variable (the default credential chain is used).
    pub(crate) fn empty_key(&mut self, name: &str) {
        self.put(pod::env_value(name, ""), "set to \"\" (the AWS default credential chain provides the credentials)".into());
    }

    /// A key variable reading the central Secret (an entry that already does, `optional` or not,
    /// stays as it is).
    pub(crate) fn secret(&mut self, name: &str, secret: &str, key: &str) {
        if self.get(name).and_then(credentials::reads_secret) == Some((secret, key)) {
            return;
        }
        self.put(credentials::secret_env(name, secret, key, None), format!("reads Secret {secret} key {key}"));
    }

    /// A key variable for a credential: the central Secret's key, or emptied.
    pub(crate) fn key(&mut self, name: &str, credential: Credential, store: &Store) {
        match store.central(credential) {
            Some((secret, key)) => self.secret(name, secret, key),
            None => self.empty_key(name),
        }
    }

    /// Adds the store's origin to a literal `ALLOWED_ARTIFACT_ENDPOINTS` entry, where there is
    /// one. A `valueFrom` entry is left alone: the upstream manifests read
    /// `pipeline-install-config`, whose key [`install_config`] edits; another source is the
    /// user's to edit.
    pub(crate) fn allow_origin(&mut self, store: &Store) {
        let Some(list) = self.get(ALLOWED_ENDPOINTS).filter(|e| e.get("valueFrom").is_none()).map(|e| e.get("value").and_then(Value::as_str).unwrap_or_default().to_string()) else {
            return;
        };
        if let Some(new) = allow_origin(&list, &store.origin()) {
            self.literal(ALLOWED_ENDPOINTS, &new);
        }
    }

    /// Removes every entry of that name (an earlier duplicate would take effect otherwise).
    pub(crate) fn remove(&mut self, name: &str, why: &str) {
        let Some(env) = self.container.get_mut("env").and_then(Value::as_array_mut) else { return };
        let before = env.len();
        env.retain(|e| env_name(e) != Some(name));
        if env.len() < before {
            let at = self.at(name);
            self.notes.push((format!("removed: {why}"), at));
        }
    }
}

/// Runs `edit` on the main container (`container`, else the first) of every Deployment named
/// `workload`; an info result per change.
pub(crate) fn edit_workload(items: &mut [Value], workload: &str, container: &str, results: &mut Vec<KrmResult>, mut edit: impl FnMut(&mut Env<'_>)) {
    let selector = Selector::of("apps", "Deployment").named(workload);
    for item in items.iter_mut().filter(|i| selector.matches(i)) {
        let mut notes = Vec::new();
        if let Some((c, path)) = main_container(item, container) {
            let mut env = Env { container: c, path, notes: Vec::new() };
            edit(&mut env);
            notes = env.notes;
        }
        results.extend(notes.into_iter().map(|(m, p)| KrmResult::info(m).on(item).at(p)));
    }
}

/// The container named `name` of a workload, else its first container.
pub(crate) fn main_container<'a>(item: &'a mut Value, name: &str) -> Option<(&'a mut Map<String, Value>, FieldPath)> {
    let (template, base) = pod::template_mut(item)?;
    let containers = template.get_mut("spec")?.get_mut("containers")?.as_array_mut()?;
    let index = containers.iter().position(|c| c.get("name").and_then(Value::as_str) == Some(name)).unwrap_or(0);
    let container = containers.get_mut(index)?.as_object_mut()?;
    let path = base.key("spec").key("containers").entry(container.get("name").and_then(Value::as_str), index);
    Some((container, path))
}

/// True for a variable that holds an object-store key in this workload (the catalogue's names).
pub(crate) fn is_key_variable(name: &str, workload: &str) -> bool {
    KNOWN_VARIABLES.iter().any(|v| {
        v.name == name
            && matches!(v.credential, Credential::ObjectStoreAccessKey | Credential::ObjectStoreSecretKey)
            && (v.workloads.is_empty() || v.workloads.iter().any(|w| name_matches(workload, w)))
    })
}

/// `fromEnvironment`: every object-store key variable of every workload (but the bundled store
/// servers) is emptied, whatever it read, so the AWS default credential chain is used.
pub(crate) fn empty_key_variables(items: &mut [Value], results: &mut Vec<KrmResult>) {
    for item in items.iter_mut() {
        if object::is_local_config(item) || pod::template(item).is_none() {
            continue;
        }
        let workload = object::name(item).to_string();
        if STORE_SERVERS.iter().any(|s| name_matches(&workload, s)) && object::kind(item) == "Deployment" {
            continue;
        }
        let mut notes = Vec::new();
        pod::for_each_container_mut(item, |c| {
            let names: Vec<String> = c
                .container
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(env_name)
                .filter(|n| is_key_variable(n, &workload))
                .map(str::to_string)
                .collect();
            let mut env = Env { container: c.container, path: c.path, notes: Vec::new() };
            for name in names {
                env.empty_key(&name);
            }
            notes.extend(env.notes);
        });
        results.extend(notes.into_iter().map(|(m, p)| KrmResult::info(m).on(item).at(p)));
    }
}
