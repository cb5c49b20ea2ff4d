//! istio-injection: labels Namespaces for Istio sidecar or ambient mode (and Pod Security), and
//! tells the Kubeflow profile controller to label user namespaces the same way.
//!
//! The whole logic is here; the reference docs are `README.md` beside this file.

pub mod config;
pub mod pod_security;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Value};

use kubeflow_common::k8s::embedded::Doc;
use kubeflow_common::k8s::{FieldPath, Selector, generate, object, pod};
use krm_core::{Function, KrmResult};
pub use config::{IstioInjectionConfig, Level, Mode, PodSecurity};
use config::FIXED_EXCLUSIONS;

/// The `istio-injection` function.
pub struct IstioInjection;

/// The function as the process runner and `kubeflow-krm`'s dispatch take it.
pub static FUNCTION: krm_core::Registered<IstioInjection> = krm_core::Registered::new();

const INJECTION: &str = "istio-injection";
const REVISION: &str = "istio.io/rev";
const DATAPLANE: &str = "istio.io/dataplane-mode";
/// The profile controller's labels file inside ConfigMap `namespace-labels-data*`.
const PROFILE_LABELS_CM: &str = "namespace-labels-data";
const PROFILE_LABELS_KEY: &str = "namespace-labels.yaml";

impl Function for IstioInjection {
    const NAME: &'static str = "istio-injection";
    const KIND: &'static str = "IstioInjection";
    const DOC: &'static str = include_str!("../README.md");
    type Config = IstioInjectionConfig;

    fn process(config: &IstioInjectionConfig, items: &mut Vec<Value>) -> Vec<KrmResult> {
        let plan = Plan::new(config);
        let mut results = Vec::new();
        label_namespaces(&plan, items, &mut results);
        if config.create_namespaces {
            create_namespaces(&plan, items, &mut results);
        }
        warn_unmatched_names(config, items, &mut results);
        if config.profiles {
            label_profiles(&plan, items, &mut results);
        }
        if config.mode == Mode::Ambient {
            sidecar_requests(&plan, items, &mut results);
        }
        check_pod_security(&plan, items, &mut results);
        results
    }
}

/// A name without glob characters in `namespaces` or `excludeNamespaces` that no Namespace of
/// the output has is most likely a typo (`kubeflw`) or a namespace of another release
/// (`kubeflow-system` before 1.10): a warning each, naming the field, instead of a silent pass.
fn warn_unmatched_names(config: &IstioInjectionConfig, items: &[Value], results: &mut Vec<KrmResult>) {
    let present: std::collections::HashSet<&str> =
        items.iter().filter(|i| Selector::core("Namespace").matches(i)).map(object::name).collect();
    for (field, names) in [("namespaces", &config.namespaces), ("excludeNamespaces", &config.exclude_namespaces)] {
        for (i, name) in names.iter().enumerate() {
            if name.contains(['*', '?', '[']) || present.contains(name.as_str()) {
                continue;
            }
            results.push(
                KrmResult::warning(format!(
                    "no Namespace {name} in the input: nothing was {} for it (a typo, a namespace of another Kubeflow release, \
                     or one defined in another kustomize layer?)",
                    if field == "namespaces" { "labelled" } else { "excluded" }
                ))
                .at(format!("{field}[{i}]")),
            );
        }
    }
}

/// The labels to set and remove, and the namespace selection, derived from the config.
struct Plan<'a> {
    config: &'a IstioInjectionConfig,
    set: Vec<(String, String)>,
    remove: Vec<&'static str>,
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
}

enum Selection {
    Selected,
    /// Not matched by `namespaces`, or excluded.
    Skipped,
    /// Explicitly opted out with a label the user did not override by naming it.
    OptedOut(&'static str),
}

impl<'a> Plan<'a> {
    fn new(config: &'a IstioInjectionConfig) -> Self {
        let (mode_label, mode_value): (&str, &str) = match (config.mode, &config.revision) {
            (Mode::Sidecar, Some(rev)) => (REVISION, rev),
            (Mode::Sidecar, None) => (INJECTION, "enabled"),
            (Mode::Ambient, _) => (DATAPLANE, "ambient"),
            (Mode::Disabled, _) => (INJECTION, "disabled"),
        };
        let mut set = vec![(mode_label.to_string(), mode_value.to_string())];
        if let Some(ps) = &config.pod_security {
            set.extend(ps.labels().into_iter().map(|(k, v)| (k, v.to_string())));
        }
        let remove = [INJECTION, REVISION, DATAPLANE].into_iter().filter(|l| *l != mode_label).collect();
        let patterns = |list: &[String]| list.iter().filter_map(|p| glob::Pattern::new(p).ok()).collect();
        Plan {
            config,
            set,
            remove,
            include: patterns(&config.namespaces),
            exclude: patterns(&config.exclude_namespaces),
        }
    }

    fn select(&self, name: &str, labels: Option<&Map<String, Value>>) -> Selection {
        if FIXED_EXCLUSIONS.contains(&name)
            || self.exclude.iter().any(|p| p.matches(name))
            || !self.include.iter().any(|p| p.matches(name))
        {
            return Selection::Skipped;
        }
        let named_exactly = self.config.namespaces.iter().any(|n| n == name);
        if self.config.mode != Mode::Disabled && !named_exactly {
            let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
            if label(INJECTION) == Some("disabled") {
                return Selection::OptedOut("istio-injection: disabled");
            }
            if label(DATAPLANE) == Some("none") {
                return Selection::OptedOut("istio.io/dataplane-mode: none");
            }
        }
        Selection::Selected
    }

    /// The labels of a new Namespace.
    fn new_labels(&self) -> BTreeMap<String, String> {
        self.set.iter().cloned().collect()
    }
}

/// Applies the plan to one labels map; returns a description of each change.
fn apply_labels(plan: &Plan<'_>, labels: &mut Map<String, Value>) -> Vec<String> {
    let mut changes = Vec::new();
    for key in &plan.remove {
        if labels.shift_remove(*key).is_some() {
            changes.push(format!("removed {key}"));
        }
    }
    for (key, value) in &plan.set {
        if labels.get(key).and_then(Value::as_str) != Some(value) {
            object::insert_sorted(labels, key, Value::String(value.clone()));
            changes.push(format!("{key}={value}"));
        }
    }
    changes
}

fn label_namespaces(plan: &Plan<'_>, items: &mut [Value], results: &mut Vec<KrmResult>) {
    let path = FieldPath::from_keys(&["metadata", "labels"]);
    for item in items.iter_mut().filter(|i| Selector::core("Namespace").matches(i)) {
        let name = object::name(item).to_string();
        let existing = item.get("metadata").and_then(|m| m.get("labels")).and_then(Value::as_object);
        match plan.select(&name, existing) {
            Selection::Skipped => continue,
            Selection::OptedOut(label) => {
                results.push(KrmResult::info(format!("left alone: explicitly labelled {label}")).on(item).at(path.clone()));
                continue;
            }
            Selection::Selected => {}
        }
        if item.get("metadata").and_then(|m| m.get("labels")).is_some_and(|l| !l.is_object()) {
            results.push(KrmResult::error("metadata.labels is not a mapping").on(item).at(path.clone()));
            continue;
        }
        let Some(labels) = object::labels_mut(item) else { continue };
        let changes = apply_labels(plan, labels);
        if !changes.is_empty() {
            results.push(KrmResult::info(format!("labelled: {}", changes.join(", "))).on(item).at(path.clone()));
        }
    }
}

fn create_namespaces(plan: &Plan<'_>, items: &mut Vec<Value>, results: &mut Vec<KrmResult>) {
    let defined: Vec<String> = items
        .iter()
        .filter(|i| Selector::core("Namespace").matches(i))
        .map(|i| object::name(i).to_string())
        .collect();
    let mut used: Vec<String> = Vec::new();
    for (_, item) in object::deployable(items) {
        if let Some(ns) = object::namespace(item) {
            if !defined.iter().any(|d| d == ns) && !used.iter().any(|u| u == ns) {
                used.push(ns.to_string());
            }
        }
    }
    for name in used {
        if !matches!(plan.select(&name, None), Selection::Selected) {
            continue;
        }
        let namespace = Namespace {
            metadata: ObjectMeta { name: Some(name.clone()), labels: Some(plan.new_labels()), ..Default::default() },
            ..Default::default()
        };
        let value = serde_json::to_value(&namespace).expect("a Namespace serializes");
        let index = generate::insert(items, value);
        results.push(
            KrmResult::info(format!("created Namespace {name}: it is used by resources but was not defined"))
                .on(&items[index]),
        );
    }
}

/// The entries the profile controller's labels file needs. The controller creates every user
/// namespace with `istio-injection: enabled` and only adds labels that are absent, so any other
/// mode must remove that label with an empty value; `disabled` cannot be set there at all, so the
/// label is removed (no label means no injection).
fn profile_entries(plan: &Plan<'_>) -> Vec<(&'static str, String)> {
    let value = |label: &str| plan.set.iter().find(|(k, _)| k == label).map(|(_, v)| v.clone());
    let mut entries = Vec::new();
    for label in [INJECTION, REVISION, DATAPLANE] {
        let v = value(label).filter(|v| v != "disabled").unwrap_or_default();
        entries.push((label, v));
    }
    entries
}

fn label_profiles(plan: &Plan<'_>, items: &mut [Value], results: &mut Vec<KrmResult>) {
    let selector = Selector::core("ConfigMap").named(PROFILE_LABELS_CM);
    let path = FieldPath::from_keys(&["data"]).key(PROFILE_LABELS_KEY);
    for item in items.iter_mut().filter(|i| selector.matches(i)) {
        let text = match item.get("data").and_then(|d| d.get(PROFILE_LABELS_KEY)) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                results.push(KrmResult::error("is not a string").on(item).at(path.clone()));
                continue;
            }
        };
        let mut doc = match Doc::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                results.push(KrmResult::error(e.to_string()).on(item).at(path.clone()));
                continue;
            }
        };
        let mut changes = Vec::new();
        for (label, value) in profile_entries(plan) {
            match doc.set(&[label], &Value::String(value.clone())) {
                Ok(true) if value.is_empty() => changes.push(format!("{label}: \"\" (removes it)")),
                Ok(true) => changes.push(format!("{label}: {value}")),
                Ok(false) => {}
                Err(e) => results.push(KrmResult::error(e.to_string()).on(item).at(path.clone())),
            }
        }
        if changes.is_empty() {
            continue;
        }
        let new_text = match doc.clone().finish() {
            Ok(t) => t,
            Err(_) => {
                results.push(
                    KrmResult::warning("rewritten without its comments: it could not be edited line by line")
                        .on(item)
                        .at(path.clone()),
                );
                match doc.reemit() {
                    Ok(t) => t,
                    Err(e) => {
                        results.push(KrmResult::error(e.to_string()).on(item).at(path.clone()));
                        continue;
                    }
                }
            }
        };
        let Some(obj) = item.as_object_mut() else { continue };
        let data = object::child_map(obj, "data");
        object::insert_sorted(data, PROFILE_LABELS_KEY, Value::String(new_text));
        let mut message = format!("user namespaces (profile controller): {}", changes.join(", "));
        if plan.config.mode == Mode::Disabled {
            message.push_str("; the profile controller cannot set istio-injection: disabled (it only adds absent labels and starts from enabled), so the label is removed instead");
        }
        results.push(KrmResult::info(message).on(item).at(path.clone()));
    }
}

/// The selected namespaces, with the labels they have now (after [`label_namespaces`]).
fn selected_namespaces<'a>(plan: &Plan<'_>, items: &'a [Value]) -> Vec<&'a str> {
    items
        .iter()
        .filter(|i| Selector::core("Namespace").matches(i))
        .filter(|i| {
            let labels = i.get("metadata").and_then(|m| m.get("labels")).and_then(Value::as_object);
            matches!(plan.select(object::name(i), labels), Selection::Selected)
        })
        .map(object::name)
        .collect()
}

/// Ambient mode: workloads of selected namespaces whose pod template carries
/// `sidecar.istio.io/inject: "true"`.
///
/// What Istio does with it (`manifests/charts/istio-control/istio-discovery/templates/
/// mutatingwebhook.yaml`, Istio 1.22 to 1.29): in a namespace with neither `istio-injection`
/// nor `istio.io/rev` (an ambient namespace, once this function removed them), the webhook
/// `object.sidecar-injector.istio.io` is called for pods whose *label* is `"true"`, so such a
/// pod gets a sidecar, and ztunnel leaves pods with a sidecar out of ambient. The *annotation* is
/// read only once the webhook is called, which no selector does there: it is inert. With
/// `removeSidecarRequests` both are removed; else the label is a warning and the annotation an
/// info.
fn sidecar_requests(plan: &Plan<'_>, items: &mut [Value], results: &mut Vec<KrmResult>) {
    let selected: Vec<String> = selected_namespaces(plan, items).into_iter().map(str::to_string).collect();
    const KEY: &str = "sidecar.istio.io/inject";
    for item in items.iter_mut().filter(|i| !object::is_local_config(i)) {
        let Some(ns) = object::namespace(item).filter(|ns| selected.iter().any(|s| s == ns)).map(str::to_string) else { continue };
        // A label the workload's selector uses cannot go: the template would no longer match
        // it, which the API server refuses (and a Deployment's selector is immutable).
        let in_selector = item.pointer("/spec/selector/matchLabels").and_then(|m| m.get(KEY)).is_some();
        let Some((template, base)) = pod::template_mut(item) else { continue };
        let mut found = Vec::new();
        for kind in ["labels", "annotations"] {
            let path = base.key("metadata").key(kind).key(KEY);
            let Some(map) = template.get_mut("metadata").and_then(|m| m.get_mut(kind)).and_then(Value::as_object_mut) else { continue };
            if map.get(KEY).and_then(Value::as_str) != Some("true") {
                continue;
            }
            let kept = kind == "labels" && in_selector;
            if plan.config.remove_sidecar_requests && !kept {
                map.shift_remove(KEY);
                if map.is_empty() {
                    if let Some(meta) = template.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.shift_remove(kind);
                    }
                }
            }
            found.push((kind, path, kept));
        }
        for (kind, path, kept) in found {
            let result = match (plan.config.remove_sidecar_requests, kind) {
                (true, _) if kept => KrmResult::warning(format!(
                    "asks for a sidecar in namespace {ns}, which is in ambient mode, and spec.selector.matchLabels uses this label, so it is not removed (the template must match the selector): remove it from both in your overlay (a Deployment's selector cannot change in place: recreate it)"
                )),
                (true, _) => KrmResult::info(format!("removed: asked for a sidecar in namespace {ns}, which is in ambient mode (removeSidecarRequests)")),
                (false, "labels") => KrmResult::warning(format!(
                    "asks for a sidecar in namespace {ns}, which is now in ambient mode: Istio's injector webhook gives the pod a sidecar and ztunnel leaves it out of ambient; set removeSidecarRequests: true to remove the label"
                )),
                (false, _) => KrmResult::info(format!(
                    "asks for a sidecar in namespace {ns}, which is now in ambient mode: no injector webhook selects the pod by this annotation there, so it has no effect (removeSidecarRequests: true removes it)"
                )),
            };
            results.push(result.on(item).at(path));
        }
    }
}

/// `podSecurity.enforce` at `baseline` or `restricted`: a warning per workload of a selected
/// namespace and per field the level rejects ([`pod_security::violations`]), since the API server
/// refuses those pods at creation; and, in sidecar mode without istio-cni in the input, one
/// warning on the level itself: the injected `istio-init` container adds `NET_ADMIN` and
/// `NET_RAW` (Istio's `injection-template.yaml`), capabilities that neither level admits.
fn check_pod_security(plan: &Plan<'_>, items: &[Value], results: &mut Vec<KrmResult>) {
    let Some(level) = plan.config.pod_security.as_ref().and_then(|p| p.enforce).filter(|l| *l != Level::Privileged) else { return };
    let selected = selected_namespaces(plan, items);
    let mut count = 0;
    for (_, item) in object::deployable(items) {
        if !object::namespace(item).is_some_and(|ns| selected.contains(&ns)) {
            continue;
        }
        let Some((template, base)) = pod::template(item) else { continue };
        for v in pod_security::violations(template, &base, level) {
            count += 1;
            results.push(
                KrmResult::warning(format!(
                    "rejected at admission in namespace {} (pod-security.kubernetes.io/enforce: {}): {}",
                    object::namespace(item).unwrap_or_default(),
                    level.as_str(),
                    v.requirement
                ))
                .on(item)
                .at(v.path),
            );
        }
    }
    if count > 0 {
        results.push(KrmResult::warning(format!(
            "{count} field(s) of workloads in the labelled namespaces violate {}: harden them (patches), exclude their namespaces, or enforce a lower level and keep {} as warn/audit",
            level.as_str(),
            level.as_str()
        )).at("podSecurity.enforce"));
    }
    let cni = items.iter().any(|i| Selector::of("apps", "DaemonSet").named("istio-cni-node").matches(i));
    if plan.config.mode == Mode::Sidecar && !cni && !selected.is_empty() {
        results.push(KrmResult::warning(format!(
            "sidecar mode without istio-cni (no DaemonSet istio-cni-node in the input): every injected pod has an istio-init container that adds NET_ADMIN and NET_RAW, which {} rejects; install Istio with istio-cni, or lower the level",
            level.as_str()
        )).at("podSecurity.enforce"));
    }
}
