//! [`Tokenizer::from_gguf`]: reading the `tokenizer.ggml.*` metadata into a
//! [`TokenizerSpec`]. Only the reading lives here; all validation is in `from_spec`.

use super::pretokenize;
use super::{Tokenizer, TokenizerError, TokenizerSpec};
use crate::gguf::{GgufError, GgufFile};

const MODEL: &str = "tokenizer.ggml.model";
const PRE: &str = "tokenizer.ggml.pre";
const TOKENS: &str = "tokenizer.ggml.tokens";
const MERGES: &str = "tokenizer.ggml.merges";
const TOKEN_TYPE: &str = "tokenizer.ggml.token_type";
const BOS: &str = "tokenizer.ggml.bos_token_id";
const EOS: &str = "tokenizer.ggml.eos_token_id";
const EOT: &str = "tokenizer.ggml.eot_token_id";
const ADD_BOS: &str = "tokenizer.ggml.add_bos_token";
const ADD_EOS: &str = "tokenizer.ggml.add_eos_token";

impl Tokenizer {
    /// Builds the tokenizer of a GGUF model.
    ///
    /// Required: `tokenizer.ggml.model` = "gpt2", `.pre`, `.tokens`, `.merges`. Optional:
    /// `.token_type` (all normal when absent), `.bos_token_id`, `.eos_token_id`,
    /// `.eot_token_id`, `.add_bos_token` (absent: true for Llama 3 pre-tokenizers, false
    /// otherwise, as llama.cpp) and `.add_eos_token` (absent: false). Padding and unknown
    /// ids are not read: byte-level BPE never produces an unknown token and the tokenizer
    /// does not pad.
    pub fn from_gguf(file: &GgufFile) -> Result<Tokenizer, TokenizerError> {
        let model = file.get_str(MODEL)?;
        if model != "gpt2" {
            return Err(TokenizerError::UnsupportedModel(model.to_owned()));
        }
        let pre = file.get_str(PRE)?.to_owned();
        let tokens = file.get_str_array(TOKENS)?.to_vec();
        let token_types = match file.get(TOKEN_TYPE) {
            Some(_) => file.get_i32_array(TOKEN_TYPE)?,
            None => vec![1; tokens.len()],
        };
        let default_add_bos = pretokenize::default_add_bos(&pre);
        Tokenizer::from_spec(TokenizerSpec {
            merges: file.get_str_array(MERGES)?.to_vec(),
            tokens,
            token_types,
            bos: optional(file, BOS, GgufFile::get_u32)?,
            eos: optional(file, EOS, GgufFile::get_u32)?,
            eot: optional(file, EOT, GgufFile::get_u32)?,
            add_bos: optional(file, ADD_BOS, GgufFile::get_bool)?.unwrap_or(default_add_bos),
            add_eos: optional(file, ADD_EOS, GgufFile::get_bool)?.unwrap_or(false),
            pre,
        })
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
