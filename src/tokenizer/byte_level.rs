//! The byte-level BPE encoder (`tokenizer.ggml.model = "gpt2"`).
//!
//! Encoding runs in three stages, each in its own module:
//! 1. `special`: special tokens (`<|im_start|>`, ...) are cut out of the raw text whole,
//!    leftmost-longest, as Hugging Face's added-token splitter does;
//! 2. `pretokenize`: the rest is split into words by the regex that `tokenizer.ggml.pre`
//!    names (with digits isolated first for SmolLM-style vocabularies);
//! 3. `bpe`: each word's bytes become byte tokens (`bytes` holds GPT-2's byte <-> char
//!    map the vocabulary is written in) that are merged by rank.
//!
//! The shared vocabulary (text -> id) belongs to [`Tokenizer`](super::Tokenizer) and is
//! passed in; this module owns only what BPE alone needs.

use std::collections::HashMap;

use super::bpe::Merges;
use super::bytes;
use super::pretokenize::Splitter;
use super::special::{Segment, SpecialMatcher};
use super::{TokenType, TokenizerError};

/// What byte-level BPE needs beyond the vocabulary.
pub(crate) struct ByteLevel {
    /// The token of each single byte, where BPE starts. Vocabularies may lack bytes that
    /// never occur in their training text (SmolLM2 has no token for 0x04 or for bytes that
    /// are never valid UTF-8); such bytes are dropped from the input, as Hugging Face's
    /// BPE without an unknown token does, and llama.cpp too.
    byte_tokens: [Option<u32>; 256],
    merges: Merges,
    splitter: Splitter,
    specials: SpecialMatcher,
    pre: String,
}

impl ByteLevel {
    /// Builds the encoder over a vocabulary whose types are validated and whose `ids` map
    /// holds every non-empty token. Checks the merges and the pre-tokenizer name.
    pub(crate) fn new(
        tokens: &[String],
        types: &[TokenType],
        ids: &HashMap<String, u32>,
        merges: &[String],
        pre: String,
    ) -> Result<Self, TokenizerError> {
        let splitter = Splitter::new(&pre)?;
        let mut byte_tokens = [None; 256];
        for (byte, slot) in (0..=u8::MAX).zip(&mut byte_tokens) {
            let symbol = bytes::byte_to_char(byte);
            *slot = ids.get(symbol.encode_utf8(&mut [0; 4]) as &str).copied();
        }
        let merges = Merges::new(merges, ids)?;
        let specials = SpecialMatcher::new((0u32..).zip(tokens.iter().zip(types)).filter_map(
            |(id, (text, token_type))| {
                token_type
                    .special()
                    .map(|always| (text.clone(), id, always))
            },
        ));
        Ok(Self {
            byte_tokens,
            merges,
            splitter,
            specials,
            pre,
        })
    }

    /// The pre-tokenizer name (`tokenizer.ggml.pre`).
    pub(crate) fn pre(&self) -> &str {
        &self.pre
    }

    /// Appends the ids of `text` to `out` (no BOS / EOS: the caller adds those).
    pub(crate) fn encode(
        &self,
        ids: &HashMap<String, u32>,
        text: &str,
        parse_special: bool,
        out: &mut Vec<u32>,
    ) {
        // Repeated words are merged once: word -> range of its ids in `out`.
        let mut cache: HashMap<&str, (usize, usize)> = HashMap::new();
        let mut scratch = Vec::new();
        self.specials
            .split(text, parse_special, |segment| match segment {
                Segment::Special(id) => out.push(id),
                Segment::Text(plain) => self.splitter.split(plain, |word| {
                    if let Some(&(start, end)) = cache.get(word) {
                        out.extend_from_within(start..end);
                        return;
                    }
                    let start = out.len();
                    self.encode_word(ids, word, &mut scratch, out);
                    cache.insert(word, (start, out.len()));
                }),
            });
    }

    /// Appends the ids of one pre-token word to `out`; `scratch` is reusable working space.
    fn encode_word(
        &self,
        ids: &HashMap<String, u32>,
        word: &str,
        scratch: &mut Vec<u32>,
        out: &mut Vec<u32>,
    ) {
        if self.splitter.ignore_merges() {
            let text: String = word.bytes().map(bytes::byte_to_char).collect();
            if let Some(&id) = ids.get(&text) {
                out.push(id);
                return;
            }
        }
        scratch.clear();
        scratch.extend(
            word.bytes()
                .filter_map(|b| self.byte_tokens[usize::from(b)]),
        );
        self.merges.apply(scratch);
        out.extend_from_slice(scratch);
    }
}

/// Appends the decoded bytes of one token: special tokens (unknown, control,
/// user-defined) as their plain text, every other type in GPT-2's byte-level encoding. A
/// text with a character outside the byte map is taken as plain UTF-8 instead, as Hugging
/// Face's ByteLevel decoder does.
pub(crate) fn append_piece(text: &str, token_type: TokenType, out: &mut Vec<u8>) {
    if token_type.special().is_some() {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let start = out.len();
    for c in text.chars() {
        match bytes::char_to_byte(c) {
            Some(b) => out.push(b),
            None => {
                out.truncate(start);
                out.extend_from_slice(text.as_bytes());
                return;
            }
        }
    }
}
