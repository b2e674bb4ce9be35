//! SentencePiece's bigram merging of one escaped text run, in llama.cpp's order.
//!
//! The run starts as one symbol per character. Every adjacent pair whose joined text is a
//! vocabulary token is a candidate, scored by that token's score. The best candidate is
//! merged, highest score first and, on equal scores, the one further left (llama.cpp's
//! `llm_bigram_spm` comparator); the merged symbol then forms new candidates with its
//! neighbours. When none is left, each symbol is emitted as its token, or, for a
//! character without a token, as the byte-fallback tokens of its UTF-8 bytes.
//!
//! Candidates live in a max-heap over a linked list of symbols; a candidate is stale once
//! either symbol has grown or been absorbed (their lengths no longer add up to its
//! length), and is skipped when popped. Each merge adds at most two candidates, so a run
//! of n characters costs O(n log n) time and O(n) memory (16 bytes per symbol, 16 per
//! candidate, at most 3n candidates), whatever the text.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// "No symbol" in the `prev` / `next` links.
const NONE: u32 = u32::MAX;

/// Longest run merged as one. Symbols are indexed with u32 (llama.cpp uses int); a run
/// longer than this (2 GiB of text without a special token) is merged in pieces cut at a
/// character boundary, the only place where this encoder can differ from llama.cpp.
const MAX_RUN_BYTES: usize = 1 << 31;

/// One symbol: a byte range of the run, in a doubly linked list.
#[derive(Clone, Copy)]
struct Symbol {
    start: u32,
    /// Length in bytes; 0 once merged into its left neighbour.
    len: u32,
    prev: u32,
    next: u32,
}

/// A merge candidate: symbols `left` and `right`, whose joined text (`size` bytes) is a
/// token with score `score`.
#[derive(Clone, Copy)]
struct Bigram {
    score: f32,
    left: u32,
    right: u32,
    size: u32,
}

impl Ord for Bigram {
    /// Greater is merged first: higher score, then smaller `left`. Scores are never NaN
    /// and never -0.0 (see `Spm::new`), so `total_cmp` is IEEE comparison here.
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.left.cmp(&self.left))
    }
}

impl PartialOrd for Bigram {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Bigram {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Bigram {}

/// Appends the ids of the escaped run `text` to `out`. `scores` is indexed by id and
/// covers every id in `ids`; `byte_tokens[b]` is the fallback token of byte `b`.
pub(crate) fn encode(
    text: &str,
    ids: &HashMap<String, u32>,
    scores: &[f32],
    byte_tokens: &[u32; 256],
    out: &mut Vec<u32>,
) {
    encode_in_runs(text, MAX_RUN_BYTES, ids, scores, byte_tokens, out);
}

/// [`encode`] with runs of at most `max_run` bytes (but at least one character).
fn encode_in_runs(
    text: &str,
    max_run: usize,
    ids: &HashMap<String, u32>,
    scores: &[f32],
    byte_tokens: &[u32; 256],
    out: &mut Vec<u32>,
) {
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max_run);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            // A limit below one character still takes one character.
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (run, after) = rest.split_at(cut);
        Merger::new(run, ids, scores).merge().emit(byte_tokens, out);
        rest = after;
    }
}

/// The merge state of one run (at most `MAX_RUN_BYTES` bytes, so offsets fit in u32).
struct Merger<'a> {
    text: &'a str,
    ids: &'a HashMap<String, u32>,
    scores: &'a [f32],
    symbols: Vec<Symbol>,
    queue: BinaryHeap<Bigram>,
}

impl<'a> Merger<'a> {
    /// One symbol per character of `text`, every adjacent pair that is a token queued.
    fn new(text: &'a str, ids: &'a HashMap<String, u32>, scores: &'a [f32]) -> Self {
        let mut symbols: Vec<Symbol> = Vec::with_capacity(text.len());
        for (start, c) in text.char_indices() {
            // Offsets and indices fit: the run is at most MAX_RUN_BYTES < u32::MAX bytes.
            let index = symbols.len() as u32;
            symbols.push(Symbol {
                start: start as u32,
                len: c.len_utf8() as u32,
                prev: index.wrapping_sub(1), // NONE for the first
                next: index + 1,
            });
        }
        if let Some(last) = symbols.last_mut() {
            last.next = NONE;
        }
        let mut merger = Merger {
            text,
            ids,
            scores,
            queue: BinaryHeap::with_capacity(symbols.len()),
            symbols,
        };
        for right in 1..merger.symbols.len() as u32 {
            merger.try_add(right - 1, right);
        }
        merger
    }

    /// Queues `left` + `right` if both exist and their joined text is a token.
    fn try_add(&mut self, left: u32, right: u32) {
        if left == NONE || right == NONE {
            return;
        }
        let (l, r) = (self.symbols[left as usize], self.symbols[right as usize]);
        let (start, end) = (l.start as usize, (r.start + r.len) as usize);
        let Some(&id) = self
            .text
            .get(start..end)
            .and_then(|joined| self.ids.get(joined))
        else {
            return;
        };
        let Some(&score) = self.scores.get(id as usize) else {
            return;
        };
        self.queue.push(Bigram {
            score,
            left,
            right,
            size: l.len + r.len,
        });
    }

    /// Merges the best candidate until none is left.
    fn merge(mut self) -> Self {
        while let Some(bigram) = self.queue.pop() {
            let (left, right) = (bigram.left as usize, bigram.right as usize);
            let (l, r) = (self.symbols[left], self.symbols[right]);
            if l.len == 0 || r.len == 0 || l.len + r.len != bigram.size {
                continue; // stale: one side changed since it was queued
            }
            self.symbols[left].len += r.len;
            self.symbols[left].next = r.next;
            self.symbols[right].len = 0;
            if r.next != NONE {
                self.symbols[r.next as usize].prev = bigram.left;
            }
            self.try_add(l.prev, bigram.left);
            self.try_add(bigram.left, r.next);
        }
        self
    }

    /// Appends each remaining symbol's token, or its bytes' fallback tokens.
    fn emit(&self, byte_tokens: &[u32; 256], out: &mut Vec<u32>) {
        let mut i = if self.symbols.is_empty() { NONE } else { 0 };
        while i != NONE {
            let s = self.symbols[i as usize];
            // Symbols are whole characters, so the range is always a valid `str` slice.
            let piece = self
                .text
                .get(s.start as usize..(s.start + s.len) as usize)
                .unwrap_or_default();
            match self.ids.get(piece) {
                Some(&id) => out.push(id),
                None => out.extend(piece.bytes().map(|b| byte_tokens[usize::from(b)])),
            }
            i = s.next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A vocabulary with scores: byte tokens 0..256 are `<0xXX>`, then `pieces`.
    fn vocab(pieces: &[(&str, f32)]) -> (HashMap<String, u32>, Vec<f32>, [u32; 256]) {
        let mut ids = HashMap::new();
        let mut scores = Vec::new();
        let mut bytes = [0; 256];
        for b in 0..=255u8 {
            bytes[usize::from(b)] = u32::from(b);
            ids.insert(format!("<0x{b:02X}>"), u32::from(b));
            scores.push(0.0);
        }
        for (i, (text, score)) in pieces.iter().enumerate() {
            ids.insert((*text).to_owned(), 256 + i as u32);
            scores.push(*score);
        }
        (ids, scores, bytes)
    }

    fn run(text: &str, pieces: &[(&str, f32)]) -> Vec<String> {
        let (ids, scores, bytes) = vocab(pieces);
        let mut out = Vec::new();
        encode(text, &ids, &scores, &bytes, &mut out);
        let names: HashMap<u32, &str> = ids.iter().map(|(t, &i)| (i, t.as_str())).collect();
        out.iter().map(|i| names[i].to_owned()).collect()
    }

    #[test]
    fn higher_score_first_then_leftmost() {
        let p = [
            ("a", -1.0),
            ("b", -1.0),
            ("ab", -2.0),
            ("bb", -1.5),
            ("abb", -3.0),
        ];
        // "ab" (-2) vs "bb" (-1.5): bb first, then a+bb = abb.
        assert_eq!(run("abb", &p), ["abb"]);
        // Equal scores: the left pair wins: "aa" + "a".
        let p = [("a", -1.0), ("aa", -1.0)];
        assert_eq!(run("aaa", &p), ["aa", "a"]);
        assert_eq!(run("aaaa", &p), ["aa", "aa"]);
        assert_eq!(run("", &p), Vec::<String>::new());
    }

    #[test]
    fn characters_without_a_piece_fall_back_to_bytes() {
        let p = [("a", -1.0), ("▁", -1.0)];
        assert_eq!(run("a東▁", &p), ["a", "<0xE6>", "<0x9D>", "<0xB1>", "▁"]);
    }

    #[test]
    fn long_runs_stay_fast_and_runs_are_cut_at_characters() {
        let p = [("a", -1.0), ("aa", -1.0), ("aaaa", -1.0)];
        let (ids, scores, bytes) = vocab(&p);
        let mut out = Vec::new();
        encode(&"a".repeat(1 << 20), &ids, &scores, &bytes, &mut out);
        assert_eq!(out.len(), 1 << 18);
        // Runs of at most 3 bytes merge apart: "aaa" + "aa".
        out.clear();
        encode_in_runs("aaaaa", 3, &ids, &scores, &bytes, &mut out);
        assert_eq!(out, [257, 256, 257]);
        // A cut never splits a character: "aé" + "é" (the 4-byte limit falls inside é).
        out.clear();
        encode_in_runs("aéé", 4, &ids, &scores, &bytes, &mut out);
        assert_eq!(out, [256, 0xc3, 0xa9, 0xc3, 0xa9]);
    }
}
