//! [`TokenizerError`]: what can be wrong with tokenizer metadata or with ids given to decode.
//!
//! Each variant carries its context as values (which token, merge or key), so the Display
//! text is assembled here and nowhere else.

use crate::gguf::GgufError;

/// An error from building a [`Tokenizer`](super::Tokenizer) or from decoding ids.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// A `tokenizer.ggml.*` metadata key is missing or has the wrong type (the GGUF error
    /// names the key).
    #[error("tokenizer metadata: {0}")]
    Metadata(#[from] GgufError),

    /// `tokenizer.ggml.model` names a tokenizer other than byte-level BPE.
    #[error("unsupported tokenizer model '{0}': only 'gpt2' (byte-level BPE) is supported")]
    UnsupportedModel(String),

    /// `tokenizer.ggml.pre` names a pre-tokenizer this crate does not implement.
    #[error("unknown pre-tokenizer '{name}'; supported: {supported}")]
    UnknownPreTokenizer { name: String, supported: String },

    /// The vocabulary has no tokens.
    #[error("the vocabulary is empty")]
    EmptyVocabulary,

    /// The vocabulary has more tokens than a `u32` id can address.
    #[error("the vocabulary has {0} tokens, more than u32 ids can address")]
    VocabularyTooLarge(usize),

    /// `token_types` and `tokens` differ in length.
    #[error("token_types has {types} entries but the vocabulary has {tokens} tokens")]
    TokenTypesLength { types: usize, tokens: usize },

    /// A token type outside 0..=6 (undefined, normal, unknown, control, user-defined,
    /// unused, byte).
    #[error("token {id} ('{text}'): unknown token type {token_type}")]
    BadTokenType {
        id: u32,
        text: String,
        token_type: i32,
    },

    /// Two ids have the same token text, so text -> id would be ambiguous.
    #[error("token {id} ('{text}') repeats token {first}")]
    DuplicateToken { id: u32, first: u32, text: String },

    /// A merge is not two tokens separated by a space.
    #[error("merge {index} ('{merge}'): not two tokens separated by a space")]
    MergeNotAPair { index: usize, merge: String },

    /// A merge names a token that is not in the vocabulary.
    #[error("merge {index} ('{merge}'): token '{token}' not in vocabulary")]
    MergeTokenUnknown {
        index: usize,
        merge: String,
        token: String,
    },

    /// A merge would produce a token that is not in the vocabulary.
    #[error("merge {index} ('{merge}'): merged token '{merged}' not in vocabulary")]
    MergeResultUnknown {
        index: usize,
        merge: String,
        merged: String,
    },

    /// A special token id (bos, eos, eot) is not a vocabulary id.
    #[error("{which} token id {id} out of range (vocabulary size {vocab_size})")]
    SpecialIdOutOfRange {
        which: &'static str,
        id: u32,
        vocab_size: usize,
    },

    /// `add_bos` / `add_eos` is set but the matching token id is absent.
    #[error("{flag} is set but there is no {which} token id")]
    MissingSpecialId {
        flag: &'static str,
        which: &'static str,
    },

    /// `decode` was given an id that is not in the vocabulary.
    #[error("token id {id} at position {position} out of range (vocabulary size {vocab_size})")]
    IdOutOfRange {
        id: u32,
        position: usize,
        vocab_size: usize,
    },
}
