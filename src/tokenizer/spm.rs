//! The SentencePiece encoder (`tokenizer.ggml.model = "llama"`), as llama.cpp runs it.
//!
//! Encoding: special tokens are cut out of the raw text whole (`spm_special`, longest
//! first); each remaining text run gets a space in front when `add_space_prefix` is set and
//! the run starts the input or follows a special token; its spaces become U+2581 (`▁`);
//! then `spm_merge` merges adjacent pieces by vocabulary score, and characters left
//! without a piece become `<0xXX>` byte tokens. Nothing else is normalized (no NFKC, no
//! whitespace collapsing), as in llama.cpp's `llm_tokenizer_spm`.
//!
//! Decoding: normal pieces turn `▁` back into spaces, byte tokens give their byte (so
//! consecutive byte tokens reassemble a UTF-8 character), special tokens give their text,
//! and unused / undefined tokens give nothing, as llama.cpp's `token_to_piece` does.

use std::collections::HashMap;

use super::special::Segment;
use super::spm_merge;
use super::spm_special::SpecialPartition;
use super::{TokenType, TokenizerError, END_OF_GENERATION_TEXTS};

/// SentencePiece's visible space, U+2581 LOWER ONE EIGHTH BLOCK.
const SPACE_MARK: char = '\u{2581}';

/// How llama.cpp treats a SentencePiece token: by its type, except that tokens whose text
/// is an end-of-generation text (`</s>`, `<end_of_turn>`, ...) are control tokens whatever
/// their type (llama.cpp adds the control attribute to them when it loads the vocabulary;
/// Gemma 3's `</s>` is user-defined in the file, and so is only cut out of the text when
/// special tokens are parsed). llama.cpp's other text-based overrides (the first
/// fill-in-the-middle token of each kind, gpt-oss's, Gemma 4's and PLaMo's exceptions)
/// concern vocabularies that are not SentencePiece or are not replicated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// Text with U+2581 for spaces.
    Piece,
    /// One byte, written `<0xXX>`.
    Byte,
    /// Matched whole in the input: always (user-defined) or only when the caller parses
    /// special tokens (control, unknown). Decodes to its text as written.
    Special { always: bool },
    /// Decodes to nothing (undefined and unused types).
    Hidden,
}

impl Role {
    fn of(text: &str, token_type: TokenType) -> Role {
        if END_OF_GENERATION_TEXTS.contains(&text) {
            return Role::Special { always: false };
        }
        match token_type {
            TokenType::Normal => Role::Piece,
            TokenType::Byte => Role::Byte,
            TokenType::Unknown | TokenType::Control => Role::Special { always: false },
            TokenType::UserDefined => Role::Special { always: true },
            TokenType::Undefined | TokenType::Unused => Role::Hidden,
        }
    }
}

/// What SentencePiece needs beyond the vocabulary.
pub(crate) struct Spm {
    /// Merge score of each token, never NaN and never -0.0 (so `f32::total_cmp` orders
    /// them exactly as IEEE comparison does).
    scores: Vec<f32>,
    /// The byte-fallback token of each byte value.
    byte_tokens: [u32; 256],
    specials: SpecialPartition,
    add_space_prefix: bool,
    /// Checked and shown by `Debug`; the encoder never emits it (bytes fall back).
    unk: Option<u32>,
}

impl Spm {
    /// Builds the encoder over a vocabulary whose types are validated and whose `ids` map
    /// holds every non-empty token. Needs one score per token and a token for every byte.
    pub(crate) fn new(
        tokens: &[String],
        types: &[TokenType],
        ids: &HashMap<String, u32>,
        mut scores: Vec<f32>,
        add_space_prefix: bool,
        unk: Option<u32>,
    ) -> Result<Self, TokenizerError> {
        if scores.len() != tokens.len() {
            return Err(TokenizerError::ScoresLength {
                scores: scores.len(),
                tokens: tokens.len(),
            });
        }
        for ((id, score), text) in (0u32..).zip(&mut scores).zip(tokens) {
            if score.is_nan() {
                return Err(TokenizerError::ScoreNotANumber {
                    id,
                    text: text.clone(),
                });
            }
            // -0.0 + 0.0 is +0.0: both zeros then compare equal under total_cmp too.
            *score += 0.0;
        }
        let mut byte_tokens = [0; 256];
        for (byte, slot) in (0..=u8::MAX).zip(&mut byte_tokens) {
            *slot = byte_fallback(ids, byte).ok_or(TokenizerError::MissingByteToken { byte })?;
        }
        let specials = SpecialPartition::new((0u32..).zip(tokens.iter().zip(types)).filter_map(
            |(id, (text, &token_type))| match Role::of(text, token_type) {
                Role::Special { always } => Some((text.as_str(), id, always)),
                _ => None,
            },
        ));
        Ok(Self {
            scores,
            byte_tokens,
            specials,
            add_space_prefix,
            unk,
        })
    }

    /// Whether text at the start of the input and after a special token gets a space in
    /// front (`tokenizer.ggml.add_space_prefix`).
    pub(crate) fn add_space_prefix(&self) -> bool {
        self.add_space_prefix
    }

    /// The unknown token named by the metadata.
    pub(crate) fn unk(&self) -> Option<u32> {
        self.unk
    }

    /// Appends the ids of `text` to `out` (no BOS / EOS: the caller adds those).
    pub(crate) fn encode(
        &self,
        ids: &HashMap<String, u32>,
        text: &str,
        parse_special: bool,
        out: &mut Vec<u32>,
    ) {
        // llama.cpp counts the start of the input as "after a special token", BOS or not.
        let mut after_special = true;
        let mut escaped = String::new();
        self.specials
            .split(text, parse_special, |segment| match segment {
                Segment::Special(id) => {
                    out.push(id);
                    after_special = true;
                }
                Segment::Text(plain) => {
                    escaped.clear();
                    if self.add_space_prefix && after_special {
                        escaped.push(SPACE_MARK);
                    }
                    escape_spaces(plain, &mut escaped);
                    spm_merge::encode(&escaped, ids, &self.scores, &self.byte_tokens, out);
                    after_special = false;
                }
            });
    }
}

/// Appends `text` to `out` with every space (U+0020 only) written as U+2581.
fn escape_spaces(text: &str, out: &mut String) {
    let mut parts = text.split(' ');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for part in parts {
        out.push(SPACE_MARK);
        out.push_str(part);
    }
}

/// The token llama.cpp falls back to for `byte`: `<0xXX>` (upper-case hex), else, for
/// ASCII, the one-character token of the byte itself.
fn byte_fallback(ids: &HashMap<String, u32>, byte: u8) -> Option<u32> {
    ids.get(&format!("<0x{byte:02X}>")).copied().or_else(|| {
        byte.is_ascii()
            .then(|| ids.get(char::from(byte).encode_utf8(&mut [0; 4]) as &str))
            .flatten()
            .copied()
    })
}

/// Appends the decoded bytes of token `id`: see the module documentation and [`Role`].
pub(crate) fn append_piece(
    id: u32,
    text: &str,
    token_type: TokenType,
    out: &mut Vec<u8>,
) -> Result<(), TokenizerError> {
    match Role::of(text, token_type) {
        Role::Piece => {
            let mut parts = text.split(SPACE_MARK);
            if let Some(first) = parts.next() {
                out.extend_from_slice(first.as_bytes());
            }
            for part in parts {
                out.push(b' ');
                out.extend_from_slice(part.as_bytes());
            }
        }
        Role::Special { .. } => out.extend_from_slice(text.as_bytes()),
        Role::Byte => {
            out.push(
                parse_byte_token(text).ok_or_else(|| TokenizerError::BadByteToken {
                    id,
                    text: text.to_owned(),
                })?,
            )
        }
        Role::Hidden => {}
    }
    Ok(())
}

/// The byte of a `<0xXX>` token text (either case of hex digits), or `None`.
fn parse_byte_token(text: &str) -> Option<u8> {
    let hex = text.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() != 2 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u8::from_str_radix(hex, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_tokens_parse_strictly() {
        assert_eq!(parse_byte_token("<0x0A>"), Some(10));
        assert_eq!(parse_byte_token("<0xff>"), Some(255));
        for bad in ["<0x0>", "<0x123>", "<0xZZ>", "0x41", "<0x+1>", "<0x41", ""] {
            assert_eq!(parse_byte_token(bad), None, "{bad}");
        }
    }

    #[test]
    fn end_of_generation_texts_are_control_whatever_their_type() {
        let control = Role::Special { always: false };
        assert_eq!(Role::of("</s>", TokenType::UserDefined), control);
        assert_eq!(Role::of("<end_of_turn>", TokenType::Normal), control);
        assert_eq!(
            Role::of("<s>", TokenType::UserDefined),
            Role::Special { always: true }
        );
        assert_eq!(Role::of("▁s", TokenType::Unused), Role::Hidden);
    }

    #[test]
    fn spaces_escape_and_unescape() {
        let mut s = String::new();
        escape_spaces(" a  b ", &mut s);
        assert_eq!(s, "▁a▁▁b▁");
        let mut out = Vec::new();
        append_piece(0, "▁a▁▁b▁", TokenType::Normal, &mut out).unwrap();
        assert_eq!(out, b" a  b ");
        out.clear();
        append_piece(0, "▁x", TokenType::Control, &mut out).unwrap();
        append_piece(0, "</s>", TokenType::Normal, &mut out).unwrap();
        append_piece(0, "▁x", TokenType::Unused, &mut out).unwrap();
        append_piece(0, "<0xE6>", TokenType::Byte, &mut out).unwrap();
        assert_eq!(out, b"\xe2\x96\x81x</s>\xe6");
    }
}
