//! Validation the functions' configs share: the central Secret's name and keys, and the extra
//! consumers.

use super::*;

/// A DNS subdomain (a Secret name): at most 253 characters, lowercase alphanumerics, `-` and
/// `.`, starting and ending with an alphanumeric.
pub fn is_dns_subdomain(s: &str) -> bool {
    let b = s.as_bytes();
    !s.is_empty()
        && s.len() <= 253
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
}

/// A Secret data key: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn is_secret_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c))
}

/// Checks the central Secret's name: a DNS subdomain, and not one of the Secrets it replaces.
pub fn check_secret_name(field: &str, name: &str, extra: &[ExtraConsumer]) -> Vec<ConfigError> {
    if name.is_empty() {
        return vec![ConfigError::new(field, "required: the name of the central Secret")];
    }
    if !is_dns_subdomain(name) {
        return vec![ConfigError::new(
            field,
            format!("{name:?} is not a valid Secret name (lowercase alphanumerics, '-' and '.', at most 253)"),
        )];
    }
    let target = Target::new("").with_extra(extra.to_vec());
    if !target.catalogue_entries(name).is_empty() {
        return vec![ConfigError::new(
            field,
            format!("{name} is one of the Secrets being replaced: choose another name for the central Secret"),
        )];
    }
    Vec::new()
}

/// Checks the central keys: each a valid Secret key, and no key used for two credentials (the
/// error names both fields).
pub fn check_keys(keys: &[(&str, &str)]) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (i, (field, key)) in keys.iter().enumerate() {
        if !is_secret_key(key) {
            errors.push(ConfigError::new(
                *field,
                format!("{key:?} is not a valid Secret key (letters, digits, '-', '_', '.')"),
            ));
            continue;
        }
        if let Some((other, _)) = keys[..i].iter().find(|(_, k)| k == key) {
            errors.push(ConfigError::new(
                *field,
                format!("{key:?} is also {other}: each credential needs its own key in the central Secret"),
            ));
        }
    }
    errors
}

/// Checks `extraConsumers`: Secret names and keys, and no Secret key given two credentials (or a
/// credential other than the built-in catalogue's).
pub fn check_extra(field: &str, extra: &[ExtraConsumer]) -> Vec<ConfigError> {
    let mut errors = Vec::new();
    for (i, e) in extra.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if !is_dns_subdomain(&e.secret) {
            errors.push(ConfigError::new(format!("{at}.secret"), format!("{:?} is not a valid Secret name", e.secret)));
        }
        if !is_secret_key(&e.key) {
            errors.push(ConfigError::new(format!("{at}.key"), format!("{:?} is not a valid Secret key", e.key)));
        }
        let builtin = KNOWN_SECRET_KEYS.iter().find(|k| name_matches(&e.secret, k.secret) && k.key == e.key);
        if let Some(b) = builtin.filter(|b| b.credential != e.credential) {
            errors.push(ConfigError::new(
                format!("{at}.credential"),
                format!("{}/{} is already known to hold {}", b.secret, b.key, b.credential),
            ));
        }
        if let Some((j, other)) =
            extra[..i].iter().enumerate().find(|(_, o)| o.secret == e.secret && o.key == e.key && o.credential != e.credential)
        {
            errors.push(ConfigError::new(
                format!("{at}.credential"),
                format!("{}/{} is also {field}[{j}] with credential {}", e.secret, e.key, other.credential),
            ));
        }
    }
    errors
}
