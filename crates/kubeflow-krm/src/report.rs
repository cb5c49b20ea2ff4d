//! The change report of `kubeflow-krm run --report`: what each function changed, per resource
//! and field path, for a reviewer who should not read a 12 MB diff.
//!
//! Values are shown as compact JSON; the values of Secrets (`data`, `stringData`) and of env
//! variables that hold credentials are masked, so a report can be pasted into a pull request.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use krm_core::FieldPath;
use krm_core::object;

/// The changes of one function run.
#[derive(Debug, Default, Serialize)]
pub struct FunctionReport {
    /// Binary name of the function.
    pub function: String,
    /// The functionConfig file it came from.
    pub config: String,
    /// Resources created.
    pub added: Vec<String>,
    /// Resources deleted.
    pub removed: Vec<String>,
    /// Resources changed, with their field changes.
    pub changed: Vec<ResourceChanges>,
}

/// The field changes of one resource.
#[derive(Debug, Serialize)]
pub struct ResourceChanges {
    /// `apps/v1 Deployment kubeflow/ml-pipeline`.
    pub resource: String,
    /// Each changed field.
    pub fields: Vec<FieldChange>,
}

/// One field: absent `old` means added, absent `new` means removed.
#[derive(Debug, Serialize)]
pub struct FieldChange {
    /// Field path.
    pub path: String,
    /// The value before (JSON), masked for secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    /// The value after (JSON), masked for secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// For a multi-line text (a script or YAML document in a ConfigMap): the lines that changed
    /// instead of the whole old and new values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<LineChanges>,
}

/// The changed lines of a multi-line text, between their common first and last lines.
#[derive(Debug, Serialize)]
pub struct LineChanges {
    /// Lines only in the old text.
    pub removed: Vec<String>,
    /// Lines only in the new text.
    pub added: Vec<String>,
}

impl LineChanges {
    fn of(old: &str, new: &str, masked: bool) -> LineChanges {
        let a: Vec<&str> = old.lines().collect();
        let b: Vec<&str> = new.lines().collect();
        let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
        let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
        let lines = |v: &[&str]| v.iter().map(|l| if masked { MASK.to_string() } else { scrub(l) }).collect();
        LineChanges { removed: lines(&a[prefix..a.len() - suffix]), added: lines(&b[prefix..b.len() - suffix]) }
    }
}

/// Changed lines of one text shown per side in the text report (a replaced script would
/// otherwise fill it); the JSON report has them all.
const MAX_TEXT_LINES: usize = 20;

/// Text shown instead of a secret value.
pub const MASK: &str = "(masked)";

type Identity = (String, String, String, String);

fn identity(item: &Value) -> Identity {
    (
        object::group(item).to_string(),
        object::kind(item).to_string(),
        object::namespace(item).unwrap_or("").to_string(),
        object::name(item).to_string(),
    )
}

fn describe(item: &Value) -> String {
    let name = match object::namespace(item) {
        Some(ns) => format!("{ns}/{}", object::name(item)),
        None => object::name(item).to_string(),
    };
    format!("{} {} {name}", object::api_version(item), object::kind(item))
}

/// Compares the items before and after one function.
pub fn compare(function: &str, config: &str, before: &[Value], after: &[Value]) -> FunctionReport {
    let before_by_id: HashMap<Identity, &Value> = before.iter().map(|i| (identity(i), i)).collect();
    let after_ids: HashMap<Identity, &Value> = after.iter().map(|i| (identity(i), i)).collect();
    let mut report = FunctionReport { function: function.into(), config: config.into(), ..Default::default() };
    for item in after {
        match before_by_id.get(&identity(item)) {
            None => report.added.push(describe(item)),
            Some(old) if *old != item => {
                let mut fields = Vec::new();
                let secret = object::kind(item) == "Secret";
                diff(old, item, &FieldPath::root(), Mask { secret, masked: false }, &mut fields);
                report.changed.push(ResourceChanges { resource: describe(item), fields });
            }
            Some(_) => {}
        }
    }
    for item in before {
        if !after_ids.contains_key(&identity(item)) {
            report.removed.push(describe(item));
        }
    }
    report
}

/// True for an env variable name that holds a credential. Not: a path to one (`*_FILE`,
/// `*_PATH`, `GOOGLE_APPLICATION_CREDENTIALS`) or the profile controller's mode switch
/// `OBJECT_STORE_CREDENTIALS` (`secret` or `fromEnvironment`), which a reviewer must see.
fn is_credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let not_secret = upper.ends_with("_FILE")
        || upper.ends_with("_PATH")
        || ["OBJECT_STORE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"].contains(&upper.as_str());
    !not_secret && ["PASSWORD", "SECRET", "ACCESS_KEY", "ACCESSKEY", "TOKEN", "CREDENTIAL", "_KEY"].iter().any(|w| upper.contains(w))
}

/// True for a value that says nothing secret: empty (the default credential chain) or only
/// `$(VAR)` references, which Kubernetes fills from elsewhere.
fn is_harmless(s: &str) -> bool {
    s.is_empty() || is_reference(s)
}

/// `$(VAR)` references and nothing else (`$(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD)` is not).
fn is_reference(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while let Some(after) = rest.strip_prefix("$(") {
        match after.find(')') {
            Some(end) if end > 0 => rest = &after[end + 1..],
            _ => return false,
        }
    }
    rest.is_empty()
}

/// A value for the report: masked where `masked` (but an empty or `$(VAR)` string is shown: it
/// is no secret, and a reviewer checks that no static key remains), otherwise with the passwords
/// inside strings masked (see [`scrub`]).
fn show(value: &Value, masked: bool) -> String {
    let shown = match value {
        Value::String(s) if masked && is_harmless(s) => value.clone(),
        _ if masked => return MASK.to_string(),
        _ => scrub_value(value),
    };
    serde_json::to_string(&shown).expect("a value serializes")
}

/// Flag names whose value is a secret: `--mysql_config_password`, `--db_password`,
/// `--client-secret`, `--token`.
fn is_secret_flag(flag: &str) -> bool {
    let name = flag.trim_start_matches('-').to_ascii_uppercase().replace('-', "_");
    flag.starts_with('-') && is_credential_name(&name)
}

/// Masks the passwords in one string: a secret flag's `=value`, and the password of a
/// `user:password@host` (a DSN such as `root:PASSWORD@tcp(mysql:3306)/db`). `$(VAR)` references
/// are kept: they are not the secret.
pub fn scrub(s: &str) -> String {
    s.split(' ')
        .map(|token| {
            if let Some((flag, value)) = token.split_once('=') {
                if is_secret_flag(flag) && !is_harmless(value) {
                    return format!("{flag}={MASK}");
                }
            }
            scrub_userinfo(token)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `user:password@` inside a token: the password masked unless it is a `$(VAR)` reference.
fn scrub_userinfo(token: &str) -> String {
    let Some(at) = token.rfind('@') else { return token.to_string() };
    let head = &token[..at];
    // The user information starts after a `scheme://`, a flag's `=`, or at the start.
    let start = head.rfind("://").map(|i| i + 3).or_else(|| head.rfind('=').map(|i| i + 1)).unwrap_or(0);
    let Some(colon) = head[start..].find(':').map(|i| start + i) else { return token.to_string() };
    let password = &head[colon + 1..];
    if password.is_empty() || is_reference(password) || password.contains('/') {
        return token.to_string();
    }
    format!("{}{MASK}{}", &token[..colon + 1], &token[at..])
}

/// [`scrub`] over every string of a value; in a list, the value after a secret flag given on
/// its own (`["--db_password", "PASSWORD"]`) is masked too.
fn scrub_value(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(scrub(s)),
        Value::Array(list) => {
            let mut out = Vec::with_capacity(list.len());
            let mut after_flag = false;
            for v in list {
                out.push(match v {
                    Value::String(s) if after_flag && !is_harmless(s) => Value::String(MASK.into()),
                    other => scrub_value(other),
                });
                after_flag = v.as_str().is_some_and(|s| !s.contains('=') && is_secret_flag(s));
            }
            Value::Array(out)
        }
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), scrub_value(v))).collect()),
        other => other.clone(),
    }
}

/// Masking state while walking: inside a Secret item, and whether this subtree is masked.
#[derive(Clone, Copy)]
struct Mask {
    secret: bool,
    masked: bool,
}

impl Mask {
    /// The state for `key` of `map` (at `path`): a Secret's `data`/`stringData`, and the literal
    /// `value` of a credential env entry, are masked.
    fn child(self, path: &FieldPath, key: &str, map: &serde_json::Map<String, Value>) -> Mask {
        let secret_data = self.secret && path.to_string().is_empty() && (key == "data" || key == "stringData");
        Mask { masked: self.masked || secret_data || masked_child(key, map), ..self }
    }
}

fn diff(old: &Value, new: &Value, path: &FieldPath, mask: Mask, out: &mut Vec<FieldChange>) {
    if old == new {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = path.key(k);
                let m = mask.child(path, k, a);
                match b.get(k) {
                    Some(vb) => diff(va, vb, &p, Mask { masked: m.masked || mask.child(path, k, b).masked, ..m }, out),
                    None => out.push(FieldChange { path: p.to_string(), old: Some(show(va, m.masked)), new: None, lines: None }),
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    let m = mask.child(path, k, b);
                    out.push(FieldChange { path: path.key(k).to_string(), old: None, new: Some(show(vb, m.masked)), lines: None });
                }
            }
        }
        (Value::Array(a), Value::Array(b)) if is_named_list(a) && is_named_list(b) => {
            let name = |v: &Value| v.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            for (i, va) in a.iter().enumerate() {
                let p = path.entry(Some(&name(va)), i);
                match b.iter().find(|vb| name(vb) == name(va)) {
                    Some(vb) => diff(va, vb, &p, mask, out),
                    None => out.push(FieldChange { path: p.to_string(), old: Some(show(&redact(va), mask.masked)), new: None, lines: None }),
                }
            }
            for (i, vb) in b.iter().enumerate() {
                if !a.iter().any(|va| name(va) == name(vb)) {
                    out.push(FieldChange { path: path.entry(Some(&name(vb)), i).to_string(), old: None, new: Some(show(&redact(vb), mask.masked)), lines: None });
                }
            }
        }
        (Value::String(a), Value::String(b)) if a.contains('\n') && b.contains('\n') => out.push(FieldChange {
            path: path.to_string(),
            old: None,
            new: None,
            lines: Some(LineChanges::of(a, b, mask.masked)),
        }),
        _ => out.push(FieldChange { path: path.to_string(), old: Some(show(old, mask.masked)), new: Some(show(new, mask.masked)), lines: None }),
    }
}

/// A literal env value of a credential variable is masked (`value` beside such a `name`).
fn masked_child(key: &str, map: &serde_json::Map<String, Value>) -> bool {
    key == "value" && map.get("name").and_then(Value::as_str).is_some_and(is_credential_name)
}

/// An env entry shown whole (added or removed) with its credential value masked.
fn redact(entry: &Value) -> Value {
    let mut e = entry.clone();
    if let Some(map) = e.as_object_mut() {
        let literal = map.get("value").and_then(Value::as_str).is_some_and(|v| !is_harmless(v));
        if map.get("name").and_then(Value::as_str).is_some_and(is_credential_name) && literal {
            map.insert("value".into(), Value::String(MASK.into()));
        }
    }
    e
}

fn is_named_list(list: &[Value]) -> bool {
    !list.is_empty() && list.iter().all(|v| v.get("name").and_then(Value::as_str).is_some())
}

/// The line `kubeflow-krm run --check` and the report's totals both say about the whole change
/// (`all`: the input compared with the final output, where a resource two functions changed
/// counts once and one changed then deleted counts as deleted).
pub fn summary(all: &FunctionReport) -> String {
    let fields: usize = all.changed.iter().map(|c| c.fields.len()).sum();
    format!("{} changed ({fields} fields), {} added, {} removed", all.changed.len(), all.added.len(), all.removed.len())
}

/// The report as text: per function, per resource, field by field, then the totals of `all`
/// (see [`summary`]).
pub fn to_text(reports: &[FunctionReport], all: &FunctionReport) -> String {
    let mut out = String::new();
    for r in reports {
        let nfields: usize = r.changed.iter().map(|c| c.fields.len()).sum();
        out.push_str(&format!(
            "{} ({}): {} changed ({} fields), {} added, {} removed\n",
            r.function, r.config, r.changed.len(), nfields, r.added.len(), r.removed.len()
        ));
        for a in &r.added {
            out.push_str(&format!("  + {a}\n"));
        }
        for d in &r.removed {
            out.push_str(&format!("  - {d}\n"));
        }
        for c in &r.changed {
            out.push_str(&format!("  ~ {}\n", c.resource));
            for f in &c.fields {
                if let Some(lines) = &f.lines {
                    out.push_str(&format!("      {}: {} lines removed, {} added\n", f.path, lines.removed.len(), lines.added.len()));
                    for (sign, list) in [("-", &lines.removed), ("+", &lines.added)] {
                        for l in list.iter().take(MAX_TEXT_LINES) {
                            out.push_str(&format!("        {sign} {l}\n"));
                        }
                        if list.len() > MAX_TEXT_LINES {
                            out.push_str(&format!("        {sign} ... {} more lines (--report=json has them all)\n", list.len() - MAX_TEXT_LINES));
                        }
                    }
                    continue;
                }
                let old = f.old.as_deref().unwrap_or("(absent)");
                let new = f.new.as_deref().unwrap_or("(absent)");
                out.push_str(&format!("      {}: {old} -> {new}\n", f.path));
            }
        }
    }
    out.push_str(&format!("total, input to output: {}\n", summary(all)));
    out
}

/// The report as JSON (`--report=json`).
/// `totals` are those of `all` (see [`summary`]).
pub fn to_json(reports: &[FunctionReport], all: &FunctionReport) -> String {
    let totals = serde_json::json!({
        "changed": all.changed.len(),
        "fields": all.changed.iter().map(|c| c.fields.len()).sum::<usize>(),
        "added": all.added.len(),
        "removed": all.removed.len(),
    });
    let doc = serde_json::json!({"functions": reports, "totals": totals});
    serde_json::to_string_pretty(&doc).expect("a report serializes") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_changes_with_secrets_masked() {
        let before = vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kubeflow"}, "stringData": {"secretkey": "minio123"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "kubeflow"},
                   "spec": {"env": [{"name": "MINIO_SECRET_KEY", "value": "minio123"}, {"name": "HOST", "value": "a"}]}}),
        ];
        let after = vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kubeflow"}, "stringData": {"secretkey": "other"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "kubeflow"},
                   "spec": {"env": [{"name": "MINIO_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "c", "key": "k"}}}, {"name": "HOST", "value": "b"}]}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
        ];
        let r = compare("f", "f.yaml", &before, &after);
        let all = compare("all", "", &before, &after);
        let text = to_text(&[r], &all);
        assert!(!text.contains("minio123"), "{text}");
        assert!(text.contains("stringData.secretkey: (masked) -> (masked)"), "{text}");
        assert!(text.contains("spec.env[name=HOST].value: \"a\" -> \"b\""), "{text}");
        assert!(text.contains("spec.env[name=MINIO_SECRET_KEY].value: (masked) -> (absent)"), "{text}");
        assert!(text.contains("+ v1 Namespace n"), "{text}");
        assert!(text.contains("total, input to output: 2 changed (4 fields), 1 added, 0 removed"), "{text}");
    }

    #[test]
    fn passwords_in_args_and_dsns_are_masked_and_references_shown() {
        assert_eq!(scrub("--embedmd-database-dsn=root:s3cret@tcp(mysql:3306)/db?tls=true"), "--embedmd-database-dsn=root:(masked)@tcp(mysql:3306)/db?tls=true");
        assert_eq!(scrub("--embedmd-database-dsn=$(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD)@tcp(db:3306)/mr"), "--embedmd-database-dsn=$(MYSQL_USER_NAME):$(MYSQL_ROOT_PASSWORD)@tcp(db:3306)/mr");
        assert_eq!(scrub("--mysql_config_password=pw --mysql_config_host=db"), "--mysql_config_password=(masked) --mysql_config_host=db");
        assert_eq!(scrub("--db_password=$(DB_PASSWORD)"), "--db_password=$(DB_PASSWORD)");
        assert_eq!(scrub("mysql://user:pw@db:3306/x"), "mysql://user:(masked)@db:3306/x");
        assert_eq!(scrub("https://example.com/a@b"), "https://example.com/a@b", "no user information");
        assert_eq!(scrub("user@example.com"), "user@example.com");
        let args = json!(["--db_password", "pw", "--db_host", "db", "--client-secret", "$(SECRET)"]);
        assert_eq!(scrub_value(&args), json!(["--db_password", "(masked)", "--db_host", "db", "--client-secret", "$(SECRET)"]));
    }

    #[test]
    fn empty_and_non_secret_values_are_shown() {
        let before = vec![json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ui", "namespace": "kubeflow"},
            "spec": {"env": [{"name": "AWS_ACCESS_KEY_ID", "value": "minio"}, {"name": "OBJECT_STORE_CREDENTIALS", "value": "secret"}],
                     "args": ["--mysql_config_password=pw1"]}})];
        let after = vec![json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "ui", "namespace": "kubeflow"},
            "spec": {"env": [{"name": "AWS_ACCESS_KEY_ID", "value": ""}, {"name": "OBJECT_STORE_CREDENTIALS", "value": "fromEnvironment"}],
                     "args": ["--mysql_config_password=pw2"]}})];
        let r = compare("f", "f.yaml", &before, &after);
        let text = to_text(&[r], &compare("all", "", &before, &after));
        assert!(text.contains("env[name=AWS_ACCESS_KEY_ID].value: (masked) -> \"\""), "{text}");
        assert!(text.contains("env[name=OBJECT_STORE_CREDENTIALS].value: \"secret\" -> \"fromEnvironment\""), "{text}");
        assert!(text.contains("spec.args: [\"--mysql_config_password=(masked)\"] -> [\"--mysql_config_password=(masked)\"]"), "{text}");
        assert!(!text.contains("pw1") && !text.contains("pw2") && !text.contains("minio"), "{text}");
    }
}
