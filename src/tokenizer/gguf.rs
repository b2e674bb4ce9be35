//! [`Tokenizer::from_gguf`]: reading the `tokenizer.ggml.*` metadata into a
//! [`TokenizerSpec`]. Only the reading (and llama.cpp's defaults for absent keys) lives
//! here; all validation is in `from_spec`.

use super::pretokenize;
use super::{ModelSpec, Tokenizer, TokenizerError, TokenizerKind, TokenizerSpec};
use crate::gguf::{GgufError, GgufFile, MetaArray, MetaValue};

const MODEL: &str = "tokenizer.ggml.model";
const PRE: &str = "tokenizer.ggml.pre";
const TOKENS: &str = "tokenizer.ggml.tokens";
const MERGES: &str = "tokenizer.ggml.merges";
const SCORES: &str = "tokenizer.ggml.scores";
const TOKEN_TYPE: &str = "tokenizer.ggml.token_type";
const BOS: &str = "tokenizer.ggml.bos_token_id";
const EOS: &str = "tokenizer.ggml.eos_token_id";
const EOT: &str = "tokenizer.ggml.eot_token_id";
const UNK: &str = "tokenizer.ggml.unknown_token_id";
const ADD_BOS: &str = "tokenizer.ggml.add_bos_token";
const ADD_EOS: &str = "tokenizer.ggml.add_eos_token";
const ADD_SPACE_PREFIX: &str = "tokenizer.ggml.add_space_prefix";

impl Tokenizer {
    /// Builds the tokenizer of a GGUF model; `tokenizer.ggml.model` picks the algorithm:
    /// "gpt2" is byte-level BPE, "llama" is SentencePiece, anything else is an error
    /// naming the value.
    ///
    /// Both read `.tokens` (required), `.token_type` (all normal when absent),
    /// `.bos_token_id`, `.eos_token_id`, `.eot_token_id`, `.add_bos_token` and
    /// `.add_eos_token` (absent: false).
    ///
    /// BPE also requires `.pre` and `.merges`; an absent `.add_bos_token` is true for
    /// Llama 3 pre-tokenizers, false otherwise, as llama.cpp. Padding and unknown ids are
    /// not read: byte-level BPE never produces an unknown token and the tokenizer does not
    /// pad.
    ///
    /// SentencePiece also requires `.scores` (f32, or i32 as llama.cpp accepts) and reads
    /// `.unknown_token_id` and `.add_space_prefix`. Absent keys take llama.cpp's defaults:
    /// bos 1, eos 2, unk 0 (each only if inside the vocabulary), add_bos true,
    /// add_space_prefix true.
    pub fn from_gguf(file: &GgufFile) -> Result<Tokenizer, TokenizerError> {
        let model = file.get_str(MODEL)?;
        let tokens =
            || -> Result<Vec<String>, GgufError> { Ok(file.get_str_array(TOKENS)?.to_vec()) };
        match TokenizerKind::from_model_name(model) {
            Some(TokenizerKind::Bpe) => {
                let pre = file.get_str(PRE)?.to_owned();
                let tokens = tokens()?;
                let default_add_bos = pretokenize::default_add_bos(&pre);
                Tokenizer::from_spec(TokenizerSpec {
                    token_types: token_types(file, tokens.len())?,
                    tokens,
                    model: ModelSpec::Bpe {
                        merges: file.get_str_array(MERGES)?.to_vec(),
                        pre,
                    },
                    bos: optional(file, BOS, GgufFile::get_u32)?,
                    eos: optional(file, EOS, GgufFile::get_u32)?,
                    eot: optional(file, EOT, GgufFile::get_u32)?,
                    add_bos: optional(file, ADD_BOS, GgufFile::get_bool)?
                        .unwrap_or(default_add_bos),
                    add_eos: optional(file, ADD_EOS, GgufFile::get_bool)?.unwrap_or(false),
                })
            }
            Some(TokenizerKind::Spm) => {
                let tokens = tokens()?;
                let scores = scores(file)?;
                // llama.cpp's defaults apply only to ids inside the vocabulary.
                let default = |id: u32| {
                    usize::try_from(id)
                        .is_ok_and(|i| i < tokens.len())
                        .then_some(id)
                };
                Tokenizer::from_spec(TokenizerSpec {
                    token_types: token_types(file, tokens.len())?,
                    model: ModelSpec::Spm {
                        scores,
                        add_space_prefix: optional(file, ADD_SPACE_PREFIX, GgufFile::get_bool)?
                            .unwrap_or(true),
                        unk: optional(file, UNK, GgufFile::get_u32)?.or_else(|| default(0)),
                    },
                    bos: optional(file, BOS, GgufFile::get_u32)?.or_else(|| default(1)),
                    eos: optional(file, EOS, GgufFile::get_u32)?.or_else(|| default(2)),
                    eot: optional(file, EOT, GgufFile::get_u32)?,
                    add_bos: optional(file, ADD_BOS, GgufFile::get_bool)?.unwrap_or(true),
                    add_eos: optional(file, ADD_EOS, GgufFile::get_bool)?.unwrap_or(false),
                    tokens,
                })
            }
            None => Err(TokenizerError::UnsupportedModel(model.to_owned())),
        }
    }
}

/// `tokenizer.ggml.token_type`, or all normal (1) when absent.
fn token_types(file: &GgufFile, n: usize) -> Result<Vec<i32>, GgufError> {
    match file.get(TOKEN_TYPE) {
        Some(_) => file.get_i32_array(TOKEN_TYPE),
        None => Ok(vec![1; n]),
    }
}

/// `tokenizer.ggml.scores` as f32: an f32 array, or an i32 array converted as llama.cpp
/// does. Any other type is an error naming the key.
fn scores(file: &GgufFile) -> Result<Vec<f32>, GgufError> {
    match file.get(SCORES) {
        Some(MetaValue::Array(MetaArray::F32(scores))) => Ok(scores.clone()),
        // Exactly what llama.cpp's static_cast<float> does (round to nearest).
        Some(MetaValue::Array(MetaArray::I32(scores))) => {
            Ok(scores.iter().map(|&s| s as f32).collect())
        }
        Some(other) => Err(GgufError::WrongType {
            key: SCORES.to_owned(),
            expected: "array of f32 or i32",
            found: other.type_name(),
        }),
        None => Err(GgufError::MissingKey {
            key: SCORES.to_owned(),
        }),
    }
}

/// The value of `key` read with `get`, or `None` when the key is absent.
fn optional<T>(
    file: &GgufFile,
    key: &str,
    get: fn(&GgufFile, &str) -> Result<T, GgufError>,
) -> Result<Option<T>, GgufError> {
    file.get(key).map(|_| get(file, key)).transpose()
}
