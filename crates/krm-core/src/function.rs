//! The one trait every function implements, and the runner that applies it to a ResourceList.

use std::panic::{AssertUnwindSafe, catch_unwind};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::config::{self, Validate};
use super::resource_list::ResourceList;
use super::result::{KrmResult, has_errors};

/// Sees a function's items before and after each of its steps: one step for a function, one per
/// configured function for a chain. `kubeflow-krm run --report` builds its report from it.
pub type Observer<'a> = &'a mut dyn FnMut(&str, &[Value], &[Value]);

/// A KRM function: a typed config and a pure processor over the items.
///
/// A processor never panics, never prints and does no I/O: it edits `items` in place and returns
/// results. If any result is an error, the runner returns the items unchanged.
pub trait Function {
    /// Binary name (`istio-injection`).
    const NAME: &'static str;
    /// functionConfig kind (`IstioInjection`).
    const KIND: &'static str;
    /// The function's README (reference docs; also the `--help` text).
    const DOC: &'static str;
    /// The typed config (strict: `#[serde(deny_unknown_fields)]`, defaults as serde defaults).
    type Config: DeserializeOwned + JsonSchema + Validate;

    /// What the function does without a functionConfig; `None` (the default) makes that an error.
    fn default_config() -> Option<Self::Config> {
        None
    }

    /// Transforms the items.
    fn process(config: &Self::Config, items: &mut Vec<Value>) -> Vec<KrmResult>;

    /// What the output needs of the cluster (a Secret with some keys in a namespace, say), as
    /// results computed from the final items after a successful [`Function::process`]. A chain
    /// of functions in one process computes every function's claims once, after its last
    /// function, so that no claim is made false by a later function's edits.
    fn claims(_config: &Self::Config, _items: &[Value]) -> Vec<KrmResult> {
        Vec::new()
    }

    /// [`Function::process`], showing `observer` the items before and after each step (a copy
    /// of the items per step). A function made of steps shows each one.
    fn process_observed(config: &Self::Config, items: &mut Vec<Value>, observer: Observer<'_>) -> Vec<KrmResult> {
        let before = items.clone();
        let results = Self::process(config, items);
        observer(Self::NAME, &before, items);
        results
    }
}

/// Object-safe view of a [`Function`], so one binary can dispatch on the functionConfig kind.
pub trait DynFunction: Sync {
    /// Binary name.
    fn name(&self) -> &'static str;
    /// functionConfig kind.
    fn kind(&self) -> &'static str;
    /// README text.
    fn doc(&self) -> &'static str;
    /// JSON Schema of the functionConfig kind.
    fn schema(&self) -> Value;
    /// Loads the config and processes the items (no restore on error: see [`run`]), showing
    /// `observer`, if any, each step.
    fn apply_observed(&self, function_config: Option<&Value>, items: &mut Vec<Value>, observer: Option<Observer<'_>>) -> Vec<KrmResult>;
    /// [`DynFunction::apply_observed`] without an observer.
    fn apply(&self, function_config: Option<&Value>, items: &mut Vec<Value>) -> Vec<KrmResult> {
        self.apply_observed(function_config, items, None)
    }
}

/// The [`DynFunction`] of a [`Function`] type.
pub struct Registered<F>(std::marker::PhantomData<F>);

impl<F> Registered<F> {
    /// The registration of `F`.
    pub const fn new() -> Self {
        Registered(std::marker::PhantomData)
    }
}

impl<F> Default for Registered<F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<F: Function> DynFunction for Registered<F>
where
    F: Sync,
{
    fn name(&self) -> &'static str {
        F::NAME
    }
    fn kind(&self) -> &'static str {
        F::KIND
    }
    fn doc(&self) -> &'static str {
        F::DOC
    }
    fn schema(&self) -> Value {
        let mut schema = schemars::schema_for!(F::Config).to_value();
        if let Some(map) = schema.as_object_mut() {
            // The schema describes the whole functionConfig document, as editors see it.
            map.insert("title".into(), Value::String(F::KIND.to_string()));
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                let mut with_header = serde_json::Map::new();
                with_header.insert(
                    "apiVersion".into(),
                    serde_json::json!({"const": config::API_VERSION}),
                );
                with_header.insert("kind".into(), serde_json::json!({"const": F::KIND}));
                with_header.insert("metadata".into(), serde_json::json!({"type": "object"}));
                with_header.extend(std::mem::take(props));
                *props = with_header;
            }
        }
        schema
    }
    fn apply_observed(&self, function_config: Option<&Value>, items: &mut Vec<Value>, observer: Option<Observer<'_>>) -> Vec<KrmResult> {
        let config = match config::load::<F::Config>(F::KIND, function_config, F::default_config()) {
            Ok(c) => c,
            Err(errors) => return errors,
        };
        let mut results = config::warnings(&config, function_config);
        results.extend(match observer {
            Some(observer) => F::process_observed(&config, items, observer),
            None => F::process(&config, items),
        });
        if !has_errors(&results) {
            results.extend(F::claims(&config, items));
        }
        results
    }
}

/// Applies `f` to the ResourceList: results are appended; on any error the items are restored.
/// A panic inside the function becomes an error result (it is a bug, never a crash).
pub fn run(f: &dyn DynFunction, rl: &mut ResourceList) -> Vec<KrmResult> {
    let original = rl.items.clone();
    run_with(f, rl, move || original)
}

/// [`run`], with the items restored on error by `restore` instead of from a copy taken first.
/// The process entry restores by parsing its input again: an error is rare, and a copy of a
/// 12 MB render costs time and memory on every run.
pub fn run_with(f: &dyn DynFunction, rl: &mut ResourceList, restore: impl FnOnce() -> Vec<Value>) -> Vec<KrmResult> {
    run_observed(f, rl, restore, None)
}

/// [`run_with`], showing `observer` each step of the function (see [`Observer`]).
pub fn run_observed(
    f: &dyn DynFunction,
    rl: &mut ResourceList,
    restore: impl FnOnce() -> Vec<Value>,
    observer: Option<Observer<'_>>,
) -> Vec<KrmResult> {
    let duplicates = duplicate_errors(&rl.items);
    if !duplicates.is_empty() {
        rl.results.extend(duplicates.iter().cloned());
        return duplicates;
    }
    let function_config = rl.function_config.clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| f.apply_observed(function_config.as_ref(), &mut rl.items, observer)));
    let results = match outcome {
        Ok(results) => results,
        Err(panic) => vec![KrmResult::error(format!(
            "internal error in {} (a bug, please report it): {}",
            f.name(),
            panic_message(&panic)
        ))],
    };
    if has_errors(&results) {
        rl.items = restore();
    }
    rl.results.extend(results.iter().cloned());
    results
}

/// Two items that are the same object make every by-name edit ambiguous (which copy holds the
/// credentials? which one is deleted?), and kustomize refuses such input too: an error per copy.
fn duplicate_errors(items: &[Value]) -> Vec<KrmResult> {
    crate::object::duplicates(items)
        .into_iter()
        .map(|(first, again)| {
            KrmResult::error(format!(
                "items[{again}] is the same object as items[{first}] (same API group, kind, namespace and name): \
                 a ResourceList holds each object once; remove one of them"
            ))
            .on(&items[again])
        })
        .collect()
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Silences the default panic printer (a panic is reported as an error result instead).
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigError, Validate};
    use serde::Deserialize;

    #[derive(Deserialize, JsonSchema)]
    struct Empty {}
    impl Validate for Empty {
        fn validate(&self) -> Vec<ConfigError> {
            Vec::new()
        }
    }
    struct Panics;
    impl Function for Panics {
        const NAME: &'static str = "panics";
        const KIND: &'static str = "Panics";
        const DOC: &'static str = "";
        type Config = Empty;
        fn default_config() -> Option<Empty> {
            Some(Empty {})
        }
        fn process(_: &Empty, items: &mut Vec<Value>) -> Vec<KrmResult> {
            items.clear();
            let v: Vec<u8> = Vec::new();
            vec![KrmResult::info(format!("{}", v[usize::from(items.is_empty())]))]
        }
    }

    #[test]
    fn two_items_of_one_identity_are_refused_before_the_function_runs() {
        let secret = serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "kubeflow"}});
        let mut rl = ResourceList::new(vec![secret.clone(), secret]);
        let results = run(&Registered::<Panics>::new(), &mut rl);
        assert_eq!(results.len(), 1, "{results:?}");
        assert!(results[0].is_error());
        assert_eq!(results[0].to_string(), "error: Secret kubeflow/s: items[1] is the same object as items[0] (same API group, kind, namespace and name): a ResourceList holds each object once; remove one of them");
        assert_eq!(rl.items.len(), 2, "items unchanged, the function never ran");
    }

    #[test]
    fn a_panic_is_an_error_result_and_the_items_are_restored() {
        quiet_panics();
        let mut rl = ResourceList::new(vec![serde_json::json!({"kind": "A"})]);
        let results = run(&Registered::<Panics>::new(), &mut rl);
        assert_eq!(results.len(), 1);
        assert!(results[0].is_error());
        assert!(results[0].message.contains("internal error in panics"), "{}", results[0].message);
        assert_eq!(rl.items.len(), 1, "items restored");
        let _ = std::panic::take_hook();
    }
}
