//! The sample document of the Table 1 protocol (samples/bench-document.md, prose written
//! for this project) and its cuts to about 200/400/600/800 tokens.

use crate::tokenizer::Tokenizer;

/// The whole sample document (about 950 SmolLM2 tokens).
pub const DOCUMENT: &str = include_str!("../../samples/bench-document.md");

/// The longest prefix of [`DOCUMENT`] that ends at a sentence boundary and has at most
/// `target` tokens with `tokenizer` (the whole document if it is shorter), and its token
/// count. Sentences end at '.', '!' or '?' followed by whitespace, or at a blank line.
pub fn cut(tokenizer: &Tokenizer, target: usize) -> (&'static str, usize) {
    let mut best = ("", 0);
    for end in sentence_ends(DOCUMENT) {
        let text = DOCUMENT[..end].trim_end();
        let n = tokenizer.encode(text, false, false).len();
        if n > target {
            break;
        }
        best = (text, n);
    }
    best
}

/// Byte offsets just past each sentence of `text` (and its end).
fn sentence_ends(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut ends: Vec<usize> = (1..bytes.len())
        .filter(|&i| {
            let prev = bytes[i - 1];
            bytes[i].is_ascii_whitespace() && (matches!(prev, b'.' | b'!' | b'?') || prev == b'\n')
        })
        .collect();
    ends.push(text.len());
    ends
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentence_ends_fall_after_punctuation() {
        let t = "One. Two?\n\nThree";
        let ends = sentence_ends(t);
        assert!(ends.iter().all(|&e| t.is_char_boundary(e)));
        assert_eq!(&t[..ends[0]], "One.");
        assert_eq!(*ends.last().unwrap(), t.len());
    }
}
