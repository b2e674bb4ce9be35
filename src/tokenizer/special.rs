//! Finding special tokens (`<|im_start|>`, `<|endoftext|>`, ...) in raw text before BPE.
//!
//! Control and unknown tokens (GGUF types 3 and 2) are matched only when the caller asks
//! (`parse_special`), so user text cannot forge a chat turn; user-defined tokens (type 4)
//! are always matched, as llama.cpp and Hugging Face (non-special added tokens) do. Matching
//! is leftmost-longest over the raw text, like Hugging Face's added-token splitter; the text
//! between matches goes on to pre-tokenization. This module never touches that text.

/// A piece of the input: plain text for BPE, or one special token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Segment<'t> {
    Text(&'t str),
    Special(u32),
}

/// One matchable token.
#[derive(Debug)]
struct Entry {
    text: String,
    id: u32,
    /// Matched even when `parse_special` is false (user-defined tokens).
    always: bool,
}

/// The special tokens of a vocabulary, grouped by first byte for a cheap scan.
#[derive(Debug)]
pub(crate) struct SpecialMatcher {
    /// `by_first_byte[b]`: entries starting with byte `b`, longest first.
    by_first_byte: Vec<Vec<Entry>>,
}

impl SpecialMatcher {
    /// A matcher over `(text, id, always)` triples; empty texts are ignored.
    pub(crate) fn new(tokens: impl IntoIterator<Item = (String, u32, bool)>) -> Self {
        let mut by_first_byte: Vec<Vec<Entry>> = (0..256).map(|_| Vec::new()).collect();
        for (text, id, always) in tokens {
            if let Some(&first) = text.as_bytes().first() {
                by_first_byte[usize::from(first)].push(Entry { text, id, always });
            }
        }
        for entries in &mut by_first_byte {
            entries.sort_by(|a, b| b.text.len().cmp(&a.text.len()).then(a.id.cmp(&b.id)));
        }
        Self { by_first_byte }
    }

    /// Calls `segment` with the pieces of `text` in order: plain text runs and special
    /// tokens. Control tokens are only recognised when `parse_special` is true.
    pub(crate) fn split<'t>(
        &self,
        text: &'t str,
        parse_special: bool,
        mut segment: impl FnMut(Segment<'t>),
    ) {
        let bytes = text.as_bytes();
        let mut plain_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            let found = if text.is_char_boundary(i) {
                self.by_first_byte[usize::from(bytes[i])].iter().find(|e| {
                    (parse_special || e.always) && bytes[i..].starts_with(e.text.as_bytes())
                })
            } else {
                None
            };
            match found {
                Some(entry) => {
                    if plain_start < i {
                        segment(Segment::Text(&text[plain_start..i]));
                    }
                    segment(Segment::Special(entry.id));
                    i += entry.text.len();
                    plain_start = i;
                }
                None => i += 1,
            }
        }
        if plain_start < bytes.len() {
            segment(Segment::Text(&text[plain_start..]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(m: &SpecialMatcher, text: &str, parse: bool) -> Vec<String> {
        let mut out = Vec::new();
        m.split(text, parse, |s| {
            out.push(match s {
                Segment::Text(t) => format!("T:{t}"),
                Segment::Special(id) => format!("S:{id}"),
            })
        });
        out
    }

    #[test]
    fn leftmost_longest_and_flags() {
        let m = SpecialMatcher::new([
            ("<a>".to_owned(), 1, false),
            ("<a><b>".to_owned(), 2, false),
            ("<u>".to_owned(), 3, true),
            (String::new(), 4, false),
        ]);
        assert_eq!(split(&m, "x<a><b>y<a>", true), ["T:x", "S:2", "T:y", "S:1"]);
        assert_eq!(split(&m, "x<a><b>y<u>", false), ["T:x<a><b>y", "S:3"]);
        assert_eq!(split(&m, "<u><u>", true), ["S:3", "S:3"]);
        assert_eq!(split(&m, "", true), Vec::<String>::new());
        assert_eq!(split(&m, "é<a", true), ["T:é<a"]);
    }
}
