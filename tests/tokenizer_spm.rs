//! The SentencePiece tokenizer against its oracle: Gemma 3 270M's vocabulary loaded from
//! the real GGUF with `Tokenizer::from_gguf`, checked id for id against llama.cpp's own
//! tokenizer on 2,000+ strings (tests/fixtures/tokenizer/gemma3.json, written by
//! scripts/make-spm-fixtures.py), with and without BOS and special-token parsing. Also:
//! decoding round trips, streaming decode of characters spelled with byte tokens, hostile
//! inputs up to 1 MiB, and errors from hostile metadata in small hand-made GGUF files.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use serde_json::Value;
use slimlm::gguf::{GgufFile, GgufWriter, MetaArray, MetaValue};
use slimlm::tokenizer::{ModelSpec, StreamDecoder, Tokenizer, TokenizerKind, TokenizerSpec};

const FIXTURE: &str = include_str!("fixtures/tokenizer/gemma3.json");

/// models/gemma-3-270m-q4_k_m.gguf; the tests that need it fail (never skip) without it.
fn model_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/gemma-3-270m-q4_k_m.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-model.sh gemma3-270m",
        path.display()
    );
    path
}

fn tokenizer() -> &'static Tokenizer {
    static TOKENIZER: OnceLock<Tokenizer> = OnceLock::new();
    TOKENIZER.get_or_init(|| {
        let file = GgufFile::open(model_path()).expect("open the Gemma 3 GGUF");
        Tokenizer::from_gguf(&file).expect("Gemma 3 tokenizer")
    })
}

struct Case {
    text: String,
    /// BOS added, special tokens parsed.
    ids: Vec<u32>,
    /// No BOS, special tokens not parsed.
    plain: Vec<u32>,
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
        .map(|c| {
            let with_bos = ids(&c["ids"]);
            let plain = c.get("plain").map_or_else(|| with_bos[1..].to_vec(), ids);
            Case {
                text: c["text"].as_str().expect("text").to_owned(),
                ids: with_bos,
                plain,
            }
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
fn matches_llama_cpp_on_every_fixture() {
    let t = tokenizer();
    let cases = cases();
    assert!(cases.len() >= 2000, "only {} fixture cases", cases.len());
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let ours = t.encode(&case.text, true, true);
        if ours != case.ids {
            failures.push(format!(
                "case {i} (bos, special) {:?}\n  ours:      {ours:?}\n  llama.cpp: {:?}",
                case.text, case.ids
            ));
        }
        let ours = t.encode(&case.text, false, false);
        if ours != case.plain {
            failures.push(format!(
                "case {i} (plain) {:?}\n  ours:      {ours:?}\n  llama.cpp: {:?}",
                case.text, case.plain
            ));
        }
    }
    let shown: Vec<&String> = failures.iter().take(20).collect();
    assert!(
        failures.is_empty(),
        "{} of {} encodings differ from llama.cpp; first ones:\n{shown:#?}",
        failures.len(),
        2 * cases.len()
    );
}

#[test]
fn every_fixture_decodes_back_to_its_text() {
    let t = tokenizer();
    for case in cases() {
        // U+2581 in the input is SentencePiece's own space mark: it decodes as a space,
        // in llama.cpp too. Everything else comes back byte for byte.
        let want = case.text.replace('\u{2581}', " ");
        assert_eq!(t.decode(&case.plain).unwrap(), want, "{:?}", case.text);
        assert_eq!(stream_decode(t, &case.plain), want, "{:?}", case.text);
        assert_eq!(
            t.decode(&case.ids).unwrap(),
            format!("<bos>{want}"),
            "{:?}",
            case.text
        );
    }
}

#[test]
fn gemma3_metadata() {
    let t = tokenizer();
    assert_eq!(t.kind(), TokenizerKind::Spm);
    assert_eq!(t.kind().to_string(), "SPM");
    assert_eq!(t.vocab_size(), 262_144);
    assert_eq!((t.bos(), t.eos(), t.eot()), (Some(2), Some(1), None));
    assert!(t.add_bos() && !t.add_eos() && !t.add_space_prefix());
    let [start, end] = ["<start_of_turn>", "<end_of_turn>"].map(|s| t.token_id(s).unwrap());
    assert_eq!([start, end], [105, 106]);
    assert!(t.is_end_of_generation(end), "<end_of_turn> by text");
    assert!(t.is_end_of_generation(1), "eos");
    assert!(!t.is_end_of_generation(start));
    // User-defined in the file, but llama.cpp makes it a control token that ends a
    // generation because of its text.
    let close_s = t.token_id("</s>").unwrap();
    assert!(t.is_end_of_generation(close_s));
    assert!(!t.encode("</s>", false, false).contains(&close_s));
    assert_eq!(t.encode("</s>", false, true), [close_s]);
    assert_eq!(t.token_bytes(end), Some(&b"<end_of_turn>"[..]));
    let the = t.token_id("\u{2581}the").unwrap();
    assert_eq!(t.token_bytes(the), Some(&b" the"[..]));
    let byte_a = t.token_id("<0x41>").unwrap();
    assert_eq!(t.token_bytes(byte_a), Some(&b"A"[..]));
    assert_eq!(t.token_bytes(262_144), None);
    let debug = format!("{t:?}");
    assert!(
        debug.contains("Spm") && debug.contains("vocab_size: 262144"),
        "{debug}"
    );
}

#[test]
fn control_tokens_are_whole_only_when_parsed() {
    let t = tokenizer();
    let text = "<start_of_turn>user\nHi<end_of_turn>\n";
    let parsed = t.encode(text, true, true);
    assert_eq!(parsed[..2], [2, 105]);
    assert!(parsed.contains(&106));
    let plain = t.encode(text, false, false);
    assert!(!plain.contains(&105) && !plain.contains(&106), "{plain:?}");
    // "\n" is a user-defined token: matched either way.
    let newline = t.token_id("\n").unwrap();
    assert!(plain.contains(&newline) && parsed.contains(&newline));
    assert_eq!(t.decode(&plain).unwrap(), text);
    assert_eq!(t.decode(&parsed[1..]).unwrap(), text);
}

#[test]
fn stream_decodes_cjk_and_emoji_one_token_at_a_time() {
    let t = tokenizer();
    let text = "東京 🦀🪐🧬 龘鱻 𝄞 👨‍👩‍👧‍👦 𐍈 ꙮ 𓀀 한국어 ok";
    let ids = t.encode(text, false, false);
    // Some of these characters have no piece and are spelled with <0xXX> byte tokens, so
    // a token can end inside a character.
    let split = ids
        .iter()
        .filter(|&&id| std::str::from_utf8(t.token_bytes(id).unwrap()).is_err())
        .count();
    assert!(split >= 4, "expected byte-fallback tokens in {ids:?}");
    let mut stream = StreamDecoder::new();
    let mut out = String::new();
    for &id in &ids {
        let piece = stream.push(t, id).unwrap();
        assert!(
            !piece.contains('\u{FFFD}'),
            "broken UTF-8 emitted: {piece:?}"
        );
        out.push_str(&piece);
    }
    assert_eq!(stream.flush(), "");
    assert_eq!(out, text);
    // The first byte token of a four-byte character alone: held back, then U+FFFD.
    let first = *ids
        .iter()
        .find(|&&id| t.token_bytes(id) == Some(&[0xf0][..]))
        .expect("a <0xF0> byte token");
    let mut stream = StreamDecoder::new();
    assert_eq!(stream.push(t, first).unwrap(), "");
    assert_eq!(stream.flush(), "\u{FFFD}");
}

#[test]
fn hostile_inputs_encode_and_round_trip() {
    let t = tokenizer();
    // One mebibyte mixing every path (special tokens, runs, merges, byte fallback), and a
    // quarter of that for each worst case alone: quadratic work would not finish at
    // either size, and the suite also runs under qemu.
    let mib = 1 << 20;
    let fill = |unit: &str| unit.repeat(mib / 4 / unit.len());
    let units = [
        "a",
        " ",
        "東",
        "<",
        "\n",
        "🦀",
        "é",
        "<0x41>",
        "<end_of_turn>",
        "  ",
    ];
    let mut mixed = String::new();
    while mixed.len() < mib {
        mixed.push_str(units[mixed.len() % units.len()]);
    }
    for (name, text) in [
        ("spaces", fill(" ")),
        ("newlines", fill("\n")),
        ("one long word", fill("abcdefgh")),
        ("angle brackets", fill("<")),
        ("partial specials", fill("<start_of_turn")),
        ("rare CJK (byte fallback)", fill("龘")),
        ("mixed", mixed),
    ] {
        let start = Instant::now();
        let ids = t.encode(&text, false, true);
        let elapsed = start.elapsed();
        assert!(!ids.is_empty() && ids.len() <= text.len(), "{name}");
        assert_eq!(t.decode(&ids).unwrap(), text, "{name} does not round-trip");
        // For the log only: timings under test (debug builds, shared CI) prove nothing.
        eprintln!(
            "{name}: {} bytes -> {} ids in {elapsed:?}",
            text.len(),
            ids.len()
        );
    }
}

// ---- hostile metadata in small hand-made SentencePiece GGUF files ----

/// The 256 byte tokens, then "▁", "a", "b", "ab", "▁a", "<s>", "</s>", "<u>".
fn small_vocab() -> (Vec<String>, Vec<i32>, Vec<f32>) {
    let mut tokens: Vec<String> = (0..=255u8).map(|b| format!("<0x{b:02X}>")).collect();
    let mut types = vec![6; 256];
    let mut scores = vec![0.0; 256];
    for (text, ty, score) in [
        ("\u{2581}", 1, -1.0),
        ("a", 1, -2.0),
        ("b", 1, -3.0),
        ("ab", 1, -4.0),
        ("\u{2581}a", 1, -1.5),
        ("<s>", 3, 0.0),
        ("</s>", 3, 0.0),
        ("<u>", 4, 0.0),
    ] {
        tokens.push(text.to_owned());
        types.push(ty);
        scores.push(score);
    }
    (tokens, types, scores)
}

/// A GGUF with SentencePiece metadata from `small_vocab`, with `edit` applied to the
/// key-value list (remove or replace entries) first.
fn spm_gguf(edit: impl FnOnce(&mut Vec<(String, MetaValue)>)) -> GgufFile {
    let (tokens, types, scores) = small_vocab();
    let mut kv: Vec<(String, MetaValue)> = vec![
        (
            "tokenizer.ggml.model".into(),
            MetaValue::String("llama".into()),
        ),
        (
            "tokenizer.ggml.tokens".into(),
            MetaValue::Array(MetaArray::String(tokens)),
        ),
        (
            "tokenizer.ggml.token_type".into(),
            MetaValue::Array(MetaArray::I32(types)),
        ),
        (
            "tokenizer.ggml.scores".into(),
            MetaValue::Array(MetaArray::F32(scores)),
        ),
    ];
    edit(&mut kv);
    let mut writer = GgufWriter::new();
    for (key, value) in kv {
        writer = writer.metadata(&key, value);
    }
    GgufFile::from_bytes(writer.to_bytes()).expect("valid GGUF")
}

fn set(kv: &mut Vec<(String, MetaValue)>, key: &str, value: MetaValue) {
    kv.retain(|(k, _)| k != key);
    kv.push((key.to_owned(), value));
}

fn array_mut<'a>(kv: &'a mut [(String, MetaValue)], key: &str) -> &'a mut MetaArray {
    match kv.iter_mut().find(|(k, _)| k == key) {
        Some((_, MetaValue::Array(a))) => a,
        _ => panic!("{key} is not an array here"),
    }
}

fn load_err(edit: impl FnOnce(&mut Vec<(String, MetaValue)>)) -> String {
    Tokenizer::from_gguf(&spm_gguf(edit))
        .expect_err("hostile metadata must be refused")
        .to_string()
}

#[test]
fn small_vocabulary_with_llama_cpp_defaults() {
    let t = Tokenizer::from_gguf(&spm_gguf(|_| {})).unwrap();
    assert_eq!(t.kind(), TokenizerKind::Spm);
    // No bos/eos/unk keys: llama.cpp's ids 1 and 2 (here <0x01>, <0x02>), add_bos on,
    // add_space_prefix on.
    assert_eq!((t.bos(), t.eos()), (Some(1), Some(2)));
    assert!(t.add_bos() && t.add_space_prefix());
    let [space, a, b, ab, space_a, s, u] =
        ["\u{2581}", "a", "b", "ab", "\u{2581}a", "<s>", "<u>"].map(|x| t.token_id(x).unwrap());
    assert_eq!(
        [space, a, b, ab, space_a, s, u],
        [256, 257, 258, 259, 260, 261, 263]
    );
    // " a" scores -1.5, "ab" -4: "▁a" first, then "b" alone; "c" has no piece: <0x63>.
    assert_eq!(t.encode("ab c", true, false), [1, space_a, b, space, 0x63]);
    // The prefix space comes back after a special token, and is dropped by decode.
    assert_eq!(t.encode("<s>ab", false, true), [s, space_a, b]);
    assert_eq!(t.encode("<s>ab", false, false)[..2], [space, 0x3c]);
    assert_eq!(
        t.encode("ab<u>ab", false, false),
        [space_a, b, u, space_a, b]
    );
    assert_eq!(t.decode(&[space_a, b, space, a]).unwrap(), "ab a");
    assert_eq!(stream_decode(&t, &[space_a, b]), " ab");
    assert_eq!(t.encode("", true, true), [1]);

    // add_space_prefix off, explicit ids, i32 scores (as llama.cpp accepts).
    let t = Tokenizer::from_gguf(&spm_gguf(|kv| {
        set(
            kv,
            "tokenizer.ggml.add_space_prefix",
            MetaValue::Bool(false),
        );
        set(kv, "tokenizer.ggml.bos_token_id", MetaValue::U32(261));
        set(kv, "tokenizer.ggml.add_bos_token", MetaValue::Bool(false));
        let ints = (0..264).map(|i| -i).collect();
        set(
            kv,
            "tokenizer.ggml.scores",
            MetaValue::Array(MetaArray::I32(ints)),
        );
    }))
    .unwrap();
    assert!(!t.add_space_prefix() && !t.add_bos());
    assert_eq!(t.bos(), Some(261));
    assert_eq!(t.encode("ab", true, true), [ab]);
    assert_eq!(t.decode(&[space, ab]).unwrap(), " ab");
}

#[test]
fn hostile_metadata_is_refused_naming_the_key() {
    let checks: Vec<(&str, String)> = vec![
        (
            "tokenizer.ggml.scores",
            load_err(|kv| kv.retain(|(k, _)| k != "tokenizer.ggml.scores")),
        ),
        (
            "tokenizer.ggml.scores has 263 entries but the vocabulary has 264 tokens",
            load_err(|kv| {
                if let MetaArray::F32(s) = array_mut(kv, "tokenizer.ggml.scores") {
                    s.pop();
                }
            }),
        ),
        (
            "metadata key 'tokenizer.ggml.scores': expected array of f32 or i32",
            load_err(|kv| set(kv, "tokenizer.ggml.scores", MetaValue::F32(1.0))),
        ),
        (
            "tokenizer.ggml.scores: token 257 ('a') has score NaN",
            load_err(|kv| {
                if let MetaArray::F32(s) = array_mut(kv, "tokenizer.ggml.scores") {
                    s[257] = f32::NAN;
                }
            }),
        ),
        (
            "tokenizer.ggml.token_type: token 258 ('b'): unknown token type 7",
            load_err(|kv| {
                if let MetaArray::I32(t) = array_mut(kv, "tokenizer.ggml.token_type") {
                    t[258] = 7;
                }
            }),
        ),
        (
            "tokenizer.ggml.token_type: token 0 ('<0x00>'): unknown token type -1",
            load_err(|kv| {
                if let MetaArray::I32(t) = array_mut(kv, "tokenizer.ggml.token_type") {
                    t[0] = -1;
                }
            }),
        ),
        (
            "tokenizer.ggml.token_type has 1 entries but the vocabulary has 264 tokens",
            load_err(|kv| {
                set(
                    kv,
                    "tokenizer.ggml.token_type",
                    MetaValue::Array(MetaArray::I32(vec![1])),
                )
            }),
        ),
        (
            "the vocabulary (tokenizer.ggml.tokens) is empty",
            load_err(|kv| {
                set(
                    kv,
                    "tokenizer.ggml.tokens",
                    MetaValue::Array(MetaArray::String(vec![])),
                );
                set(
                    kv,
                    "tokenizer.ggml.token_type",
                    MetaValue::Array(MetaArray::I32(vec![])),
                );
                set(
                    kv,
                    "tokenizer.ggml.scores",
                    MetaValue::Array(MetaArray::F32(vec![])),
                );
            }),
        ),
        (
            "tokenizer.ggml.tokens has no byte-fallback token <0x80>",
            load_err(|kv| {
                if let MetaArray::String(t) = array_mut(kv, "tokenizer.ggml.tokens") {
                    t[0x80] = "x80".into();
                }
                if let MetaArray::I32(t) = array_mut(kv, "tokenizer.ggml.token_type") {
                    t[0x80] = 1;
                }
            }),
        ),
        (
            "tokenizer.ggml.token_type: token 5 ('q') has the byte type but is not <0xXX>",
            load_err(|kv| {
                if let MetaArray::String(t) = array_mut(kv, "tokenizer.ggml.tokens") {
                    t[5] = "q".into();
                }
            }),
        ),
        (
            "unk token id 999 out of range (vocabulary size 264; tokenizer.ggml.unknown_token_id)",
            load_err(|kv| set(kv, "tokenizer.ggml.unknown_token_id", MetaValue::U32(999))),
        ),
        (
            "bos token id 264 out of range (vocabulary size 264; tokenizer.ggml.bos_token_id)",
            load_err(|kv| set(kv, "tokenizer.ggml.bos_token_id", MetaValue::U32(264))),
        ),
        (
            "metadata key 'tokenizer.ggml.add_space_prefix': expected bool",
            load_err(|kv| set(kv, "tokenizer.ggml.add_space_prefix", MetaValue::U32(1))),
        ),
        (
            "tokenizer.ggml.tokens: token 258 ('a') repeats token 257",
            load_err(|kv| {
                if let MetaArray::String(t) = array_mut(kv, "tokenizer.ggml.tokens") {
                    t[258] = "a".into();
                }
            }),
        ),
        (
            "unsupported tokenizer model 'bert' (tokenizer.ggml.model)",
            load_err(|kv| set(kv, "tokenizer.ggml.model", MetaValue::String("bert".into()))),
        ),
        (
            "metadata key 'tokenizer.ggml.tokens'",
            load_err(|kv| kv.retain(|(k, _)| k != "tokenizer.ggml.tokens")),
        ),
    ];
    for (want, got) in checks {
        assert!(got.contains(want), "{got:?} should contain {want:?}");
    }
}

#[test]
fn spm_spec_without_bos_for_add_bos_is_refused() {
    let (tokens, token_types, scores) = small_vocab();
    let spec = TokenizerSpec {
        tokens,
        token_types,
        model: ModelSpec::Spm {
            scores,
            add_space_prefix: false,
            unk: None,
        },
        add_bos: true,
        ..TokenizerSpec::default()
    };
    let err = Tokenizer::from_spec(spec).unwrap_err().to_string();
    assert_eq!(err, "add_bos is set but there is no bos token id");
}
