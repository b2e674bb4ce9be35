//! Unit tests on a small synthetic vocabulary: the 256 byte tokens, a few merges and
//! special tokens. The real model is checked against the Hugging Face oracle in
//! tests/tokenizer.rs.

use super::*;

const CONTROL: i32 = 3;
const USER_DEFINED: i32 = 4;

/// Byte tokens 0..256 (in byte order), then merged tokens, then specials.
fn spec() -> TokenizerSpec {
    let mut tokens: Vec<String> = (0..=255u8)
        .map(|b| bytes::byte_to_char(b).to_string())
        .collect();
    let mut token_types = vec![1; 256];
    for t in ["he", "ll", "hell", "hello", "Ġw", "Ġwor", "Ġworld"] {
        tokens.push(t.to_owned());
        token_types.push(1);
    }
    for (t, ty) in [
        ("<s>", CONTROL),
        ("</s>", CONTROL),
        ("<|im_end|>", CONTROL),
        ("<tool>", USER_DEFINED),
    ] {
        tokens.push(t.to_owned());
        token_types.push(ty);
    }
    let merges = [
        "h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d",
    ];
    // "or", "Ġworl" are not tokens: keep only merges whose parts and result exist.
    let merges: Vec<String> = merges
        .iter()
        .filter(|m| {
            let (l, r) = m.split_once(' ').unwrap();
            [l.to_owned(), r.to_owned(), format!("{l}{r}")]
                .iter()
                .all(|t| tokens.contains(t))
        })
        .map(|m| (*m).to_owned())
        .collect();
    TokenizerSpec {
        tokens,
        token_types,
        model: ModelSpec::Bpe {
            merges,
            pre: "gpt2".to_owned(),
        },
        bos: Some(263),
        eos: Some(264),
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

fn id(t: &Tokenizer, text: &str) -> u32 {
    t.token_id(text).unwrap()
}

#[test]
fn encodes_merges_and_round_trips() {
    let t = Tokenizer::from_spec(spec()).unwrap();
    let ids = t.encode("hello world", false, false);
    let w = u32::from(b'w');
    assert_eq!(
        ids,
        [
            id(&t, "hello"),
            id(&t, "Ġw"),
            u32::from(b'o'),
            u32::from(b'r'),
            u32::from(b'l'),
            u32::from(b'd')
        ]
    );
    assert_ne!(ids[1], w);
    assert_eq!(t.decode(&ids).unwrap(), "hello world");
    assert_eq!(t.encode("", true, true), Vec::<u32>::new());
    let text = "héllo\u{1F600} 東京\t\n";
    assert_eq!(t.decode(&t.encode(text, false, false)).unwrap(), text);
}

#[test]
fn special_tokens_parse_only_when_asked() {
    let t = Tokenizer::from_spec(spec()).unwrap();
    let end = id(&t, "<|im_end|>");
    let parsed = t.encode("hello<|im_end|>", false, true);
    assert_eq!(parsed, [id(&t, "hello"), end]);
    let plain = t.encode("hello<|im_end|>", false, false);
    assert!(!plain.contains(&end));
    assert_eq!(t.decode(&plain).unwrap(), "hello<|im_end|>");
    assert_eq!(t.decode(&parsed).unwrap(), "hello<|im_end|>");
    // User-defined tokens are matched either way.
    let tool = id(&t, "<tool>");
    assert_eq!(t.encode("<tool>", false, false), [tool]);
    assert_eq!(t.token_bytes(tool), Some(&b"<tool>"[..]));
}

#[test]
fn bos_and_eos_follow_the_flags() {
    let mut s = spec();
    let t = Tokenizer::from_spec(s.clone()).unwrap();
    assert_eq!(t.encode("he", true, false), [id(&t, "he")]);
    s.add_bos = true;
    s.add_eos = true;
    let t = Tokenizer::from_spec(s).unwrap();
    assert_eq!(t.encode("he", true, false), [263, id(&t, "he"), 264]);
    assert_eq!(t.encode("he", false, false), [id(&t, "he")]);
}

#[test]
fn end_of_generation() {
    let t = Tokenizer::from_spec(spec()).unwrap();
    assert!(t.is_end_of_generation(264), "eos");
    assert!(t.is_end_of_generation(id(&t, "<|im_end|>")), "by text");
    assert!(!t.is_end_of_generation(263));
    assert!(!t.is_end_of_generation(u32::MAX));
    assert_eq!((t.bos(), t.eos(), t.eot()), (Some(263), Some(264), None));
}

#[test]
fn decode_rejects_unknown_ids_and_is_lossy() {
    let t = Tokenizer::from_spec(spec()).unwrap();
    let err = t.decode(&[1, 99_999]).unwrap_err().to_string();
    assert_eq!(
        err,
        "token id 99999 at position 1 out of range (vocabulary size 267)"
    );
    // 0xE6 0x9D (first two bytes of 東) then 'a': one U+FFFD for the broken sequence.
    assert_eq!(
        t.decode(&[0xe6, 0x9d, u32::from(b'a')]).unwrap(),
        "\u{FFFD}a"
    );
    assert_eq!(t.token_bytes(267), None);
    assert_eq!(t.vocab_size(), 267);
}

#[test]
fn stream_holds_back_split_characters() {
    let t = Tokenizer::from_spec(spec()).unwrap();
    let ids = t.encode("a\u{1F600}b東", false, false);
    assert_eq!(ids.len(), 9, "byte tokens only");
    let mut stream = StreamDecoder::new();
    let pieces: Vec<String> = ids.iter().map(|&i| stream.push(&t, i).unwrap()).collect();
    assert_eq!(pieces, ["a", "", "", "", "\u{1F600}", "b", "", "", "東"]);
    assert_eq!(stream.flush(), "");
    // An unfinished character at the end becomes U+FFFD, like decode.
    assert_eq!(stream.push(&t, 0xe6).unwrap(), "");
    assert_eq!(stream.flush(), "\u{FFFD}");
    // Invalid bytes in the middle: the same text as decode.
    let ids = [0xe6, 0x9d, u32::from(b'a'), 0xff, 0xe6];
    let mut streamed: String = ids.iter().map(|&i| stream.push(&t, i).unwrap()).collect();
    streamed.push_str(&stream.flush());
    assert_eq!(streamed, t.decode(&ids).unwrap());
    let err = stream.push(&t, 1_000).unwrap_err().to_string();
    assert!(err.contains("token id 1000 at position 0"), "{err}");
}

#[test]
fn construction_errors_name_the_problem() {
    let check = |edit: &dyn Fn(&mut TokenizerSpec), expected: &str| {
        let mut s = spec();
        edit(&mut s);
        let err = Tokenizer::from_spec(s).unwrap_err().to_string();
        assert_eq!(err, expected);
    };
    check(
        &|s| {
            s.token_types.pop();
        },
        "tokenizer.ggml.token_type has 266 entries but the vocabulary has 267 tokens",
    );
    check(
        &|s| bpe(s).0.push("he zz".into()),
        "merge 5 ('he zz'): token 'zz' not in vocabulary",
    );
    check(
        &|s| bpe(s).0.push("l he".into()),
        "merge 5 ('l he'): merged token 'lhe' not in vocabulary",
    );
    check(
        &|s| s.bos = Some(267),
        "bos token id 267 out of range (vocabulary size 267; tokenizer.ggml.bos_token_id)",
    );
    check(
        &|s| s.eot = Some(u32::MAX),
        "eot token id 4294967295 out of range (vocabulary size 267; tokenizer.ggml.eot_token_id)",
    );
    check(
        &|s| {
            s.add_bos = true;
            s.bos = None;
        },
        "add_bos is set but there is no bos token id",
    );
    check(
        &|s| s.token_types[5] = 9,
        "tokenizer.ggml.token_type: token 5 ('ą'): unknown token type 9",
    );
    check(
        &|s| s.tokens[256] = "a".into(),
        "tokenizer.ggml.tokens: token 256 ('a') repeats token 97",
    );
    check(&|s| *bpe(s).1 = "bert".into(), "unknown pre-tokenizer 'bert'; supported: gpt2, gpt-2, gpt-neox, mpt, olmo, phi-2, smollm, starcoder, refact, codeshell, qwen2, stablelm2, deepseek-r1-qwen, megrez, llama-bpe, llama3, llama-v3, dbrx, smaug-bpe, falcon3");
    check(
        &|s| {
            s.tokens.clear();
            s.token_types.clear();
        },
        "the vocabulary (tokenizer.ggml.tokens) is empty",
    );
}

#[test]
fn bytes_without_a_token_are_dropped() {
    let mut s = spec();
    s.tokens[4] = "<no byte 4>".into();
    let t = Tokenizer::from_spec(s).unwrap();
    // "\u{4}" is a word of its own between "h" and "e"; it vanishes.
    assert_eq!(
        t.encode("h\u{4}e", false, false),
        [u32::from(b'h'), u32::from(b'e')]
    );
    assert_eq!(t.encode("\u{4}", false, false), Vec::<u32>::new());
}

#[test]
fn llama3_ignore_merges_takes_whole_words() {
    let mut s = spec();
    *bpe(&mut s).1 = "llama-bpe".into();
    // "hello" has no merge path without "he ll"/"hell o", but is a token: taken whole.
    bpe(&mut s).0.clear();
    let t = Tokenizer::from_spec(s).unwrap();
    assert_eq!(t.encode("hello", false, false), [id(&t, "hello")]);
    assert_eq!(
        t.encode("help", false, false),
        "help".bytes().map(u32::from).collect::<Vec<_>>()
    );
}

#[test]
fn tokenizer_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Tokenizer>();
    assert_send_sync::<StreamDecoder>();
}
