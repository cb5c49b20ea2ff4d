//! Argo's embedded configuration: the artifact repositories held as YAML text in
//! `workflow-controller-configmap` and `artifact-repositories`, edited line by line so that
//! their comments survive.

use super::*;

/// An artifact-repository document of an Argo ConfigMap.
pub struct ArgoDocument {
    /// The ConfigMap `data` key holding it.
    pub data_key: String,
    /// Where the repository sits inside the document (empty: at its top).
    pub prefix: Vec<&'static str>,
    /// The document's text.
    pub text: String,
}

/// Argo ConfigMaps holding artifact repositories, as text: `workflow-controller-configmap`
/// (`artifactRepository`, and `artifactRepository` inside `config`) and every key of an
/// `artifact-repositories` ConfigMap. Keys whose value is not a string are left out.
pub fn argo_documents(item: &Value) -> Vec<ArgoDocument> {
    let cm = Selector::core("ConfigMap");
    let Some(data) = item.get("data").and_then(Value::as_object) else { return Vec::new() };
    let keys: Vec<(&str, Vec<&'static str>)> = if cm.named("workflow-controller-configmap").matches(item) {
        vec![("artifactRepository", Vec::new()), ("config", vec!["artifactRepository"])]
    } else if cm.named("artifact-repositories").matches(item) {
        data.keys().map(|k| (k.as_str(), Vec::new())).collect()
    } else {
        Vec::new()
    };
    keys.into_iter()
        .filter_map(|(key, prefix)| {
            let text = data.get(key)?.as_str()?.to_string();
            Some(ArgoDocument { data_key: key.to_string(), prefix, text })
        })
        .collect()
}

pub(super) const ARGO_SLOTS: [&str; 2] = ["accessKeySecret", "secretKeySecret"];

pub(super) fn rewire_argo(item: &mut Value, target: &Target, notes: &mut Vec<Note>) {
    let central = target.secret_name.as_str();
    for ArgoDocument { data_key, prefix, text } in argo_documents(item) {
        let at = FieldPath::from_keys(&["data"]).key(&data_key);
        let doc = match Doc::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                if mentions_credential_secret(&text, target) {
                    notes.push(Note::warning(
                        format!("mentions a credential Secret but cannot be read ({e}): point its references at Secret {central} yourself"),
                        at,
                    ));
                }
                continue;
            }
        };
        let mut changes = Vec::new();
        let mut edits: Vec<(Vec<&str>, String, String)> = Vec::new();
        for slot in ARGO_SLOTS {
            let mut base: Vec<&str> = prefix.clone();
            base.extend(["s3", slot]);
            let get = |field: &str| {
                let mut p = base.clone();
                p.push(field);
                doc.get(&p).and_then(Value::as_str).map(str::to_string)
            };
            let (Some(secret), Some(key)) = (get("name"), get("key")) else { continue };
            let Some((credential, central_key)) = target.rewires(&secret, &key) else { continue };
            changes.push(format!("{}: {credential} from Secret {central} key {central_key} (was Secret {secret} key {key})", base.join(".")));
            edits.push((base, central.to_string(), central_key.to_string()));
        }
        if edits.is_empty() {
            continue;
        }
        // Line by line first (comments and styles stay); if the document's shape does not allow
        // it (flow style...), re-emit the edited value with a warning.
        let mut lines = doc.clone();
        let line_edit = edits
            .iter()
            .try_for_each(|(base, name, key)| {
                for (field, value) in [("name", name), ("key", key)] {
                    let mut p = base.clone();
                    p.push(field);
                    lines.set(&p, &Value::String(value.clone()))?;
                }
                Ok(())
            })
            .and_then(|()| lines.finish());
        let new_text = match line_edit {
            Ok(t) => t,
            Err(_) => {
                let mut value = doc.value().clone();
                for (base, name, key) in &edits {
                    let slot = base.iter().try_fold(&mut value, |v, k| v.get_mut(*k)).and_then(Value::as_object_mut);
                    if let Some(slot) = slot {
                        object::insert_sorted(slot, "name", Value::String(name.clone()));
                        object::insert_sorted(slot, "key", Value::String(key.clone()));
                    }
                }
                match yaml::to_yaml(&value) {
                    Ok(t) => {
                        notes.push(Note::warning(
                            "rewritten without its comments: it could not be edited line by line".into(),
                            at.clone(),
                        ));
                        t
                    }
                    Err(e) => {
                        notes.push(Note::warning(
                            format!("cannot rewrite its credential references ({e}): point them at Secret {central} yourself"),
                            at,
                        ));
                        continue;
                    }
                }
            }
        };
        if let Some(data) = item.get_mut("data").and_then(Value::as_object_mut) {
            object::insert_sorted(data, &data_key, Value::String(new_text));
        }
        notes.push(Note::info(format!("Argo artifact repository reads {}", changes.join("; ")), at));
    }
}

pub(super) fn mentions_credential_secret(text: &str, target: &Target) -> bool {
    KNOWN_SECRET_KEYS.iter().map(|e| e.secret).chain(target.extra.iter().map(|e| e.secret.as_str())).any(|s| text.contains(s))
}
