//! Cutting special tokens out of raw text the way llama.cpp does for its own tokenizers
//! (`tokenizer_st_partition`), which differs from Hugging Face's leftmost-longest match.
//!
//! llama.cpp takes the special tokens longest first and, for each, claims its
//! non-overlapping occurrences left to right in the text that no earlier (longer) token
//! has claimed. In "abcd" with specials "ab" and "bcd", "bcd" wins though "ab" starts
//! further left. Control and unknown tokens take part only when the caller parses special
//! tokens; user-defined ones always do. Tokens of equal length are taken in id order
//! (llama.cpp's order among them is whatever its unstable sort leaves; it only matters
//! when two of them overlap in the text, which no pair of Gemma 3's can).
//!
//! Rather than scanning the whole text once per special token (thousands of them in
//! Gemma's vocabulary), this module finds, at every position, the longest special token
//! starting there (a walk down a byte trie), and replays llama.cpp's order with a heap of
//! (length, id, position) candidates: a candidate that overlaps claimed text is replaced
//! by the next shorter special token starting at the same position. That is
//! O(n · L + n log n) for n bytes of text and specials of at most L bytes, with O(n)
//! memory. This module never looks inside the text between special tokens.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::special::Segment;

/// "No node" in `Node::shorter`.
const NONE: u32 = u32::MAX;

/// A byte trie of special token texts.
#[derive(Debug, Default)]
struct Trie {
    nodes: Vec<Node>,
}

#[derive(Debug, Default)]
struct Node {
    /// Child per next byte, sorted by byte.
    children: Vec<(u8, u32)>,
    /// The token whose text ends here.
    token: Option<u32>,
    /// Length of the text that leads here.
    depth: usize,
    /// The nearest proper ancestor that ends a token (the next shorter special token
    /// starting at the same position), or `NONE`.
    shorter: u32,
}

impl Trie {
    fn new<'t>(tokens: impl IntoIterator<Item = (&'t str, u32)>) -> Self {
        let mut trie = Trie {
            nodes: vec![Node {
                shorter: NONE,
                ..Node::default()
            }],
        };
        let mut parents = vec![NONE];
        for (text, id) in tokens {
            if text.is_empty() {
                continue;
            }
            let mut node = 0usize;
            for &b in text.as_bytes() {
                node = match trie.child(node, b) {
                    Some(child) => child,
                    None => {
                        // Node counts are bounded by the total length of the token texts,
                        // which the vocabulary holds in memory; they fit in u32 (ids do).
                        let child = trie.nodes.len();
                        let depth = trie.nodes[node].depth + 1;
                        trie.nodes.push(Node {
                            depth,
                            shorter: NONE,
                            ..Node::default()
                        });
                        parents.push(node as u32);
                        let edges = &mut trie.nodes[node].children;
                        let at = edges.partition_point(|&(e, _)| e < b);
                        edges.insert(at, (b, child as u32));
                        child
                    }
                };
            }
            trie.nodes[node].token = Some(id);
        }
        // Parents are created before their children, so one pass in index order works.
        for (i, &parent) in parents.iter().enumerate().skip(1) {
            let p = &trie.nodes[parent as usize];
            let shorter = if p.token.is_some() { parent } else { p.shorter };
            trie.nodes[i].shorter = shorter;
        }
        trie
    }

    fn child(&self, node: usize, byte: u8) -> Option<usize> {
        let edges = &self.nodes[node].children;
        edges
            .binary_search_by_key(&byte, |&(b, _)| b)
            .ok()
            .map(|i| edges[i].1 as usize)
    }

    /// The node of the longest token that `text` starts with.
    fn longest_prefix(&self, text: &[u8]) -> Option<usize> {
        let mut node = 0;
        let mut found = None;
        for &b in text {
            match self.child(node, b) {
                Some(child) => node = child,
                None => break,
            }
            if self.nodes[node].token.is_some() {
                found = Some(node);
            }
        }
        found
    }

    fn is_empty(&self) -> bool {
        self.nodes.len() == 1
    }
}

/// The special tokens of a vocabulary, ready to cut text.
#[derive(Debug)]
pub(crate) struct SpecialPartition {
    /// Every special token (control, unknown, user-defined): used with `parse_special`.
    all: Trie,
    /// User-defined tokens only: used without `parse_special`.
    always: Trie,
}

impl SpecialPartition {
    /// A partition over `(text, id, always)` triples; empty texts are ignored. Texts must
    /// be unique (the vocabulary checks that).
    pub(crate) fn new<'t>(tokens: impl IntoIterator<Item = (&'t str, u32, bool)>) -> Self {
        let tokens: Vec<_> = tokens.into_iter().collect();
        Self {
            all: Trie::new(tokens.iter().map(|&(text, id, _)| (text, id))),
            always: Trie::new(
                tokens
                    .iter()
                    .filter(|t| t.2)
                    .map(|&(text, id, _)| (text, id)),
            ),
        }
    }

    /// Calls `segment` with the pieces of `text` in order: non-empty plain text runs and
    /// special tokens. Control and unknown tokens are only recognised when
    /// `parse_special` is true.
    pub(crate) fn split<'t>(
        &self,
        text: &'t str,
        parse_special: bool,
        mut segment: impl FnMut(Segment<'t>),
    ) {
        let trie = if parse_special {
            &self.all
        } else {
            &self.always
        };
        let claimed = if trie.is_empty() {
            BTreeMap::new()
        } else {
            claim(trie, text.as_bytes())
        };
        let mut plain_start = 0;
        for (&start, &(end, id)) in &claimed {
            if plain_start < start {
                segment(Segment::Text(&text[plain_start..start]));
            }
            segment(Segment::Special(id));
            plain_start = end;
        }
        if plain_start < text.len() {
            segment(Segment::Text(&text[plain_start..]));
        }
    }
}

/// The occurrences llama.cpp's partition keeps: start -> (end, id), disjoint. Starts and
/// ends are character boundaries, since token texts are whole UTF-8 strings.
fn claim(trie: &Trie, text: &[u8]) -> BTreeMap<usize, (usize, u32)> {
    // Max-heap of (length, smaller id first, leftmost first, node).
    let mut candidates: BinaryHeap<(usize, Reverse<u32>, Reverse<usize>, u32)> = (0..text.len())
        .filter_map(|pos| {
            let node = trie.longest_prefix(&text[pos..])?;
            Some(candidate(trie, node, pos))
        })
        .collect();
    let mut claimed: BTreeMap<usize, (usize, u32)> = BTreeMap::new();
    while let Some((len, Reverse(id), Reverse(pos), node)) = candidates.pop() {
        let Some(room) = room_at(&claimed, pos) else {
            continue; // inside claimed text: nothing can start here any more
        };
        if len <= room {
            claimed.insert(pos, (pos + len, id));
            continue;
        }
        // Claims only grow, so a token that does not fit now never will: go straight to
        // the longest shorter one that fits now. It is re-checked when popped.
        let mut node = trie.nodes[node as usize].shorter;
        while node != NONE && trie.nodes[node as usize].depth > room {
            node = trie.nodes[node as usize].shorter;
        }
        if node != NONE {
            candidates.push(candidate(trie, node as usize, pos));
        }
    }
    claimed
}

/// How many bytes from `pos` are unclaimed, or `None` when `pos` itself is claimed.
fn room_at(claimed: &BTreeMap<usize, (usize, u32)>, pos: usize) -> Option<usize> {
    // Claims are disjoint: only the last one starting at or before `pos` can cover it.
    if let Some((_, &(end, _))) = claimed.range(..=pos).next_back() {
        if end > pos {
            return None;
        }
    }
    Some(
        claimed
            .range(pos..)
            .next()
            .map_or(usize::MAX, |(&start, _)| start - pos),
    )
}

/// The heap entry for the token of `node` starting at `pos`.
fn candidate(trie: &Trie, node: usize, pos: usize) -> (usize, Reverse<u32>, Reverse<usize>, u32) {
    let n = &trie.nodes[node];
    // Only nodes that end a token become candidates (`longest_prefix`, `shorter`).
    let id = n.token.unwrap_or(u32::MAX);
    (n.depth, Reverse(id), Reverse(pos), node as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(p: &SpecialPartition, text: &str, parse: bool) -> Vec<String> {
        let mut out = Vec::new();
        p.split(text, parse, |s| {
            out.push(match s {
                Segment::Text(t) => format!("T:{t}"),
                Segment::Special(id) => format!("S:{id}"),
            })
        });
        out
    }

    #[test]
    fn longest_token_first_not_leftmost() {
        let p = SpecialPartition::new([("ab", 1, true), ("bcd", 2, true)]);
        assert_eq!(split(&p, "abcd", false), ["T:a", "S:2"]);
        assert_eq!(split(&p, "ab-bcd", false), ["S:1", "T:-", "S:2"]);
        assert_eq!(split(&p, "", false), Vec::<String>::new());
        assert_eq!(split(&p, "xyz", false), ["T:xyz"]);
    }

    #[test]
    fn a_blocked_token_falls_back_to_a_shorter_one_at_its_position() {
        // "<a><b>": the longest token comes first and takes it all. In "x<a><b" it
        // cannot occur: "a><b" is claimed, then "<a>" overlaps it, and the shorter "<"
        // at the same position fits.
        let p = SpecialPartition::new([
            ("<a><b>", 1, true),
            ("a><b", 2, true),
            ("<a>", 3, true),
            ("<", 4, true),
        ]);
        assert_eq!(split(&p, "<a><b>", false), ["S:1"]);
        assert_eq!(split(&p, "x<a><b", false), ["T:x", "S:4", "S:2"]);
    }

    #[test]
    fn runs_claim_left_to_right_and_control_needs_parsing() {
        let p = SpecialPartition::new([
            ("\n", 1, true),
            ("\n\n", 2, true),
            ("\n\n\n", 3, true),
            ("<c>", 4, false),
        ]);
        assert_eq!(split(&p, "\n\n\n\n\n", false), ["S:3", "S:2"]);
        assert_eq!(split(&p, "a\n\n\n\nb", false), ["T:a", "S:3", "S:1", "T:b"]);
        assert_eq!(split(&p, "<c>\n", false), ["T:<c>", "S:1"]);
        assert_eq!(split(&p, "<c>\n", true), ["S:4", "S:1"]);
        assert_eq!(split(&p, "é<c", true), ["T:é<c"]);
    }

    #[test]
    fn equal_lengths_go_in_id_order() {
        let p = SpecialPartition::new([("ba", 2, true), ("ab", 1, true)]);
        assert_eq!(split(&p, "aba", false), ["S:1", "T:a"]);
        assert_eq!(split(&p, "bab", false), ["T:b", "S:1"]);
    }

    #[test]
    fn a_mebibyte_of_runs_is_fast() {
        let tokens: Vec<String> = (1..=31).map(|n| "\n".repeat(n)).collect();
        let p = SpecialPartition::new(tokens.iter().zip(1..).map(|(t, id)| (t.as_str(), id, true)));
        let text = "\n".repeat(1 << 20);
        let mut count = 0usize;
        p.split(&text, false, |_| count += 1);
        assert_eq!(count, (1 << 20) / 31 + 1);
    }
}
