//! Writes the seed corpora of every fuzz target into `DIR/<target>/` (scripts/fuzz.sh runs
//! it; nothing here is committed):
//! - gguf_parse: the malformed-file corpus of tests/gguf_malformed.rs with its valid base
//!   file, the tiny llama / qwen2 / mpt models of tests/common/tiny_model.rs, and a
//!   header-only copy of the real model (all its metadata, arrays cut to 512 entries, all
//!   272 tensor names and types, each one block long).
//! - model_config: one case per architecture with no edits.
//! - tokenizer: texts (English, code, scripts, emoji, special tokens) and id sequences.
//! - chat_template: the real model's template and hostile ones (deep loops, recursion,
//!   exponential strings, huge output, exceptions).
//! - doc_chunker: a budget byte followed by the repository's sample documents and README,
//!   and a few hand-made texts (one huge sentence, blank lines only, mixed scripts).
//!
//! Usage: `cargo +nightly run --manifest-path fuzz/Cargo.toml --example make_seeds -- DIR`

#[path = "../../tests/common/corpus.rs"]
#[allow(dead_code)]
mod corpus;
#[path = "../../tests/common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::path::{Path, PathBuf};

use slimlm::gguf::{GgufFile, GgufWriter, MetaArray, MetaValue};

const MODEL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../models/SmolLM2-135M-Instruct.Q4_1.gguf"
);

/// Longest metadata array kept in the header-only seed.
const ARRAY_KEEP: usize = 512;

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `value` with arrays cut to [`ARRAY_KEEP`] entries.
fn shortened(value: &MetaValue) -> MetaValue {
    fn cut<T: Clone>(v: &[T]) -> Vec<T> {
        v[..v.len().min(ARRAY_KEEP)].to_vec()
    }
    match value {
        MetaValue::Array(MetaArray::String(v)) => MetaValue::Array(MetaArray::String(cut(v))),
        MetaValue::Array(MetaArray::I32(v)) => MetaValue::Array(MetaArray::I32(cut(v))),
        other => other.clone(),
    }
}

/// The real model's metadata and tensor list, with tiny arrays and one block per tensor.
fn header_only(real: &GgufFile) -> Vec<u8> {
    let mut w = GgufWriter::new();
    for (key, value) in real.metadata() {
        w = w.metadata(key.clone(), shortened(value));
    }
    for t in real.tensors() {
        let ty = t.ggml_type;
        let elems = ty.block_elems() as u64;
        w = w.tensor(t.name.clone(), &[elems], ty, vec![0; ty.block_bytes()]);
    }
    w.to_bytes()
}

fn gguf_seeds(dir: &Path, real: &GgufFile) {
    for (i, case) in corpus::malformed_corpus().into_iter().enumerate() {
        write(dir, "gguf_parse", &format!("malformed-{i:02}"), &case.bytes);
    }
    write(dir, "gguf_parse", "base", &corpus::base().0);
    for arch in tiny_model::ARCHS {
        let bytes = tiny_model::TinyModel::new(arch)
            .to_bytes(u64::MAX)
            .expect("the tiny model fits");
        write(dir, "gguf_parse", &format!("tiny-{arch}"), &bytes);
    }
    write(dir, "gguf_parse", "real-header", &header_only(real));
}

fn model_config_seeds(dir: &Path) {
    for (i, arch) in tiny_model::ARCHS.iter().enumerate() {
        write(dir, "model_config", arch, &[i as u8]);
    }
}

fn tokenizer_seeds(dir: &Path) {
    let texts = [
        "Give me three tips for staying focused while studying.",
        "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n",
        "  leading and trailing spaces   \n\n\t tabs",
        "Numbers 1234567890 and 3.14159, dates 2026-11-29.",
        "Grüße, ça va? Привет мир. 你好，世界。 こんにちは 🤖👍🏽",
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        "<|endoftext|><|im_end|><|im_start",
        "\u{0}\u{4}\u{7f} control bytes",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];
    for (i, text) in texts.iter().enumerate() {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(text.as_bytes());
        write(dir, "tokenizer", &format!("text-{i}"), &bytes);
    }
    let mut ids = vec![1u8];
    for id in [1u16, 2, 100, 4000, 49151, 49152, 65535] {
        ids.extend_from_slice(&id.to_le_bytes());
    }
    write(dir, "tokenizer", "ids", &ids);
}

fn chat_template_seeds(dir: &Path, real: &GgufFile) {
    let mut templates: Vec<String> = vec![tiny_model::CHATML.to_owned()];
    if let Ok(t) = real.get_str("tokenizer.chat_template") {
        templates.push(t.to_owned());
    }
    templates.extend(
        [
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            "{% for m in messages recursive %}{{ loop(messages) }}{% endfor %}",
            "{{ 'x' * 100000000 }}",
            "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
            "{% set s = messages|tojson %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}",
            "{{ range(100000)|join(',') * 1000 }}",
            "{% for m in messages %}{{ m.content.upper().split(' ')|join('-') }}{% endfor %}",
            "{% if messages[0]['role'] != 'user' %}{{ raise_exception('roles must start with user') }}{% endif %}",
            "{{ strftime_now('%Y-%m-%d') }}{{ bos_token }}{{ eos_token }}",
            "{% filter upper %}{% for i in range(1000) %}{{ messages|tojson }}{% endfor %}{% endfilter %}",
            "{{ messages[0].content[::-1] }}{{ (messages|last).role|title }}",
        ]
        .map(String::from),
    );
    for (i, t) in templates.iter().enumerate() {
        let mut bytes = t.as_bytes().to_vec();
        bytes.push(0);
        bytes.extend_from_slice(b"Hello! What is 2 + 2?");
        write(dir, "chat_template", &format!("template-{i:02}"), &bytes);
    }
}

fn doc_chunker_seeds(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut texts: Vec<Vec<u8>> = ["README.md", "samples/solar-power.md"]
        .iter()
        .filter_map(|p| std::fs::read(root.join(p)).ok())
        .collect();
    texts.push("word ".repeat(400).into_bytes());
    texts.push(b"First.\n\n\n\nSecond! Third? \"Fourth.\" (Fifth.)".to_vec());
    texts.push("Ünïcödé 日本語のテキスト。 émoji 🎉🎉🎉 — done.".as_bytes().to_vec());
    for (i, text) in texts.iter().enumerate() {
        for budget in [0u8, 20, 63] {
            let bytes: Vec<u8> = std::iter::once(budget).chain(text.iter().copied()).collect();
            write(dir, "doc_chunker", &format!("doc-{i}-{budget}"), &bytes);
        }
    }
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: make_seeds DIR");
        std::process::exit(2);
    };
    let real = GgufFile::open(MODEL).unwrap_or_else(|e| {
        eprintln!("error: {MODEL}: {e} (run scripts/fetch-model.sh)");
        std::process::exit(1);
    });
    gguf_seeds(&dir, &real);
    model_config_seeds(&dir);
    tokenizer_seeds(&dir);
    chat_template_seeds(&dir, &real);
    doc_chunker_seeds(&dir);
    println!("seeds written to {}", dir.display());
}
