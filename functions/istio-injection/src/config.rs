//! The `IstioInjection` functionConfig.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use krm_core::{ConfigError, Validate};

/// Namespaces that are never labelled, whatever `namespaces` says.
pub const FIXED_EXCLUSIONS: [&str; 4] = ["kube-system", "kube-public", "kube-node-lease", "istio-system"];

/// Labels Namespaces (and Kubeflow user namespaces) for Istio sidecar or ambient mode, with Pod
/// Security labels.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IstioInjectionConfig {
    /// `sidecar`: label `istio-injection: enabled`; `ambient`: label
    /// `istio.io/dataplane-mode: ambient`; `disabled`: label `istio-injection: disabled`. The
    /// labels of the other modes are removed.
    #[serde(default)]
    pub mode: Mode,
    /// Sidecar mode only: label `istio.io/rev: <revision>` instead of `istio-injection`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Names or globs (`*`, `?`, `[a-z]`) of the Namespace objects to label.
    #[serde(default = "all_namespaces")]
    pub namespaces: Vec<String>,
    /// Names or globs never labelled, added to the fixed exclusions `kube-system`, `kube-public`,
    /// `kube-node-lease` and `istio-system`.
    #[serde(default)]
    pub exclude_namespaces: Vec<String>,
    /// Also emit a labelled Namespace object for every selected namespace that resources use but
    /// the input does not define.
    #[serde(default)]
    pub create_namespaces: bool,
    /// Also write the injection labels into the Kubeflow profile controller's
    /// `namespace-labels.yaml` (ConfigMap `namespace-labels-data*`), so user namespaces get them.
    #[serde(default = "yes")]
    pub profiles: bool,
    /// Pod Security admission levels to set on the same Namespace objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security: Option<PodSecurity>,
    /// Ambient mode only: remove `sidecar.istio.io/inject: "true"` (label or annotation) from the
    /// pod templates of the selected namespaces, so those workloads join ambient instead of
    /// getting a sidecar. Off: a warning names each one.
    #[serde(default)]
    pub remove_sidecar_requests: bool,
}

fn all_namespaces() -> Vec<String> {
    vec!["*".to_string()]
}

fn yes() -> bool {
    true
}

impl Default for IstioInjectionConfig {
    fn default() -> Self {
        IstioInjectionConfig {
            mode: Mode::default(),
            revision: None,
            namespaces: all_namespaces(),
            exclude_namespaces: Vec::new(),
            create_namespaces: false,
            profiles: true,
            pod_security: None,
            remove_sidecar_requests: false,
        }
    }
}

/// The data-plane mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Sidecar injection (`istio-injection: enabled`, or `istio.io/rev` with a revision).
    #[default]
    Sidecar,
    /// Ambient mode (`istio.io/dataplane-mode: ambient`).
    Ambient,
    /// No mesh (`istio-injection: disabled`).
    Disabled,
}

/// `pod-security.kubernetes.io/<mode>` labels; unset modes are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PodSecurity {
    /// Level enforced: pods that violate it are rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce: Option<Level>,
    /// Level audited: violations are recorded in the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<Level>,
    /// Level warned about: violations are shown to the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<Level>,
}

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Hardened best practices.
    Restricted,
}

impl Level {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl PodSecurity {
    /// `(mode, level)` for every mode set.
    pub fn labels(&self) -> Vec<(String, &'static str)> {
        [("enforce", self.enforce), ("audit", self.audit), ("warn", self.warn)]
            .into_iter()
            .filter_map(|(m, l)| l.map(|l| (format!("pod-security.kubernetes.io/{m}"), l.as_str())))
            .collect()
    }
}

/// A Kubernetes label value: at most 63 characters, alphanumerics with `-`, `_`, `.` inside.
pub fn is_label_value(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() <= 63
        && (s.is_empty()
            || (b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))))
}

impl Validate for IstioInjectionConfig {
    fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        if let Some(rev) = &self.revision {
            if self.mode != Mode::Sidecar {
                errors.push(ConfigError::new("revision", "a revision applies to sidecar mode only"));
            }
            if rev.is_empty() || !is_label_value(rev) {
                errors.push(ConfigError::new(
                    "revision",
                    format!("{rev:?} is not a valid label value (at most 63 alphanumerics, '-', '_', '.')"),
                ));
            }
        }
        if self.remove_sidecar_requests && self.mode != Mode::Ambient {
            errors.push(ConfigError::new("removeSidecarRequests", "applies to ambient mode only: in sidecar mode those requests are what injects the sidecar"));
        }
        if self.namespaces.is_empty() {
            errors.push(ConfigError::new("namespaces", "selects nothing: list names or globs (\"*\" for all)"));
        }
        for (field, list) in [("namespaces", &self.namespaces), ("excludeNamespaces", &self.exclude_namespaces)] {
            for (i, pattern) in list.iter().enumerate() {
                if pattern.is_empty() {
                    errors.push(ConfigError::new(format!("{field}[{i}]"), "must not be empty"));
                } else if let Err(e) = glob::Pattern::new(pattern) {
                    errors.push(ConfigError::new(format!("{field}[{i}]"), format!("{pattern:?} is not a valid glob: {e}")));
                }
            }
        }
        errors
    }

    fn warnings(&self) -> Vec<ConfigError> {
        self.namespaces
            .iter()
            .enumerate()
            .filter(|(_, n)| FIXED_EXCLUSIONS.contains(&n.as_str()))
            .map(|(i, n)| ConfigError::new(format!("namespaces[{i}]"), format!("{n} is always excluded and is left alone")))
            .collect()
    }
}
