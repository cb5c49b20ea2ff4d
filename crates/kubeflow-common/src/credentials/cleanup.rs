//! Secret clean-up: the in-tree credential Secrets with default values, deleted (or stripped of
//! their credential keys) once nothing reads them.

use super::*;

pub(super) fn describe(items: &[Value], refs: &[&Reference]) -> String {
    let mut parts: Vec<String> =
        refs.iter().take(3).map(|r| format!("{} {}", ResourceRef::of(&items[r.item]), r.path)).collect();
    if refs.len() > 3 {
        parts.push(format!("{} more", refs.len() - 3));
    }
    parts.join(", ")
}

pub(super) enum Disposal {
    Delete,
    Strip(Vec<String>, String),
}

/// Deletes every in-tree credential Secret of the target (see [`Target::is_credential_secret`])
/// that nothing references any more, with an info result each. One that is still referenced for
/// keys that are not credentials is kept without its credential keys (removed from `data` and
/// `stringData`), with an info; one still read for a credential (a volume mount...) is kept as
/// it is ([`centralize`] warned about that reference). The central Secret is never touched.
pub fn remove_replaced_secrets(items: &mut Vec<Value>, target: &Target, results: &mut Vec<KrmResult>) {
    if target.keys.is_empty() {
        return;
    }
    let refs = scan(items);
    let mut plan: Vec<(usize, Disposal)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if !Selector::core("Secret").matches(item) {
            continue;
        }
        let name = object::name(item);
        if !target.is_credential_secret(name) {
            continue;
        }
        let mine: Vec<&Reference> = refs.iter().filter(|r| r.kind == RefKind::Secret && same_object(&r.name, name)).collect();
        if mine.is_empty() {
            plan.push((index, Disposal::Delete));
            continue;
        }
        let credential_keys: Vec<String> =
            secret_keys(item).into_iter().filter(|k| target.rewires(name, k).is_some()).collect();
        if credential_keys.is_empty() || mine.iter().any(|r| credential_keys.iter().any(|k| r.reads(k))) {
            continue;
        }
        plan.push((index, Disposal::Strip(credential_keys, describe(items, &mine))));
    }
    let mut deleted = Vec::new();
    for (index, disposal) in &plan {
        let item = &mut items[*index];
        match disposal {
            Disposal::Delete => deleted.push(
                KrmResult::info(format!(
                    "deleted: nothing references it any more (its credentials are read from Secret {} now)",
                    target.secret_name
                ))
                .on(item),
            ),
            Disposal::Strip(keys, by) => {
                let mut at = None;
                if let Some(obj) = item.as_object_mut() {
                    for map in ["data", "stringData"] {
                        let Some(m) = obj.get_mut(map).and_then(Value::as_object_mut) else { continue };
                        let before = m.len();
                        for k in keys {
                            m.shift_remove(k);
                        }
                        if m.len() != before {
                            at.get_or_insert(map);
                        }
                        if m.is_empty() {
                            obj.shift_remove(map);
                        }
                    }
                }
                let r = KrmResult::info(format!(
                    "kept without its credential keys ({}): still referenced for other keys by {by}",
                    keys.join(", ")
                ))
                .on(item);
                results.push(match at {
                    Some(path) => r.at(path),
                    None => r,
                });
            }
        }
    }
    for (index, disposal) in plan.iter().rev() {
        if matches!(disposal, Disposal::Delete) {
            items.remove(*index);
        }
    }
    results.extend(deleted);
}
