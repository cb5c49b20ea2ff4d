//! The target of a rewiring: the central Secret, the key of each credential in it, and the
//! catalogue Secrets it replaces.

use super::*;

/// Where the consumers of some credentials must read them from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The central Secret.
    pub secret_name: String,
    /// Its key for each credential to rewire (credentials not listed are left alone).
    pub keys: BTreeMap<Credential, String>,
    /// More catalogue entries.
    pub extra: Vec<ExtraConsumer>,
}

impl Target {
    /// A target with no credentials yet (add them with [`Target::with_key`]).
    pub fn new(secret_name: impl Into<String>) -> Self {
        Target { secret_name: secret_name.into(), keys: BTreeMap::new(), extra: Vec::new() }
    }

    /// Rewires `credential` to `key` of the central Secret.
    pub fn with_key(mut self, credential: Credential, key: impl Into<String>) -> Self {
        self.keys.insert(credential, key.into());
        self
    }

    /// Adds catalogue entries.
    pub fn with_extra(mut self, extra: Vec<ExtraConsumer>) -> Self {
        self.extra = extra;
        self
    }

    /// True if `name` is the central Secret.
    pub fn is_central(&self, name: &str) -> bool {
        name == self.secret_name
    }

    /// The central key of a credential, if the target rewires it.
    pub fn central_key(&self, credential: Credential) -> Option<&str> {
        self.keys.get(&credential).map(String::as_str)
    }

    /// The credential a central key holds, if it is one of the target's keys.
    pub fn credential_of_central_key(&self, key: &str) -> Option<Credential> {
        self.keys.iter().find(|(_, k)| *k == key).map(|(c, _)| *c)
    }

    /// Every catalogue entry (built-in and extra) of a Secret, of any credential: `(key,
    /// credential)`, each key once.
    pub fn catalogue_entries(&self, secret: &str) -> Vec<(String, Credential)> {
        let mut out: Vec<(String, Credential)> = Vec::new();
        let builtin = KNOWN_SECRET_KEYS
            .iter()
            .filter(|e| name_matches(secret, e.secret))
            .map(|e| (e.key.to_string(), e.credential));
        let extra = self.extra.iter().filter(|e| name_matches(secret, &e.secret)).map(|e| (e.key.clone(), e.credential));
        for (key, credential) in builtin.chain(extra) {
            if !out.iter().any(|(k, _)| *k == key) {
                out.push((key, credential));
            }
        }
        out
    }

    /// The credential a Secret key holds per the catalogue, whatever the target.
    pub fn catalogue(&self, secret: &str, key: &str) -> Option<Credential> {
        if self.is_central(secret) {
            return None;
        }
        self.catalogue_entries(secret).into_iter().find(|(k, _)| k == key).map(|(_, c)| c)
    }

    /// The credential and central key a reference to `secret`/`key` is rewired to, if the
    /// target rewires it.
    pub fn rewires(&self, secret: &str, key: &str) -> Option<(Credential, &str)> {
        let credential = self.catalogue(secret, key)?;
        Some((credential, self.central_key(credential)?))
    }

    /// True if the Secret holds, per the catalogue, a credential the target rewires: the Secrets
    /// [`remove_replaced_secrets`] deletes once unreferenced.
    pub fn is_credential_secret(&self, secret: &str) -> bool {
        !self.is_central(secret) && self.catalogue_entries(secret).iter().any(|(_, c)| self.keys.contains_key(c))
    }

    /// The credential a literal env variable holds in a workload, if the target rewires it.
    pub(super) fn literal(&self, variable: &str, workload: &str) -> Option<(Credential, &str)> {
        let known = KNOWN_VARIABLES
            .iter()
            .find(|v| v.name == variable && (v.workloads.is_empty() || v.workloads.iter().any(|w| name_matches(workload, w))))?;
        Some((known.credential, self.central_key(known.credential)?))
    }
}
