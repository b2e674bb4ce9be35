//! Byte-pair merging of one pre-token word, by merge rank.
//!
//! A word starts as one token per byte. The adjacent pair whose merge has the lowest rank
//! (its index in `tokenizer.ggml.merges`) is replaced by the merged token, leftmost first on
//! ties, until no adjacent pair has a merge: the same order as Hugging Face `tokenizers` and
//! llama.cpp. A min-heap of candidate pairs over a linked list of symbols makes a word of n
//! bytes cost O(n log n), so long runs without spaces (base64, `=====`) stay cheap. This
//! module knows only ids; text, bytes and special tokens are handled by its caller.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::error::TokenizerError;

/// The merge table: `(left, right) -> (rank, merged)`.
#[derive(Debug)]
pub(crate) struct Merges {
    pairs: HashMap<(u32, u32), (u32, u32)>,
}

/// One symbol of a word being merged, in a doubly linked list over the initial bytes.
#[derive(Clone, Copy)]
struct Symbol {
    id: u32,
    prev: Option<usize>,
    next: Option<usize>,
    /// False once merged into its left neighbour.
    alive: bool,
}

impl Merges {
    /// Parses `"left right"` merge strings (rank = index) against the vocabulary `ids`.
    ///
    /// Every merge must name two vocabulary tokens whose concatenation is also one. The
    /// split is at the first space after the first character, as llama.cpp does, since
    /// byte-level tokens never contain a raw space. A repeated pair keeps its first rank.
    pub(crate) fn new(
        merges: &[String],
        ids: &HashMap<String, u32>,
    ) -> Result<Self, TokenizerError> {
        let mut pairs = HashMap::with_capacity(merges.len());
        for (index, merge) in merges.iter().enumerate() {
            let split = merge
                .char_indices()
                .skip(1)
                .find(|&(_, c)| c == ' ')
                .map(|(i, _)| (&merge[..i], &merge[i + 1..]));
            let Some((left, right)) = split.filter(|(_, r)| !r.is_empty()) else {
                return Err(TokenizerError::MergeNotAPair {
                    index,
                    merge: merge.clone(),
                });
            };
            let lookup = |token: &str| {
                ids.get(token)
                    .copied()
                    .ok_or_else(|| TokenizerError::MergeTokenUnknown {
                        index,
                        merge: merge.clone(),
                        token: token.to_owned(),
                    })
            };
            let (left_id, right_id) = (lookup(left)?, lookup(right)?);
            let merged = format!("{left}{right}");
            let Some(&merged_id) = ids.get(&merged) else {
                return Err(TokenizerError::MergeResultUnknown {
                    index,
                    merge: merge.clone(),
                    merged,
                });
            };
            // Ranks fit in u32: the vocabulary (and so every id) does, and a merge table
            // longer than u32::MAX entries cannot be held in memory next to it.
            let rank = u32::try_from(index).unwrap_or(u32::MAX);
            pairs
                .entry((left_id, right_id))
                .or_insert((rank, merged_id));
        }
        Ok(Self { pairs })
    }

    /// Merges `word` (initially one token per byte) in place until no pair has a merge.
    pub(crate) fn apply(&self, word: &mut Vec<u32>) {
        if word.len() < 2 {
            return;
        }
        let mut symbols: Vec<Symbol> = word
            .iter()
            .enumerate()
            .map(|(i, &id)| Symbol {
                id,
                prev: i.checked_sub(1),
                next: (i + 1 < word.len()).then_some(i + 1),
                alive: true,
            })
            .collect();
        // Candidates ordered by (rank, position of the left symbol); stale ones are skipped
        // when popped.
        let mut heap = BinaryHeap::new();
        for i in 0..symbols.len() - 1 {
            if let Some(&(rank, _)) = self.pairs.get(&(symbols[i].id, symbols[i + 1].id)) {
                heap.push(Reverse((rank, i)));
            }
        }
        while let Some(Reverse((rank, left))) = heap.pop() {
            let l = symbols[left];
            let Some(right) = l.next.filter(|_| l.alive) else {
                continue;
            };
            let r = symbols[right];
            match self.pairs.get(&(l.id, r.id)) {
                Some(&(current, merged)) if current == rank => {
                    symbols[left].id = merged;
                    symbols[left].next = r.next;
                    symbols[right].alive = false;
                    if let Some(after) = r.next {
                        symbols[after].prev = Some(left);
                    }
                }
                _ => continue,
            }
            let l = symbols[left];
            if let Some(prev) = l.prev {
                if let Some(&(rank, _)) = self.pairs.get(&(symbols[prev].id, l.id)) {
                    heap.push(Reverse((rank, prev)));
                }
            }
            if let Some(next) = l.next {
                if let Some(&(rank, _)) = self.pairs.get(&(l.id, symbols[next].id)) {
                    heap.push(Reverse((rank, left)));
                }
            }
        }
        word.clear();
        word.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(tokens: &[&str]) -> HashMap<String, u32> {
        tokens
            .iter()
            .enumerate()
            .map(|(i, t)| ((*t).to_owned(), i as u32))
            .collect()
    }

    fn merges(list: &[&str], ids: &HashMap<String, u32>) -> Result<Merges, TokenizerError> {
        Merges::new(
            &list.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>(),
            ids,
        )
    }

    #[test]
    fn merges_by_rank_then_leftmost() {
        let ids = vocab(&["a", "b", "c", "ab", "bc", "abc", "aa", "aaa"]);
        let m = merges(&["b c", "a b", "a bc", "a a", "aa a"], &ids).unwrap();
        let run = |w: &[u32]| {
            let mut w = w.to_vec();
            m.apply(&mut w);
            w
        };
        // "abc": "b c" (rank 0) before "a b" (rank 1), then "a bc".
        assert_eq!(run(&[0, 1, 2]), [ids["abc"]]);
        // "aaaa": "a a" leftmost twice, and "aa a" never applies to "aa aa".
        assert_eq!(run(&[0, 0, 0, 0]), [ids["aa"], ids["aa"]]);
        // "aaa": "a a" at 0, then "aa a".
        assert_eq!(run(&[0, 0, 0]), [ids["aaa"]]);
        assert_eq!(run(&[2]), [2]);
        assert_eq!(run(&[]), [0u32; 0]);
    }

    #[test]
    fn long_word_is_fast_and_correct() {
        let ids = vocab(&["a", "aa", "aaaa"]);
        let m = merges(&["a a", "aa aa"], &ids).unwrap();
        let mut w = vec![0; 100_001];
        m.apply(&mut w);
        assert_eq!(w.len(), 25_001);
        assert_eq!(w[..25_000], vec![2; 25_000][..]);
        assert_eq!(w[25_000], 0);
    }

    #[test]
    fn bad_merges_are_named() {
        let ids = vocab(&["a", "b", "ab"]);
        let err = merges(&["a b", "a c"], &ids).err().unwrap().to_string();
        assert_eq!(err, "merge 1 ('a c'): token 'c' not in vocabulary");
        let err = merges(&["b a"], &ids).err().unwrap().to_string();
        assert_eq!(err, "merge 0 ('b a'): merged token 'ba' not in vocabulary");
        let err = merges(&["ab"], &ids).err().unwrap().to_string();
        assert_eq!(err, "merge 0 ('ab'): not two tokens separated by a space");
    }
}
