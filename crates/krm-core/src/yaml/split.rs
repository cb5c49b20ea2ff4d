//! Parsing and emitting the items of a large input on every core.
//!
//! A full Kubeflow render is 12 MB in one ResourceList, and YAML parsing is most of a function's
//! cost (measured in `bench/`). The items are independent documents, so they are split apart on
//! their text and parsed (and later emitted) in parallel, each exactly as serde-saphyr would
//! parse it in place: YAML indentation is relative, so removing the two columns every item line
//! has in `items:` does not change what it means.
//!
//! The split is only taken when the text has the plain shape every orchestrator writes (items as
//! `- ` entries at column 0, every other line of an item indented by two spaces or empty; no
//! directives or document markers). Anything else, and any item that fails to parse on its own
//! (an alias to an anchor in another item, say), falls back to the ordinary whole-document parse,
//! which also gives the error message with the real line numbers.

use serde_json::Value;

/// Inputs smaller than this are parsed in one piece (threads cost more than they save).
pub const MIN_PARALLEL_BYTES: usize = 256 * 1024;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(8)
}

/// Applies `f` to every element, on up to one thread per core (at most 8), keeping the order.
pub fn map<T: Sync, R: Send>(inputs: &[T], weight: impl Fn(&T) -> usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let n = threads();
    if n < 2 || inputs.len() < 2 {
        return inputs.iter().map(f).collect();
    }
    // Contiguous groups of about equal weight.
    let total: usize = inputs.iter().map(&weight).sum::<usize>().max(1);
    let mut groups: Vec<&[T]> = Vec::with_capacity(n);
    let mut start = 0;
    let mut acc = 0;
    for (i, input) in inputs.iter().enumerate() {
        acc += weight(input);
        if acc * n >= total * (groups.len() + 1) && groups.len() + 1 < n {
            groups.push(&inputs[start..=i]);
            start = i + 1;
        }
    }
    groups.push(&inputs[start..]);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| scope.spawn(move || group.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a parse thread never panics")).collect()
    })
}

/// A ResourceList split apart: the document without its items (`items: []` in their place) and
/// the text of each item, a slice of the input that reads as a one-entry YAML list (`- ...`).
pub struct SplitList<'a> {
    /// The ResourceList with `items: []`.
    pub shell: String,
    /// One `- ` list entry per item, as it stands in the input.
    pub items: Vec<&'a str>,
}

/// Splits a ResourceList's text at its items, if it has the plain shape (see the module docs).
/// No item text is copied.
/// (The callers only split inputs of [`MIN_PARALLEL_BYTES`] or more.)
pub fn split_items(text: &str) -> Option<SplitList<'_>> {
    let mut shell = String::with_capacity(4096);
    let mut items: Vec<&str> = Vec::new();
    let mut state = 0; // 0: before `items:`, 1: in the items, 2: after them
    let mut item_start: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let at = offset;
        offset += line.len();
        let first = line.as_bytes().first().copied();
        if matches!(first, Some(b'%')) || line.starts_with("---") || line.starts_with("...") {
            return None;
        }
        match state {
            0 => {
                if line.trim_end() == "items:" {
                    state = 1;
                    shell.push_str("items: []\n");
                } else {
                    shell.push_str(line);
                }
            }
            1 => match first {
                Some(b' ' | b'\n' | b'\r') => {}
                Some(b'-') if line.starts_with("- ") || line.trim_end() == "-" => {
                    if let Some(start) = item_start.replace(at) {
                        items.push(&text[start..at]);
                    }
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    // The next top-level key: the items are over.
                    if let Some(start) = item_start.take() {
                        items.push(&text[start..at]);
                    }
                    state = 2;
                    shell.push_str(line);
                }
                _ => return None,
            },
            _ => {
                if line.trim_end() == "items:" {
                    return None;
                }
                shell.push_str(line);
            }
        }
    }
    if let Some(start) = item_start {
        items.push(&text[start..]);
    }
    if items.is_empty() {
        return None;
    }
    Some(SplitList { shell, items })
}

/// Splits a multi-document stream at its `---` lines, if it has the plain shape.
/// (The callers only split inputs of [`MIN_PARALLEL_BYTES`] or more.)
pub fn split_stream(text: &str) -> Option<Vec<&str>> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare.starts_with("---") || bare.starts_with("...") || bare.starts_with('%') {
            if bare != "---" {
                return None;
            }
            docs.push(&text[start..offset]);
            start = offset + line.len();
        }
        offset += line.len();
    }
    docs.push(&text[start..]);
    Some(docs)
}

/// Writes items as the `items:` list of a ResourceList, on every core: each item is emitted as a
/// one-entry list, which is exactly the serializer's own nested form (`- apiVersion: ...`).
pub fn emit_items<E: Send>(items: &[Value], emit: impl Fn(&[&Value]) -> Result<String, E> + Sync) -> Result<String, E> {
    let texts = map(items, |_| 1, |item| emit(&[item]));
    let mut out = String::with_capacity(texts.iter().map(|t| t.as_ref().map_or(0, String::len)).sum::<usize>() + 8);
    out.push_str("items:\n");
    for text in texts {
        out.push_str(&text?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_order() {
        let v: Vec<usize> = (0..1000).collect();
        assert_eq!(map(&v, |_| 1, |x| x * 2), v.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn splits_items_and_refuses_odd_shapes() {
        let item = "- apiVersion: v1\n  kind: ConfigMap\n  data:\n    k: |\n      line\n\n      more\n";
        let text = format!("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}functionConfig:\n  a: 1\n", item.repeat(20_000));
        let split = split_items(&text).unwrap();
        assert_eq!(split.items.len(), 20_000);
        assert_eq!(split.items[0], item);
        assert!(split.shell.contains("items: []\nfunctionConfig:\n  a: 1\n"));
        let odd = format!("{text}\n--- \n");
        assert!(split_items(&odd).is_none());
        let col0 = text.replacen("  kind: ConfigMap", "#c\n  kind: ConfigMap", 1);
        assert!(split_items(&col0).is_none());
    }
}
