//! Token-aware chunking: cuts a document into pieces of at most `max_tokens` tokens,
//! preferring paragraph boundaries, then sentence boundaries (and line breaks), then
//! whitespace between words, and as a last resort cutting inside a word at a character
//! boundary. Chunks are byte ranges of the text, in order, never empty, trimmed of
//! surrounding whitespace; everything outside them is whitespace.
//!
//! Tokens are counted by the caller's function (the model's tokenizer in practice), so a
//! chunk's count is exactly what the model will see for that text. This module never
//! reads a file or runs a model.

use std::ops::Range;

/// A chunk of the document: its byte range (trimmed) and its token count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub range: Range<usize>,
    pub tokens: usize,
}

/// Where a level may cut, given a whitespace run and the text before it.
type Boundary = fn(run: &str, before: &str) -> bool;

/// The levels tried in order; the last resort (cutting inside words) comes after them.
const LEVELS: [Boundary; 3] = [paragraph_break, sentence_break, word_break];

/// A blank line (two or more line breaks in one whitespace run) ends a paragraph.
fn paragraph_break(run: &str, _before: &str) -> bool {
    run.matches('\n').count() >= 2
}

/// A sentence ends at `.`, `!` or `?` (possibly followed by a closing quote or bracket)
/// before whitespace; a line break also ends one (lists, headings, verse).
fn sentence_break(run: &str, before: &str) -> bool {
    if run.contains('\n') {
        return true;
    }
    let mut last = before.chars().rev();
    match last.next() {
        Some('.' | '!' | '?') => true,
        Some('"' | '\'' | ')' | ']' | '”' | '’') => {
            matches!(last.next(), Some('.' | '!' | '?'))
        }
        _ => false,
    }
}

/// Any whitespace separates words.
fn word_break(_run: &str, _before: &str) -> bool {
    true
}

/// Splits `text` into chunks of at most `max_tokens` tokens as counted by `count`
/// (which must count the tokens of a string without special tokens). Empty or
/// whitespace-only text gives no chunks. `max_tokens` should be at least 4, so that any
/// single UTF-8 character fits; a character that alone exceeds it becomes its own chunk.
pub fn chunk(text: &str, max_tokens: usize, count: &dyn Fn(&str) -> usize) -> Vec<Chunk> {
    let mut pieces = Vec::new();
    split(text, 0..text.len(), 0, max_tokens, count, &mut pieces);
    pack(text, &pieces, max_tokens, count)
}

/// Appends to `out` the pieces of `text[range]` that fit in `max` tokens, cutting at the
/// boundaries of `LEVELS[level]` and going one level finer for any piece still too long.
fn split(
    text: &str,
    range: Range<usize>,
    level: usize,
    max: usize,
    count: &dyn Fn(&str) -> usize,
    out: &mut Vec<Chunk>,
) {
    let Some(&boundary) = LEVELS.get(level) else {
        cut_inside_word(text, range, max, count, out);
        return;
    };
    for segment in segments(text, range, boundary) {
        let tokens = count(&text[segment.clone()]);
        if tokens <= max {
            out.push(Chunk {
                range: segment,
                tokens,
            });
        } else {
            split(text, segment, level + 1, max, count, out);
        }
    }
}

/// The trimmed, non-empty segments of `text[range]` between whitespace runs where
/// `boundary` says to cut.
fn segments(text: &str, range: Range<usize>, boundary: Boundary) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = range.start;
    let mut run_start: Option<usize> = None;
    let push = |from: usize, to: usize, out: &mut Vec<Range<usize>>| {
        if let Some(r) = trimmed(text, from..to) {
            out.push(r);
        }
    };
    for (i, c) in text[range.clone()].char_indices() {
        let i = range.start + i;
        if c.is_whitespace() {
            run_start.get_or_insert(i);
        } else if let Some(rs) = run_start.take() {
            if boundary(&text[rs..i], &text[start..rs]) {
                push(start, rs, &mut out);
                start = i;
            }
        }
    }
    push(start, range.end, &mut out);
    out
}

/// `range` without surrounding whitespace, or `None` if nothing is left.
fn trimmed(text: &str, range: Range<usize>) -> Option<Range<usize>> {
    let s = &text[range.clone()];
    let lead = s.len() - s.trim_start().len();
    let kept = s.trim().len();
    (kept > 0).then(|| range.start + lead..range.start + lead + kept)
}

/// Last resort for a run without usable whitespace: cut at character boundaries. A
/// byte-level BPE token covers at least one byte, so `max` bytes always fit; longer
/// attempts (4 bytes per token, typical of English) are tried first and shrunk until
/// they fit.
fn cut_inside_word(
    text: &str,
    range: Range<usize>,
    max: usize,
    count: &dyn Fn(&str) -> usize,
    out: &mut Vec<Chunk>,
) {
    let mut start = range.start;
    while start < range.end {
        let first_char = text[start..].chars().next().map_or(1, char::len_utf8);
        let mut end = floor_char_boundary(text, range.end.min(start + 4 * max.max(1)));
        end = end.max(start + first_char);
        let mut tokens = count(&text[start..end]);
        while tokens > max && end > start + first_char {
            end = floor_char_boundary(text, start + (end - start) * 3 / 4).max(start + first_char);
            tokens = count(&text[start..end]);
        }
        if let Some(r) = trimmed(text, start..end) {
            let tokens = if r == (start..end) {
                tokens
            } else {
                count(&text[r.clone()])
            };
            out.push(Chunk { range: r, tokens });
        }
        start = end;
    }
}

/// The largest char boundary of `text` at or below `i`.
fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Packs consecutive pieces into chunks of at most `max` tokens. The sum of the pieces'
/// counts proposes where a chunk ends (the whitespace between words usually merges into
/// the next word's token); the joined text is then counted exactly, and pieces move to
/// the next chunk until it fits (a single piece always does).
fn pack(text: &str, pieces: &[Chunk], max: usize, count: &dyn Fn(&str) -> usize) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut first = 0;
    while first < pieces.len() {
        let mut end = first + 1;
        let mut estimate = pieces[first].tokens;
        while end < pieces.len() && estimate + pieces[end].tokens <= max {
            estimate += pieces[end].tokens;
            end += 1;
        }
        loop {
            let range = pieces[first].range.start..pieces[end - 1].range.end;
            let tokens = if end == first + 1 {
                pieces[first].tokens
            } else {
                count(&text[range.clone()])
            };
            if tokens <= max || end == first + 1 {
                chunks.push(Chunk { range, tokens });
                break;
            }
            end -= 1;
        }
        first = end;
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Words as tokens: enough to test boundaries.
    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    /// Roughly BPE-like: one token per 3 bytes of each word, rounded up.
    fn bytes3(s: &str) -> usize {
        s.split_whitespace().map(|w| w.len().div_ceil(3)).sum()
    }

    /// The invariants every chunking must keep: in order, non-overlapping, trimmed,
    /// non-empty, within the limit, exact counts, and only whitespace left outside.
    fn check(text: &str, chunks: &[Chunk], max: usize, count: &dyn Fn(&str) -> usize) {
        let mut at = 0;
        for c in chunks {
            assert!(c.range.start >= at, "out of order: {chunks:?}");
            assert!(text[at..c.range.start].trim().is_empty(), "skipped text");
            let s = &text[c.range.clone()];
            assert!(!s.is_empty() && s.trim() == s, "untrimmed or empty {s:?}");
            assert_eq!(c.tokens, count(s), "count of {s:?}");
            assert!(c.tokens <= max, "{} > {max} tokens: {s:?}", c.tokens);
            at = c.range.end;
        }
        assert!(text[at..].trim().is_empty(), "lost the tail");
    }

    fn texts(text: &str, chunks: &[Chunk]) -> Vec<String> {
        chunks
            .iter()
            .map(|c| text[c.range.clone()].to_string())
            .collect()
    }

    #[test]
    fn paragraphs_stay_whole_when_they_fit() {
        let text = "One two three.\n\nFour five six seven.\r\n\r\nEight nine.\n";
        let c = chunk(text, 6, &words);
        check(text, &c, 6, &words);
        assert_eq!(
            texts(text, &c),
            ["One two three.", "Four five six seven.\r\n\r\nEight nine."]
        );
        let c = chunk(text, 100, &words);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].range, 0..text.len() - 1);
    }

    #[test]
    fn long_paragraphs_split_at_sentences_then_words() {
        let text = "Alpha beta gamma. Delta epsilon! Zeta eta theta iota kappa lambda mu.";
        let c = chunk(text, 4, &words);
        check(text, &c, 4, &words);
        assert_eq!(
            texts(text, &c),
            // The last sentence is too long: its words fill the chunk after "Delta epsilon!".
            [
                "Alpha beta gamma.",
                "Delta epsilon! Zeta eta",
                "theta iota kappa lambda",
                "mu."
            ]
        );
        // Line breaks count as sentence ends: list items stay whole.
        let list = "- first item here\n- second item here\n- third";
        let c = chunk(list, 8, &words);
        assert_eq!(
            texts(list, &c),
            ["- first item here\n- second item here", "- third"]
        );
    }

    #[test]
    fn huge_single_sentence_and_word() {
        let sentence = "word ".repeat(1000);
        let c = chunk(&sentence, 64, &words);
        check(&sentence, &c, 64, &words);
        assert_eq!(c.len(), 16);
        // No whitespace at all, with multi-byte characters: cut at char boundaries.
        let word = "é".repeat(500) + &"x".repeat(333);
        let c = chunk(&word, 10, &bytes3);
        check(&word, &c, 10, &bytes3);
        assert!(c.len() > 1);
    }

    #[test]
    fn no_chunks_for_blank_text() {
        assert!(chunk("", 10, &words).is_empty());
        assert!(chunk(" \n\n\t ", 10, &words).is_empty());
    }

    #[test]
    fn exact_count_is_checked_when_joined_text_costs_more() {
        // A counter where joining costs more than the parts (each join adds 2): packing
        // must still respect the limit.
        let costly = |s: &str| words(s) + 2 * s.matches(' ').count();
        let text = "a. b. c. d. e. f. g. h.";
        let c = chunk(text, 5, &costly);
        check(text, &c, 5, &costly);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn random_texts_keep_the_invariants(
            parts in proptest::collection::vec(
                prop_oneof![
                    "[a-zé]{1,30}", Just(" ".to_string()), Just(". ".to_string()),
                    Just("\n".to_string()), Just("\n\n".to_string()), Just("?\t".to_string()),
                ],
                0..80,
            ),
            max in 4usize..40,
        ) {
            let text: String = parts.concat();
            let c = chunk(&text, max, &bytes3);
            check(&text, &c, max, &bytes3);
        }
    }
}
