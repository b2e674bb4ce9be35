//! Tokenizers built from a GGUF vocabulary: byte-level BPE (`tokenizer.ggml.model =
//! "gpt2"`) and SentencePiece (`"llama"`), behind one [`Tokenizer`] type.
//!
//! What both share lives here: the vocabulary (text -> id, and each token's raw bytes for
//! decoding), bos / eos / eot and the add_bos / add_eos flags, decoding, and the check of
//! everything the metadata claims. How text becomes ids is the job of one encoder each:
//! - `byte_level`: special tokens cut out leftmost-longest (`special`), words split by the
//!   regex that `tokenizer.ggml.pre` names (`pretokenize`), each word's bytes merged by
//!   rank (`bpe`, with GPT-2's byte <-> char map in `bytes`). Reference: Hugging Face
//!   `tokenizers` (tests/fixtures/tokenizer/smollm2.json, scripts/make-tokenizer-fixtures.py).
//! - `spm`: special tokens cut out longest-first (`spm_special`), spaces written as U+2581,
//!   adjacent pieces merged by vocabulary score with byte fallback (`spm_merge`).
//!   Reference: llama.cpp's own tokenizer (tests/fixtures/tokenizer/gemma3.json,
//!   scripts/make-spm-fixtures.py).
//!
//! The encoder is an enum, not a trait object: the set of algorithms is closed and chosen
//! once from the metadata, a `match` keeps dispatch static and makes adding a third model
//! a compile error everywhere it matters, and the shared parts need no trait to reach them.
//! [`StreamDecoder`] decodes one token at a time. This module renders no chat template and
//! never normalizes text (no NFC), like llama.cpp; SentencePiece's only rewrite is the
//! space escape (and the prefix space where `add_space_prefix` asks for it). Qwen2's Hugging
//! Face tokenizer applies NFC first, so there input that is not NFC can tokenize differently.

mod bpe;
mod byte_level;
mod bytes;
mod error;
mod gguf;
mod pretokenize;
mod special;
mod spm;
mod spm_merge;
mod spm_special;
mod stream;

use std::collections::HashMap;
use std::fmt;

pub use error::TokenizerError;
pub use stream::StreamDecoder;

use byte_level::ByteLevel;
use spm::Spm;

/// Texts of tokens that end a generation even when the metadata names none of them as eos
/// or eot: the list llama.cpp (0c1e570) uses. Its SentencePiece tokenizer also treats them
/// as control tokens whatever their type (see `spm`).
const END_OF_GENERATION_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
    "<|end_of_text|>",
    "<end_of_utterance>",
    "<eos>",
    "<turn|>",
    "<|tool_response>",
    "<｜end▁of▁sentence｜>",
    "[e~[",
];

/// The tokenizer's inputs, as read from GGUF metadata (`tokenizer.ggml.*`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenizerSpec {
    /// Token texts by id: in GPT-2's byte-to-unicode encoding for BPE (`Ġthe`), with
    /// U+2581 for spaces for SentencePiece (`▁the`); special tokens as their plain text.
    pub tokens: Vec<String>,
    /// GGUF token types by id: 0 undefined, 1 normal, 2 unknown, 3 control,
    /// 4 user-defined, 5 unused, 6 byte.
    pub token_types: Vec<i32>,
    /// The algorithm and its own metadata.
    pub model: ModelSpec,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    /// End of turn, for chat models whose eos ends the whole document.
    pub eot: Option<u32>,
    /// Prepend `bos` when `encode` is asked to add special tokens.
    pub add_bos: bool,
    /// Append `eos` when `encode` is asked to add special tokens.
    pub add_eos: bool,
}

/// Which algorithm turns text into ids, with the metadata only it reads.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelSpec {
    /// Byte-level BPE (`tokenizer.ggml.model = "gpt2"`).
    Bpe {
        /// `"left right"` merges (`tokenizer.ggml.merges`); a merge's rank is its index.
        merges: Vec<String>,
        /// The pre-tokenizer name (`tokenizer.ggml.pre`), e.g. "smollm", "llama-bpe".
        pre: String,
    },
    /// SentencePiece with byte fallback (`tokenizer.ggml.model = "llama"`).
    Spm {
        /// One score per token (`tokenizer.ggml.scores`): the higher, the earlier merged.
        scores: Vec<f32>,
        /// Put a space before text that starts the input or follows a special token
        /// (`tokenizer.ggml.add_space_prefix`).
        add_space_prefix: bool,
        /// The unknown token (`tokenizer.ggml.unknown_token_id`). Checked but never
        /// produced: bytes without a piece fall back to `<0xXX>` tokens.
        unk: Option<u32>,
    },
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec::Bpe {
            merges: Vec::new(),
            pre: String::new(),
        }
    }
}

/// The tokenizer algorithm of a [`Tokenizer`], as llama.cpp names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenizerKind {
    /// Byte-level BPE (GPT-2 style).
    Bpe,
    /// SentencePiece (merges by score, byte fallback).
    Spm,
}

impl TokenizerKind {
    /// The algorithm a `tokenizer.ggml.model` value names, if this crate implements it:
    /// "gpt2" is byte-level BPE, "llama" is SentencePiece.
    pub fn from_model_name(name: &str) -> Option<TokenizerKind> {
        match name {
            "gpt2" => Some(TokenizerKind::Bpe),
            "llama" => Some(TokenizerKind::Spm),
            _ => None,
        }
    }

    /// A short description, e.g. "SPM (SentencePiece)".
    pub fn description(self) -> &'static str {
        match self {
            TokenizerKind::Bpe => "BPE (byte-level)",
            TokenizerKind::Spm => "SPM (SentencePiece)",
        }
    }
}

impl fmt::Display for TokenizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenizerKind::Bpe => "BPE",
            TokenizerKind::Spm => "SPM",
        })
    }
}

/// A GGUF token type (`tokenizer.ggml.token_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenType {
    Undefined,
    Normal,
    Unknown,
    Control,
    UserDefined,
    Unused,
    Byte,
}

impl TokenType {
    fn of(value: i32) -> Option<Self> {
        Some(match value {
            0 => Self::Undefined,
            1 => Self::Normal,
            2 => Self::Unknown,
            3 => Self::Control,
            4 => Self::UserDefined,
            5 => Self::Unused,
            6 => Self::Byte,
            _ => return None,
        })
    }

    /// Special tokens are matched whole in the input before the encoder sees it. Returns
    /// whether the token is special, and if so whether it is matched even when the caller
    /// does not ask to parse special tokens (only user-defined ones are).
    fn special(self) -> Option<bool> {
        match self {
            Self::Unknown | Self::Control => Some(false),
            Self::UserDefined => Some(true),
            _ => None,
        }
    }
}

/// The encoder of one algorithm (boxed: BPE's byte table alone is 2 KiB).
enum Encoder {
    Bpe(Box<ByteLevel>),
    Spm(Box<Spm>),
}

/// A validated tokenizer. Immutable, `Send + Sync`: share one per model.
pub struct Tokenizer {
    /// Token text (as stored in the vocabulary) -> id; empty tokens are left out.
    ids: HashMap<String, u32>,
    /// Raw bytes of token `i` when decoded:
    /// `token_bytes[token_offsets[i]..token_offsets[i + 1]]`.
    token_bytes: Vec<u8>,
    token_offsets: Vec<usize>,
    encoder: Encoder,
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
    /// are unique, special ids are in range, and the encoder's own metadata is sound (BPE:
    /// every merge names vocabulary tokens and the pre-tokenizer is known; SentencePiece:
    /// one finite score per token and a token for every byte).
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

        let mut ids = HashMap::with_capacity(n);
        let mut types = Vec::with_capacity(n);
        for ((id, text), &token_type) in (0..vocab_size).zip(&spec.tokens).zip(&spec.token_types) {
            let token_type =
                TokenType::of(token_type).ok_or_else(|| TokenizerError::BadTokenType {
                    id,
                    text: text.clone(),
                    token_type,
                })?;
            types.push(token_type);
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

        for (which, key, id) in [
            ("bos", "tokenizer.ggml.bos_token_id", spec.bos),
            ("eos", "tokenizer.ggml.eos_token_id", spec.eos),
            ("eot", "tokenizer.ggml.eot_token_id", spec.eot),
        ] {
            check_special_id(which, key, id, n)?;
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
        let encoder = match spec.model {
            ModelSpec::Bpe { merges, pre } => {
                for (text, &token_type) in spec.tokens.iter().zip(&types) {
                    byte_level::append_piece(text, token_type, &mut token_bytes);
                    token_offsets.push(token_bytes.len());
                }
                Encoder::Bpe(Box::new(ByteLevel::new(
                    &spec.tokens,
                    &types,
                    &ids,
                    &merges,
                    pre,
                )?))
            }
            ModelSpec::Spm {
                scores,
                add_space_prefix,
                unk,
            } => {
                check_special_id("unk", "tokenizer.ggml.unknown_token_id", unk, n)?;
                for ((id, text), &token_type) in (0..vocab_size).zip(&spec.tokens).zip(&types) {
                    spm::append_piece(id, text, token_type, &mut token_bytes)?;
                    token_offsets.push(token_bytes.len());
                }
                Encoder::Spm(Box::new(Spm::new(
                    &spec.tokens,
                    &types,
                    &ids,
                    scores,
                    add_space_prefix,
                    unk,
                )?))
            }
        };

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
            encoder,
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
    /// (`<|im_start|>`, `<start_of_turn>`) become their ids; without it they are encoded as
    /// plain text, which is what untrusted user text needs. User-defined tokens are always
    /// matched.
    pub fn encode(&self, text: &str, add_special: bool, parse_special: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 2);
        if add_special && self.add_bos {
            out.extend(self.bos);
        }
        match &self.encoder {
            Encoder::Bpe(bpe) => bpe.encode(&self.ids, text, parse_special, &mut out),
            Encoder::Spm(spm) => spm.encode(&self.ids, text, parse_special, &mut out),
        }
        if add_special && self.add_eos {
            out.extend(self.eos);
        }
        out
    }

    /// Decodes ids to text. Special tokens appear as their text. The bytes of all tokens
    /// are joined first and then read as UTF-8 with `String::from_utf8_lossy` semantics:
    /// a character split across tokens (or across SentencePiece's `<0xXX>` byte tokens)
    /// decodes whole, and bytes that form no valid UTF-8 in the whole sequence become
    /// U+FFFD (as Hugging Face's ByteLevel decoder does).
    ///
    /// A SentencePiece model with `add_space_prefix` drops one leading space of the first
    /// token, the one its encoder added, as llama.cpp's `llama_detokenize` does; so
    /// `decode(encode(s))` gives back `s`. [`StreamDecoder`] keeps that space (its text
    /// usually continues a prompt), as llama.cpp's per-token pieces do.
    pub fn decode(&self, ids: &[u32]) -> Result<String, TokenizerError> {
        let mut bytes = Vec::with_capacity(ids.len() * 4);
        for (position, &id) in ids.iter().enumerate() {
            let mut token = self.token_bytes(id).ok_or(TokenizerError::IdOutOfRange {
                id,
                position,
                vocab_size: self.vocab_size(),
            })?;
            if position == 0 && self.add_space_prefix() {
                token = token.strip_prefix(b" ").unwrap_or(token);
            }
            bytes.extend_from_slice(token);
        }
        Ok(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Raw bytes of one token (byte-level encoding undone, U+2581 turned back into a
    /// space, a byte token's byte; special tokens as their text), or `None` for an id
    /// outside the vocabulary. May be part of a UTF-8 character.
    pub fn token_bytes(&self, id: u32) -> Option<&[u8]> {
        let i = usize::try_from(id).ok()?;
        let (&start, &end) = (self.token_offsets.get(i)?, self.token_offsets.get(i + 1)?);
        self.token_bytes.get(start..end)
    }

    /// Number of tokens in the vocabulary (ids are `0..vocab_size`).
    pub fn vocab_size(&self) -> usize {
        self.token_offsets.len() - 1
    }

    /// The algorithm: byte-level BPE or SentencePiece.
    pub fn kind(&self) -> TokenizerKind {
        match self.encoder {
            Encoder::Bpe(_) => TokenizerKind::Bpe,
            Encoder::Spm(_) => TokenizerKind::Spm,
        }
    }

    /// Whether the encoder puts a space before text at the start and after special tokens
    /// (SentencePiece's `tokenizer.ggml.add_space_prefix`; never for BPE).
    pub fn add_space_prefix(&self) -> bool {
        match &self.encoder {
            Encoder::Bpe(_) => false,
            Encoder::Spm(spm) => spm.add_space_prefix(),
        }
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
    /// llama.cpp recognises by text (`<|im_end|>`, `<end_of_turn>`, `</s>`, ...).
    pub fn is_end_of_generation(&self, id: u32) -> bool {
        self.end_of_generation.binary_search(&id).is_ok()
    }

    /// The id of the token whose vocabulary text is `text` (as stored: `Ġthe` for BPE,
    /// `▁the` for SentencePiece; special tokens as written, e.g. `<|im_end|>`).
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }
}

impl fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Tokenizer");
        d.field("kind", &self.kind())
            .field("vocab_size", &self.vocab_size());
        match &self.encoder {
            Encoder::Bpe(bpe) => d.field("pre", &bpe.pre()),
            Encoder::Spm(spm) => d
                .field("add_space_prefix", &spm.add_space_prefix())
                .field("unk", &spm.unk()),
        };
        d.field("bos", &self.bos)
            .field("eos", &self.eos)
            .field("eot", &self.eot)
            .field("add_bos", &self.add_bos)
            .field("add_eos", &self.add_eos)
            .finish_non_exhaustive()
    }
}

/// `id`, when present, must be a vocabulary id.
fn check_special_id(
    which: &'static str,
    key: &'static str,
    id: Option<u32>,
    vocab_size: usize,
) -> Result<(), TokenizerError> {
    match id {
        Some(id) if !usize::try_from(id).is_ok_and(|i| i < vocab_size) => {
            Err(TokenizerError::SpecialIdOutOfRange {
                which,
                key,
                id,
                vocab_size,
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
