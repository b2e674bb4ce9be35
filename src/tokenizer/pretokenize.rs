//! Pre-tokenization: splitting plain text into the words that BPE merges within.
//!
//! Each `tokenizer.ggml.pre` name selects the regex llama.cpp uses for it (llama-vocab.cpp),
//! optionally preceded by splitting off every numeric character on its own, which is what
//! the models' Hugging Face tokenizers do with `Digits(individual_digits=true)`. As in both
//! references the text between matches is kept as a word too, and each stage sees each
//! piece of the previous stage as a whole text (lookaheads stop at its end).
//!
//! The regexes' one lookaround, `\s+(?!\S)` ("a whitespace run, less its last character when
//! a word follows"), is not expressible in the `regex` crate, which guarantees linear time.
//! It is applied after the match instead; see [`Splitter::shorten_whitespace`]. This module
//! never sees special tokens: those are cut out of the text before it.

use std::sync::{Mutex, PoisonError};

use regex::Regex;

use super::error::TokenizerError;

/// GPT-2's pattern, with `\s+(?!\S)|\s+` written as `\s+` (see the module docs).
const GPT2: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+";

/// Llama 3's pattern as llama.cpp adapts it (ASCII-only case-insensitive contractions),
/// with `\s+(?!\S)|\s+` written as `\s+`.
const LLAMA3: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+";

/// Qwen2's pattern: Llama 3's with single digits.
const QWEN2: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+";

/// What one `tokenizer.ggml.pre` family does.
struct Family {
    /// The `tokenizer.ggml.pre` names that select it (llama.cpp's, plus `gpt2`/`gpt-neox`).
    names: &'static [&'static str],
    /// Split off every numeric character before the regex.
    split_digits: bool,
    pattern: &'static str,
    /// The pattern has `\s*[\r\n]+` before `\s+`, so a whitespace match that ends in a line
    /// break came from that branch and keeps its length.
    newline_branch: bool,
    /// A word that is itself a vocabulary token is emitted whole, without merging.
    ignore_merges: bool,
    /// Whether BOS is added when the file does not say (`tokenizer.ggml.add_bos_token`).
    default_add_bos: bool,
}

const FAMILIES: &[Family] = &[
    Family {
        names: &["gpt2", "gpt-2", "gpt-neox", "mpt", "olmo", "phi-2"],
        split_digits: false,
        pattern: GPT2,
        newline_branch: false,
        ignore_merges: false,
        default_add_bos: false,
    },
    Family {
        names: &["smollm", "starcoder", "refact", "codeshell"],
        split_digits: true,
        pattern: GPT2,
        newline_branch: false,
        ignore_merges: false,
        default_add_bos: false,
    },
    Family {
        names: &["qwen2", "stablelm2", "deepseek-r1-qwen", "megrez"],
        split_digits: false,
        pattern: QWEN2,
        newline_branch: true,
        ignore_merges: false,
        default_add_bos: false,
    },
    Family {
        names: &[
            "llama-bpe",
            "llama3",
            "llama-v3",
            "dbrx",
            "smaug-bpe",
            "falcon3",
        ],
        split_digits: false,
        pattern: LLAMA3,
        newline_branch: true,
        ignore_merges: true,
        default_add_bos: true,
    },
];

fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.names.contains(&name))
}

/// Whether BOS is added when the metadata does not say (true for Llama 3, as in
/// llama.cpp); false for unknown names, which [`Splitter::new`] rejects.
pub(crate) fn default_add_bos(name: &str) -> bool {
    family(name).is_some_and(|f| f.default_add_bos)
}

/// The pre-tokenizer selected by one `tokenizer.ggml.pre` name.
#[derive(Debug)]
pub(crate) struct Splitter {
    regex: Regex,
    split_digits: bool,
    newline_branch: bool,
    ignore_merges: bool,
}

impl Splitter {
    /// The pre-tokenizer for `name`, or an error listing the supported names.
    pub(crate) fn new(name: &str) -> Result<Self, TokenizerError> {
        let family = family(name).ok_or_else(|| TokenizerError::UnknownPreTokenizer {
            name: name.to_owned(),
            supported: FAMILIES
                .iter()
                .flat_map(|f| f.names.iter().copied())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        Ok(Self {
            regex: compile(family.pattern),
            split_digits: family.split_digits,
            newline_branch: family.newline_branch,
            ignore_merges: family.ignore_merges,
        })
    }

    /// Whether a word that is a vocabulary token skips merging (Llama 3).
    pub(crate) fn ignore_merges(&self) -> bool {
        self.ignore_merges
    }

    /// Calls `word` with each pre-token of `text`, in order; together they cover `text`.
    pub(crate) fn split<'t>(&self, text: &'t str, mut word: impl FnMut(&'t str)) {
        if !self.split_digits {
            self.split_regex(text, &mut word);
            return;
        }
        let mut start = 0;
        for (i, c) in text.char_indices() {
            if c.is_numeric() {
                self.split_regex(&text[start..i], &mut word);
                let end = i + c.len_utf8();
                word(&text[i..end]);
                start = end;
            }
        }
        self.split_regex(&text[start..], &mut word);
    }

    /// The regex stage: matches and the gaps between them, each as one word.
    fn split_regex<'t>(&self, text: &'t str, word: &mut impl FnMut(&'t str)) {
        let mut pos = 0;
        while let Some(m) = self.regex.find_at(text, pos) {
            if m.start() > pos {
                word(&text[pos..m.start()]);
            }
            let end = self.shorten_whitespace(text, m.start(), m.end());
            word(&text[m.start()..end]);
            pos = end;
        }
        if pos < text.len() {
            word(&text[pos..]);
        }
    }

    /// Emulates `\s+(?!\S)|\s+` on a match of `\s+`: a whitespace run of two or more
    /// characters followed by a non-space gives up its last character, which then starts
    /// the next word (so `"a   b"` splits as `a`, `"  "`, `" b"`). A run at the end of the
    /// text, or of one character, is kept whole. Returns the match's corrected end.
    fn shorten_whitespace(&self, text: &str, start: usize, end: usize) -> usize {
        let matched = &text[start..end];
        let Some(last) = matched.chars().next_back() else {
            return end;
        };
        let from_newline_branch = self.newline_branch && matches!(last, '\r' | '\n');
        if end == text.len()
            || from_newline_branch
            || !matched.chars().all(char::is_whitespace)
            || matched.len() == last.len_utf8()
        {
            return end;
        }
        end - last.len_utf8()
    }
}

/// Compiles one of the patterns above, once per process: compiling the Unicode classes
/// takes milliseconds, which every model load (and every case of the `model_config` fuzz
/// target) would otherwise pay again. Clones of a `Regex` share the compiled program.
fn compile(pattern: &'static str) -> Regex {
    static COMPILED: Mutex<Vec<(&'static str, Regex)>> = Mutex::new(Vec::new());
    // A panic while the lock was held cannot leave the list inconsistent (one push).
    let mut compiled = COMPILED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, regex)) = compiled.iter().find(|(p, _)| *p == pattern) {
        return regex.clone();
    }
    // The patterns are constants covered by the unit tests below; a failure here is a bug in
    // this file, not bad input.
    let regex = Regex::new(pattern).expect("built-in pre-tokenizer pattern compiles");
    compiled.push((pattern, regex.clone()));
    regex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pre: &str, text: &str) -> Vec<String> {
        let splitter = Splitter::new(pre).unwrap();
        let mut out = Vec::new();
        splitter.split(text, |w| out.push(w.to_owned()));
        assert_eq!(out.concat(), text, "words must cover the text");
        out
    }

    #[test]
    fn every_pattern_compiles() {
        for family in FAMILIES {
            for name in family.names {
                Splitter::new(name).unwrap();
            }
        }
    }

    #[test]
    fn unknown_name_lists_supported() {
        let err = Splitter::new("nope").unwrap_err().to_string();
        assert!(err.contains("'nope'"), "{err}");
        assert!(err.contains("smollm") && err.contains("llama-bpe"), "{err}");
    }

    #[test]
    fn gpt2_whitespace_lookahead() {
        assert_eq!(words("gpt2", "a   b"), ["a", "  ", " b"]);
        assert_eq!(words("gpt2", "a b"), ["a", " b"]);
        assert_eq!(words("gpt2", "a  "), ["a", "  "]);
        assert_eq!(words("gpt2", "a\n\nb"), ["a", "\n", "\n", "b"]);
        assert_eq!(words("gpt2", "a \tb"), ["a", " ", "\t", "b"]);
        assert_eq!(words("gpt2", "I'm 42"), ["I", "'m", " 42"]);
    }

    #[test]
    fn smollm_isolates_digits() {
        assert_eq!(
            words("smollm", "x 2024!"),
            ["x", " ", "2", "0", "2", "4", "!"]
        );
        assert_eq!(words("smollm", "a  1"), ["a", "  ", "1"]);
    }

    #[test]
    fn llama3_and_qwen2() {
        assert_eq!(words("llama-bpe", "12345 x"), ["123", "45", " x"]);
        assert_eq!(words("qwen2", "12 x"), ["1", "2", " x"]);
        assert_eq!(words("llama-bpe", "a \n\n  b"), ["a", " \n\n", " ", " b"]);
        assert_eq!(words("llama-bpe", "x\tfoo"), ["x", "\tfoo"]);
        assert_eq!(words("llama-bpe", "IT'S"), ["IT", "'S"]);
        assert_eq!(words("llama-bpe", "end  "), ["end", "  "]);
    }
}
