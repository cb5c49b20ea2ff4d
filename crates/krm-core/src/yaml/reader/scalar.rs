//! Scalar resolution: what a node's tag and text mean (a port of serde-saphyr's `SfTag`
//! classification, `parse_scalars` and `deserialize_any` for a typeless target), and the
//! identity of mapping keys (for duplicate detection and merges).

use super::*;

// ------------------------------------------------------------------------------------------------
// Tags (a port of serde-saphyr's `SfTag` classification)

/// What a node's tag means to the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    /// No tag.
    None,
    Int,
    Float,
    Bool,
    Null,
    Seq,
    Map,
    Timestamp,
    /// `!!time`, `!!degrees`, `!!radians`: serde-saphyr's robotics tags, off in this project.
    Robotics,
    Binary,
    Str,
    Merge,
    Value,
    /// The non-specific tag `!`.
    NonSpecific,
    Include,
    /// Any other tag: dropped, the node reads as if untagged.
    Other,
}

impl Kind {
    pub(super) fn forces_string(self) -> bool {
        matches!(self, Kind::Str | Kind::NonSpecific)
    }

    pub(super) fn can_parse_into_string(self) -> bool {
        matches!(
            self,
            Kind::None | Kind::Str | Kind::Merge | Kind::Value | Kind::Other | Kind::Include | Kind::NonSpecific
        )
    }

    pub(super) fn is_core(self) -> bool {
        matches!(self, Kind::Int | Kind::Float | Kind::Bool | Kind::Null | Kind::Seq | Kind::Map | Kind::Str)
    }

    /// The node kind the tag requires: 0 any, 1 scalar, 2 sequence, 3 mapping.
    pub(super) fn requires(self) -> u8 {
        match self {
            Kind::None | Kind::NonSpecific | Kind::Other => 0,
            Kind::Seq => 2,
            Kind::Map => 3,
            _ => 1,
        }
    }
}

/// A node's tag: its kind and, for [`Kind::Other`], its resolved spelling (part of a key's
/// identity for duplicate detection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NodeTag {
    pub(super) kind: Kind,
    pub(super) custom: Option<Box<str>>,
}

pub(super) const UNTAGGED: NodeTag = NodeTag { kind: Kind::None, custom: None };

pub(super) const YAML_NS: &str = "tag:yaml.org,2002:";

pub(super) fn core_suffix_kind(suffix: &str) -> Option<Kind> {
    Some(match suffix {
        "null" => Kind::Null,
        "bool" => Kind::Bool,
        "int" => Kind::Int,
        "float" => Kind::Float,
        "map" => Kind::Map,
        "seq" => Kind::Seq,
        "str" => Kind::Str,
        _ => return None,
    })
}

pub(super) fn tag_name_kind(name: &str) -> Kind {
    match name {
        "int" => Kind::Int,
        "float" => Kind::Float,
        "bool" => Kind::Bool,
        "null" => Kind::Null,
        "seq" => Kind::Seq,
        "map" => Kind::Map,
        "str" => Kind::Str,
        "timestamp" => Kind::Timestamp,
        "time" | "degrees" | "radians" => Kind::Robotics,
        "binary" => Kind::Binary,
        "include" => Kind::Include,
        _ => Kind::Other,
    }
}

pub(super) fn classify(tag: &Tag) -> Kind {
    for prefix in ["!include", "tag:yaml.org,2002:include", "tag:yaml.org,2002:!include"] {
        if let Some(rest) = tag.suffix_in_namespace(prefix) {
            if rest.is_empty() || rest.starts_with('#') {
                return Kind::Include;
            }
        }
    }
    if let Some(kind) = tag.core_suffix().and_then(core_suffix_kind) {
        return kind;
    }
    if let Some(suffix) = tag.suffix_in_namespace(YAML_NS) {
        if suffix == "merge" {
            return Kind::Merge;
        }
        if suffix == "value" {
            return Kind::Value;
        }
        return tag_name_kind(suffix.strip_prefix('!').unwrap_or(&suffix));
    }
    let Some(suffix) = tag.suffix_in_namespace("!") else {
        return Kind::Other;
    };
    match suffix.as_ref() {
        "" | "!" => Kind::NonSpecific,
        "!timestamp" => Kind::Timestamp,
        "!binary" => Kind::Binary,
        name => match name.strip_prefix('!') {
            Some(name) => core_suffix_kind(name).unwrap_or(Kind::Other),
            None => tag_name_kind(name),
        },
    }
}

/// Classifies a node's tag and checks it fits the node (`!!map` on a sequence is an error).
pub(super) fn node_tag(tag: Option<Cow<'_, Tag>>, node: u8, at: Pos) -> Result<NodeTag> {
    let Some(tag) = tag else {
        return Ok(UNTAGGED);
    };
    let kind = classify(&tag);
    let required = kind.requires();
    if required != 0 && required != node {
        return Err(if kind == Kind::Include {
            ReadError::new("unsupported !include form", at)
        } else {
            ReadError::new(format!("unsupported tag `{}`", tag.original()), at)
        });
    }
    let custom = (kind == Kind::Other).then(|| tag.to_string().into_boxed_str());
    Ok(NodeTag { kind, custom })
}

// ------------------------------------------------------------------------------------------------
// Scalars (a port of serde-saphyr's `parse_scalars` and `deserialize_any`)

/// Trims the ASCII padding serde-saphyr ignores in scalar conversion.
pub(super) fn yaml_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\r', '\n'])
}

pub(super) fn parse_yaml12_bool(s: &str) -> Option<bool> {
    match yaml_trim(s) {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

pub(super) fn is_nullish(text: &str, style: ScalarStyle) -> bool {
    style == ScalarStyle::Plain && matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// serde-saphyr's `scalar_is_null`: a `!!null` tag, or null-like plain text under a tag that
/// does not force another type.
pub(super) fn scalar_is_null(kind: Kind, text: &str, style: ScalarStyle) -> bool {
    kind == Kind::Null
        || (!kind.is_core()
            && !kind.forces_string()
            && !matches!(kind, Kind::Binary | Kind::Timestamp | Kind::Robotics)
            && is_nullish(text, style))
}

pub(super) fn is_signed_nan(t: &str) -> bool {
    t.strip_prefix(['+', '-']).is_some_and(|u| matches!(u, ".nan" | ".NaN" | ".NAN"))
}

/// Digits with underscores allowed only between digits (serde-saphyr's rule for every radix).
pub(super) fn parse_digits(digits: &str, radix: u32) -> Option<u128> {
    let bytes = digits.as_bytes();
    let mut val: u128 = 0;
    let mut saw = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            if i == 0 || bytes[i - 1] == b'_' || i + 1 >= bytes.len() || bytes[i + 1] == b'_' {
                return None;
            }
            continue;
        }
        let d = (b as char).to_digit(16)?;
        if d >= radix {
            return None;
        }
        val = val.checked_mul(u128::from(radix))?.checked_add(u128::from(d))?;
        saw = true;
    }
    saw.then_some(val)
}

pub(super) fn strip(digits: &str) -> &str {
    digits.strip_prefix('_').unwrap_or(digits)
}

/// The radix and digits of an unsigned integer spelling, legacy octal on (`0644`, `0_10`).
pub(super) fn radix_and_digits(rest: &str) -> (u32, &str) {
    if let Some(r) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        (16, strip(r))
    } else if let Some(r) = rest.strip_prefix("0o").or_else(|| rest.strip_prefix("0O")) {
        (8, strip(r))
    } else if let Some(r) = rest.strip_prefix("0b").or_else(|| rest.strip_prefix("0B")) {
        (2, strip(r))
    } else if rest == "0" {
        (8, "0")
    } else if let Some(r) = rest.strip_prefix('0') {
        (8, strip(r))
    } else {
        (10, rest)
    }
}

/// serde-saphyr's `parse_int_signed::<i128>` with legacy octal.
pub(super) fn parse_int_signed(s: &str) -> Option<i128> {
    let t = yaml_trim(s);
    let (neg, rest) = match t.strip_prefix('+') {
        Some(r) => (false, r),
        None => match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t),
        },
    };
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    let mag = parse_digits(digits, radix)?;
    if neg {
        if mag == (i128::MAX as u128) + 1 {
            Some(i128::MIN)
        } else {
            i128::try_from(mag).ok()?.checked_neg()
        }
    } else {
        i128::try_from(mag).ok()
    }
}

/// serde-saphyr's `parse_int_unsigned::<u128>` with legacy octal.
pub(super) fn parse_int_unsigned(s: &str) -> Option<u128> {
    let t = yaml_trim(s);
    if t.starts_with('-') {
        return None;
    }
    let rest = t.strip_prefix('+').unwrap_or(t);
    let (radix, digits) = radix_and_digits(rest);
    if radix == 10 && digits.starts_with('0') && digits != "0" {
        return None;
    }
    parse_digits(digits, radix)
}

/// serde-saphyr's `try_parse_float_incl_overflow`: a YAML 1.2 float, `.inf`/`.nan`, or a numeral
/// that overflows to infinity. `float_tag` adds signed NaN (`!!float -.nan`).
pub(super) fn parse_float(s: &str, float_tag: bool) -> Option<f64> {
    let t = yaml_trim(s);
    if float_tag && is_signed_nan(t) {
        return Some(f64::NAN);
    }
    let (negative, unsigned) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    match unsigned {
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        ".inf" | ".Inf" | ".INF" => return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY }),
        _ => {}
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Some(v),
        _ if unsigned.as_bytes().first().is_some_and(u8::is_ascii_digit) => {
            t.parse::<f64>().ok().filter(|v| v.is_infinite())
        }
        _ => None,
    }
}

pub(super) fn float_value(v: f64, text: &str, at: Pos) -> Result<Value> {
    match serde_json::Number::from_f64(v) {
        Some(n) if v.is_finite() => Ok(Value::Number(n)),
        _ => Err(ReadError::new(format!("non-finite float `{text}` (JSON cannot carry it)"), at)),
    }
}

/// A plain, untagged (or unknown-tagged) scalar: null, bool, int, float or string.
pub(super) fn resolve_plain(text: Cow<'_, str>, at: Pos) -> Result<Value> {
    if is_nullish(&text, ScalarStyle::Plain) {
        return Ok(Value::Null);
    }
    let first = text.as_bytes().first().copied().unwrap_or(b' ');
    // Fast path: most scalars start with a letter that no number, bool or float can.
    if first.is_ascii_alphabetic() && !matches!(first, b't' | b'T' | b'f' | b'F') {
        return Ok(Value::String(text.into_owned()));
    }
    if let Some(b) = parse_yaml12_bool(&text) {
        return Ok(Value::Bool(b));
    }
    let t = yaml_trim(&text);
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if matches!(unsigned.as_bytes(), [b'0', b'X' | b'O' | b'B', ..]) || is_signed_nan(t) {
        return Ok(Value::String(text.into_owned()));
    }
    if t.starts_with('-') {
        if let Some(v) = parse_int_signed(t).and_then(|v| i64::try_from(v).ok()) {
            return Ok(Value::from(v));
        }
    } else if let Some(v) = parse_int_unsigned(t).and_then(|v| u64::try_from(v).ok()) {
        return Ok(Value::from(v));
    }
    if let Some(v) = parse_float(&text, false) {
        return float_value(v, &text, at);
    }
    Ok(Value::String(text.into_owned()))
}

/// A scalar as a value (serde-saphyr's `deserialize_any` for a typeless target).
pub(super) fn scalar_value(text: Cow<'_, str>, style: ScalarStyle, tag: &NodeTag, at: Pos) -> Result<Value> {
    let kind = tag.kind;
    match kind {
        Kind::None if style == ScalarStyle::Plain => return resolve_plain(text, at),
        Kind::None => return Ok(Value::String(text.into_owned())),
        Kind::Null => return Ok(Value::Null),
        Kind::Bool => {
            return parse_yaml12_bool(&text)
                .map(Value::Bool)
                .ok_or_else(|| ReadError::new("invalid boolean (strict mode expects true/false)", at));
        }
        Kind::Int => {
            return if yaml_trim(&text).starts_with('-') {
                parse_int_signed(&text)
                    .and_then(|v| i64::try_from(v).ok())
                    .map(Value::from)
                    .ok_or_else(|| ReadError::new("invalid i64", at))
            } else {
                parse_int_unsigned(&text)
                    .and_then(|v| u64::try_from(v).ok())
                    .map(Value::from)
                    .ok_or_else(|| ReadError::new("invalid u64", at))
            };
        }
        Kind::Float => {
            return match parse_float(&text, true) {
                Some(v) => float_value(v, &text, at),
                None => Err(ReadError::new("invalid floating point", at)),
            };
        }
        Kind::Robotics => return Err(ReadError::new("invalid floating point", at)),
        _ => {}
    }
    if scalar_is_null(kind, &text, style) {
        return Ok(Value::Null);
    }
    if style != ScalarStyle::Plain || kind == Kind::Binary || kind.forces_string() || !kind.can_parse_into_string() {
        if kind == Kind::Binary {
            return decode_binary(&text, at).map(Value::String);
        }
        if !kind.can_parse_into_string() {
            return Err(ReadError::new("cannot deserialize tagged scalar into string", at));
        }
        return Ok(Value::String(text.into_owned()));
    }
    resolve_plain(text, at)
}

/// A `!!binary` scalar: base64 (ASCII whitespace ignored) holding UTF-8 text.
pub(super) fn decode_binary(text: &str, at: Pos) -> Result<String> {
    let invalid = || ReadError::new("invalid base64 in a !!binary scalar", at);
    let cleaned: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if cleaned.len() % 4 != 0 {
        return Err(invalid());
    }
    let sextet = |b: u8| -> Result<u32> {
        Ok(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(invalid()),
        }))
    };
    let mut out = Vec::with_capacity(cleaned.len() / 4 * 3);
    let chunks = cleaned.len() / 4;
    for (idx, chunk) in cleaned.chunks_exact(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && idx + 1 != chunks) {
            return Err(invalid());
        }
        let a = sextet(chunk[0])?;
        let b = sextet(chunk[1])?;
        let c = if chunk[2] == b'=' { 0 } else { sextet(chunk[2])? };
        let d = if chunk[3] == b'=' { 0 } else { sextet(chunk[3])? };
        if (pad == 2 && b & 0x0F != 0) || (pad == 1 && c & 0x03 != 0) {
            return Err(invalid());
        }
        let triple = (a << 18) | (b << 12) | (c << 6) | d;
        out.push((triple >> 16) as u8);
        if pad < 2 {
            out.push((triple >> 8) as u8);
        }
        if pad == 0 {
            out.push(triple as u8);
        }
    }
    String::from_utf8(out).map_err(|_| ReadError::new("a !!binary scalar is not UTF-8 text", at))
}

// ------------------------------------------------------------------------------------------------
// Keys

/// The tag part of a key's identity (serde-saphyr's `CanonicalKeyTag`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum KeyTag {
    /// Every tag a string can be read from, and no tag.
    String,
    Semantic(Kind),
    Custom(Box<str>),
}

/// A key's identity for duplicate detection (serde-saphyr's `KeyFingerprint` for scalars).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum KeyId<'a> {
    Int { negative: bool, magnitude: u128 },
    Scalar { text: Cow<'a, str>, tag: KeyTag },
    /// A collection key: never equal to another (it is refused when read).
    Collection(usize),
}

pub(super) fn key_id<'a>(text: &Cow<'a, str>, style: ScalarStyle, tag: &NodeTag) -> KeyId<'a> {
    let kind = tag.kind;
    if kind == Kind::Int || (kind == Kind::None && style == ScalarStyle::Plain) {
        let t = yaml_trim(text);
        let parsed = if t.starts_with('-') {
            parse_int_signed(t).map(|v| (v < 0, v.unsigned_abs()))
        } else {
            parse_int_unsigned(t).map(|v| (false, v))
        };
        if let Some((negative, magnitude)) = parsed {
            return KeyId::Int { negative, magnitude };
        }
    }
    let kind = if kind == Kind::None && scalar_is_null(kind, text, style) { Kind::Null } else { kind };
    let tag = match kind {
        Kind::Other => match &tag.custom {
            Some(name) => KeyTag::Custom(name.clone()),
            None => KeyTag::String,
        },
        k if k.can_parse_into_string() => KeyTag::String,
        k => KeyTag::Semantic(k),
    };
    KeyId::Scalar { text: text.clone(), tag }
}

/// True when the key's identity is `Scalar { text, String }` and it reads as its own text, so
/// that a map's own keys can stand for the identities (the common case, checked cheaply).
pub(super) fn is_ordinary_key(text: &str, style: ScalarStyle, kind: Kind) -> bool {
    match kind {
        Kind::Str | Kind::NonSpecific => true,
        Kind::None if style != ScalarStyle::Plain => true,
        Kind::None => {
            let first = text.as_bytes().first().copied().unwrap_or(b' ');
            if first.is_ascii_alphabetic() {
                return !matches!(text, "null" | "Null" | "NULL");
            }
            !(is_nullish(text, style) || first.is_ascii_digit() || first == b'+' || first == b'-')
        }
        Kind::Merge | Kind::Value | Kind::Include => !is_nullish(text, style),
        _ => false,
    }
}

/// A key as an object key (serde-saphyr's `deserialize_str`).
pub(super) fn key_string(text: Cow<'_, str>, style: ScalarStyle, tag: &NodeTag, at: Pos) -> Result<String> {
    let kind = tag.kind;
    if (kind == Kind::Null || is_nullish(&text, style)) && !kind.forces_string() {
        return Err(ReadError::new("a mapping key is null (keys must be strings)", at));
    }
    if kind == Kind::Binary {
        return decode_binary(&text, at);
    }
    if !kind.can_parse_into_string() {
        return Err(ReadError::new("a tagged non-string mapping key (keys must be strings)", at));
    }
    Ok(text.into_owned())
}

pub(super) fn is_merge_key(ev: &Ev<'_>) -> bool {
    matches!(ev, Ev::Scalar { text, style, tag, .. }
        if text == "<<" && (tag.kind == Kind::Merge || (tag.kind == Kind::None && *style == ScalarStyle::Plain)))
}

pub(super) fn collection_key_error(at: Pos) -> ReadError {
    ReadError::new("a mapping key is a sequence or mapping (keys must be strings)", at)
}

pub(super) fn duplicate_key_error(text: &str, at: Pos) -> ReadError {
    ReadError::new(format!("duplicate mapping key `{text}`"), at)
}
