//! Results: what a function reports, as data (the `results` of a ResourceList).
//!
//! The exit code is derived from them: 1 iff an `error` result exists. A result never carries a
//! value (a secret could be one), only where: the resource and the field path.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::object;

/// Severity of a result, as in the KRM Functions Specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The function refused: the items are returned unchanged and the process exits 1.
    Error,
    /// Something the user should look at; the change was still made.
    Warning,
    /// A change that was made, or a note.
    Info,
}

/// The resource a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRef {
    /// `apiVersion` of the resource.
    pub api_version: String,
    /// `kind` of the resource.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl ResourceRef {
    /// The reference of an item (missing fields become empty strings).
    pub fn of(item: &Value) -> Self {
        ResourceRef {
            api_version: object::api_version(item).to_string(),
            kind: object::kind(item).to_string(),
            name: object::name(item).to_string(),
            namespace: object::namespace(item).map(str::to_string),
        }
    }
}

impl std::fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// The field a result is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Dotted path, with `[name=x]` for list entries and `[key]` for keys that contain dots.
    pub path: String,
}

/// The file an item came from (from the orchestrator's path/index annotations), so kpt can show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct File {
    /// Path of the file in the package.
    pub path: String,
    /// Index of the document in that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

/// One entry of `results`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KrmResult {
    /// Human-readable message. Never contains a credential value.
    pub message: String,
    /// Severity.
    pub severity: Severity,
    /// The resource, if the result is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_ref: Option<ResourceRef>,
    /// The field, if the result is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// The file the resource came from, when the orchestrator said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<File>,
}

impl KrmResult {
    fn new(severity: Severity, message: impl Into<String>) -> Self {
        KrmResult { message: message.into(), severity, resource_ref: None, field: None, file: None }
    }
    /// An error not tied to a resource.
    pub fn error(message: impl Into<String>) -> Self {
        Self::new(Severity::Error, message)
    }
    /// A warning not tied to a resource.
    pub fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }
    /// An info not tied to a resource.
    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Severity::Info, message)
    }
    /// Ties the result to a resource (and the file it came from, if annotated).
    pub fn on(mut self, item: &Value) -> Self {
        self.resource_ref = Some(ResourceRef::of(item));
        self.file = object::annotation(item, "internal.config.kubernetes.io/path")
            .or_else(|| object::annotation(item, "config.kubernetes.io/path"))
            .map(|path| File {
                path: path.to_string(),
                index: object::annotation(item, "internal.config.kubernetes.io/index")
                    .or_else(|| object::annotation(item, "config.kubernetes.io/index"))
                    .and_then(|i| i.parse().ok()),
            });
        self
    }
    /// Ties the result to a field path.
    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.field = Some(Field { path: path.into() });
        self
    }
    /// True for an error result.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for KrmResult {
    /// One line: `error: Namespace kubeflow: metadata.labels: message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{severity}: ")?;
        if let Some(r) = &self.resource_ref {
            write!(f, "{r}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{}: ", field.path)?;
        }
        f.write_str(&self.message.replace('\n', " "))
    }
}

/// True if any result is an error.
pub fn has_errors(results: &[KrmResult]) -> bool {
    results.iter().any(KrmResult::is_error)
}
