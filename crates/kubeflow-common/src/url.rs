//! Absolute http(s) URLs in functionConfigs (issuers, JWKS and redirect URLs): parsed just
//! enough to check scheme, host, port and path, and to tell in-cluster hosts, where plain http
//! is accepted, from public ones. Messages never quote the URL, which could carry a credential.

/// The parts of an http(s) URL the functions check.
#[derive(Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// `http` or `https`.
    pub scheme: &'a str,
    /// Host without port (brackets kept for IPv6).
    pub host: &'a str,
    /// True if the URL has a `?query`.
    pub query: bool,
    /// True if the URL has a `#fragment`.
    pub fragment: bool,
    /// The path (`""` when there is none), without query or fragment.
    pub path: &'a str,
    /// The port, when the URL names one.
    pub port: Option<&'a str>,
}

/// Parses an absolute http(s) URL, or says what is wrong with it (without quoting the URL, which
/// could carry a credential).
pub fn parse_url(s: &str) -> Result<Url<'_>, String> {
    if s.is_empty() {
        return Err("must not be empty".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("is not a URL: it contains whitespace or control characters".into());
    }
    let (scheme, rest) = s.split_once("://").ok_or("is not an absolute URL (https://host/...)")?;
    if scheme != "https" && scheme != "http" {
        return Err(format!("has scheme {scheme:?}: use https"));
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if authority.contains('@') {
        return Err("has user information (user:password@) before the host: remove it".into());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or("has an unterminated IPv6 address")?;
        let after = &v6[close + 1..];
        (&authority[..close + 2], after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err("has no host".into());
    }
    if !host.starts_with('[') && !host.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
        return Err(format!("has an invalid host {host:?}"));
    }
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) || p.parse::<u32>().map_or(true, |n| n == 0 || n > 65535) {
            return Err(format!("has an invalid port {p:?}"));
        }
    }
    let tail = &rest[end..];
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    Ok(Url { scheme, host, query: tail.contains('?'), fragment: tail.contains('#'), path, port })
}

/// True for a host only reachable inside the cluster (`*.svc`, `*.svc.cluster.local`), where
/// plain http is accepted.
pub fn is_in_cluster_host(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h.ends_with(".svc") || h.ends_with(".svc.cluster.local")
}

