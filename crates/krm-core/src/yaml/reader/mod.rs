//! The YAML reader: `granit_parser` events straight into `serde_json::Value`.
//!
//! # Why this reader exists (measured)
//!
//! serde-saphyr 2.2 reads exactly as kustomize does with the settings in [`super`], but its
//! Serde deserialization layer (live-event buffering, budget bookkeeping, the visitor machinery,
//! allocation) costs more than the parsing itself. On the 12 MB Kubeflow render as one
//! ResourceList (340k nodes), single-threaded, release build, thread CPU time of the read alone
//! (`examples/read_timing.rs`, best of 9): `serde_saphyr::from_str_with_options` 0.31 s;
//! `granit_parser`, the parser underneath it, 0.12 s to produce every event; this reader 0.16 s.
//! It drives the same parser with the same parser options and builds the values itself, without
//! recursion (the nesting limit, not the thread's stack, bounds what can be read).
//!
//! serde-saphyr stays the writer ([`super::to_yaml`]) and the reference:
//! [`super::parse_document_serde_saphyr`] is the oracle of this module's differential tests.
//!
//! # What it reads: exactly what serde-saphyr reads
//!
//! Every rule below is a port of serde-saphyr's `deserialize_any` / `deserialize_str` paths for
//! a typeless target with the project's settings (`strict_booleans`, `legacy_octal_numbers`,
//! non-finite floats rejected, duplicate keys rejected, merge keys merged), and the differential
//! tests of this module compare both readers on thousands of scalars (every style and position),
//! numbers, tags, keys, merges, stream shapes, limits and random documents, and on the corpus.
//!
//! - Plain scalars: null for empty, `~`, `null`, `Null`, `NULL`; booleans only
//!   `true`/`True`/`TRUE`/`false`/`False`/`FALSE`; integers in decimal (optional sign,
//!   underscores between digits), `0x`, `0o`, `0b` and legacy octal (`0644` is 420); anything
//!   beyond `i64`/`u64` that Rust reads as a float becomes an `f64`; YAML 1.2 floats (`1.5`, `1e3`,
//!   `.5`); `.inf`, `.nan` and overflowing literals (`1e999`) are an error; uppercase radix
//!   prefixes (`0X1F`) and signed NaN (`-.nan`) stay strings; everything else is a string.
//!   `0999` (not octal) is the float 999.0, as in serde-saphyr (go-yaml v3 reads the float 999).
//! - Quoted and block scalars are strings. Tags: `!!str` and `!` force a string, `!!int`,
//!   `!!float`, `!!bool`, `!!null` resolve as such (an error if the text does not fit), `!!binary`
//!   is base64-decoded into a UTF-8 string (as go-yaml does for an untyped target),
//!   `!!timestamp` and the robotics tags are errors, unknown tags are dropped.
//! - Keys are strings: a plain `8443` or `true` key is the string `"8443"`/`"true"`; a null key,
//!   a tagged non-string key and a collection key are errors. Duplicate keys are errors, compared
//!   as serde-saphyr does (`1` and `0x1` are the same key; `"1"` and `1` are not, and the later
//!   value wins in the object).
//! - Anchors and aliases are expanded; `<<` merges keep the mapping's own keys first, then the
//!   merged keys in order, earlier sources winning.
//! - Limits: nesting deeper than [`limits::MAX_DEPTH`], and serde-saphyr's alias-bomb limits
//!   (1,000,000 replayed events per document; 1,000,000 events or 64 MiB recorded for anchors per
//!   stream, counting owned scalar text; 50,000 aliases; 50,000 anchors; 10,000 merge keys; at
//!   least 100 aliases and more than 10 per anchor), counted the same way. Its node, event,
//!   scalar-byte and document budgets are raised by the project beyond any input this process
//!   can hold, so they are not counted here.
//!
//! Reaching the alias limits the way serde-saphyr does means building up to a million replayed
//! values first (0.3 to 0.7 s for a billion-laughs document). Instead, once a document has
//! replayed 10,000 events, the rest of it is counted first without building anything
//! (`prescan`), and a document that would pass a limit is refused before its expansion is
//! built: the same documents are refused, in milliseconds (`read_timing --bombs`).


mod events;
pub mod limits;
mod scalar;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::rc::Rc;

use serde_json::{Map, Value, map::Entry as MapEntry};
use serde_saphyr::granit_parser::{
    Event, Options as ParserOptions, Parser, ScalarStyle, ScanError, Span, StrInput, Tag,
};

use events::*;
use limits::*;
use scalar::*;

/// Where an event starts in the text (line and column, both 1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Pos {
    line: u32,
    col: u32,
}

impl Pos {
    fn of(span: &Span) -> Pos {
        Pos { line: clamp(span.start.line()), col: clamp(span.start.col() + 1) }
    }
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The text could not be read: what went wrong and, when known, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    message: String,
    at: Option<Pos>,
}

impl ReadError {
    fn new(message: impl Into<String>, at: Pos) -> Self {
        ReadError { message: message.into(), at: Some(at) }
    }

    /// The line (1-based) the error points at, if known.
    pub fn line(&self) -> Option<u32> {
        self.at.map(|p| p.line)
    }

    /// The column (1-based) the error points at, if known.
    pub fn column(&self) -> Option<u32> {
        self.at.map(|p| p.col)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.at {
            Some(at) => write!(f, "{} at line {}, column {}", self.message, at.line, at.col),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ScanError> for ReadError {
    fn from(e: ScanError) -> Self {
        let mark = e.marker();
        ReadError { message: e.info(), at: Some(Pos { line: clamp(mark.line()), col: clamp(mark.col() + 1) }) }
    }
}

type Result<T> = std::result::Result<T, ReadError>;

// ------------------------------------------------------------------------------------------------
// Values

/// The entries of a merge source inside a captured node: key and value event ranges.
struct MergeEntry {
    key: Range<usize>,
    value: Range<usize>,
}

/// The length (in events) of the node that starts `events`.
fn node_len(events: &[Ev<'_>]) -> usize {
    let mut depth = 0usize;
    for (i, ev) in events.iter().enumerate() {
        match ev {
            Ev::SeqStart { .. } | Ev::MapStart { .. } => depth += 1,
            Ev::SeqEnd { .. } | Ev::MapEnd { .. } => depth = depth.saturating_sub(1),
            Ev::Scalar { .. } => {}
        }
        if depth == 0 {
            return i + 1;
        }
    }
    events.len()
}

/// The entries a `<<` value contributes, in order (serde-saphyr's `pending_entries_from_events`):
/// a null merges nothing, a mapping its entries (its own keys first, then its own merges), a
/// sequence the entries of each element in turn.
fn merge_entries(events: &[Ev<'_>], node: Range<usize>) -> Result<Vec<MergeEntry>> {
    match &events[node.start] {
        Ev::Scalar { text, style, tag, at } => {
            if scalar_is_null(tag.kind, text, *style) {
                Ok(Vec::new())
            } else {
                Err(ReadError::new("a merge value (<<) must be a mapping or a sequence of mappings", *at))
            }
        }
        Ev::MapStart { .. } => {
            let mut fields: Vec<MergeEntry> = Vec::new();
            let mut merged: Vec<MergeEntry> = Vec::new();
            let mut i = node.start + 1;
            while i < node.end && !matches!(events[i], Ev::MapEnd { .. }) {
                let key = i..i + node_len(&events[i..]);
                let value = key.end..key.end + node_len(&events[key.end..]);
                i = value.end;
                if key.len() == 1 && is_merge_key(&events[key.start]) {
                    merged.extend(merge_entries(events, value)?);
                } else {
                    fields.push(MergeEntry { key, value });
                }
            }
            let mut seen = HashSet::with_capacity(fields.len());
            for field in &fields {
                if !seen.insert(captured_key_id(events, &field.key)) {
                    let (text, at) = match &events[field.key.start] {
                        Ev::Scalar { text, at, .. } => (text.as_ref(), *at),
                        other => ("", other.at()),
                    };
                    return Err(duplicate_key_error(text, at));
                }
            }
            fields.extend(merged);
            Ok(fields)
        }
        Ev::SeqStart { .. } => {
            let mut out = Vec::new();
            let mut i = node.start + 1;
            while i < node.end && !matches!(events[i], Ev::SeqEnd { .. }) {
                let element = i..i + node_len(&events[i..]);
                i = element.end;
                out.extend(merge_entries(events, element)?);
            }
            Ok(out)
        }
        other => Err(ReadError::new("a merge value (<<) must be a mapping or a sequence of mappings", other.at())),
    }
}

fn captured_key_id<'a>(events: &[Ev<'a>], key: &Range<usize>) -> KeyId<'a> {
    match &events[key.start] {
        Ev::Scalar { text, style, tag, .. } => key_id(text, *style, tag),
        _ => KeyId::Collection(key.start),
    }
}

/// A recorded node being replayed as the value of a merged entry.
struct Replay<'a> {
    events: Rc<[Ev<'a>]>,
    idx: usize,
    end: usize,
}

/// The merge state of a mapping: its `<<` sources and, once its own entries are read, how far
/// their entries have been merged in. Boxed: most mappings have none.
#[derive(Default)]
struct MapExtra<'a> {
    /// The identities of the keys so far, once a key's identity is not simply its text.
    ids: Option<HashSet<KeyId<'a>>>,
    merges: Vec<(Rc<[Ev<'a>]>, Vec<MergeEntry>)>,
    flushing: bool,
    batch: usize,
    entry: usize,
}

/// A mapping being read.
struct MapFrame<'a> {
    map: Map<String, Value>,
    /// The key whose value is being read.
    key: PendingKey,
    extra: Option<Box<MapExtra<'a>>>,
}

/// The key of a mapping entry whose value is being read.
enum PendingKey {
    /// Between entries.
    None,
    /// A new key, already in the map with a placeholder value: its entry is the last one.
    Last,
    /// A key that may already be in the map (the later value replaces the earlier one).
    Key(String),
}

/// An open collection.
enum Frame<'a> {
    Seq(Vec<Value>),
    Map(MapFrame<'a>),
}

/// Hands a finished value to the collection it belongs to; returns it when it is the root.
fn deliver(stack: &mut [Frame<'_>], value: Value) -> Option<Value> {
    match stack.last_mut() {
        None => Some(value),
        Some(Frame::Seq(items)) => {
            items.push(value);
            None
        }
        Some(Frame::Map(m)) => {
            match std::mem::replace(&mut m.key, PendingKey::None) {
                PendingKey::Last => {
                    *m.map.values_mut().next_back().expect("the placeholder entry") = value;
                }
                PendingKey::Key(key) => {
                    m.map.insert(key, value);
                }
                PendingKey::None => unreachable!("a mapping value always follows its key"),
            }
            None
        }
    }
}

fn enter(depth: usize, at: Pos) -> Result<()> {
    if depth + 1 > MAX_DEPTH {
        return Err(ReadError::new(format!("nesting deeper than {MAX_DEPTH} levels"), at));
    }
    Ok(())
}

/// Builds values from events without recursion (an explicit stack of open collections), so that
/// the nesting limit, not the thread's stack, bounds what can be read.
struct Reader<'a> {
    live: Live<'a>,
    replays: Vec<Replay<'a>>,
    merge_keys: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader { live: Live::new(text), replays: Vec::new(), merge_keys: 0 }
    }

    /// The next event (from a replayed merge value first) and whether it came from the text.
    fn next_event(&mut self) -> Result<(Ev<'a>, bool)> {
        while let Some(r) = self.replays.last_mut() {
            if r.idx < r.end {
                let ev = r.events[r.idx].clone();
                r.idx += 1;
                return Ok((ev, false));
            }
            self.replays.pop();
        }
        match self.live.pull()? {
            Some(ev) => Ok((ev, true)),
            None => Err(ReadError::new("unexpected end of input", self.live.last)),
        }
    }

    fn count_merge_key(&mut self, at: Pos) -> Result<()> {
        self.merge_keys += 1;
        if self.merge_keys > MAX_MERGE_KEYS {
            return Err(ReadError::new(format!("more than {MAX_MERGE_KEYS} merge keys (<<)"), at));
        }
        Ok(())
    }

    /// Reads the node that starts with `first` (a document's root).
    fn node(&mut self, first: Ev<'a>) -> Result<Value> {
        let mut stack: Vec<Frame<'a>> = Vec::new();
        let mut next = Some((first, true));
        loop {
            let (ev, live) = match next.take() {
                Some(ev) => ev,
                None => {
                    let merging = match stack.last_mut() {
                        Some(Frame::Map(m)) if matches!(m.key, PendingKey::None) && m.extra.as_ref().is_some_and(|x| x.flushing) => {
                            Some(self.next_merged(m)?)
                        }
                        _ => None,
                    };
                    if merging == Some(false) {
                        // Every merge source is done: the mapping is complete.
                        let Some(Frame::Map(m)) = stack.pop() else { unreachable!() };
                        if let Some(root) = deliver(&mut stack, Value::Object(m.map)) {
                            return Ok(root);
                        }
                        continue;
                    }
                    self.next_event()?
                }
            };
            let depth = stack.len();
            let value = match stack.last_mut() {
                Some(Frame::Map(m)) if matches!(m.key, PendingKey::None) => {
                    if !matches!(ev, Ev::MapEnd { .. }) {
                        self.key(m, ev, live, depth)?;
                        continue;
                    }
                    if let Some(extra) = m.extra.as_mut().filter(|x| !x.merges.is_empty()) {
                        extra.flushing = true;
                        continue;
                    }
                    let Some(Frame::Map(m)) = stack.pop() else { unreachable!() };
                    Value::Object(m.map)
                }
                _ => match ev {
                    Ev::Scalar { text, style, tag, at } => scalar_value(text, style, &tag, at)?,
                    Ev::SeqStart { at } => {
                        enter(depth, at)?;
                        stack.push(Frame::Seq(Vec::new()));
                        continue;
                    }
                    Ev::MapStart { at } => {
                        enter(depth, at)?;
                        stack.push(Frame::Map(MapFrame { map: Map::new(), key: PendingKey::None, extra: None }));
                        continue;
                    }
                    Ev::SeqEnd { at } => match stack.pop() {
                        Some(Frame::Seq(items)) => Value::Array(items),
                        _ => return Err(ReadError::new("unexpected end of a sequence", at)),
                    },
                    Ev::MapEnd { at } => return Err(ReadError::new("unexpected end of a mapping", at)),
                },
            };
            if let Some(root) = deliver(&mut stack, value) {
                return Ok(root);
            }
        }
    }

    /// A key of mapping `m` (at nesting `depth`): checked against the keys so far, then pending
    /// until its value is read. A `<<` key records its value as a merge source instead.
    fn key(&mut self, m: &mut MapFrame<'a>, ev: Ev<'a>, live: bool, depth: usize) -> Result<()> {
        if is_merge_key(&ev) {
            if live {
                self.count_merge_key(ev.at())?;
            }
            let events = self.capture(depth)?;
            let entries = merge_entries(&events, 0..events.len())?;
            if !entries.is_empty() {
                m.extra.get_or_insert_with(Box::default).merges.push((events, entries));
            }
            return Ok(());
        }
        let (text, style, tag, at) = match ev {
            Ev::Scalar { text, style, tag, at } => (text, style, tag, at),
            Ev::SeqStart { at } | Ev::MapStart { at } => return Err(collection_key_error(at)),
            Ev::SeqEnd { at } | Ev::MapEnd { at } => return Err(ReadError::new("unexpected end of a collection", at)),
        };
        let ids = m.extra.as_mut().and_then(|x| x.ids.as_mut());
        if ids.is_none() && is_ordinary_key(&text, style, tag.kind) {
            // One lookup: the key goes in now with a placeholder that its value replaces.
            match m.map.entry(text.into_owned()) {
                MapEntry::Occupied(entry) => return Err(duplicate_key_error(entry.key(), at)),
                MapEntry::Vacant(entry) => {
                    entry.insert(Value::Null);
                }
            }
            m.key = PendingKey::Last;
            return Ok(());
        }
        let map = &m.map;
        let ids = m.extra.get_or_insert_with(Box::default).ids.get_or_insert_with(|| own_key_ids(map));
        if !ids.insert(key_id(&text, style, &tag)) {
            return Err(duplicate_key_error(&text, at));
        }
        m.key = PendingKey::Key(key_string(text, style, &tag, at)?);
        Ok(())
    }

    /// Sets up the next merged entry of `m` not already present: its key pending and its value
    /// replayed. False when every merge source is done.
    fn next_merged(&mut self, m: &mut MapFrame<'a>) -> Result<bool> {
        let map = &m.map;
        let extra = m.extra.as_mut().expect("a flushing mapping has merge sources");
        let ids = extra.ids.get_or_insert_with(|| own_key_ids(map));
        while let Some((events, entries)) = extra.merges.get(extra.batch) {
            let Some(entry) = entries.get(extra.entry) else {
                extra.batch += 1;
                extra.entry = 0;
                continue;
            };
            extra.entry += 1;
            if !ids.insert(captured_key_id(events, &entry.key)) {
                continue;
            }
            let Ev::Scalar { text, style, tag, at } = &events[entry.key.start] else {
                return Err(collection_key_error(events[entry.key.start].at()));
            };
            m.key = PendingKey::Key(key_string(text.clone(), *style, tag, *at)?);
            while self.replays.last().is_some_and(|r| r.idx >= r.end) {
                self.replays.pop();
            }
            self.replays.push(Replay { events: events.clone(), idx: entry.value.start, end: entry.value.end });
            return Ok(true);
        }
        Ok(false)
    }

    /// Records the next node (the value of a `<<` key inside a mapping at nesting `depth`).
    fn capture(&mut self, depth: usize) -> Result<Rc<[Ev<'a>]>> {
        const SEQ: u8 = 0;
        const KEY: u8 = 1;
        const VALUE: u8 = 2;
        let mut out = Vec::new();
        // Each open collection: a sequence, or a mapping expecting a key or a value.
        let mut open: Vec<u8> = Vec::new();
        loop {
            let (ev, live) = self.next_event()?;
            let complete = match &ev {
                Ev::Scalar { at, .. } => {
                    if live && open.last() == Some(&KEY) && is_merge_key(&ev) {
                        self.count_merge_key(*at)?;
                    }
                    true
                }
                Ev::SeqStart { at } | Ev::MapStart { at } => {
                    enter(depth + open.len(), *at)?;
                    open.push(if matches!(ev, Ev::MapStart { .. }) { KEY } else { SEQ });
                    false
                }
                Ev::SeqEnd { at } | Ev::MapEnd { at } => {
                    if open.pop().is_none() {
                        return Err(ReadError::new("unexpected end of a collection", *at));
                    }
                    true
                }
            };
            out.push(ev);
            if complete {
                match open.last_mut() {
                    None => return Ok(out.into()),
                    Some(state) if *state == KEY => *state = VALUE,
                    Some(state) if *state == VALUE => *state = KEY,
                    Some(_) => {}
                }
            }
        }
    }
}

/// The identities of a map's keys while they are all ordinary (their own text, string tag).
fn own_key_ids<'a>(map: &Map<String, Value>) -> HashSet<KeyId<'a>> {
    map.keys().map(|k| KeyId::Scalar { text: Cow::Owned(k.clone()), tag: KeyTag::String }).collect()
}

// ------------------------------------------------------------------------------------------------
// Entry points

/// Reads one YAML document. A text without any document is `null`; a second document is an error.
pub fn read_document(text: &str) -> std::result::Result<Value, ReadError> {
    let mut reader = Reader::new(text);
    let value = match reader.live.pull()? {
        None => Value::Null,
        Some(ev) => reader.node(ev)?,
    };
    if let Some(ev) = reader.live.pull()? {
        return Err(ReadError::new("more than one YAML document (expected one)", ev.at()));
    }
    reader.live.finish()?;
    Ok(value)
}

/// Reads every document of a YAML stream; null (and empty) documents are dropped.
pub fn read_stream(text: &str) -> std::result::Result<Vec<Value>, ReadError> {
    let mut reader = Reader::new(text);
    let mut docs = Vec::new();
    while let Some(ev) = reader.live.pull()? {
        let value = reader.node(ev)?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    reader.live.finish()?;
    Ok(docs)
}
