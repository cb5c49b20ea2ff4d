//! go-sql-driver DSNs (`[user[:password]@]tcp(host:port)/dbname[?param=value&...]`), as Model
//! Registry's `--embedmd-database-dsn` carries one: parsed into parts and written back with only
//! host, port, database and `tls` changed, so `$(VAR)` references and other parameters stay.

/// The parts of a go-sql-driver DSN, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    /// Everything before the address (`$(USER):$(PASSWORD)@tcp(`).
    pub head: String,
    /// Host.
    pub host: String,
    /// Port, if given.
    pub port: Option<String>,
    /// Database name.
    pub database: String,
    /// Parameters in order.
    pub params: Vec<(String, String)>,
}

impl Dsn {
    /// Parses `head tcp(addr)/db?params`; `None` if it is not of that form.
    pub fn parse(text: &str) -> Option<Dsn> {
        let t = text.find("tcp(")?;
        if t > 0 && !text[..t].ends_with('@') {
            return None;
        }
        let start = t + 4;
        let mut depth = 0usize;
        let mut end = None;
        for (j, ch) in text[start..].char_indices() {
            match ch {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = Some(start + j);
                    break;
                }
                ')' => depth -= 1,
                _ => {}
            }
        }
        let end = end?;
        let addr = &text[start..end];
        let rest = text[end + 1..].strip_prefix('/')?;
        let (database, params) = match rest.split_once('?') {
            Some((d, p)) => (d, p),
            None => (rest, ""),
        };
        let (host, port) = split_addr(addr);
        let params = params
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect();
        Some(Dsn { head: text[..start].to_string(), host, port, database: database.to_string(), params })
    }

    /// The DSN text.
    pub fn render(&self) -> String {
        let mut s = format!("{}{}", self.head, self.host);
        if let Some(p) = &self.port {
            s.push(':');
            s.push_str(p);
        }
        s.push_str(")/");
        s.push_str(&self.database);
        if !self.params.is_empty() {
            s.push('?');
            let params: Vec<String> =
                self.params.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect();
            s.push_str(&params.join("&"));
        }
        s
    }

    /// Sets a parameter (in place, or appended). Returns true if it changed. A parameter given
    /// more than once keeps only its last occurrence, the one go-sql-driver applies: its
    /// `dsn.go` `parseDSNParams` walks `strings.Split(params, "&")` in order and sets the config
    /// field for each `key=value`, so a later `tls=` overwrites an earlier one.
    pub fn set_param(&mut self, key: &str, value: &str) -> bool {
        let occurrences = self.params.iter().filter(|(k, _)| k == key).count();
        let mut changed = false;
        if occurrences > 1 {
            let mut seen = 0;
            self.params.retain(|(k, _)| {
                if k != key {
                    return true;
                }
                seen += 1;
                seen == occurrences
            });
            changed = true;
        }
        changed | match self.params.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) if v == value => false,
            Some((_, v)) => {
                *v = value.to_string();
                true
            }
            None => {
                self.params.push((key.to_string(), value.to_string()));
                true
            }
        }
    }

    /// True if the user or password part holds a literal (not only `$(VAR)` references).
    pub fn has_literal_credentials(&self) -> bool {
        let Some(creds) = self.head.strip_suffix("tcp(").and_then(|h| h.strip_suffix('@')) else { return false };
        let mut rest = creds.to_string();
        while let Some(i) = rest.find("$(") {
            match rest[i..].find(')') {
                Some(j) => rest.replace_range(i..i + j + 1, ""),
                None => break,
            }
        }
        !rest.replace(':', "").is_empty()
    }
}

/// Splits `host:port` at the last `:` outside `$(...)`.
fn split_addr(addr: &str) -> (String, Option<String>) {
    let mut depth = 0usize;
    let mut colon = None;
    for (i, ch) in addr.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => colon = Some(i),
            _ => {}
        }
    }
    match colon {
        Some(i) => (addr[..i].to_string(), Some(addr[i + 1..].to_string())),
        None => (addr.to_string(), None),
    }
}
