//! Limits: serde-saphyr's alias-bomb budget (the same limits, counted the same way) and the
//! pre-scan that refuses a document before its expansion is built.

use super::*;

/// Deepest nesting accepted. A Kubeflow ResourceList reaches 49; CRD schemas are the deepest.
pub const MAX_DEPTH: usize = 256;

/// Replayed alias events per document (serde-saphyr `AliasLimits::max_total_replayed_events`).
pub(super) const MAX_REPLAYED_EVENTS: usize = 1_000_000;
/// Events copied into anchor recordings per stream (`Budget::max_recorded_anchor_events`).
pub(super) const MAX_RECORDED_ANCHOR_EVENTS: usize = 1_000_000;
/// Owned bytes copied into anchor recordings per stream (`Budget::max_recorded_anchor_bytes`).
pub(super) const MAX_RECORDED_ANCHOR_BYTES: usize = 64 << 20;
/// Bytes of scalar text that aliases may replay in one document: 16 MiB. This limit is the
/// project's own (serde-saphyr counts events, not bytes): a 10 KB document with one large
/// anchored string and nine aliases per level stays within the event limits and expands to over
/// 600 MB. No Kubernetes render uses aliases (kustomize writes none); a hand-written config
/// that does stays far below. Checked before each alias is replayed, so at most this much is
/// built.
pub const MAX_REPLAYED_BYTES: usize = 16 << 20;
/// Replayed events in a document after which the rest of the document is counted first, without
/// building anything, so that an alias bomb is refused before its expansion is built.
pub(super) const PRESCAN_AFTER_REPLAYED: usize = 10_000;
/// Alias references per stream (`Budget::max_aliases`).
pub(super) const MAX_ALIASES: usize = 50_000;
/// Anchor definitions per stream (`Budget::max_anchors`).
pub(super) const MAX_ANCHORS: usize = 50_000;
/// Merge keys per stream (`Budget::max_merge_keys`).
pub(super) const MAX_MERGE_KEYS: usize = 10_000;
/// The alias/anchor heuristic (`Budget::alias_anchor_min_aliases`, `alias_anchor_ratio_multiplier`).
pub(super) const RATIO_MIN_ALIASES: usize = 100;
pub(super) const RATIO_MULTIPLIER: usize = 10;

/// Counts what reading one document would record and replay, building nothing: the same
/// accounting as [`Live`], over `text` (the document and whatever follows it; the count stops at
/// the document's end). Returns the limit error the read would reach, if any; a text the parser
/// refuses here (say, a `%TAG` handle defined before the document) is left to the read.
/// `line_offset` is the number of lines before `text` in the input.
pub(super) fn prescan(text: &str, mut c: Counts, line_offset: u32) -> Option<ReadError> {
    struct Open {
        id: usize,
        depth: usize,
        size: usize,
        owned: usize,
    }
    fn record(open: &mut [Open], skip_last: bool, owned: usize, c: &mut Counts, at: Pos) -> Option<ReadError> {
        let n = open.len() - usize::from(skip_last);
        for frame in &mut open[..n] {
            frame.size += 1;
            frame.owned += owned;
        }
        recorded(n, owned.saturating_mul(n), c, at)
    }
    fn recorded(events: usize, bytes: usize, c: &mut Counts, at: Pos) -> Option<ReadError> {
        c.recorded_events = c.recorded_events.saturating_add(events);
        c.recorded_bytes = c.recorded_bytes.saturating_add(bytes);
        if c.recorded_events > MAX_RECORDED_ANCHOR_EVENTS {
            return Some(ReadError::new(format!("anchors record more than {MAX_RECORDED_ANCHOR_EVENTS} events (alias bomb?)"), at));
        }
        if c.recorded_bytes > MAX_RECORDED_ANCHOR_BYTES {
            return Some(ReadError::new(format!("anchors record more than {MAX_RECORDED_ANCHOR_BYTES} bytes (alias bomb?)"), at));
        }
        None
    }
    fn define(c: &mut Counts, at: Pos) -> Option<ReadError> {
        c.anchors += 1;
        (c.anchors > MAX_ANCHORS).then(|| ReadError::new(format!("more than {MAX_ANCHORS} anchors"), at))
    }
    let mut sizes: Vec<(usize, usize)> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut replayed = 0usize;
    let mut started = false;
    for item in Parser::new_from_str_with_options(text, parser_options()) {
        let (event, span) = item.ok()?;
        let mut at = Pos::of(&span);
        at.line = at.line.saturating_add(line_offset);
        match event {
            Event::DocumentStart(..) if started => return None,
            Event::DocumentStart(..) => started = true,
            Event::DocumentEnd => return None,
            Event::Scalar(value, _, anchor, _) => {
                let owned = if let Cow::Owned(v) = &value { v.len() } else { 0 };
                if let Some(e) = record(&mut open, false, owned, &mut c, at) {
                    return Some(e);
                }
                if anchor != 0 {
                    if let Some(e) = define(&mut c, at).or_else(|| recorded(1, owned, &mut c, at)) {
                        return Some(e);
                    }
                    if anchor >= sizes.len() {
                        sizes.resize(anchor + 8, (0, 0));
                    }
                    sizes[anchor] = (1, owned);
                }
            }
            Event::SequenceStart(_, anchor, _) | Event::MappingStart(_, anchor, _) => {
                for frame in &mut open {
                    frame.depth += 1;
                }
                if anchor != 0 {
                    if let Some(e) = define(&mut c, at).or_else(|| recorded(1, 0, &mut c, at)) {
                        return Some(e);
                    }
                    open.push(Open { id: anchor, depth: 1, size: 1, owned: 0 });
                }
                if let Some(e) = record(&mut open, anchor != 0, 0, &mut c, at) {
                    return Some(e);
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(e) = record(&mut open, false, 0, &mut c, at) {
                    return Some(e);
                }
                for frame in &mut open {
                    frame.depth = frame.depth.saturating_sub(1);
                }
                while open.last().is_some_and(|f| f.depth == 0) {
                    let done = open.pop()?;
                    if done.id >= sizes.len() {
                        sizes.resize(done.id + 8, (0, 0));
                    }
                    sizes[done.id] = (done.size, done.owned);
                }
            }
            Event::Alias(id) => {
                c.aliases += 1;
                if c.aliases > MAX_ALIASES {
                    return Some(ReadError::new(format!("more than {MAX_ALIASES} aliases"), at));
                }
                if open.iter().any(|f| f.id == id) {
                    return None;
                }
                let (size, owned) = sizes.get(id).copied().filter(|s| s.0 > 0)?;
                replayed = replayed.saturating_add(size);
                if replayed > MAX_REPLAYED_EVENTS {
                    return Some(ReadError::new(format!("aliases expand to more than {MAX_REPLAYED_EVENTS} events (alias bomb?)"), at));
                }
                let n = open.len();
                if let Some(e) = recorded(n.saturating_mul(size), n.saturating_mul(owned), &mut c, at) {
                    return Some(e);
                }
                for frame in &mut open {
                    frame.size += size;
                    frame.owned += owned;
                }
            }
            _ => {}
        }
    }
    None
}
