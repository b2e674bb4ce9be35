//! The tokenizer against its oracle: SmolLM2-135M-Instruct's vocabulary loaded from the real
//! GGUF with `Tokenizer::from_gguf`, checked id for id and string for string against
//! Hugging Face `tokenizers` (tests/fixtures/tokenizer/smollm2.json, written by
//! scripts/make-tokenizer-fixtures.py). Also: streaming decode across split characters,
//! special tokens, the add_bos flag, and errors from corrupted metadata.

use std::path::Path;
use std::sync::OnceLock;

use serde_json::Value;
use slimlm::gguf::{GgufFile, GgufWriter, MetaArray, MetaValue};
use slimlm::tokenizer::{ModelSpec, StreamDecoder, Tokenizer, TokenizerError, TokenizerSpec};

#[path = "common/heap_meter.rs"]
mod heap_meter;
use heap_meter::{measure, HeapMeter};

#[global_allocator]
static HEAP: HeapMeter = HeapMeter;

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
);
const FIXTURE: &str = include_str!("fixtures/tokenizer/smollm2.json");

fn model() -> &'static GgufFile {
    static FILE: OnceLock<GgufFile> = OnceLock::new();
    FILE.get_or_init(|| {
        assert!(
            Path::new(MODEL).exists(),
            "{MODEL} is missing: run scripts/fetch-model.sh"
        );
        GgufFile::open(MODEL).expect("open the SmolLM2 GGUF")
    })
}

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| Tokenizer::from_gguf(model()).expect("SmolLM2 tokenizer"))
}

/// The SmolLM2 metadata as a spec, to corrupt or change one field at a time.
fn smollm2_spec() -> TokenizerSpec {
    let file = model();
    TokenizerSpec {
        tokens: file
            .get_str_array("tokenizer.ggml.tokens")
            .unwrap()
            .to_vec(),
        token_types: file.get_i32_array("tokenizer.ggml.token_type").unwrap(),
        model: ModelSpec::Bpe {
            merges: file
                .get_str_array("tokenizer.ggml.merges")
                .unwrap()
                .to_vec(),
            pre: file.get_str("tokenizer.ggml.pre").unwrap().to_owned(),
        },
        bos: Some(1),
        eos: Some(2),
        eot: None,
        add_bos: false,
        add_eos: false,
    }
}

/// The merges and pre-tokenizer name of a BPE spec, to edit.
fn bpe(spec: &mut TokenizerSpec) -> (&mut Vec<String>, &mut String) {
    match &mut spec.model {
        ModelSpec::Bpe { merges, pre } => (merges, pre),
        ModelSpec::Spm { .. } => unreachable!("a BPE spec"),
    }
}

struct Case {
    name: String,
    text: String,
    ids: Vec<u32>,
    ids_plain: Vec<u32>,
    decode: String,
    decode_plain: String,
}

fn cases() -> Vec<Case> {
    let doc: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let ids = |v: &Value| -> Vec<u32> {
        v.as_array()
            .expect("ids array")
            .iter()
            .map(|n| u32::try_from(n.as_u64().expect("id")).expect("u32 id"))
            .collect()
    };
    doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_owned(),
            text: c["text"].as_str().expect("text").to_owned(),
            ids: ids(&c["ids"]),
            ids_plain: ids(c.get("ids_plain").unwrap_or(&c["ids"])),
            decode: c["decode"].as_str().expect("decode").to_owned(),
            decode_plain: c
                .get("decode_plain")
                .unwrap_or(&c["decode"])
                .as_str()
                .expect("decode_plain")
                .to_owned(),
        })
        .collect()
}

fn stream_decode(t: &Tokenizer, ids: &[u32]) -> String {
    let mut stream = StreamDecoder::new();
    let mut text: String = ids.iter().map(|&id| stream.push(t, id).unwrap()).collect();
    text.push_str(&stream.flush());
    text
}

#[test]
fn matches_hugging_face_on_every_fixture() {
    let t = tokenizer();
    let cases = cases();
    assert!(cases.len() >= 30, "only {} fixture cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let checks = [
            (
                "ids (parse_special)",
                t.encode(&case.text, true, true) == case.ids,
            ),
            (
                "ids (plain)",
                t.encode(&case.text, true, false) == case.ids_plain,
            ),
            ("decode", t.decode(&case.ids).unwrap() == case.decode),
            (
                "decode (plain)",
                t.decode(&case.ids_plain).unwrap() == case.decode_plain,
            ),
            ("stream decode", stream_decode(t, &case.ids) == case.decode),
        ];
        for (what, ok) in checks {
            if !ok {
                failures.push(format!(
                    "{}: {what} differs\n  text: {:?}\n  ours: {:?}\n  hf:   {:?}",
                    case.name,
                    case.text,
                    t.encode(&case.text, true, !what.contains("plain")),
                    if what.contains("plain") {
                        &case.ids_plain
                    } else {
                        &case.ids
                    },
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn smollm2_metadata() {
    let t = tokenizer();
    assert_eq!(t.vocab_size(), 49_152);
    assert_eq!((t.bos(), t.eos(), t.eot()), (Some(1), Some(2), None));
    assert!(!t.add_bos() && !t.add_eos());
    let [endoftext, im_start, im_end] =
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"].map(|s| t.token_id(s).unwrap());
    assert_eq!([endoftext, im_start, im_end], [0, 1, 2]);
    assert!(t.is_end_of_generation(im_end));
    assert!(t.is_end_of_generation(endoftext));
    assert!(!t.is_end_of_generation(im_start));
    assert!(!t.is_end_of_generation(t.token_id("Ġthe").unwrap()));
    assert_eq!(
        t.token_bytes(t.token_id("Ġthe").unwrap()),
        Some(&b" the"[..])
    );
    assert_eq!(t.token_bytes(im_start), Some(&b"<|im_start|>"[..]));
    assert_eq!(t.token_bytes(49_152), None);
}

#[test]
fn special_tokens_are_whole_only_when_parsed() {
    let t = tokenizer();
    let im_end = t.token_id("<|im_end|>").unwrap();
    let text = "Hi<|im_end|>";
    let parsed = t.encode(text, false, true);
    assert_eq!(parsed.last(), Some(&im_end));
    assert_eq!(parsed.len(), 2);
    let plain = t.encode(text, false, false);
    assert!(!plain.contains(&im_end) && plain.len() > 2);
    assert_eq!(t.decode(&plain).unwrap(), text);
}

#[test]
fn add_bos_follows_the_flag() {
    let t = tokenizer();
    assert_eq!(
        t.encode("Hello", true, false),
        t.encode("Hello", false, false)
    );
    let with_bos = Tokenizer::from_spec(TokenizerSpec {
        add_bos: true,
        add_eos: true,
        ..smollm2_spec()
    })
    .unwrap();
    let ids = with_bos.encode("Hello", true, false);
    assert_eq!(ids.first(), Some(&1));
    assert_eq!(ids.last(), Some(&2));
    assert_eq!(&ids[1..ids.len() - 1], t.encode("Hello", false, false));
    assert_eq!(
        with_bos.encode("Hello", false, false),
        t.encode("Hello", false, false)
    );
}

#[test]
fn stream_decode_holds_back_characters_split_across_tokens() {
    let t = tokenizer();
    // Find a character that the vocabulary spells with more than one token, where the
    // first token alone is not valid UTF-8.
    let (text, ids) = ["🦀", "🪐", "鑫", "𝄞", "🧬", "龘"]
        .iter()
        .map(|s| (*s, t.encode(s, false, false)))
        .find(|(_, ids)| {
            ids.len() > 1 && std::str::from_utf8(t.token_bytes(ids[0]).unwrap()).is_err()
        })
        .expect("some character split across tokens");
    let mut stream = StreamDecoder::new();
    let mut out = Vec::new();
    for &id in &ids {
        out.push(stream.push(t, id).unwrap());
    }
    assert!(out[..ids.len() - 1].iter().all(String::is_empty), "{out:?}");
    assert_eq!(out[ids.len() - 1], text);
    assert_eq!(stream.flush(), "");
    // Decoding the first token alone is lossy; streaming it and flushing gives the same.
    let lossy = t.decode(&ids[..1]).unwrap();
    assert!(lossy.contains('\u{FFFD}'));
    assert_eq!(stream_decode(t, &ids[..1]), lossy);
}

#[test]
fn corrupted_specs_are_rejected_with_context() {
    let check = |edit: &dyn Fn(&mut TokenizerSpec), expected: &str| {
        let mut spec = smollm2_spec();
        edit(&mut spec);
        let err = Tokenizer::from_spec(spec).unwrap_err().to_string();
        assert!(
            err.contains(expected),
            "{err:?} should contain {expected:?}"
        );
    };
    check(
        &|s| {
            s.token_types.pop();
        },
        "tokenizer.ggml.token_type has 49151 entries but the vocabulary has 49152 tokens",
    );
    check(
        &|s| bpe(s).0[17] = "a bcxyzq".into(),
        "merge 17 ('a bcxyzq'): token 'bcxyzq' not in vocabulary",
    );
    check(
        &|s| bpe(s).0[3] = "Ġ".into(),
        "merge 3 ('Ġ'): not two tokens",
    );
    check(&|s| s.eos = Some(49_152), "eos token id 49152 out of range");
    check(
        &|s| *bpe(s).1 = "bloom".into(),
        "unknown pre-tokenizer 'bloom'; supported: ",
    );
    check(&|s| s.token_types[40] = -1, "unknown token type -1");
    check(&|s| s.tokens[300] = "Ġt".into(), "repeats token");
    let err = tokenizer().decode(&[1, 2, 70_000]).unwrap_err();
    assert!(matches!(
        err,
        TokenizerError::IdOutOfRange {
            id: 70_000,
            position: 2,
            vocab_size: 49_152
        }
    ));
}

/// A small GGUF holding only tokenizer metadata: the 256 byte tokens and `extra`.
fn tokenizer_gguf(model: &str, extra: &[(&str, MetaValue)]) -> GgufFile {
    let bytes: Vec<String> = (0..=255u8).map(|b| t_byte(b).to_string()).collect();
    let mut writer = GgufWriter::new()
        .metadata("tokenizer.ggml.model", MetaValue::String(model.into()))
        .metadata(
            "tokenizer.ggml.tokens",
            MetaValue::Array(MetaArray::String(bytes)),
        );
    for (key, value) in extra {
        writer = writer.metadata(*key, value.clone());
    }
    GgufFile::from_bytes(writer.to_bytes()).expect("valid GGUF")
}

/// GPT-2's byte-to-character map, written out independently of the crate's.
fn t_byte(b: u8) -> char {
    let kept = |b: u8| matches!(b, 0x21..=0x7e | 0xa1..=0xac | 0xae..=0xff);
    if kept(b) {
        char::from(b)
    } else {
        let n = (0..b).filter(|&x| !kept(x)).count() as u32;
        char::from_u32(0x100 + n).unwrap()
    }
}

#[test]
fn from_gguf_reads_optional_keys_and_rejects_bad_ones() {
    let pre = |name: &str| ("tokenizer.ggml.pre", MetaValue::String(name.into()));
    let merges = || {
        (
            "tokenizer.ggml.merges",
            MetaValue::Array(MetaArray::String(vec![])),
        )
    };

    // No token types, ids or flags: all tokens normal, nothing added; Llama 3 adds BOS by
    // default but has no BOS id here, which is an error naming both.
    let t = Tokenizer::from_gguf(&tokenizer_gguf("gpt2", &[pre("smollm"), merges()])).unwrap();
    assert_eq!(t.encode("a1", true, true), [97, 49]);
    assert_eq!(t.bos(), None);
    let err = Tokenizer::from_gguf(&tokenizer_gguf("gpt2", &[pre("llama-bpe"), merges()]));
    assert_eq!(
        err.unwrap_err().to_string(),
        "add_bos is set but there is no bos token id"
    );
    let t = Tokenizer::from_gguf(&tokenizer_gguf(
        "gpt2",
        &[
            pre("llama-bpe"),
            merges(),
            ("tokenizer.ggml.bos_token_id", MetaValue::U32(3)),
        ],
    ))
    .unwrap();
    assert_eq!(t.encode("a", true, true), [3, 97]);

    let err = Tokenizer::from_gguf(&tokenizer_gguf("bert", &[])).unwrap_err();
    assert!(
        matches!(err, TokenizerError::UnsupportedModel(ref m) if m == "bert"),
        "{err}"
    );
    assert!(
        err.to_string().contains("'bert' (tokenizer.ggml.model)"),
        "{err}"
    );
    // SentencePiece needs scores (tests/tokenizer_spm.rs has the rest).
    let err = Tokenizer::from_gguf(&tokenizer_gguf("llama", &[])).unwrap_err();
    assert!(err.to_string().contains("tokenizer.ggml.scores"), "{err}");
    let err = Tokenizer::from_gguf(&tokenizer_gguf("gpt2", &[pre("gpt2")])).unwrap_err();
    assert!(err.to_string().contains("tokenizer.ggml.merges"), "{err}");
    let err = Tokenizer::from_gguf(&tokenizer_gguf(
        "gpt2",
        &[
            pre("gpt2"),
            merges(),
            ("tokenizer.ggml.add_bos_token", MetaValue::U32(1)),
        ],
    ))
    .unwrap_err();
    assert!(
        err.to_string().contains("tokenizer.ggml.add_bos_token"),
        "{err}"
    );
}

/// Encoding is linear in the input: a mebibyte of varied text costs a bounded number of
/// allocations and bytes per input byte (a deterministic bound; speed itself is measured by
/// benchmarks, never asserted in a test).
#[test]
fn a_megabyte_encodes_in_linear_work() {
    let t = tokenizer();
    // Every fixture text that round-trips (not those with bytes the vocabulary lacks).
    let paragraph = cases()
        .into_iter()
        .filter(|c| c.decode == c.text)
        .map(|c| c.text)
        .collect::<Vec<_>>()
        .concat();
    let mut doc = String::new();
    let mut i = 0u64;
    while doc.len() < 1 << 20 {
        // Vary the numbers so not every word hits the cache.
        doc.push_str(&paragraph);
        doc.push_str(&format!(" {i} {}\n", i.wrapping_mul(2_654_435_761)));
        i += 1;
    }
    let (ids, work) = measure(|| t.encode(&doc, false, false));
    assert!(
        t.decode(&ids).unwrap() == doc,
        "the document does not round-trip"
    );
    let per_byte = |n: u64| n as f64 / doc.len() as f64;
    eprintln!(
        "encoded {} bytes into {} tokens: {work:?}, {:.2} allocations and {:.1} bytes \
         allocated per input byte",
        doc.len(),
        ids.len(),
        per_byte(work.allocations),
        per_byte(work.bytes),
    );
    // Bounds at 10x the measurement (2026-12-07): 1002 allocations (0.001 per input byte)
    // and 5.0 bytes allocated per input byte.
    assert!(per_byte(work.allocations) < 0.01, "{work:?}");
    assert!(per_byte(work.bytes) < 50.0, "{work:?}");
}
