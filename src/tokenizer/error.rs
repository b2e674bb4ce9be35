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

    /// `tokenizer.ggml.model` names a tokenizer other than byte-level BPE or SentencePiece.
    #[error(
        "unsupported tokenizer model '{0}' (tokenizer.ggml.model): supported are 'gpt2' \
         (byte-level BPE) and 'llama' (SentencePiece)"
    )]
    UnsupportedModel(String),

    /// `tokenizer.ggml.pre` names a pre-tokenizer this crate does not implement.
    #[error("unknown pre-tokenizer '{name}'; supported: {supported}")]
    UnknownPreTokenizer { name: String, supported: String },

    /// The vocabulary has no tokens.
    #[error("the vocabulary (tokenizer.ggml.tokens) is empty")]
    EmptyVocabulary,

    /// The vocabulary has more tokens than a `u32` id can address.
    #[error("the vocabulary has {0} tokens, more than u32 ids can address")]
    VocabularyTooLarge(usize),

    /// `token_types` and `tokens` differ in length.
    #[error(
        "tokenizer.ggml.token_type has {types} entries but the vocabulary has {tokens} tokens"
    )]
    TokenTypesLength { types: usize, tokens: usize },

    /// A token type outside 0..=6 (undefined, normal, unknown, control, user-defined,
    /// unused, byte).
    #[error("tokenizer.ggml.token_type: token {id} ('{text}'): unknown token type {token_type}")]
    BadTokenType {
        id: u32,
        text: String,
        token_type: i32,
    },

    /// Two ids have the same token text, so text -> id would be ambiguous.
    #[error("tokenizer.ggml.tokens: token {id} ('{text}') repeats token {first}")]
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

    /// A special token id (bos, eos, eot, unk) is not a vocabulary id.
    #[error("{which} token id {id} out of range (vocabulary size {vocab_size}; {key})")]
    SpecialIdOutOfRange {
        which: &'static str,
        /// The metadata key that holds the id.
        key: &'static str,
        id: u32,
        vocab_size: usize,
    },

    /// SentencePiece: `tokenizer.ggml.scores` does not have one score per token.
    #[error("tokenizer.ggml.scores has {scores} entries but the vocabulary has {tokens} tokens")]
    ScoresLength { scores: usize, tokens: usize },

    /// SentencePiece: a score is NaN, which has no place in the merge order.
    #[error("tokenizer.ggml.scores: token {id} ('{text}') has score NaN")]
    ScoreNotANumber { id: u32, text: String },

    /// SentencePiece: no token stands for this byte (`<0xXX>`, or the byte itself for
    /// ASCII), so text containing it could not be encoded.
    #[error(
        "tokenizer.ggml.tokens has no byte-fallback token <0x{byte:02X}> \
         (SentencePiece needs one for each of the 256 bytes)"
    )]
    MissingByteToken { byte: u8 },

    /// SentencePiece: a token typed as a byte (type 6) is not written `<0xXX>`.
    #[error(
        "tokenizer.ggml.token_type: token {id} ('{text}') has the byte type but is not <0xXX>"
    )]
    BadByteToken { id: u32, text: String },

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
