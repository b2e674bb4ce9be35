//! The real model's tokenizer (SmolLM2's 49152-token vocabulary, loaded once) on
//! arbitrary input. The first byte chooses the mode:
//! - even: the rest, read as UTF-8 (lossily), is encoded with and without special-token
//!   parsing; decoding gives the text back, except for the bytes the vocabulary has no
//!   token for (dropped, as Hugging Face and llama.cpp drop them); streaming
//!   decoding agrees with whole decoding.
//! - odd: the rest is a sequence of little-endian u16 ids (some out of range) for
//!   `decode` and the streaming decoder, which must answer or give an error, never panic.
#![no_main]

#[path = "../../tests/common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use slimlm::gguf::GgufFile;
use slimlm::tokenizer::{StreamDecoder, Tokenizer};

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/SmolLM2-135M-Instruct.Q4_1.gguf"
);

/// The tokenizer, and which bytes it drops for lack of a byte token (SmolLM2 has none
/// for 0x04, for bytes never valid in UTF-8, and for some rare lead bytes such as 0xF1).
static TOKENIZER: LazyLock<(Tokenizer, [bool; 256])> = LazyLock::new(|| {
    let file =
        GgufFile::open(MODEL).unwrap_or_else(|e| panic!("{MODEL}: {e} (scripts/fetch-model.sh)"));
    let tok = Tokenizer::from_gguf(&file).expect("the real model's tokenizer");
    let mut dropped = [false; 256];
    for (b, d) in (0..=255u8).zip(&mut dropped) {
        *d = tok
            .token_id(&tiny_model::byte_char(b).to_string())
            .is_none();
    }
    (tok, dropped)
});

fn check_text(tok: &Tokenizer, dropped: &[bool; 256], text: &str) {
    // Decoding reads the joined bytes lossily, so the text minus the dropped bytes, read
    // lossily, is what must come back.
    let kept: Vec<u8> = text.bytes().filter(|&b| !dropped[usize::from(b)]).collect();
    let expected = String::from_utf8_lossy(&kept);
    for parse_special in [false, true] {
        let ids = tok.encode(text, false, parse_special);
        let decoded = tok.decode(&ids).expect("encoded ids are in range");
        assert_eq!(decoded, expected, "parse_special {parse_special}");
        let mut stream = StreamDecoder::new();
        let mut streamed = String::new();
        for &id in &ids {
            streamed.push_str(&stream.push(tok, id).expect("in range"));
        }
        streamed.push_str(&stream.flush());
        assert_eq!(streamed, decoded, "streamed, parse_special {parse_special}");
    }
    let with_special = tok.encode(text, true, true);
    assert!(with_special
        .iter()
        .all(|&id| (id as usize) < tok.vocab_size()));
}

fn check_ids(tok: &Tokenizer, bytes: &[u8]) {
    let ids: Vec<u32> = bytes
        .chunks_exact(2)
        .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
        .collect();
    let _ = tok.decode(&ids);
    let mut stream = StreamDecoder::new();
    for &id in &ids {
        let _ = stream.push(tok, id);
    }
    let _ = stream.flush();
}

fuzz_target!(
    // Loading the vocabulary takes seconds in an instrumented build: before the clock runs.
    init: {
        LazyLock::force(&TOKENIZER);
    },
    |data: &[u8]| {
    let (tok, dropped) = &*TOKENIZER;
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        check_text(tok, dropped, &String::from_utf8_lossy(rest));
    } else {
        check_ids(tok, rest);
    }
}
);
