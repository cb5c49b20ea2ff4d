//! Differential tests: this reader against serde-saphyr with the project's settings (the
//! reader it replaces, [`crate::yaml::parse_document_serde_saphyr`]). Values must be
//! identical, key order and number types included (compared as JSON text), or both must fail.

use super::*;
use crate::yaml::{parse_document_serde_saphyr, parse_stream_serde_saphyr};
use serde_json::json;

/// Compares both readers on one document; returns a description of the difference.
fn differs(text: &str) -> Option<String> {
    let old = parse_document_serde_saphyr(text).map(|v| serde_json::to_string(&v).unwrap());
    let new = read_document(text).map(|v| serde_json::to_string(&v).unwrap());
    match (&old, &new) {
        (Ok(a), Ok(b)) if a == b => None,
        (Err(_), Err(_)) => None,
        _ => Some(format!("{text:?}\n  serde-saphyr: {old:?}\n  reader:       {new:?}")),
    }
}

fn differs_stream(text: &str) -> Option<String> {
    let old = parse_stream_serde_saphyr(text).map(|v| serde_json::to_string(&v).unwrap());
    let new = read_stream(text).map(|v| serde_json::to_string(&v).unwrap());
    match (&old, &new) {
        (Ok(a), Ok(b)) if a == b => None,
        (Err(_), Err(_)) => None,
        _ => Some(format!("{text:?}\n  serde-saphyr: {old:?}\n  reader:       {new:?}")),
    }
}

/// Runs every case, then fails listing all differences (not just the first).
fn assert_same<I: IntoIterator<Item = String>>(cases: I) -> usize {
    let mut n = 0;
    let mut failures = Vec::new();
    for case in cases {
        n += 1;
        failures.extend(differs(&case));
        let crlf = case.replace('\n', "\r\n");
        if crlf != case {
            failures.extend(differs(&crlf));
        }
    }
    assert!(failures.is_empty(), "{} of {n} cases differ:\n{}", failures.len(), failures.join("\n"));
    n
}

/// The adversarial strings of `yaml-notes.md` section 3 (typed-looking words in every
/// dialect, numbers, dates, indicators, whitespace, multi-line text and control characters),
/// plus common Kubernetes values.
fn tricky_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
        "true", "True", "TRUE", "false", "False", "FALSE", "tRue", "null", "Null", "NULL", "nULL", "~",
        "0755", "012", "0999", "08080", "0o12", "0x1F", "0b101", "1e3", "1E3", "1.0e3", "1.0e+3", "1.5",
        "1.0", ".inf", "-.inf", "+.inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", "-.nan", "-.5", ".5", "+1",
        "-0", "1_000", "1:20", "190:20:30.15", "2024-01-01", "2001-12-14t21:59:43.10-05:00",
        "1970-01-01T00:00:00Z", "2001-12-14 21:59:43.10 -5", "=", "<<", "", " ", "  ", " lead", "trail ",
        "\tlead tab", "trail tab\t", "ünïcödé", "日本語", "\u{a0}nbsp", "nbsp\u{a0}", "#", "# c", "a #b",
        "a# b", "a: b", "a:", ":", "::", "http://example.com/a?b=c#d", "- ", "-", "- x", "?", "? x", ",",
        "&a", "*a", "!", "!tag", "%", "%x", "@", "`", "{", "}", "[", "]", "{a: 1}", "[1, 2]", "|", ">", "'",
        "\"", "'quoted'", "\"dq\"", "it's", "back\\slash", "\\n", "---", "...", "--- x", "... x", "a\rb",
        "crlf\r\n", "a\r\nb", "a\nb", "a\nb\n", "a\n\n", "\n", "\n\n", "  lead\nnext", "x\n---\ny",
        "x\n...\ny", "trailing space \nnext", "\x07bell", "nul\0", "\x1besc", "del\x7f", "c1\u{80}",
        "nel\u{85}", "ls\u{2028}", "ps\u{2029}", "bom\u{feff}", "\u{feff}lead bom", "nonchar\u{fffe}",
        "a,b", "a, b", "k=v", "1.2.3", "v1", "1Gi", "100m", "0.5", "-1", "3306", "0x", "0o", "0b", "0X1F",
        "0B1", "0O7", "1__0", "_1", "1_", "1e", "e3", "1.5.5", "$(VAR)", "${VAR}", "{{ .Values.x }}",
        "key: value # comment", "*", "&", "!!str", "!!int 1", "<<: *a", "~/path", "/path/to/file",
        "C:\\Windows", "--flag=value", "--", "-1.5e-3", "+.5", "1.e3", "0.0", "-0.0", "00", "0_10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("x".repeat(7 * 1024));
    v.push(format!("{} {}", "word".repeat(30), "more ".repeat(40)));
    v
}

fn single_quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn double_quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// Block scalar headers and the indented body, for value and sequence-item positions.
fn block_forms(s: &str, indent: &str) -> Vec<String> {
    let body: String = s.split('\n').map(|l| if l.is_empty() { String::new() } else { format!("{indent}  {l}") }).collect::<Vec<_>>().join("\n");
    ["|", "|-", "|+", ">", ">-", "|2", "|2-", ">+"].iter().map(|h| format!("{h}\n{body}\n")).collect()
}

#[test]
fn tricky_strings_read_identically_in_every_style_and_position() {
    let mut cases = Vec::new();
    for s in tricky_strings() {
        let mut forms = vec![single_quoted(&s), double_quoted(&s)];
        if !s.contains('\n') {
            forms.push(s.clone());
        }
        for f in &forms {
            cases.push(format!("k: {f}\n"));
            cases.push(format!("- {f}\n"));
            cases.push(format!("{f}: v\n"));
            cases.push(format!("{{k: {f}}}\n"));
            cases.push(format!("[{f}]\n"));
            cases.push(format!("{f}\n"));
            cases.push(format!("? {f}\n: v\n"));
        }
        for b in block_forms(&s, "") {
            cases.push(format!("k: {b}"));
            cases.push(format!("- {b}"));
            cases.push(format!("? {b}: v\n"));
        }
    }
    let n = assert_same(cases);
    assert!(n > 4000, "{n}");
}

/// Numbers of every form: signs, radix prefixes, underscores, leading zeros, floats, limits.
fn number_spellings() -> Vec<String> {
    let bodies = [
        "0", "00", "7", "08", "010", "0644", "0755", "0999", "09", "0_10", "0x1F", "0x1f", "0X1F", "0xg",
        "0x_10", "0x1_0", "0o17", "0O17", "0o8", "0o_7", "0b101", "0B101", "0b2", "0b_1", "1_000", "1__000",
        "_1", "1_", "1_000_000", "1.5", "1.", ".5", "1e3", "1E3", "1e+3", "1e-3", "1.5e3", ".5e3", "1.5E-10",
        "1_0.5", "1.5_0", "0.5", "00.5", "08.5", "0e0", "1e", "e3", "0x", "0o", "0b", "1:20", "1,000", "1 000",
        "9223372036854775807", "9223372036854775808", "18446744073709551615", "18446744073709551616",
        "170141183460469231731687303715884105727", "340282366920938463463374607431768211456", "1e308",
        "1e309", "1e999", ".5e999", "0x7FFFFFFFFFFFFFFF", "0x8000000000000000", "0xFFFFFFFFFFFFFFFF",
        "0x10000000000000000", "01777777777777777777777", "02000000000000000000000", ".inf", ".Inf", ".INF",
        ".iNf", "inf", "infinity", "Infinity", ".nan", ".NaN", ".NAN", "nan", "NaN", "1.0", "2.50", "100",
        "3306", "65535", "420", "1e10", "12e-2", "0.0000001", "123456789012345678901234567890",
    ];
    let mut out = Vec::new();
    for sign in ["", "+", "-"] {
        for body in bodies {
            out.push(format!("{sign}{body}"));
        }
    }
    out.push(format!("0b{}", "1".repeat(64)));
    out.push(format!("0b{}", "1".repeat(65)));
    out
}

#[test]
fn numbers_read_identically() {
    let mut cases = Vec::new();
    for n in number_spellings() {
        for f in [n.clone(), single_quoted(&n), double_quoted(&n)] {
            cases.push(format!("k: {f}\n"));
            cases.push(format!("- {f}\n"));
            cases.push(format!("{f}: v\n"));
            cases.push(format!("[{f}, x]\n"));
        }
        cases.push(format!("{n}\n"));
    }
    assert_same(cases);
}

#[test]
fn numbers_read_like_kustomize() {
    let v = read_document("a: 0644\nb: 0o17\nc: 0x1F\nd: 0b101\ne: 1_000\nf: -12\ng: 1e3\nh: .5\ni: 18446744073709551616\nj: 0999\nk: 0X1F\nl: -.nan\n").unwrap();
    assert_eq!(
        serde_json::to_string(&v).unwrap(),
        r#"{"a":420,"b":15,"c":31,"d":5,"e":1000,"f":-12,"g":1000.0,"h":0.5,"i":1.8446744073709552e+19,"j":999.0,"k":"0X1F","l":"-.nan"}"#
    );
    for bad in [".inf", "-.Inf", ".NaN", "1e999", "!!float .nan"] {
        let err = read_document(&format!("a: {bad}\n")).unwrap_err();
        assert!(err.to_string().contains("non-finite"), "{bad}: {err}");
    }
    let v = read_document("a: yes\nb: on\nc: y\nd: True\ne: FALSE\nf: ~\ng: Null\nh:\ni: ''\n").unwrap();
    assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a":"yes","b":"on","c":"y","d":true,"e":false,"f":null,"g":null,"h":null,"i":""}"#);
}

#[test]
fn tags_read_identically() {
    let tags = [
        "!!str", "!!int", "!!float", "!!bool", "!!null", "!!binary", "!!timestamp", "!!seq", "!!map", "!",
        "!foo", "!!foo", "!int", "!str", "!!Int", "!!merge", "!!value", "!!set", "!!omap", "!include",
        "!include#x", "!<tag:yaml.org,2002:str>", "!<tag:yaml.org,2002:int>", "!<tag:example.com:x>",
        "!!time", "!!degrees", "!!python/str",
    ];
    let texts = [
        "", "~", "null", "1", "-1", "+5", "0x10", "-0x10", "0644", "1.5", "1e3", ".inf", "-.nan", "true",
        "True", "yes", "aGVsbG8=", "//8=", "aGVs bG8=", "abc", "2001-12-14", "<<", "=", " 12 ",
    ];
    let mut cases = Vec::new();
    for tag in tags {
        for text in texts {
            for f in [text.to_string(), single_quoted(text), double_quoted(text)] {
                cases.push(format!("k: {tag} {f}\n"));
                cases.push(format!("- {tag} {f}\n"));
                cases.push(format!("{tag} {f}: v\n"));
                cases.push(format!("{{{tag} {f}: v, w: {tag} {f}}}\n"));
            }
        }
        cases.push(format!("k: {tag}\n"));
        cases.push(format!("k: {tag} [1, a]\n"));
        cases.push(format!("k: {tag} {{a: 1}}\n"));
        cases.push(format!("{tag} {{a: 1}}: v\n"));
        cases.push(format!("k: {tag} |\n  aGVs\n  bG8=\n"));
    }
    cases.push("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n".into());
    cases.push("%TAG !! tag:example.com,2000:\n---\na: !!int 1\n".into());
    cases.push("%TAG !m! tag:yaml.org,2002:i\n---\na: !m!nt 0x10\n".into());
    assert_same(cases);
}

#[test]
fn keys_and_duplicates_read_identically() {
    let keys = [
        "1", "01", "0x1", "0X1", "+1", "'1'", "\"1\"", "!!str 1", "!!int 1", "! 1", "1.0", "-0", "0", "a",
        "'a'", "\"a\"", "!!str a", "!foo a", "!bar a", "! a", "!!merge a", "!include a", "true", "'true'",
        "!!bool true", "!!binary YQ==", "!!binary MQ==", "~", "null", "''", "!!null ''", "!!str ~", "8443",
        "'8443'", "0o1", "0b1", "1_0", "10", "0_12", "012", "!foo 1", "[a]", "{a: 1}", "<<", "'<<'",
    ];
    let mut cases = Vec::new();
    for a in keys {
        cases.push(format!("{a}: x\n"));
        for b in keys {
            cases.push(format!("{a}: x\n{b}: y\n"));
            cases.push(format!("{{{a}: x, {b}: y}}\n"));
            cases.push(format!("{a}: x\nz: {{{b}: y, <<: {{{a}: m, {b}: n}}}}\n"));
        }
    }
    assert_same(cases);
}

#[test]
fn anchors_aliases_and_merges_read_identically() {
    let cases = [
        "base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  c: 3\n",
        "base: &b {a: 1, b: 2}\nm:\n  c: 3\n  <<: *b\n  b: 9\n",
        "x: &x {a: 1}\ny: &y {a: 2, b: 2}\nm: {<<: [*x, *y], c: 3}\n",
        "x: &x {a: 1}\ny: &y {a: 2, b: 2}\nm: {<<: [*y, *x], c: 3}\n",
        "m: {<<: {a: 1, <<: {a: 2, z: 3}}, c: 3}\n",
        "m: {<<: {<<: {a: 2, z: 3}, a: 1}, c: 3}\n",
        "m: {<<: ~, c: 3}\n",
        "m: {<<: , c: 3}\n",
        "m: {<<: 1, c: 3}\n",
        "m: {<<: [1], c: 3}\n",
        "m: {<<: [~, {a: 1}], c: 3}\n",
        "m: {<<: [[{a: 1}], {b: 2}], c: 3}\n",
        "m: {\"<<\": 1}\n",
        "m: {!!merge <<: {a: 1}}\n",
        "m: {!foo <<: {a: 1}}\n",
        "m: {<<: {a: 1, a: 2}}\n",
        "m: {<<: {a: 1}, <<: {a: 2, b: 3}}\n",
        "m: {<<: [{a: 1}, {a: 2}]}\n",
        "m: {a: x, <<: {a: .inf}}\n",
        "m: {a: x, <<: {b: .inf}}\n",
        "m: {a: x, <<: {~: 1}}\n",
        "m: {1: a, <<: {!!int 1: b}}\n",
        "m: {<<: {[a]: 1}}\n",
        "m: {a: 1, <<: {<<: {a: 2, b: {<<: {c: 1}, d: 2}}}}\n",
        "d: &d {a: {deep: [1, 2, {x: y}]}}\nm: {<<: *d, b: 1}\nn: {<<: [*d, {a: 2, e: 3}]}\n",
        "a: &a [1, 2]\nb: *a\nc: *a\n",
        "a: &a 0x10\nb: *a\n*a : c\n",
        "a: &a '0x10'\nb: *a\n*a : c\n",
        "a: &a ~\n*a : c\n",
        "a: &a [1, *a]\n",
        "a: *nope\n",
        "a: &a [x]\na2: &a [y]\nb: *a\n",
        "outer: &o\n  inner: &i [1, 2]\n  other: *i\nx: *o\ny: *i\n",
        "a: &a {k: &k v}\nb: [*a, *k]\nc: {<<: *a, k2: *k}\n",
        "- &a !!str 1\n- *a\n- &b !foo 2\n- *b\n",
        "? &k key\n: &v value\n*v : *k\n",
        "a: &x 1\nb: &x 2\nc: *x\n",
    ];
    assert_same(cases.iter().map(|s| s.to_string()));
    for case in cases {
        assert!(differs_stream(case).is_none(), "{case}");
    }
}

/// A small deterministic generator of random documents: block and flow collections, the
/// scalars above in every style, tags, anchors, aliases and merge keys.
struct Gen {
    state: u64,
    /// Anchors defined so far (complete nodes only), and those on mappings.
    anchors: Vec<String>,
    map_anchors: Vec<String>,
    defined: usize,
    scalars: Vec<String>,
}

impl Gen {
    fn next(&mut self, n: usize) -> usize {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        (self.state % n as u64) as usize
    }

    fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
        from[self.next(from.len())]
    }

    fn scalar(&mut self) -> String {
        match self.next(12) {
            0 => return format!("!!int {}", self.pick(&["1", "-5", "0x1F", "0644", "'12'", "+3"])),
            1 => return format!("!!bool {}", self.pick(&["true", "False", "\"TRUE\""])),
            2 => return format!("{} {}", self.pick(&["!!str", "!", "!foo", "!!null"]), self.pick(&["1", "~", "yes", "'q'", "0x10"])),
            _ => {}
        }
        let i = self.next(self.scalars.len());
        let s = self.scalars[i].clone();
        match self.next(4) {
            0 => single_quoted(&s),
            1 => double_quoted(&s),
            _ if s.contains('\n') || s.starts_with(' ') || s.is_empty() => double_quoted(&s),
            _ => s,
        }
    }

    /// An anchor for the next node, if any (defined once the node is complete).
    fn anchor(&mut self) -> Option<String> {
        (self.next(6) == 0).then(|| {
            self.defined += 1;
            format!("a{}", self.defined)
        })
    }

    fn alias(&mut self) -> Option<String> {
        if self.anchors.is_empty() || self.next(8) != 0 {
            return None;
        }
        let i = self.next(self.anchors.len());
        Some(format!("*{}", self.anchors[i]))
    }

    fn keys(&mut self, n: usize) -> Vec<String> {
        let mut keys: Vec<String> = Vec::new();
        while keys.len() < n {
            let k = self.pick(&["a", "b", "c", "1", "'2'", "\"d\"", "!!str e", "!foo f", "true", "8443", "k", "0x10"]).to_string();
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        if self.next(5) == 0 {
            keys.insert(self.next(n + 1), "<<".into());
        }
        keys
    }

    fn merge_value(&mut self, depth: usize) -> String {
        if !self.map_anchors.is_empty() && self.next(2) == 0 {
            let i = self.next(self.map_anchors.len());
            let alias = format!("*{}", self.map_anchors[i]);
            return if self.next(3) == 0 { format!("[{alias}, {{z: 1}}]") } else { alias };
        }
        let n = 1 + self.next(3);
        let keys = self.keys(n);
        let items: Vec<String> = keys.iter().filter(|k| *k != "<<").map(|k| format!("{k}: {}", self.flow(depth + 1))).collect();
        format!("{{{}}}", items.join(", "))
    }

    fn flow(&mut self, depth: usize) -> String {
        if let Some(alias) = self.alias() {
            return alias;
        }
        if depth > 3 || self.next(3) == 0 {
            let s = self.scalar();
            return if s.contains(['{', '}', '[', ']', ',', '#', '\n']) { double_quoted(&s) } else { s };
        }
        let anchor = self.anchor();
        let n = self.next(4);
        let is_map = self.next(2) == 0;
        let body = if is_map {
            let keys = self.keys(n);
            let items: Vec<String> = keys
                .iter()
                .map(|k| if k == "<<" { format!("<<: {}", self.merge_value(depth)) } else { format!("{k}: {}", self.flow(depth + 1)) })
                .collect();
            format!("{{{}}}", items.join(", "))
        } else {
            let items: Vec<String> = (0..n).map(|_| self.flow(depth + 1)).collect();
            format!("[{}]", items.join(", "))
        };
        self.define(anchor, body, is_map)
    }

    fn define(&mut self, anchor: Option<String>, body: String, is_map: bool) -> String {
        match anchor {
            None => body,
            Some(name) => {
                self.anchors.push(name.clone());
                if is_map {
                    self.map_anchors.push(name.clone());
                }
                format!("&{name} {body}")
            }
        }
    }

    fn block(&mut self, indent: usize, depth: usize) -> (String, bool) {
        let pad = " ".repeat(indent);
        let n = 1 + self.next(4);
        let mut out = String::new();
        let is_map = self.next(2) == 0;
        if is_map {
            for key in self.keys(n) {
                let value = if key == "<<" { format!("{}\n", self.merge_value(depth)) } else { self.value(indent + 2, depth + 1) };
                out.push_str(&format!("{pad}{key}: {value}"));
            }
        } else {
            for _ in 0..n {
                let value = self.value(indent + 2, depth + 1);
                out.push_str(&format!("{pad}- {value}"));
            }
        }
        (out, is_map)
    }

    fn value(&mut self, indent: usize, depth: usize) -> String {
        match self.next(if depth > 4 { 2 } else { 4 }) {
            0 => format!("{}\n", self.flow(depth)),
            1 => format!("{}\n", self.scalar()),
            _ => {
                let anchor = self.anchor();
                let (body, is_map) = self.block(indent, depth);
                let head = self.define(anchor, String::new(), is_map);
                format!("{}\n{body}", head.trim_end())
            }
        }
    }
}

#[test]
fn random_documents_read_identically() {
    let mut g = Gen { state: 0x9E37_79B9_7F4A_7C15, anchors: Vec::new(), map_anchors: Vec::new(), defined: 0, scalars: tricky_strings() };
    g.scalars.extend(number_spellings());
    g.scalars.retain(|s| s.len() < 200);
    let mut cases = Vec::new();
    for _ in 0..std::env::var("KFKRM_RANDOM_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(3000) {
        g.anchors.clear();
        g.map_anchors.clear();
        cases.push(g.block(0, 0).0);
    }
    let failures: Vec<String> = cases.iter().filter_map(|c| differs(c)).collect();
    let ok = cases.iter().filter(|c| read_document(c).is_ok()).count();
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n"));
    // The generator must produce mostly valid documents to be worth anything.
    assert!(ok > 1500, "only {ok} valid documents");
}

#[test]
fn alias_counts_are_limited_like_serde_saphyr() {
    let mut cases = Vec::new();
    // The alias/anchor heuristic: at least 100 aliases and more than 10 per anchor.
    for (anchors, aliases) in [(1, 10), (1, 99), (1, 100), (1, 101), (10, 100), (10, 101), (9, 100), (20, 150)] {
        let mut text = String::new();
        for i in 0..anchors {
            text.push_str(&format!("a{i}: &a{i} {i}\n"));
        }
        text.push_str("refs:\n");
        for j in 0..aliases {
            text.push_str(&format!("- *a{}\n", j % anchors));
        }
        cases.push(text);
    }
    assert_same(cases);
}

#[test]
fn streams_read_identically() {
    let cases = [
        "", "\n", "# only a comment\n", "---\n", "---\n---\n", "...\n", "a: 1\n", "a: 1\n---\nb: 2\n",
        "a: 1\n---\n", "---\na: 1\n---\n---\nb: 2\n...\n", "a: 1\n...\n---\nb: 2\n", "a: 1\n...\nb: 2\n",
        "%YAML 1.2\n---\na: 1\n", "%YAML 1.1\n---\na: 1\n---\nb: 2\n", "- 1\n---\n- 2\n", "x\n---\ny\n",
        "---\n~\n---\nnull\n---\na: 1\n", "a: &a 1\n---\nb: *a\n", "a: &a 1\n---\na: &a 2\nb: *a\n",
        "a: 1\n---\nb: [\n", "--- a: 1\n", "--- |\n  text\n--- >\n  folded\n", "a: 1\n--- # comment\nb: 2\n",
        "\u{feff}a: 1\n", "\u{feff}a: 1\n---\nb: 2\n", "a: 1\r\n---\r\nb: 2\r\n", "a: 1\n---\n\u{feff}b: 2\n",
        "a: 1\nb: 2\n...\n# trailing comment\n", "---\n- a\n...\n---\n- b\n...\n",
    ];
    let mut failures = Vec::new();
    for case in cases {
        failures.extend(differs_stream(case));
        failures.extend(differs(case));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn nesting_limit_matches_and_is_refused_quickly() {
    // serde-saphyr recurses with large frames: in an unoptimized build it needs more than the
    // 2 MiB of a test thread at this depth. This reader stays within 2 MiB (checked below).
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(nesting_limit_matches)
        .unwrap()
        .join()
        .unwrap();
    let deep = (0..300).map(|i| format!("{}k:\n", "  ".repeat(i))).collect::<String>();
    let small_stack = std::thread::Builder::new().stack_size(2 << 20);
    let err = small_stack.spawn(move || read_document(&deep)).unwrap().join().unwrap().unwrap_err();
    assert!(err.to_string().contains("deeper than 256"), "{err}");
}

fn nesting_limit_matches() {
    for depth in [255, 256, 257, 300] {
        let flow = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let block: String = (0..depth).map(|i| format!("{}k:\n", "  ".repeat(i))).collect::<String>() + &"  ".repeat(depth) + "v\n";
        let seq: String = (0..depth).map(|i| format!("{}-\n", "  ".repeat(i))).collect::<String>() + &"  ".repeat(depth) + "v\n";
        let mixed: String = (0..depth).map(|i| if i % 2 == 0 { format!("{}k:\n", "  ".repeat(i)) } else { format!("{}-\n", "  ".repeat(i)) }).collect::<String>() + &"  ".repeat(depth) + "v\n";
        for text in [flow, block, seq, mixed] {
            assert!(differs(&text).is_none(), "depth {depth}: {}", differs(&text).unwrap().chars().take(300).collect::<String>());
        }
    }
    let deep = "  ".repeat(0) + &(0..257).map(|i| format!("{}k:\n", "  ".repeat(i))).collect::<String>() + &"  ".repeat(257) + "v\n";
    let err = read_document(&deep).unwrap_err();
    assert!(err.to_string().contains("deeper than 256"), "{err}");
    assert!(read_document(&"[".repeat(100_000)).is_err());
}

/// Billion laughs: ten aliases per level, 30 levels (10^30 nodes if expanded).
fn alias_bomb() -> String {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..30 {
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
    }
    text
}

#[test]
fn alias_bomb_is_refused_quickly() {
    let text = alias_bomb();
    let start = std::time::Instant::now();
    let err = read_document(&text).unwrap_err();
    let elapsed = start.elapsed();
    assert!(err.to_string().contains("alias bomb"), "{err}");
    // Milliseconds in release; generous for an unoptimized build on a busy machine.
    assert!(elapsed.as_secs_f64() < 5.0, "{elapsed:?}");
    assert!(parse_document_serde_saphyr(&text).is_err());
    // A flat bomb: one anchor replayed by many aliases in one document.
    let flat = format!("a: &a [{}]\nb: [{}]\n", vec!["x"; 10_000].join(", "), vec!["*a"; 200].join(", "));
    assert!(read_document(&flat).is_err());
    assert!(differs(&flat).is_none());
}

/// The alias limits at their boundaries: replays per document (checked by the pre-scan once
/// a document replays more than 10,000 events) and recorded events per stream.
#[test]
fn alias_limits_match_at_the_boundary() {
    // 100 anchors of 1,000 events each (100,000 recorded); 100 of them keep the
    // alias/anchor heuristic (at most 10 aliases per anchor) out of the way.
    let anchors: String = (0..100).map(|i| format!("a{i}: &a{i} [{}]\n", vec!["x"; 998].join(", "))).collect();
    let aliases = |n: usize| (0..n).map(|i| format!("*a{}", i % 100)).collect::<Vec<_>>().join(", ");
    // 1,000 aliases replay exactly 1,000,000 events; one more is too many.
    let replays = |n: usize| format!("{anchors}b: [{}]\n", aliases(n));
    // A document records 100,000 + 2 + 500 x 1,000: the second one passes 1,000,000 recorded
    // events over the stream.
    let doc = format!("{anchors}r: &r [{}]\n", aliases(500));
    let recorded = |docs: usize| vec![doc.clone(); docs].join("---\n");
    // Nested anchors count a replay once per open recording: 100,006 + 2,000 n.
    let nested = |n: usize| format!("{anchors}o: &o [&p [{}]]\n", aliases(n));
    let cases = [
        (replays(1000), true),
        (replays(1001), false),
        (recorded(1), true),
        (recorded(2), false),
        (nested(449), true),
        (nested(450), false),
    ];
    for (i, (text, ok)) in cases.iter().enumerate() {
        assert_eq!(read_stream(text).is_ok(), *ok, "case {i}: {:?}", read_stream(text).err());
    }
    // serde-saphyr takes seconds on these in an unoptimized build: compared in release only.
    if !cfg!(debug_assertions) {
        for (i, (text, _)) in cases.iter().enumerate() {
            assert!(differs_stream(text).is_none(), "case {i}");
            assert!(differs(text).is_none(), "case {i}");
        }
    }
}

/// 10,000 merge keys per stream, replayed ones included.
#[test]
fn merge_key_limit_matches_at_the_boundary() {
    let plain = |n: usize| "- {<<: {a: 1}, b: 2}\n".repeat(n);
    let anchors: String = (0..1000).map(|i| format!("m{i}: &m{i} {{<<: {{a: 1}}, b: 2}}\n")).collect();
    let replayed = |n: usize| format!("{anchors}l: [{}]\n", (0..n).map(|i| format!("*m{}", i % 1000)).collect::<Vec<_>>().join(", "));
    let nested = |n: usize| format!("{}- {{<<: {{<<: {{<<: {{a: 1}}}}}}}}\n", plain(n));
    let cases = [(plain(10_000), true), (plain(10_001), false), (replayed(9000), true), (replayed(9001), false), (nested(9997), true), (nested(9998), false)];
    for (i, (text, ok)) in cases.iter().enumerate() {
        assert_eq!(read_document(text).is_ok(), *ok, "case {i}: {:?}", read_document(text).err());
        // serde-saphyr is slow on these in an unoptimized build: compared in release only.
        if !cfg!(debug_assertions) {
            assert!(differs(text).is_none(), "case {i}");
        }
    }
}

#[test]
fn errors_carry_line_and_column() {
    for (text, line, column) in [
        ("a: 1\nb: [1, 2\n", 2, 4),
        ("a: 1\na: 2\n", 2, 1),
        ("a:\n  b: .inf\n", 2, 6),
        ("a: 1\n b: 2\n", 2, 3),
        ("a: *x\n", 1, 4),
        ("a: 1\n---\nb: 2\n", 3, 1),
        ("a: 1\r\nb: {c: 1, c: 2}\r\n", 2, 11),
        ("\u{feff}a: 1\nb: 2\nb: 3\n", 3, 1),
    ] {
        let err = read_document(text).unwrap_err();
        assert_eq!((err.line(), err.column()), (Some(line), Some(column)), "{text:?}: {err}");
        assert!(err.to_string().ends_with(&format!("at line {line}, column {column}")), "{err}");
    }
}

#[test]
fn bom_and_crlf_read_like_plain_input() {
    let plain = "a: 1\nb: |\n  x\n  y\nc: 'q'\n";
    let expected = read_document(plain).unwrap();
    assert_eq!(read_document(&format!("\u{feff}{plain}")).unwrap(), expected);
    assert_eq!(read_document(&plain.replace('\n', "\r\n")).unwrap(), expected);
    assert!(differs(&format!("\u{feff}{}", plain.replace('\n', "\r\n"))).is_none());
}

/// The Kubeflow corpus, when present (`KFKRM_CORPUS` or `../shared/corpus/kubeflow-master.yaml`
/// beside the repository).
fn corpus() -> Option<String> {
    let path = std::env::var("KFKRM_CORPUS").map(std::path::PathBuf::from).unwrap_or_else(|_| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/kubeflow-master.yaml")
    });
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(_) => {
            println!("note: corpus {} not found; corpus differential test skipped", path.display());
            None
        }
    }
}

/// The corpus as one ResourceList, built as text like `tests/corpus/harness.py`
/// (`resource_list_text`): documents split at `---` lines, items indented under `items:`.
fn resource_list_text(corpus: &str) -> String {
    let mut out = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig: {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"fn\"}}\nitems:\n");
    let mut docs: Vec<Vec<&str>> = vec![Vec::new()];
    for line in corpus.split('\n') {
        if line == "---" {
            docs.push(Vec::new());
        } else {
            docs.last_mut().unwrap().push(line);
        }
    }
    for doc in docs {
        let text = doc.join("\n");
        if text.trim().is_empty() {
            continue;
        }
        let lines: Vec<&str> = text.trim_end_matches('\n').split('\n').collect();
        out.push_str("- ");
        out.push_str(lines[0]);
        out.push('\n');
        for l in &lines[1..] {
            if !l.is_empty() {
                out.push_str("  ");
                out.push_str(l);
            }
            out.push('\n');
        }
    }
    out
}

#[test]
fn corpus_reads_identically() {
    let Some(corpus) = corpus() else { return };
    let old = parse_stream_serde_saphyr(&corpus).unwrap();
    let new = read_stream(&corpus).unwrap();
    assert_eq!(old.len(), new.len());
    for (i, (a, b)) in old.iter().zip(&new).enumerate() {
        assert!(serde_json::to_string(a).unwrap() == serde_json::to_string(b).unwrap(), "document {i} differs");
    }
    let rl = resource_list_text(&corpus);
    let old = serde_json::to_string(&parse_document_serde_saphyr(&rl).unwrap()).unwrap();
    let new = serde_json::to_string(&read_document(&rl).unwrap()).unwrap();
    assert!(old == new, "the ResourceList differs");
    let parallel = serde_json::to_string(&crate::yaml::parse_resource_list(&rl).unwrap()).unwrap();
    assert!(old == parallel, "the parallel ResourceList read differs");
    let crlf = rl.replace('\n', "\r\n");
    assert!(serde_json::to_string(&read_document(&crlf).unwrap()).unwrap() == old, "CRLF ResourceList differs");
}

/// A large anchored string replayed through nine aliases per level stays within serde-saphyr's
/// event limits (9^6 events) but would expand to over 2 GB: refused by the byte budget, before
/// that much is built; a document just under the budget still reads.
#[test]
fn alias_expansion_is_bounded_in_bytes() {
    let bomb = |text_len: usize, levels: usize| {
        let mut doc = format!("l0: &l0 \"{}\"\n", "x".repeat(text_len));
        for level in 1..=levels {
            doc.push_str(&format!("l{level}: &l{level} [{}]\n", vec![format!("*l{}", level - 1); 9].join(", ")));
        }
        doc
    };
    let doc = bomb(4000, 6);
    assert!(doc.len() < 10_000, "a small document: {} bytes", doc.len());
    let start = std::time::Instant::now();
    let err = read_document(&doc).unwrap_err();
    assert!(err.to_string().contains("MiB of text (alias bomb?)"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10), "refused before the expansion is built");
    // 1000 bytes through 9 + 81 + 729 + 6561 aliases: under 16 MiB, read as serde-saphyr reads it.
    let fine = bomb(1000, 4);
    assert!(differs(&fine).is_none());
    assert!(read_document(&fine).is_ok());
}

/// What a plain scalar means to the Kubernetes tools (issue 17, class 12). kustomize reads with
/// go-yaml v3 (kyaml) and `kubectl apply` with go-yaml v2 (sigs.k8s.io/yaml). Both resolve plain
/// scalars in `resolve.go` `resolve()`: `0o`/`0x`/`0b` and legacy `0777` octals as integers
/// (`strconv.ParseInt(plain, 0, 64)` after dropping `_`), beyond 64 bits a float, base-60
/// `1:20` "purposefully unsupported" (a string), and timestamps kept as strings for an untyped
/// target (for backward compatibility). The reader agrees on each. The one divergence is v2's
/// YAML 1.1 booleans (`yes`, `on`, `y`, `off`...): kubectl's go-yaml v2 reads them as booleans,
/// kustomize's v3 as strings; the reader reads them as kustomize does (the functions run inside
/// kustomize), and the writer quotes them, so what the functions write means the same to both.
/// A `!!timestamp` tag is refused (v3 would make a time of it, which JSON cannot carry).
#[test]
fn plain_scalars_mean_what_they_mean_to_kubernetes() {
    let read = |scalar: &str| read_document(&format!("v: {scalar}\n")).map(|v| v["v"].clone());
    let cases: &[(&str, serde_json::Value)] = &[
        ("0o777", json!(511)),
        ("0777", json!(511)),
        ("0x1F", json!(31)),
        ("0b101", json!(5)),
        ("1_000", json!(1000)),
        ("+12", json!(12)),
        ("18446744073709551615", json!(18446744073709551615u64)),
        ("123456789012345678901234567890", json!(1.2345678901234568e29)),
        ("1e3", json!(1000.0)),
        (".5", json!(0.5)),
        ("1:20", json!("1:20")),
        ("2024-01-01", json!("2024-01-01")),
        ("2001-12-14t21:59:43.10-05:00", json!("2001-12-14t21:59:43.10-05:00")),
        ("true", json!(true)),
        ("yes", json!("yes")),
        ("on", json!("on")),
        ("y", json!("y")),
        ("off", json!("off")),
        ("~", json!(null)),
    ];
    for (scalar, meaning) in cases {
        assert_eq!(&read(scalar).unwrap(), meaning, "{scalar}");
        // Written back, each means the same under YAML 1.1 (kubectl's go-yaml v2) and 1.2.
        let written = crate::yaml::to_yaml(&json!({"v": meaning})).unwrap();
        if meaning.is_string() {
            let text = meaning.as_str().unwrap();
            let plain_is_fine = text.bytes().all(|c| c.is_ascii_lowercase()) && !["yes", "no", "on", "off", "y", "n"].contains(&text);
            assert!(plain_is_fine || written.contains('"') || written.contains('\''), "{scalar} must be quoted: {written}");
        }
    }
    assert!(read("!!timestamp 2024-01-01").is_err(), "a timestamp tag is refused");
}
