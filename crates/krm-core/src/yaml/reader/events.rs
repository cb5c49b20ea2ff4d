//! Events: the live parser with anchors recorded and aliases replayed, counted against the
//! limits of [`super::limits`] as they arrive.

use super::*;

// ------------------------------------------------------------------------------------------------
// Events

/// One node event, with aliases already expanded and document markers removed.
#[derive(Clone, Debug)]
pub(super) enum Ev<'a> {
    Scalar { text: Cow<'a, str>, style: ScalarStyle, tag: NodeTag, at: Pos },
    SeqStart { at: Pos },
    SeqEnd { at: Pos },
    MapStart { at: Pos },
    MapEnd { at: Pos },
}

impl Ev<'_> {
    pub(super) fn at(&self) -> Pos {
        match self {
            Ev::Scalar { at, .. } | Ev::SeqStart { at } | Ev::SeqEnd { at } | Ev::MapStart { at } | Ev::MapEnd { at } => *at,
        }
    }

    /// Bytes of scalar text this event carries, borrowed or owned (the alias expansion budget
    /// counts these).
    pub(super) fn text_bytes(&self) -> usize {
        match self {
            Ev::Scalar { text, .. } => text.len(),
            _ => 0,
        }
    }

    /// Bytes this event owns (serde-saphyr's recorded-anchor byte budget counts these).
    pub(super) fn owned_bytes(&self) -> usize {
        match self {
            Ev::Scalar { text: Cow::Owned(text), .. } => text.len(),
            _ => 0,
        }
    }
}

/// The parser options serde-saphyr 2.2 derives from the project's budget (`Budget::parser_options`
/// with `max_depth` 256; comments are not emitted because its `comments` feature is off).
pub(super) fn parser_options() -> ParserOptions {
    let mut options = ParserOptions::default();
    options.simple_key_max_lookahead = 1024;
    options.flow_nesting_limit = 255;
    options.block_nesting_limit = options.block_nesting_limit.max(MAX_DEPTH + 1);
    options.emit_comments = false;
    options.strict_indentation = false;
    options.bom_inside_document_as_content = false;
    options
}

/// A recorded anchored node: its events, with the aliases inside it kept as references.
pub(super) struct Anchor<'a> {
    pub(super) items: Box<[Item<'a>]>,
    /// Events once every reference is expanded (what serde-saphyr's copy would hold).
    pub(super) size: usize,
    /// Bytes those events own (serde-saphyr's recorded-anchor byte budget counts these).
    pub(super) owned: usize,
    /// Bytes of scalar text once every reference is expanded ([`MAX_REPLAYED_BYTES`]).
    pub(super) text: usize,
}

/// One element of a recording: an event, or an alias expanded when replayed.
pub(super) enum Item<'a> {
    Ev(Ev<'a>),
    Ref(Rc<Anchor<'a>>),
}

/// An anchored node being recorded: its anchor id, open containers and what it holds so far.
pub(super) struct Recording<'a> {
    pub(super) id: usize,
    pub(super) depth: usize,
    pub(super) items: Vec<Item<'a>>,
    pub(super) size: usize,
    pub(super) owned: usize,
    pub(super) text: usize,
}

/// The live parser with anchors recorded and aliases replayed (serde-saphyr's `LiveEvents`).
///
/// serde-saphyr copies every event, replayed ones included, into each open anchor recording and
/// counts them against its budget. Here an alias inside a recording is stored once as a reference
/// and counted arithmetically (its expanded size times the open recordings), and a replay is
/// checked against the per-document limit before it starts: the same limits, reached with the
/// same counts, without the copies.
pub(super) struct Live<'a> {
    pub(super) parser: Parser<'a, StrInput<'a>>,
    pub(super) failed: bool,
    pub(super) anchors: Vec<Option<Rc<Anchor<'a>>>>,
    pub(super) recording: Vec<Recording<'a>>,
    /// The anchors being replayed, innermost last, with the next item of each.
    pub(super) replay: Vec<(Rc<Anchor<'a>>, usize)>,
    pub(super) replayed: usize,
    /// Bytes of scalar text replayed by aliases in this document.
    pub(super) replayed_bytes: usize,
    pub(super) aliases: usize,
    pub(super) anchors_defined: usize,
    pub(super) recorded_events: usize,
    pub(super) recorded_bytes: usize,
    pub(super) last: Pos,
    pub(super) text: &'a str,
    /// Where the current document starts (byte offset of its first line, and that line), and
    /// the stream-wide counts at that point.
    pub(super) doc_start: Option<(usize, u32)>,
    pub(super) doc_counts: Counts,
    pub(super) prescanned: bool,
}

/// The stream-wide counts an alias bomb drives up (see [`prescan`]).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counts {
    pub(super) aliases: usize,
    pub(super) anchors: usize,
    pub(super) recorded_events: usize,
    pub(super) recorded_bytes: usize,
}

impl<'a> Live<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Live {
            parser: Parser::new_from_str_with_options(text, parser_options()),
            failed: false,
            anchors: Vec::new(),
            recording: Vec::new(),
            replay: Vec::new(),
            replayed: 0,
            replayed_bytes: 0,
            aliases: 0,
            anchors_defined: 0,
            recorded_events: 0,
            recorded_bytes: 0,
            last: Pos::default(),
            text,
            doc_start: None,
            doc_counts: Counts::default(),
            prescanned: false,
        }
    }

    pub(super) fn counts(&self) -> Counts {
        Counts {
            aliases: self.aliases,
            anchors: self.anchors_defined,
            recorded_events: self.recorded_events,
            recorded_bytes: self.recorded_bytes,
        }
    }

    /// Counts `events` events owning `bytes` bytes copied into anchor recordings.
    pub(super) fn count_recorded(&mut self, events: usize, bytes: usize, at: Pos) -> Result<()> {
        self.recorded_events = self.recorded_events.saturating_add(events);
        if self.recorded_events > MAX_RECORDED_ANCHOR_EVENTS {
            return Err(ReadError::new(
                format!("anchors record more than {MAX_RECORDED_ANCHOR_EVENTS} events (alias bomb?)"),
                at,
            ));
        }
        self.recorded_bytes = self.recorded_bytes.saturating_add(bytes);
        if self.recorded_bytes > MAX_RECORDED_ANCHOR_BYTES {
            return Err(ReadError::new(
                format!("anchors record more than {MAX_RECORDED_ANCHOR_BYTES} bytes (alias bomb?)"),
                at,
            ));
        }
        Ok(())
    }

    /// Copies a live event into every open recording except `skip_last` (a frame just seeded
    /// with it).
    pub(super) fn record(&mut self, ev: &Ev<'a>, skip_last: bool) -> Result<()> {
        let n = self.recording.len() - usize::from(skip_last);
        let owned = ev.owned_bytes();
        for i in 0..n {
            self.count_recorded(1, owned, ev.at())?;
            let frame = &mut self.recording[i];
            frame.items.push(Item::Ev(ev.clone()));
            frame.size += 1;
            frame.owned += owned;
            frame.text += ev.text_bytes();
        }
        Ok(())
    }

    pub(super) fn start(&mut self, ev: &Ev<'a>, anchor: usize) -> Result<()> {
        if self.recording.is_empty() && anchor == 0 {
            return Ok(());
        }
        for frame in &mut self.recording {
            frame.depth += 1;
        }
        if anchor != 0 {
            self.define_anchor(ev.at())?;
            let owned = ev.owned_bytes();
            self.count_recorded(1, owned, ev.at())?;
            self.recording.push(Recording { id: anchor, depth: 1, items: vec![Item::Ev(ev.clone())], size: 1, owned, text: 0 });
        }
        self.record(ev, anchor != 0)
    }

    pub(super) fn end(&mut self, ev: &Ev<'a>) -> Result<()> {
        if self.recording.is_empty() {
            return Ok(());
        }
        self.record(ev, false)?;
        for frame in &mut self.recording {
            frame.depth -= 1;
        }
        while self.recording.last().is_some_and(|f| f.depth == 0) {
            let done = self.recording.pop().expect("checked above");
            let anchor = Anchor { items: done.items.into_boxed_slice(), size: done.size, owned: done.owned, text: done.text };
            self.store_anchor(done.id, anchor);
        }
        Ok(())
    }

    pub(super) fn store_anchor(&mut self, id: usize, anchor: Anchor<'a>) {
        if id >= self.anchors.len() {
            self.anchors.resize_with(id + 8, || None);
        }
        self.anchors[id] = Some(Rc::new(anchor));
    }

    pub(super) fn define_anchor(&mut self, at: Pos) -> Result<()> {
        self.anchors_defined += 1;
        if self.anchors_defined > MAX_ANCHORS {
            return Err(ReadError::new(format!("more than {MAX_ANCHORS} anchors"), at));
        }
        Ok(())
    }

    pub(super) fn reset_document(&mut self) {
        self.replay.clear();
        self.recording.clear();
        self.anchors.fill(None);
        self.replayed = 0;
        self.replayed_bytes = 0;
    }

    /// An alias: checked against the limits, recorded by reference, then replayed.
    pub(super) fn alias(&mut self, id: usize, at: Pos) -> Result<()> {
        self.aliases += 1;
        if self.aliases > MAX_ALIASES {
            return Err(ReadError::new(format!("more than {MAX_ALIASES} aliases"), at));
        }
        if self.recording.iter().any(|f| f.id == id) {
            return Err(ReadError::new("an alias refers to its own anchor (recursive data)", at));
        }
        let Some(anchor) = self.anchors.get(id).and_then(Option::clone) else {
            return Err(ReadError::new("unknown anchor", at));
        };
        self.replayed = self.replayed.saturating_add(anchor.size);
        self.replayed_bytes = self.replayed_bytes.saturating_add(anchor.text);
        if self.replayed_bytes > MAX_REPLAYED_BYTES {
            return Err(ReadError::new(
                format!("aliases expand to more than {} MiB of text (alias bomb?)", MAX_REPLAYED_BYTES >> 20),
                at,
            ));
        }
        if self.replayed > MAX_REPLAYED_EVENTS {
            return Err(ReadError::new(
                format!("aliases expand to more than {MAX_REPLAYED_EVENTS} events (alias bomb?)"),
                at,
            ));
        }
        if self.replayed > PRESCAN_AFTER_REPLAYED && !self.prescanned {
            self.prescanned = true;
            if let Some((byte, line)) = self.doc_start {
                if let Some(err) = prescan(&self.text[byte..], self.doc_counts, line.saturating_sub(1)) {
                    return Err(err);
                }
            }
        }
        let open = self.recording.len();
        if open > 0 {
            self.count_recorded(open.saturating_mul(anchor.size), open.saturating_mul(anchor.owned), at)?;
            for frame in &mut self.recording {
                frame.items.push(Item::Ref(anchor.clone()));
                frame.size += anchor.size;
                frame.owned += anchor.owned;
                frame.text += anchor.text;
            }
        }
        self.replay.push((anchor, 0));
        Ok(())
    }

    pub(super) fn pull(&mut self) -> Result<Option<Ev<'a>>> {
        // Replayed events need no recording: an open recording holds the alias itself, and
        // a replayed node is balanced, so no recording starts or ends inside it.
        while let Some((anchor, idx)) = self.replay.last_mut() {
            match anchor.items.get(*idx) {
                None => {
                    self.replay.pop();
                }
                Some(Item::Ref(inner)) => {
                    let inner = inner.clone();
                    *idx += 1;
                    self.replay.push((inner, 0));
                }
                Some(Item::Ev(ev)) => {
                    let ev = ev.clone();
                    *idx += 1;
                    return Ok(Some(ev));
                }
            }
        }
        loop {
            if self.failed {
                return Ok(None);
            }
            let Some(item) = self.parser.next() else {
                return Ok(None);
            };
            let (event, span) = match item {
                Ok(item) => item,
                Err(e) => {
                    self.failed = true;
                    return Err(e.into());
                }
            };
            let at = Pos::of(&span);
            self.last = at;
            match event {
                Event::Scalar(text, style, anchor, tag) => {
                    let ev = Ev::Scalar { text, style, tag: node_tag(tag, 1, at)?, at };
                    if !self.recording.is_empty() {
                        self.record(&ev, false)?;
                    }
                    if anchor != 0 {
                        self.define_anchor(at)?;
                        let owned = ev.owned_bytes();
                        self.count_recorded(1, owned, at)?;
                        let text = ev.text_bytes();
                        self.store_anchor(anchor, Anchor { items: Box::new([Item::Ev(ev.clone())]), size: 1, owned, text });
                    }
                    return Ok(Some(ev));
                }
                Event::SequenceStart(_, anchor, tag) => {
                    node_tag(tag, 2, at)?;
                    let ev = Ev::SeqStart { at };
                    self.start(&ev, anchor)?;
                    return Ok(Some(ev));
                }
                Event::MappingStart(_, anchor, tag) => {
                    node_tag(tag, 3, at)?;
                    let ev = Ev::MapStart { at };
                    self.start(&ev, anchor)?;
                    return Ok(Some(ev));
                }
                Event::SequenceEnd => {
                    let ev = Ev::SeqEnd { at };
                    self.end(&ev)?;
                    return Ok(Some(ev));
                }
                Event::MappingEnd => {
                    let ev = Ev::MapEnd { at };
                    self.end(&ev)?;
                    return Ok(Some(ev));
                }
                Event::Alias(id) => {
                    self.alias(id, at)?;
                    return self.pull();
                }
                Event::DocumentStart(..) => {
                    self.reset_document();
                    self.prescanned = false;
                    self.doc_counts = self.counts();
                    self.doc_start = span.start.byte_offset().and_then(|byte| {
                        let line_start = self.text.get(..byte)?.rfind('\n').map_or(0, |i| i + 1);
                        Some((line_start, clamp(span.start.line())))
                    });
                }
                Event::DocumentEnd => self.reset_document(),
                Event::StreamStart | Event::StreamEnd => {}
                _ => return Err(ReadError::new("unsupported event from the YAML parser", at)),
            }
        }
    }

    /// Stream-wide checks made once everything is read (serde-saphyr's post-scan heuristics).
    pub(super) fn finish(&self) -> Result<()> {
        let (aliases, anchors) = (self.aliases, self.anchors_defined);
        if aliases >= RATIO_MIN_ALIASES && (anchors == 0 || aliases > RATIO_MULTIPLIER * anchors) {
            return Err(ReadError::new(
                format!("{aliases} aliases for {anchors} anchors: more than {RATIO_MULTIPLIER} per anchor (alias bomb?)"),
                self.last,
            ));
        }
        Ok(())
    }
}
