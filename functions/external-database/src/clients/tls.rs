//! TLS where a client can be told: the API server's extra-parameters env, the cache server's
//! `--db_extra_params` flag (JSON maps of DSN parameters), and the CA of `tls.caSecret` mounted
//! into the containers that use TLS (Go's `SSL_CERT_DIR`).

use super::*;

/// `text` as a JSON map of DSN parameters with `tls` set; `None` if it is not a JSON object.
pub(super) fn with_tls(text: &str, value: &str) -> Option<String> {
    let mut map: Map<String, Value> = if text.trim().is_empty() { Map::new() } else { serde_json::from_str(text).ok()? };
    map.insert("tls".into(), Value::String(value.to_string()));
    serde_json::to_string(&Value::Object(map)).ok()
}

pub(super) const API_EXTRA_PARAMS: &str = "DBCONFIG_MYSQLCONFIG_EXTRAPARAMS";
pub(super) const CACHE_EXTRA_PARAMS: &str = "--db_extra_params";

pub(super) fn set_api_tls(container: &mut Map<String, Value>, path: &FieldPath, value: &str, edit: &mut Edit<'_>) -> bool {
    let at = path.key("env").entry(Some(API_EXTRA_PARAMS), 0);
    let Some(env) = pod::env_mut(container) else {
        edit.warn("env is not a list: cannot set the TLS parameter".into(), path.key("env"));
        return false;
    };
    match pod::env_index(env, API_EXTRA_PARAMS) {
        Some(i) => {
            let current = env[i].get("value").and_then(Value::as_str).filter(|_| env[i].get("valueFrom").is_none());
            let Some(new) = current.and_then(|c| with_tls(c, value)) else {
                edit.warn(format!("{API_EXTRA_PARAMS} is not a literal JSON map: add \"tls\": \"{value}\" to it yourself"), at);
                return false;
            };
            if Some(new.as_str()) != current {
                env[i] = pod::env_value(API_EXTRA_PARAMS, &new);
                edit.info(format!("TLS: DSN parameter tls={value}"), at);
            }
        }
        None => {
            let new = with_tls("", value).unwrap_or_default();
            insert_in_family(env, pod::env_value(API_EXTRA_PARAMS, &new));
            edit.info(format!("TLS: DSN parameter tls={value} (added)"), at);
        }
    }
    true
}

pub(super) fn set_cache_tls(container: &mut Map<String, Value>, path: &FieldPath, value: &str, edit: &mut Edit<'_>) -> bool {
    let (index, current, last_db) = {
        let a = args(container);
        let index = flag_at(&a, CACHE_EXTRA_PARAMS);
        let current = index.and_then(|i| a[i].strip_prefix(CACHE_EXTRA_PARAMS)).and_then(|r| r.strip_prefix('=')).map(str::to_string);
        let last_db = a.iter().rposition(|x| x.starts_with("--db_"));
        (index, current, last_db)
    };
    let Some(list) = container.get_mut("args").and_then(Value::as_array_mut) else {
        edit.warn("the cache server has no args: cannot set --db_extra_params".into(), path.key("args"));
        return false;
    };
    match (index, current) {
        (Some(i), Some(current)) => {
            let at = path.key("args").entry(None, i);
            let Some(new) = with_tls(&current, value) else {
                edit.warn(format!("{CACHE_EXTRA_PARAMS} is not a JSON map: add \"tls\": \"{value}\" to it yourself"), at);
                return false;
            };
            if new != current {
                list[i] = Value::String(format!("{CACHE_EXTRA_PARAMS}={new}"));
                edit.info(format!("TLS: DSN parameter tls={value}"), at);
            }
        }
        (Some(i), None) => {
            edit.warn(format!("{CACHE_EXTRA_PARAMS} has no inline value: add \"tls\": \"{value}\" yourself"), path.key("args").entry(None, i));
            return false;
        }
        (None, _) => {
            let at = last_db.map_or(list.len(), |i| i + 1);
            list.insert(at, Value::String(format!("{CACHE_EXTRA_PARAMS}={}", with_tls("", value).unwrap_or_default())));
            edit.info(format!("TLS: DSN parameter tls={value} (added {CACHE_EXTRA_PARAMS})"), path.key("args").entry(None, at));
        }
    }
    true
}

/// Name of the volume holding the CA of `tls.caSecret`.
pub const CA_VOLUME: &str = "external-database-ca";
/// Where it is mounted.
pub const CA_DIR: &str = "/etc/external-database-ca";
/// Go reads the trusted CAs of these directories (with the system bundle file) once
/// `SSL_CERT_DIR` is set.
pub(super) const CERT_DIRS: &str = "/etc/ssl/certs";

pub(super) fn mount_ca(item: &mut Value, secret: &str, containers: &[String], edit: &mut Edit<'_>) {
    let Some((template, base)) = pod::template_mut(item) else { return };
    let Some(spec) = template.as_object_mut().map(|t| object::child_map(t, "spec")) else { return };
    let spec_path = base.key("spec");
    // The volume.
    let volume = serde_json::json!({"name": CA_VOLUME, "secret": {"secretName": secret}});
    if !spec.get("volumes").is_some_and(Value::is_array) {
        object::insert_sorted(spec, "volumes", Value::Array(Vec::new()));
    }
    if let Some(volumes) = spec.get_mut("volumes").and_then(Value::as_array_mut) {
        match volumes.iter().position(|v| v.get("name").and_then(Value::as_str) == Some(CA_VOLUME)) {
            Some(i) if volumes[i] == volume => {}
            Some(i) => {
                volumes[i] = volume;
                edit.info(format!("TLS: CA from Secret {secret}"), spec_path.key("volumes").entry(Some(CA_VOLUME), i));
            }
            None => {
                volumes.push(volume);
                edit.info(format!("TLS: CA from Secret {secret} (added)"), spec_path.key("volumes").entry(Some(CA_VOLUME), 0));
            }
        }
    }
    // The mount and SSL_CERT_DIR in each container that uses TLS.
    let Some(list) = spec.get_mut("containers").and_then(Value::as_array_mut) else { return };
    for (i, c) in list.iter_mut().enumerate() {
        let Some(c) = c.as_object_mut() else { continue };
        let name = c.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        if !containers.contains(&name) {
            continue;
        }
        let cpath = spec_path.key("containers").entry(Some(&name), i);
        let mount = serde_json::json!({"mountPath": CA_DIR, "name": CA_VOLUME, "readOnly": true});
        if !c.get("volumeMounts").is_some_and(Value::is_array) {
            object::insert_sorted(c, "volumeMounts", Value::Array(Vec::new()));
        }
        if let Some(mounts) = c.get_mut("volumeMounts").and_then(Value::as_array_mut) {
            match mounts.iter().position(|m| m.get("name").and_then(Value::as_str) == Some(CA_VOLUME)) {
                Some(j) if mounts[j] == mount => {}
                Some(j) => {
                    mounts[j] = mount;
                    edit.info(format!("TLS: CA mounted at {CA_DIR}"), cpath.key("volumeMounts").entry(Some(CA_VOLUME), j));
                }
                None => {
                    mounts.push(mount);
                    edit.info(format!("TLS: CA mounted at {CA_DIR} (added)"), cpath.key("volumeMounts").entry(Some(CA_VOLUME), 0));
                }
            }
        }
        let Some(env) = pod::env_mut(c) else { continue };
        let at = cpath.key("env").entry(Some("SSL_CERT_DIR"), 0);
        match pod::env_index(env, "SSL_CERT_DIR") {
            Some(j) => {
                let current = env[j].get("value").and_then(Value::as_str).unwrap_or_default().to_string();
                if !current.split(':').any(|d| d == CA_DIR) {
                    let new = if current.is_empty() { format!("{CERT_DIRS}:{CA_DIR}") } else { format!("{current}:{CA_DIR}") };
                    env[j] = pod::env_value("SSL_CERT_DIR", &new);
                    edit.info(format!("TLS: trusts the CA in {CA_DIR}"), at);
                }
            }
            None => {
                insert_in_family(env, pod::env_value("SSL_CERT_DIR", &format!("{CERT_DIRS}:{CA_DIR}")));
                edit.info(format!("TLS: trusts the CA in {CA_DIR} besides the system CAs (added)"), at);
            }
        }
    }
}
