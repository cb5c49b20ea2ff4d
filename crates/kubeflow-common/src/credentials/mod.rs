//! Kubeflow's database, object-store and login credentials, and the one way to point their
//! consumers at a central Secret.
//!
//! Four functions rewire credentials: `centralize-credentials` (all of them), `external-database`
//! (the two database ones), `external-object-store` (the two object-store ones) and
//! `external-identity-provider` (the login ones). Where they
//! touch the same field they must write exactly the same thing, whichever runs first, so every
//! edit lives here and they all call [`centralize`] with a [`Target`]:
//!
//! ```text
//! Target { secret_name: "kubeflow-credentials",
//!          keys: {database.username: "db-username", database.password: "db-password"},
//!          extra: [] }
//! ```
//!
//! # The catalogue
//!
//! [`KNOWN_SECRET_KEYS`] lists each Secret (by base name; a kustomize hash suffix matches) and key
//! that holds a credential in Kubeflow 1.9, 1.10 and master (facts §1-3, §10): `mysql-secret`,
//! `mlpipeline-minio-artifact`, `katib-mysql-secrets` (also its `katib-external-db` keys),
//! `model-registry-db-secrets`, the legacy MLMD `metadata-db-secrets`, and the login Secrets
//! `dex-oidc-client`, `dex-passwords` and `oauth2-proxy` (facts §11). Users extend it with
//! [`ExtraConsumer`]s. [`KNOWN_VARIABLES`] lists the env variables that hold a credential when
//! they carry a literal value.
//!
//! # What [`centralize`] changes (only for the target's credentials)
//!
//! In every pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod,
//! ReplicationController), containers and initContainers:
//!
//! 1. `env[].valueFrom.secretKeyRef` to a catalogue Secret and key becomes the canonical entry
//!    `{name, valueFrom: {secretKeyRef: {key: <central key>, name: <secret_name>, optional?}}}`
//!    (`optional` only if the original had it), at the same position.
//! 2. A known credential variable with a literal `value` (`MINIO_SECRET_KEY: minio123`) becomes
//!    the same canonical entry. Values that are `$(VAR)` references are left alone, and so are
//!    empty values: an empty key is no credential, it tells the client to use its default
//!    credential chain (IRSA, instance profiles), as `external-object-store` sets it.
//! 3. `envFrom[].secretRef` of a catalogue Secret: each credential key becomes an explicit env
//!    entry with the same variable name (`prefix` + key) and the Secret's `optional`, unless the
//!    container already defines that variable (explicit env wins in Kubernetes, so nothing
//!    changes). The envFrom entry is removed when every other key of the Secret is shadowed by an
//!    explicit entry or there is none; otherwise it stays for those keys. The keys come from the
//!    Secret in the input; a Secret that is not in the input is assumed to hold exactly its
//!    catalogue keys (a warning says so).
//! 4. Katib's db-manager (workload `katib-db-manager`) connects as its compiled-in user `root`
//!    unless `DB_USER` is set; once its `DB_PASSWORD` reads the central password, a `DB_USER`
//!    entry reading the central username is added (when the target has the username).
//!
//! Created entries (3 and 4) are appended at the end of `env` (which is created if missing; an
//! `env: []` gets them), except that an entry goes before trailing entries that are
//! secret-backed (a `secretKeyRef`, or a name in [`KNOWN_VARIABLES`]) and whose names sort after
//! it. On every Kubeflow shape that is a plain append; the rule makes the result independent of
//! which function created which entry first when one container gets entries from two targets.
//!
//! In ConfigMap `workflow-controller-configmap` (keys `artifactRepository`, and `config` under
//! `artifactRepository`) and ConfigMap `artifact-repositories` (every key): the `name` and `key`
//! of `s3.accessKeySecret` / `s3.secretKeySecret` are set line by line with
//! [`crate::k8s::embedded::Doc`], so the rest of the document (comments included) stays as it was.
//!
//! Afterwards [`centralize`] warns about every remaining reference that still reads a credential
//! key of a catalogue Secret (a volume mount, an object kind it does not rewrite such as a
//! PodDefault), naming the resource and the field path.
//!
//! # Callers
//!
//! Call [`centralize`] before any other env edit of your own, then (if you remove in-cluster
//! Secrets) [`remove_replaced_secrets`]. [`central_usage`] and [`namespace_results`] tell which
//! namespaces need the central Secret. [`scan`] / [`is_referenced`] say whether a Secret or
//! ConfigMap is still used by anything. The same target (secret name and keys) given to two
//! functions gives the same output in either order; different secret names for the same
//! credential do not (the first function to run wins, since the second no longer sees a
//! catalogue reference).
//!
//! A function that stops consumers from reading a central key (rather than pointing them at
//! another one) takes a [`SecretReads`] snapshot before its edits and calls
//! [`refresh_external_secrets`] at the end, so the ExternalSecrets `centralize-credentials` emitted
//! no longer fill keys nothing reads: the output is then the same in either order.
//!
//! No function here ever puts a value of a Secret or of a literal credential in a message.


mod catalogue;
mod target;
mod env;
mod argo;
mod references;
mod cleanup;
mod usage;
mod validate;
mod external_secret;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::k8s::embedded::Doc;
use crate::k8s::select::{base_name, name_matches};
use crate::k8s::{FieldPath, Selector, object, pod};
use krm_core::result::ResourceRef;
use krm_core::{ConfigError, KrmResult, Severity, yaml};


pub use catalogue::*;
pub use target::*;
pub use env::*;
pub use argo::*;
pub use references::*;
pub use cleanup::*;
pub use usage::*;
pub use validate::*;
pub use external_secret::*;
