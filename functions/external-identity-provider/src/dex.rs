//! `mode: dex`: dex's config (ConfigMap `dex`, key `config.yaml`) and Deployment.
//!
//! Secrets never go into the config. dex v2.39.1, v2.41.1 and v2.45.0 expand `$VARIABLE`s in
//! each connector's `config` when they load the file (`cmd/dex/config.go`,
//! `(*Connector).UnmarshalJSON`, behind feature flag `DEX_EXPAND_ENV`, on by default:
//! `pkg/featureflags/set.go`), so a connector's `clientSecret` is written `$DEX_<ID>_CLIENT_SECRET`
//! and that variable reads the central Secret (`env[].valueFrom.secretKeyRef`). The static
//! client keeps `idEnv` / `secretEnv` (`cmd/dex/serve.go`, `runServe`: `os.Getenv`), and static
//! users read their bcrypt hashes through `hashFromEnv` (`cmd/dex/config.go`,
//! `(*password).UnmarshalJSON`). So the ConfigMap stays in Git with no secret in it, and no
//! second copy of dex's config has to live in the secret store. Before v2.42.0 the expansion ran
//! over the raw JSON text, so a secret containing `"` or `\` breaks the file there: a warning
//! says so on those versions.
//!
//! dex checks each connector's redirect URI against `<issuer>/callback` (`server/server.go`,
//! `absURL`; e.g. `connector/github/github.go`, `LoginURL`), so this function always writes that
//! value. It mounts its routes under the issuer's path (`server/server.go`, `newServer`), which
//! is why the issuer must end in `/dex`, where the Kubeflow gateway routes dex.

use serde_json::{Map, Value, json};

use krm_core::KrmResult;
use kubeflow_common::credentials::{self, RefKind, insert_created, secret_env};
use kubeflow_common::k8s::embedded::Doc;
use kubeflow_common::k8s::{FieldPath, Selector, object, pod};
use krm_core::yaml;

use crate::config::{Connector, ExternalIdentityProviderConfig, IN_CLUSTER_DEX_ISSUER, StaticUser};
use crate::first;

/// The key of dex's config in its ConfigMap.
pub const CONFIG_KEY: &str = "config.yaml";
/// The Secret of the upstream default user's password hash.
pub const PASSWORDS_SECRET: &str = "dex-passwords";
/// The variable the upstream default user's hash is read from.
pub const PASSWORD_VARIABLE: &str = "DEX_USER_PASSWORD";

/// The static client's variables (rewired, not created, by this function).
const STATIC_CLIENT_VARIABLES: [&str; 2] = ["OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"];

/// Where dex is in the input.
#[derive(Debug, Clone)]
pub struct DexFound {
    /// dex's namespace.
    pub namespace: Option<String>,
    /// Name of its ConfigMap.
    pub config_map: String,
    /// The issuer its config has now.
    pub issuer: Option<String>,
    /// `http://<service>.<namespace>.svc.cluster.local:<port>`: where oauth2-proxy and istiod
    /// reach dex inside the cluster.
    pub internal_base: String,
    /// The minor version of dex's image (`v2.45.0` → 45), if the tag says.
    pub minor: Option<u32>,
}

impl DexFound {
    /// dex's URL inside the cluster for the issuer's path (`…/dex`).
    pub fn internal(&self, issuer: &str) -> String {
        let path = kubeflow_common::url::parse_url(issuer).map(|u| u.path.to_string()).unwrap_or_else(|_| "/dex".into());
        format!("{}{path}", self.internal_base)
    }
}

/// Finds dex's Deployment, ConfigMap and Service.
/// The error is boxed: a result is large, and the found case is the common one.
pub fn locate(items: &[Value]) -> Result<DexFound, Box<KrmResult>> {
    let deployment = first(items, Selector::of("apps", "Deployment").named("dex"))
        .ok_or_else(|| Box::new(KrmResult::error("mode dex: no Deployment dex in the input (is the login stack, common/dex, in this render?)").at("mode")))?;
    let namespace = object::namespace(&items[deployment]).map(str::to_string);
    let cm = items
        .iter()
        .position(|i| Selector::core("ConfigMap").named("dex").matches(i) && object::namespace(i) == namespace.as_deref())
        .ok_or_else(|| Box::new(KrmResult::error("mode dex: no ConfigMap dex (dex's config.yaml) beside Deployment dex").on(&items[deployment])))?;
    let text = items[cm].pointer("/data/config.yaml").and_then(Value::as_str);
    let Some(text) = text else {
        return Err(Box::new(KrmResult::error("dex's config is not here: no data key config.yaml").on(&items[cm]).at("data")));
    };
    let issuer = match yaml::parse_document(text) {
        Ok(v) => v.get("issuer").and_then(Value::as_str).map(str::to_string),
        Err(e) => return Err(Box::new(KrmResult::error(format!("dex's config.yaml is not YAML: {e}")).on(&items[cm]).at("data[config.yaml]"))),
    };
    let service = items
        .iter()
        .find(|i| Selector::core("Service").named("dex").matches(i) && object::namespace(i) == namespace.as_deref());
    let internal_base = match service {
        Some(s) => {
            let port = s.pointer("/spec/ports/0/port").and_then(Value::as_u64).unwrap_or(5556);
            format!("http://{}.{}.svc.cluster.local:{port}", object::name(s), namespace.as_deref().unwrap_or("auth"))
        }
        None => IN_CLUSTER_DEX_ISSUER.trim_end_matches("/dex").to_string(),
    };
    let mut minor = None;
    pod::for_each_container(&items[deployment], |c, _| {
        if c.get("name").and_then(Value::as_str) == Some("dex") {
            minor = c.get("image").and_then(Value::as_str).and_then(image_minor);
        }
    });
    Ok(DexFound { namespace, config_map: object::name(&items[cm]).to_string(), issuer, internal_base, minor })
}

/// `…:v2.45.0` → 45.
fn image_minor(image: &str) -> Option<u32> {
    let tag = image.rsplit_once(':')?.1;
    let mut parts = tag.strip_prefix('v')?.split('.');
    (parts.next()? == "2").then_some(())?;
    parts.next()?.parse().ok()
}

/// The variable a static user's hash is read from.
pub fn static_user_variable(index: usize) -> String {
    format!("DEX_STATIC_PASSWORD_{index}")
}

/// A connector as dex's config lists it.
fn connector_value(c: &Connector, issuer: &str) -> Value {
    let mut config = Map::new();
    let mut put = |k: &str, v: Value| {
        config.insert(k.to_string(), v);
    };
    if let Some(v) = &c.issuer {
        put("issuer", json!(v));
    }
    if let Some(v) = &c.client_id {
        put("clientID", json!(v));
    }
    if c.is_oauth() {
        put("clientSecret", json!(format!("${}", c.variable("CLIENT_SECRET"))));
    }
    if c.redirects() {
        put("redirectURI", json!(format!("{issuer}/callback")));
    }
    if let Some(v) = &c.scopes {
        put("scopes", json!(v));
    }
    if let Some(v) = &c.orgs {
        put("orgs", serde_json::to_value(v).expect("orgs serialize"));
    }
    if let Some(v) = c.load_all_groups {
        put("loadAllGroups", json!(v));
    }
    if let Some(v) = &c.tenant {
        put("tenant", json!(v));
    }
    if let Some(v) = &c.groups {
        put("groups", json!(v));
    }
    if let Some(v) = &c.hosted_domains {
        put("hostedDomains", json!(v));
    }
    if let Some(v) = &c.host {
        put("host", json!(v));
    }
    if let Some(v) = &c.bind_dn {
        put("bindDN", json!(v));
        put("bindPW", json!(format!("${}", c.variable("BIND_PASSWORD"))));
    }
    if let Some(v) = &c.user_search {
        put("userSearch", Value::Object(v.clone()));
    }
    if let Some(v) = &c.group_search {
        put("groupSearch", Value::Object(v.clone()));
    }
    if let Some(extra) = &c.config {
        for (k, v) in extra {
            config.insert(k.clone(), v.clone());
        }
    }
    json!({"type": c.kind, "id": c.id, "name": c.name, "config": config})
}

fn static_password_value(i: usize, u: &StaticUser) -> Value {
    json!({"email": u.email, "hashFromEnv": static_user_variable(i), "username": u.username, "userID": u.user_id})
}

/// Edits dex's config and Deployment.
pub fn apply(config: &ExternalIdentityProviderConfig, found: &DexFound, items: &mut [Value], results: &mut Vec<KrmResult>) {
    let dex = config.dex.clone().unwrap_or_default();
    let issuer = config.dex_issuer().to_string();
    let Some(cm) = items.iter().position(|i| {
        Selector::core("ConfigMap").named(&found.config_map).matches(i) && object::namespace(i) == found.namespace.as_deref()
    }) else {
        return;
    };
    let path = FieldPath::root().key("data").key(CONFIG_KEY);
    let text = items[cm].pointer("/data/config.yaml").and_then(Value::as_str).unwrap_or_default().to_string();
    match edit_config(&text, &issuer, &dex.connectors, &dex.static_users) {
        Ok((new, changes)) if new != text => {
            items[cm]["data"][CONFIG_KEY] = Value::String(new);
            results.push(KrmResult::info(format!("dex's config: {}", changes.join("; "))).on(&items[cm]).at(path.to_string()));
        }
        Ok(_) => {}
        Err(e) => results.push(KrmResult::error(format!("cannot edit dex's config: {e}")).on(&items[cm]).at(path.to_string())),
    }
    edit_deployment(&dex.connectors, &dex.static_users, config, found, items, results);
}

/// The edited config.yaml and what changed.
fn edit_config(text: &str, issuer: &str, connectors: &[Connector], users: &[StaticUser]) -> Result<(String, Vec<String>), String> {
    let mut doc = Doc::parse(text).map_err(|e| e.to_string())?;
    let mut changes = Vec::new();
    if doc.set(&["issuer"], &json!(issuer)).map_err(|e| e.to_string())? {
        changes.push(format!("issuer {issuer}"));
    }
    let want_connectors: Vec<Value> = connectors.iter().map(|c| connector_value(c, issuer)).collect();
    let want_passwords: Vec<Value> = users.iter().enumerate().map(|(i, u)| static_password_value(i, u)).collect();
    let mut append: Vec<(&str, Value)> = Vec::new();
    if doc.get(&["connectors"]) != Some(&Value::Array(want_connectors.clone())) && !want_connectors.is_empty() {
        doc.remove(&["connectors"]).map_err(|e| e.to_string())?;
        append.push(("connectors", Value::Array(want_connectors)));
        changes.push(format!("connectors {}", connectors.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")));
    } else if want_connectors.is_empty() && doc.remove(&["connectors"]).map_err(|e| e.to_string())? {
        changes.push("connectors removed".into());
    }
    if users.is_empty() {
        let removed_users = doc.remove(&["staticPasswords"]).map_err(|e| e.to_string())?;
        let removed_db = doc.remove(&["enablePasswordDB"]).map_err(|e| e.to_string())?;
        if removed_users || removed_db {
            changes.push("password database and static users removed (the upstream default user user@example.com had a public password)".into());
        }
    } else {
        if doc.set(&["enablePasswordDB"], &json!(true)).map_err(|e| e.to_string())? {
            changes.push("password database enabled".into());
        }
        if doc.get(&["staticPasswords"]) != Some(&Value::Array(want_passwords.clone())) {
            doc.remove(&["staticPasswords"]).map_err(|e| e.to_string())?;
            append.push(("staticPasswords", Value::Array(want_passwords)));
            changes.push(format!("static users {}", users.iter().map(|u| u.email.as_str()).collect::<Vec<_>>().join(", ")));
        }
    }
    let mut out = match doc.clone().finish() {
        Ok(t) => t,
        Err(_) => doc.reemit().map_err(|e| e.to_string())?,
    };
    for (key, value) in append {
        let mut map = Map::new();
        map.insert(key.to_string(), value);
        let block = yaml::to_yaml(&Value::Object(map)).map_err(|e| e.to_string())?;
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&block);
    }
    Ok((out, changes))
}

/// The dex container's env: the default user's variable goes, each connector's and static
/// user's variable reads the central Secret.
fn edit_deployment(
    connectors: &[Connector],
    users: &[StaticUser],
    config: &ExternalIdentityProviderConfig,
    found: &DexFound,
    items: &mut [Value],
    results: &mut Vec<KrmResult>,
) {
    let Some(index) = items.iter().position(|i| {
        Selector::of("apps", "Deployment").named("dex").matches(i) && object::namespace(i) == found.namespace.as_deref()
    }) else {
        return;
    };
    let mut wanted: Vec<(String, String)> = connectors.iter().flat_map(Connector::secret_variables).collect();
    wanted.extend(users.iter().enumerate().map(|(i, u)| (static_user_variable(i), u.hash_key.clone())));
    let mut notes = Vec::new();
    let secret = config.secret_name.as_str();
    pod::for_each_container_mut(&mut items[index], |c| {
        if c.container.get("name").and_then(Value::as_str) != Some("dex") {
            return;
        }
        if let Some(from) = c.container.get_mut("envFrom").and_then(Value::as_array_mut) {
            let before = from.len();
            from.retain(|e| e.pointer("/secretRef/name").and_then(Value::as_str) != Some(PASSWORDS_SECRET));
            if from.len() != before {
                notes.push(KrmResult::info(format!("removed envFrom of Secret {PASSWORDS_SECRET}: the upstream default user is removed")).at(c.path.key("envFrom").to_string()));
            }
            if from.is_empty() {
                c.container.shift_remove("envFrom");
            }
        }
        let expand_off = c.container.get("env").and_then(Value::as_array).and_then(|env| {
            pod::env_index(env, "DEX_EXPAND_ENV").map(|i| env[i].get("value").and_then(Value::as_str).unwrap_or_default().to_string())
        });
        if let Some(v) = expand_off {
            if v.eq_ignore_ascii_case("false") || v == "0" || v.eq_ignore_ascii_case("f") {
                notes.push(
                    KrmResult::error("DEX_EXPAND_ENV turns off dex's variable expansion, so the connectors' $VARIABLE secrets would be read literally: remove it")
                        .at(c.path.key("env").entry(Some("DEX_EXPAND_ENV"), 0).to_string()),
                );
            }
        }
        let Some(env) = pod::env_mut(c.container) else { return };
        let stale: Vec<String> = env
            .iter()
            .filter_map(|e| {
                let name = e.get("name").and_then(Value::as_str)?;
                // Every variable reading the central Secret is this function's (or the default
                // user's), except the static client's: one no longer wanted goes.
                let ours = name == PASSWORD_VARIABLE
                    || (!STATIC_CLIENT_VARIABLES.contains(&name)
                        && credentials::reads_secret(e).is_some_and(|(s, _)| s == secret)
                        && !wanted.iter().any(|(w, _)| w == name));
                ours.then(|| name.to_string())
            })
            .collect();
        for name in &stale {
            env.retain(|e| e.get("name").and_then(Value::as_str) != Some(name));
            notes.push(KrmResult::info(format!("removed env {name}: nothing in dex's config reads it now")).at(c.path.key("env").to_string()));
        }
        for (variable, key) in &wanted {
            let entry = secret_env(variable, secret, key, None);
            match pod::env_index(env, variable) {
                Some(i) if env[i] == entry => {}
                Some(i) => {
                    env[i] = entry;
                    notes.push(KrmResult::info(format!("env {variable} reads Secret {secret} key {key}")).at(c.path.key("env").entry(Some(variable), i).to_string()));
                }
                None => {
                    insert_created(env, entry);
                    notes.push(KrmResult::info(format!("added: env {variable} reads Secret {secret} key {key}")).at(c.path.key("env").entry(Some(variable), 0).to_string()));
                }
            }
        }
        if env.is_empty() {
            c.container.shift_remove("env");
        }
    });
    if found.minor.is_some_and(|m| m < 42) && connectors.iter().any(|c| !c.secret_variables().is_empty()) {
        notes.push(KrmResult::warning(format!(
            "dex 2.{} expands $VARIABLEs in the raw JSON of each connector's config (cmd/dex/config.go, (*Connector).UnmarshalJSON; fixed in v2.42.0): a connector secret containing \" or \\ breaks dex's config. Choose secrets without them, or use dex v2.42.0 or later",
            found.minor.unwrap_or_default()
        )));
    }
    for n in notes {
        results.push(n.on(&items[index]));
    }
}

/// Points every RequestAuthentication rule that trusted dex's old issuer at the new one, with
/// dex's in-cluster JWKS URL when the issuer is a public URL (istiod, like oauth2-proxy, fetches
/// the keys inside the cluster).
pub fn trust_issuer(config: &ExternalIdentityProviderConfig, old: Option<&str>, found: &DexFound, items: &mut [Value], results: &mut Vec<KrmResult>) {
    let issuer = config.dex_issuer();
    let jwks = (issuer != IN_CLUSTER_DEX_ISSUER).then(|| format!("{}/keys", found.internal(issuer)));
    let trusted = [Some(issuer), old, Some(IN_CLUSTER_DEX_ISSUER)];
    for item in items.iter_mut() {
        if !Selector::of("security.istio.io", "RequestAuthentication").matches(item) {
            continue;
        }
        let mut notes = Vec::new();
        if let Some(rules) = item.pointer_mut("/spec/jwtRules").and_then(Value::as_array_mut) {
            for (i, rule) in rules.iter_mut().enumerate() {
                let Some(obj) = rule.as_object_mut() else { continue };
                let current = obj.get("issuer").and_then(Value::as_str);
                if !trusted.contains(&current) {
                    continue;
                }
                let mut changed = false;
                if current != Some(issuer) {
                    object::insert_sorted(obj, "issuer", json!(issuer));
                    changed = true;
                }
                match &jwks {
                    Some(uri) if obj.get("jwksUri").and_then(Value::as_str) != Some(uri) => {
                        object::insert_sorted(obj, "jwksUri", json!(uri));
                        changed = true;
                    }
                    None if obj.get("jwksUri").and_then(Value::as_str) == Some(&format!("{}/keys", found.internal(issuer))) => {
                        obj.shift_remove("jwksUri");
                        changed = true;
                    }
                    _ => {}
                }
                if changed {
                    let how = jwks.as_ref().map_or(String::new(), |j| format!(", keys from {j}"));
                    notes.push(KrmResult::info(format!("trusts dex's issuer {issuer}{how}")).at(format!("spec.jwtRules[{i}]")));
                }
            }
        }
        for n in notes {
            results.push(n.on(item));
        }
    }
}

/// Deletes Secret `dex-passwords` (the upstream default user's public hash) once nothing reads
/// it.
pub fn remove_default_user_secret(items: &mut Vec<Value>, results: &mut Vec<KrmResult>) {
    let Some(index) = first(items, Selector::core("Secret").named(PASSWORDS_SECRET)) else { return };
    if credentials::is_referenced(items, RefKind::Secret, object::name(&items[index])) {
        return;
    }
    results.push(KrmResult::info("deleted: the hash of the upstream default user's public password; nothing reads it any more").on(&items[index]));
    items.remove(index);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_minor_versions() {
        assert_eq!(image_minor("ghcr.io/dexidp/dex:v2.45.0"), Some(45));
        assert_eq!(image_minor("ghcr.io/dexidp/dex:v2.39.1"), Some(39));
        assert_eq!(image_minor("ghcr.io/dexidp/dex@sha256:abc"), None);
        assert_eq!(image_minor("dex"), None);
    }
}
