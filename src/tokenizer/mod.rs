//! Byte-level BPE tokenizer built from a GGUF vocabulary (`tokenizer.ggml.model = "gpt2"`).
//!
//! Encoding runs in three stages, each in its own module:
//! 1. `special`: special tokens (`<|im_start|>`, ...) are cut out of the raw text whole;
//! 2. `pretokenize`: the rest is split into words by the regex that `tokenizer.ggml.pre`
//!    names (with digits isolated first for SmolLM-style vocabularies);
//! 3. `bpe`: each word's bytes become byte tokens (`bytes` holds GPT-2's byte <-> char
//!    map the vocabulary is written in) that are merged by rank.
//!
//! Decoding maps each id back to its raw bytes and joins them; [`StreamDecoder`] does the
//! same one token at a time. The reference for every output is Hugging Face `tokenizers`
//! with the model's own configuration (tests/fixtures/tokenizer, made by
//! scripts/make-tokenizer-fixtures.py). This module does not render chat templates and,
//! like llama.cpp, never normalizes text (no NFC, no prefix space). SmolLM2, GPT-2 and
//! Llama 3 have no normalizer either; Qwen2's Hugging Face tokenizer applies NFC first, so
//! there input that is not already NFC can tokenize differently.

mod bpe;
mod bytes;
mod error;
mod gguf;
mod pretokenize;
mod special;
mod stream;

use std::collections::HashMap;
use std::fmt;

pub use error::TokenizerError;
pub use stream::StreamDecoder;

use bpe::Merges;
use pretokenize::Splitter;
use special::{Segment, SpecialMatcher};

/// Texts of tokens that end a generation even when the metadata names none of them as eos
/// or eot: the list llama.cpp uses.
const END_OF_GENERATION_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|eom_id|>",
    "<EOT>",
];

/// The tokenizer's inputs, as read from GGUF metadata (`tokenizer.ggml.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenizerSpec {
    /// Token texts by id, in GPT-2's byte-to-unicode encoding (`Ġthe`); special tokens as
    /// their plain text.
    pub tokens: Vec<String>,
    /// `"left right"` merges; a merge's rank is its index.
    pub merges: Vec<String>,
    /// GGUF token types by id: 0 undefined, 1 normal, 2 unknown, 3 control,
    /// 4 user-defined, 5 unused, 6 byte.
    pub token_types: Vec<i32>,
    /// The pre-tokenizer name (`tokenizer.ggml.pre`), e.g. "smollm", "llama-bpe".
    pub pre: String,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    /// End of turn, for chat models whose eos ends the whole document.
    pub eot: Option<u32>,
    /// Prepend `bos` when `encode` is asked to add special tokens.
    pub add_bos: bool,
    /// Append `eos` when `encode` is asked to add special tokens.
    pub add_eos: bool,
}

/// How construction and decoding treat a token, by GGUF token type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Text in byte-level encoding (normal, unused, byte and undefined types).
    Bytes,
    /// Plain text matched whole in the input: always (user-defined) or only when special
    /// tokens are parsed (control, unknown).
    Special { always: bool },
}

impl Role {
    fn of(token_type: i32) -> Option<Self> {
        match token_type {
            0 | 1 | 5 | 6 => Some(Self::Bytes),
            2 | 3 => Some(Self::Special { always: false }),
            4 => Some(Self::Special { always: true }),
            _ => None,
        }
    }
}

/// A validated byte-level BPE tokenizer. Immutable, `Send + Sync`: share one per model.
pub struct Tokenizer {
    /// Token text (as stored in the vocabulary) -> id; empty tokens are left out.
    ids: HashMap<String, u32>,
    /// Raw bytes of token `i`: `token_bytes[token_offsets[i]..token_offsets[i + 1]]`.
    token_bytes: Vec<u8>,
    token_offsets: Vec<usize>,
    /// The token of each single byte, where BPE starts. Vocabularies may lack bytes that
    /// never occur in their training text (SmolLM2 has no token for 0x04 or for bytes that
    /// are never valid UTF-8); such bytes are dropped from the input, as Hugging Face's
    /// BPE without an unknown token does, and llama.cpp too.
    byte_tokens: [Option<u32>; 256],
    merges: Merges,
    splitter: Splitter,
    specials: SpecialMatcher,
    pre: String,
    bos: Option<u32>,
    eos: Option<u32>,
    eot: Option<u32>,
    add_bos: bool,
    add_eos: bool,
    /// Sorted ids that end a generation.
    end_of_generation: Vec<u32>,
}

impl Tokenizer {
    /// Builds and validates a tokenizer: sizes agree, token types are known, token texts
    /// are unique, every merge names vocabulary tokens, special ids are in range, and the
    /// pre-tokenizer is known.
    pub fn from_spec(spec: TokenizerSpec) -> Result<Tokenizer, TokenizerError> {
        let n = spec.tokens.len();
        if n == 0 {
            return Err(TokenizerError::EmptyVocabulary);
        }
        let vocab_size = u32::try_from(n).map_err(|_| TokenizerError::VocabularyTooLarge(n))?;
        if spec.token_types.len() != n {
            return Err(TokenizerError::TokenTypesLength {
                types: spec.token_types.len(),
                tokens: n,
            });
        }
        let splitter = Splitter::new(&spec.pre)?;

        let mut ids = HashMap::with_capacity(n);
        let mut roles = Vec::with_capacity(n);
        for ((id, text), &token_type) in (0..vocab_size).zip(&spec.tokens).zip(&spec.token_types) {
            let role = Role::of(token_type).ok_or_else(|| TokenizerError::BadTokenType {
                id,
                text: text.clone(),
                token_type,
            })?;
            roles.push(role);
            if text.is_empty() {
                continue;
            }
            if let Some(first) = ids.insert(text.clone(), id) {
                return Err(TokenizerError::DuplicateToken {
                    id,
                    first,
                    text: text.clone(),
                });
            }
        }

        let mut byte_tokens = [None; 256];
        for (byte, slot) in (0..=u8::MAX).zip(&mut byte_tokens) {
            let symbol = bytes::byte_to_char(byte);
            *slot = ids.get(symbol.encode_utf8(&mut [0; 4]) as &str).copied();
        }

        let merges = Merges::new(&spec.merges, &ids)?;

        for (which, id) in [("bos", spec.bos), ("eos", spec.eos), ("eot", spec.eot)] {
            if let Some(id) = id.filter(|&id| id >= vocab_size) {
                return Err(TokenizerError::SpecialIdOutOfRange {
                    which,
                    id,
                    vocab_size: n,
                });
            }
        }
        if spec.add_bos && spec.bos.is_none() {
            return Err(TokenizerError::MissingSpecialId {
                flag: "add_bos",
                which: "bos",
            });
        }
        if spec.add_eos && spec.eos.is_none() {
            return Err(TokenizerError::MissingSpecialId {
                flag: "add_eos",
                which: "eos",
            });
        }

        let mut token_bytes = Vec::new();
        let mut token_offsets = Vec::with_capacity(n + 1);
        token_offsets.push(0);
        for (text, &role) in spec.tokens.iter().zip(&roles) {
            match role {
                Role::Bytes => append_token_bytes(text, &mut token_bytes),
                Role::Special { .. } => token_bytes.extend_from_slice(text.as_bytes()),
            }
            token_offsets.push(token_bytes.len());
        }

        let specials = SpecialMatcher::new(
            (0..vocab_size)
                .zip(spec.tokens.iter().zip(&roles))
                .filter_map(|(id, (text, &role))| match role {
                    Role::Special { always } => Some((text.clone(), id, always)),
                    Role::Bytes => None,
                }),
        );

        let mut end_of_generation: Vec<u32> = END_OF_GENERATION_TEXTS
            .iter()
            .filter_map(|text| ids.get(*text).copied())
            .chain(spec.eos)
            .chain(spec.eot)
            .collect();
        end_of_generation.sort_unstable();
        end_of_generation.dedup();

        Ok(Tokenizer {
            ids,
            token_bytes,
            token_offsets,
            byte_tokens,
            merges,
            splitter,
            specials,
            pre: spec.pre,
            bos: spec.bos,
            eos: spec.eos,
            eot: spec.eot,
            add_bos: spec.add_bos,
            add_eos: spec.add_eos,
            end_of_generation,
        })
    }

    /// Encodes `text`. With `add_special`, BOS / EOS are added as the model's `add_bos` /
    /// `add_eos` flags say. With `parse_special`, control tokens written in the text
    /// (`<|im_start|>`) become their ids; without it they are encoded as plain text, which is
    /// what untrusted user text needs. User-defined tokens are always matched.
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 2);
        if add_special && self.add_bos {
            out.extend(self.bos);
        }
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
                    self.encode_word(word, &mut scratch, &mut out);
                    cache.insert(word, (start, out.len()));
                }),
            });
        if add_special && self.add_eos {
            out.extend(self.eos);
        }
        out
    }

    /// Appends the ids of one pre-token word to `out`; `scratch` is reusable working space.
    fn encode_word(&self, word: &str, scratch: &mut Vec<u32>, out: &mut Vec<u32>) {
        if self.splitter.ignore_merges() {
            let text: String = word.bytes().map(bytes::byte_to_char).collect();
            if let Some(&id) = self.ids.get(&text) {
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

    /// Decodes ids to text. Special tokens appear as their text. The bytes of all tokens
    /// are joined first and then read as UTF-8 with `String::from_utf8_lossy` semantics:
    /// a character split across tokens decodes whole, and bytes that form no valid UTF-8
    /// in the whole sequence become U+FFFD (as Hugging Face's ByteLevel decoder does).
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        for (position, &id) in ids.iter().enumerate() {
            let token = self.token_bytes(id).ok_or(TokenizerError::IdOutOfRange {
                id,
                position,
                vocab_size: self.vocab_size(),
            })?;
            bytes.extend_from_slice(token);
        }
        Ok(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Raw bytes of one token (the byte-level encoding undone; special tokens as their
    /// text), or `None` for an id outside the vocabulary. May be part of a UTF-8 character.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let i = usize::try_from(id).ok()?;
        let (&start, &end) = (self.token_offsets.get(i)?, self.token_offsets.get(i + 1)?);
        self.token_bytes.get(start..end)
    }

    /// Number of tokens in the vocabulary (ids are `0..vocab_size`).
    pub fn vocab_size(&self) -> usize {
        self.token_offsets.len() - 1
    }

    /// Beginning-of-sequence token, if the model has one.
    pub fn bos(&self) -> Option<u32> {
        self.bos
    }

    /// End-of-sequence token, if the model has one.
    pub fn eos(&self) -> Option<u32> {
        self.eos
    }

    /// End-of-turn token, if the metadata names one (`tokenizer.ggml.eot_token_id`).
    pub fn eot(&self) -> Option<u32> {
        self.eot
    }

    /// Whether `encode(.., add_special = true, ..)` prepends BOS (`tokenizer.ggml.add_bos_token`).
    pub fn add_bos(&self) -> bool {
        self.add_bos
    }

    /// Whether `encode(.., add_special = true, ..)` appends EOS (`tokenizer.ggml.add_eos_token`).
    pub fn add_eos(&self) -> bool {
        self.add_eos
    }

    /// Whether generating `id` ends the generation: eos, eot, and the end-of-turn tokens
    /// llama.cpp recognises by text (`<|im_end|>`, `<|endoftext|>`, `<|eot_id|>`, ...).
    pub fn is_end_of_generation(&self, id: u32) -> bool {
        self.end_of_generation.binary_search(&id).is_ok()
    }

    /// The id of the token whose vocabulary text is `text` (byte-level form, e.g. `Ġthe`;
    /// special tokens as written, e.g. `<|im_end|>`).
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size())
            .field("pre", &self.pre)
            .field("bos", &self.bos)
            .field("eos", &self.eos)
            .field("eot", &self.eot)
            .field("add_bos", &self.add_bos)
            .field("add_eos", &self.add_eos)
            .finish_non_exhaustive()
    }
}

/// Appends the raw bytes of a byte-level token text. A text with a character outside the
/// byte map is taken as plain UTF-8 instead, as Hugging Face's ByteLevel decoder does.
fn append_token_bytes(text: &str, out: &mut Vec<u8>) {
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

#[cfg(test)]
mod tests;
