//! The document reader and chunker on arbitrary bytes, counting tokens with the real
//! model's tokenizer (loaded once). The first byte picks the chunk budget (4..=67
//! tokens); the rest is the file. Invalid documents must give an error; valid ones must
//! chunk into ordered, disjoint, non-empty, trimmed ranges at character boundaries, with
//! only whitespace between them, each within the budget (unless it is one character) and
//! with the token count the tokenizer gives for it.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use slimlm::doc::chunk::chunk;
use slimlm::doc::read::Document;
use slimlm::gguf::GgufFile;
use slimlm::tokenizer::Tokenizer;

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/SmolLM2-135M-Instruct.Q4_1.gguf"
);

static TOKENIZER: LazyLock<Tokenizer> = LazyLock::new(|| {
    let file =
        GgufFile::open(MODEL).unwrap_or_else(|e| panic!("{MODEL}: {e} (scripts/fetch-model.sh)"));
    Tokenizer::from_gguf(&file).expect("the real model's tokenizer")
});

fuzz_target!(|data: &[u8]| {
    let Some((&budget, bytes)) = data.split_first() else {
        return;
    };
    let max_tokens = 4 + usize::from(budget % 64);
    let Ok(doc) = Document::from_bytes("fuzz.txt", bytes.to_vec()) else {
        return;
    };
    let tok = &*TOKENIZER;
    let count = |s: &str| tok.encode(s, false, false).len();
    let text = &doc.text;
    let chunks = chunk(text, max_tokens, &count);
    assert!(!chunks.is_empty(), "a non-blank document gives chunks");
    let mut end = 0;
    for c in &chunks {
        let r = c.range.clone();
        assert!(end <= r.start && r.start < r.end && r.end <= text.len(), "{r:?}");
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        assert!(text[end..r.start].trim().is_empty(), "non-space between chunks");
        let piece = &text[r.clone()];
        assert_eq!(piece.trim(), piece, "chunk not trimmed");
        assert_eq!(c.tokens, count(piece), "token count of {piece:?}");
        assert!(
            c.tokens <= max_tokens || piece.chars().count() == 1,
            "chunk of {} tokens over {max_tokens}: {piece:?}",
            c.tokens
        );
        end = r.end;
    }
    assert!(text[end..].trim().is_empty(), "non-space after the last chunk");
});
