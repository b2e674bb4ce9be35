//! Inputs found by the fuzz targets of fuzz/ (scripts/fuzz.sh), kept as tests so the
//! behaviour they pinned down stays put. Each names its target and what it showed.

#[path = "common/model.rs"]
mod model;

use slimlm::gguf::GgufFile;
use slimlm::tokenizer::{StreamDecoder, Tokenizer};

fn smollm2_tokenizer() -> Tokenizer {
    let file = GgufFile::open(model::real_model_path()).unwrap();
    Tokenizer::from_gguf(&file).unwrap()
}

/// tokenizer target: U+5F916 (UTF-8 F1 9F A4 96) in a text. SmolLM2's vocabulary has no
/// token for the byte 0xF1 (GPT-2 byte symbol 'ñ'; the lead byte of U+40000..U+7FFFF,
/// absent from its training text), so BPE drops that byte, as Hugging Face and llama.cpp
/// do, and the three continuation bytes left decode as three U+FFFD. The text around the
/// character is untouched; whole and streaming decoding agree.
#[test]
fn tokenizer_drops_bytes_without_a_token_and_nothing_else() {
    let tok = smollm2_tokenizer();
    assert_eq!(tok.token_id("ñ"), None);
    let text = "Привет \u{5f916}👍🏽 ok";
    let ids = tok.encode(text, false, false);
    let decoded = tok.decode(&ids).unwrap();
    assert_eq!(decoded, "Привет \u{fffd}\u{fffd}\u{fffd}👍🏽 ok");
    let mut stream = StreamDecoder::new();
    let mut streamed: String = ids
        .iter()
        .map(|&id| stream.push(&tok, id).unwrap())
        .collect();
    streamed.push_str(&stream.flush());
    assert_eq!(streamed, decoded);
}
