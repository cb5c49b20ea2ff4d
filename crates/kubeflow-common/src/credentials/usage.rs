//! Where the central Secret is needed (per namespace, for the user's secret store), and keeping
//! centralize-credentials' ExternalSecrets in step when a function stops consumers reading a key.

use super::*;

/// The consumers of the central Secret in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// The namespace (`None`: consumers without `metadata.namespace`).
    pub namespace: Option<String>,
    /// The target's credentials they read.
    pub credentials: BTreeSet<Credential>,
    /// Indexes of the consuming items.
    pub consumers: BTreeSet<usize>,
}

/// Where the central Secret is read, per namespace (sorted, `None` first), from the items as they
/// are (so a second run gives the same answer): every reference to the central Secret for one
/// of the target's keys. ExternalSecret objects are not consumers.
pub fn central_usage(items: &[Value], target: &Target) -> Vec<Usage> {
    let mut by_ns: BTreeMap<Option<String>, Usage> = BTreeMap::new();
    for r in scan(items) {
        if r.kind != RefKind::Secret || !target.is_central(&r.name) {
            continue;
        }
        let item = &items[r.item];
        if object::group(item) == "external-secrets.io" {
            continue;
        }
        let credentials: BTreeSet<Credential> =
            target.keys.iter().filter(|(_, k)| r.reads(k)).map(|(c, _)| *c).collect();
        if credentials.is_empty() {
            continue;
        }
        let ns = object::namespace(item).map(str::to_string);
        let usage = by_ns.entry(ns.clone()).or_insert_with(|| Usage {
            namespace: ns,
            credentials: BTreeSet::new(),
            consumers: BTreeSet::new(),
        });
        usage.credentials.extend(credentials);
        usage.consumers.insert(r.item);
    }
    by_ns.into_values().collect()
}

/// One info result per namespace that must hold the central Secret, naming its keys (never a
/// value).
pub fn namespace_results(usage: &[Usage], target: &Target) -> Vec<KrmResult> {
    usage
        .iter()
        .map(|u| {
            let keys: Vec<String> = u
                .credentials
                .iter()
                .filter_map(|c| target.central_key(*c).map(|k| format!("{k} ({c})")))
                .collect();
            let n = u.consumers.len();
            let by = if n == 1 { "1 resource".to_string() } else { format!("{n} resources") };
            match &u.namespace {
                Some(ns) => KrmResult::info(format!(
                    "namespace {ns} must hold Secret {} with keys {} (read by {by})",
                    target.secret_name,
                    keys.join(", ")
                )),
                None => KrmResult::info(format!(
                    "the namespace where the resources without metadata.namespace are deployed must hold Secret {} with keys {} (read by {by})",
                    target.secret_name,
                    keys.join(", ")
                )),
            }
        })
        .collect()
}


/// Which keys of which Secret each namespace reads: a snapshot taken with [`SecretReads::of`]
/// before a function stops some consumers from reading a central key, for
/// [`refresh_external_secrets`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretReads {
    /// `(namespace, Secret name)` → the keys read (`None`: every key, an envFrom or a volume).
    pub(super) reads: BTreeMap<(Option<String>, String), Option<BTreeSet<String>>>,
}

impl SecretReads {
    /// Every Secret reference of the items (see [`scan`]), by the namespace of the referring
    /// item. ExternalSecrets are not readers.
    pub fn of(items: &[Value]) -> Self {
        let mut reads: BTreeMap<(Option<String>, String), Option<BTreeSet<String>>> = BTreeMap::new();
        for r in scan(items) {
            let item = &items[r.item];
            if r.kind != RefKind::Secret || object::group(item) == "external-secrets.io" {
                continue;
            }
            let slot = reads.entry((object::namespace(item).map(str::to_string), r.name.clone())).or_insert_with(|| Some(BTreeSet::new()));
            match (&r.keys, slot.as_mut()) {
                (Some(keys), Some(read)) => read.extend(keys.iter().filter(|k| !r.except.contains(*k)).cloned()),
                (None, _) => *slot = None,
                (Some(_), None) => {}
            }
        }
        SecretReads { reads }
    }

    /// True if something in `namespace` reads `key` of Secret `secret`.
    pub fn reads(&self, namespace: Option<&str>, secret: &str, key: &str) -> bool {
        self.reads
            .iter()
            .filter(|((ns, name), _)| ns.as_deref() == namespace && same_object(name, secret))
            .any(|(_, keys)| keys.as_ref().is_none_or(|k| k.contains(key)))
    }
}

/// The central Secret an ExternalSecret of `centralize-credentials` fills, if the item is one.
///
/// `centralize-credentials` recognises its ExternalSecrets by name (its `secretName`) and
/// namespace; a function that does not know that name recognises them by their shape: an
/// `external-secrets.io` ExternalSecret whose `spec.target.name` is its own name and whose `data`
/// entries each read the remote property of the same name as their `secretKey`.
pub fn central_external_secret(item: &Value) -> Option<&str> {
    if !Selector::of("external-secrets.io", "ExternalSecret").matches(item) {
        return None;
    }
    let name = object::name(item);
    let spec = item.get("spec")?;
    if spec.pointer("/target/name").and_then(Value::as_str) != Some(name) || name.is_empty() {
        return None;
    }
    let data = spec.get("data")?.as_array()?;
    let shaped = data.iter().all(|d| {
        let key = d.get("secretKey").and_then(Value::as_str);
        key.is_some() && d.pointer("/remoteRef/property").and_then(Value::as_str) == key
    });
    shaped.then_some(name)
}

/// Keeps the ExternalSecrets of `centralize-credentials` (see [`central_external_secret`]) in
/// step after a function changed which central keys are read (for example
/// `external-object-store` with `credentials.fromEnvironment`, which empties the object-store
/// key variables, or `external-identity-provider`, whose dex connectors read new keys):
/// - the `data` entries whose key was read in its namespace `before` and is read there by
///   nothing now are dropped; an ExternalSecret left without entries is deleted;
/// - a key read there now and not `before`, with no entry, gets one (reading the same remote
///   entry as the others), and the entries are sorted by key, as [`emit_external_secrets`]
///   writes them.
///
/// An info result per change; entries nothing read before are left alone (they serve consumers
/// outside the input). So `centralize-credentials` then the function gives what the function
/// then `centralize-credentials` gives: the latter emits entries for exactly the keys read.
pub fn refresh_external_secrets(items: &mut Vec<Value>, before: &SecretReads, results: &mut Vec<KrmResult>) {
    let now = SecretReads::of(items);
    let mut deleted = Vec::new();
    for (index, item) in items.iter_mut().enumerate() {
        let Some(name) = central_external_secret(item).map(str::to_string) else { continue };
        let ns = object::namespace(item).map(str::to_string);
        let stale = |key: &str| before.reads(ns.as_deref(), &name, key) && !now.reads(ns.as_deref(), &name, key);
        let read_now: BTreeSet<String> = now
            .reads
            .iter()
            .filter(|((n, secret), _)| n.as_deref() == ns.as_deref() && same_object(secret, &name))
            .filter_map(|(_, keys)| keys.clone())
            .flatten()
            .collect();
        let Some(data) = item.pointer_mut("/spec/data").and_then(Value::as_array_mut) else { continue };
        let has = |data: &[Value], k: &str| data.iter().any(|d| d.get("secretKey").and_then(Value::as_str) == Some(k));
        let added: Vec<String> =
            read_now.iter().filter(|k| !before.reads(ns.as_deref(), &name, k) && !has(data, k)).cloned().collect();
        let remote = data.iter().find_map(|d| d.pointer("/remoteRef/key").cloned());
        if let (false, Some(remote)) = (added.is_empty(), remote) {
            for k in &added {
                data.push(serde_json::json!({"remoteRef": {"key": remote, "property": k}, "secretKey": k}));
            }
            data.sort_by(|a, b| a.get("secretKey").and_then(Value::as_str).cmp(&b.get("secretKey").and_then(Value::as_str)));
            results.push(
                KrmResult::info(format!("also fills keys {}: read in its namespace now", added.join(", "))).on(item).at("spec.data"),
            );
        }
        let Some(data) = item.pointer_mut("/spec/data").and_then(Value::as_array_mut) else { continue };
        let dropped: Vec<String> = data
            .iter()
            .filter_map(|d| d.get("secretKey").and_then(Value::as_str))
            .filter(|k| stale(k))
            .map(str::to_string)
            .collect();
        if dropped.is_empty() {
            continue;
        }
        data.retain(|d| !d.get("secretKey").and_then(Value::as_str).is_some_and(|k| dropped.iter().any(|x| x == k)));
        if data.is_empty() {
            deleted.push(index);
            results.push(
                KrmResult::info(format!(
                    "deleted: nothing in its namespace reads Secret {name} any more (keys {} were its last entries)",
                    dropped.join(", ")
                ))
                .on(item),
            );
        } else {
            results.push(
                KrmResult::info(format!("no longer fills keys {}: nothing in its namespace reads them any more", dropped.join(", ")))
                    .on(item)
                    .at("spec.data"),
            );
        }
    }
    for index in deleted.into_iter().rev() {
        items.remove(index);
    }
}
