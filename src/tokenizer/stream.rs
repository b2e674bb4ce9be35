//! [`StreamDecoder`]: token ids in, finished text out, one token at a time.
//!
//! A byte-level token can end in the middle of a UTF-8 character (an emoji or a CJK
//! character is often two or three tokens). The decoder holds back such an incomplete tail
//! until the next token completes it, so every string it returns is final. Invalid bytes
//! become U+FFFD exactly as [`Tokenizer::decode`](super::Tokenizer::decode) would make them
//! for the whole sequence: the concatenation of all `push` results and `flush` equals
//! `decode` of all the ids, except for the one leading space that `decode` drops for a
//! SentencePiece model with `add_space_prefix` (a stream usually continues a prompt, so it
//! keeps every token's text, as llama.cpp's per-token pieces do). SentencePiece's
//! `<0xXX>` byte tokens are held back the same way until their character is complete.

use super::error::TokenizerError;
use super::Tokenizer;

/// Incremental decoder; keep one per generated sequence. It holds only the bytes of an
/// unfinished character (at most 3), not the tokenizer, so it can live next to one.
#[derive(Clone, Debug, Default)]
pub struct StreamDecoder {
    pending: Vec<u8>,
    /// Tokens pushed so far, to name an id's position in errors.
    pushed: usize,
}

impl StreamDecoder {
    /// A decoder with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds token `id` and returns the text completed by it (possibly empty).
    ///
    /// An id outside the vocabulary is an error and leaves the decoder unchanged.
    pub fn push(&mut self, tokenizer: &Tokenizer, id: u32) -> Result<String, TokenizerError> {
        let bytes = tokenizer
            .token_bytes(id)
            .ok_or(TokenizerError::IdOutOfRange {
                id,
                position: self.pushed,
                vocab_size: tokenizer.vocab_size(),
            })?;
        self.pushed += 1;
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    out.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    out.push_str(&String::from_utf8_lossy(valid));
                    match e.error_len() {
                        Some(invalid) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[invalid..];
                        }
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        let done = self.pending.len() - rest.len();
        self.pending.drain(..done);
        Ok(out)
    }

    /// Ends the sequence: an unfinished character still pending becomes U+FFFD. The decoder
    /// is then ready for a new sequence.
    pub fn flush(&mut self) -> String {
        let out = String::from_utf8_lossy(&self.pending).into_owned();
        *self = Self::default();
        out
    }
}
