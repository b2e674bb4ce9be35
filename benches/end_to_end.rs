//! Whole forward passes through the library API (`Model`, `Session`), in tokens per second
//! (criterion's "elements"): a prefill of 128 and of 512 tokens into an empty context
//! (llama-bench's pp128 / pp512), and one decode step after `DECODE_DEPTH` tokens (tg at
//! a small depth: the cost of a generated token, weights dominating).
//!
//! Models: SmolLM2-135M-Instruct in every format present in models/ (the shipped Q4_1 from
//! scripts/fetch-model.sh; Q4_0, Q8_0 and Q4_K_M as scripts/compare-llamacpp.py makes them),
//! each skipped with a note when absent or not loadable; and the SlimLM-125M-shaped random
//! `mpt` model of tests/common/slimlm_random.rs (12 layers, d 768), built in memory with its
//! matrices in Q8_0 and in Q4_0. Tokens are pseudo-random ids, as llama-bench's are: a
//! forward pass costs the same whatever the tokens are.
//!
//! Threads and tier are the library's defaults (one thread per big core, `SLIMLM_ISA` or
//! the best tier); the benchmark id names both. Compare commits or tiers within one run
//! (`cargo bench --bench end_to_end`, or `-- smollm2-q4_1` for one model); never under qemu.
//! Program-against-program comparisons with llama.cpp are scripts/compare-llamacpp.py's.

#[path = "../tests/common/slimlm_random.rs"]
mod slimlm_random;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slimlm::gguf::GgufFile;
use slimlm::kernels::formats::GgmlType;
use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::Session;

/// Prompt lengths of the prefill benchmarks.
const PREFILL_TOKENS: [usize; 2] = [128, 512];
/// Tokens already in the context when a decode step is timed.
const DECODE_DEPTH: usize = 32;
/// SmolLM2 files looked for in models/.
const SMOLLM2_FORMATS: [&str; 4] = ["Q4_0", "Q4_1", "Q8_0", "Q4_K_M"];
/// Layers of the SlimLM-125M-shaped random model (SlimLM-125M's config: 12).
const SLIMLM_LAYERS: usize = 12;

/// A benchmarked model and the name its benchmark ids start with.
struct Subject {
    name: String,
    model: Model,
}

/// Every model that is present and loads; a note on stderr for each one that is not.
fn subjects() -> Vec<Subject> {
    let options = LoadOptions::default();
    let mut out = Vec::new();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for format in SMOLLM2_FORMATS {
        let path = models.join(format!("SmolLM2-135M-Instruct.{format}.gguf"));
        if !path.is_file() {
            eprintln!(
                "end_to_end: skipping SmolLM2 {format}: {} is absent",
                path.display()
            );
            continue;
        }
        match Model::load(&path, &options) {
            Ok(model) => out.push(Subject {
                name: format!("smollm2-{}", format.to_lowercase()),
                model,
            }),
            Err(e) => eprintln!("end_to_end: skipping SmolLM2 {format}: cannot load: {e}"),
        }
    }
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0] {
        let (bytes, _) = slimlm_random::build(SLIMLM_LAYERS, ty);
        let loaded = GgufFile::from_bytes(bytes)
            .map_err(|e| e.to_string())
            .and_then(|file| Model::from_file(Arc::new(file), &options).map_err(|e| e.to_string()));
        match loaded {
            Ok(model) => out.push(Subject {
                name: format!("slimlm125m-random-{}", ty.name().to_lowercase()),
                model,
            }),
            Err(e) => eprintln!("end_to_end: skipping the random SlimLM model in {ty}: {e}"),
        }
    }
    out
}

/// `n` deterministic pseudo-random token ids below `vocab` (a linear congruential stream).
fn random_tokens(n: usize, vocab: usize, seed: u32) -> Vec<u32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) % vocab as u32
        })
        .collect()
}

/// "smollm2-q4_1/avx512/t2/pp512": model, tier, threads, test.
fn id(subject: &Subject, test: &str) -> BenchmarkId {
    let m = &subject.model;
    BenchmarkId::from_parameter(format!(
        "{}/{}/t{}/{test}",
        subject.name,
        m.isa().name(),
        m.threads()
    ))
}

fn prefill(c: &mut Criterion, subjects: &[Subject]) {
    let mut group = c.benchmark_group("prefill");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    for s in subjects {
        let vocab = s.model.tokenizer.vocab_size();
        for n in PREFILL_TOKENS {
            let prompt = random_tokens(n, vocab, 2);
            let mut session = Session::new(&s.model, n).expect("a session of the prompt's size");
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(id(s, &format!("pp{n}")), |b| {
                b.iter(|| {
                    session.reset();
                    session.prefill(&prompt).expect("prefill").len()
                })
            });
        }
    }
    group.finish();
}

fn decode(c: &mut Criterion, subjects: &[Subject]) {
    let mut group = c.benchmark_group("decode");
    group.sample_size(20).throughput(Throughput::Elements(1));
    for s in subjects {
        let vocab = s.model.tokenizer.vocab_size();
        let context = random_tokens(DECODE_DEPTH + 1, vocab, 1);
        let mut session =
            Session::new(&s.model, DECODE_DEPTH + 1).expect("a session of the depth's size");
        session.prefill(&context[..DECODE_DEPTH]).expect("prefill");
        let token = context[DECODE_DEPTH];
        group.bench_function(id(s, &format!("tg1@d{DECODE_DEPTH}")), |b| {
            b.iter(|| {
                session.rewind(DECODE_DEPTH).expect("rewind");
                session.decode(token).expect("decode").len()
            })
        });
    }
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let subjects = subjects();
    prefill(c, &subjects);
    decode(c, &subjects);
}

criterion_group!(benches, end_to_end);
criterion_main!(benches);
