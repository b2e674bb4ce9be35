//! Gemma 3 270M (models/gemma-3-270m-q4_k_m.gguf, a real Q4_K_M file made with llama.cpp's
//! converter) against llama.cpp's own greedy continuations
//! (tests/fixtures/models/gemma3_llamacpp.json, from scripts/make-gemma3-llamacpp-fixtures.py),
//! and the sliding-window machinery end to end. Fails (never skips) without the file:
//! `scripts/fetch-model.sh gemma3-270m`.
//!
//! Agreement with llama.cpp, measured: of the 8 prompts, 5 give llama.cpp's 32 tokens
//! exactly. The other 3 leave llama.cpp's text at a near-tie: the token llama.cpp picked is
//! our second choice, 0.008 to 0.24 logits below our first. That is the size of the
//! differences between two quantized engines: llama.cpp multiplies Q4_K / Q6_K weights with
//! activations quantized per 256 values (Q8_K), slimlm per 32 (its Q4_1 / Q6_K panels), and
//! llama.cpp's CPU GELU rounds its input and output to f16 (a lookup table) where slimlm
//! computes tanh GELU in f32. Against transformers running the same file dequantized
//! (float32), slimlm's logits have cosine 0.9980-0.99997 at every position of the 8
//! prompts teacher-forced on llama.cpp's text, and at the 6 positions where our first
//! choice is not llama.cpp's token transformers sides with slimlm 4 times and with
//! llama.cpp twice, always by less than 0.17 logits (scripts/compare-gemma3-oracles.py).
//! So the test asserts exact text for the five prompts and, for every prompt, that each of
//! llama.cpp's tokens (teacher-forced) is our first choice or within [`NEAR_TIE`] of it.

#[path = "common/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::sampler::argmax;
use slimlm::runtime::session::KvType;
use slimlm::runtime::{Session, SessionError};

/// The prompts (fixture names) whose 32 greedy tokens equal llama.cpp's.
const EXACT: [&str; 5] = ["fibonacci", "armstrong", "fox", "planet", "hello"];

/// Largest gap, in logits, between our first choice and llama.cpp's token where the two
/// differ (measured maximum 0.24; see the module docs).
const NEAR_TIE: f32 = 0.3;

/// models/gemma-3-270m-q4_k_m.gguf; panics with the fix when absent.
fn model_path() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/gemma-3-270m-q4_k_m.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-model.sh gemma3-270m",
        path.display()
    );
    path
}

fn load(options: &LoadOptions) -> Model {
    Model::load(model_path(), options).expect("load Gemma 3 270M")
}

/// One model (2 threads, best tier) shared by the tests of this file.
fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        load(&LoadOptions {
            threads: Some(2),
            ..LoadOptions::default()
        })
    })
}

/// Under qemu (scripts/test-aarch64.sh) every step costs ~35x (this file took 14 minutes
/// per CPU model with everything on): there the llama.cpp comparison runs on one prompt,
/// and the 700-token window checks are left to the host, as the same code paths run
/// under qemu in tests/model_tiny_gemma3.rs (window 8: ring vs flat caches, decode vs
/// prefill, bit for bit) and kernels/tests/attention.rs; the tier test runs in full.
fn emulated() -> bool {
    std::env::var_os("QEMU_CPU").is_some()
}

/// `n` greedy tokens after `prompt` (BOS added) and the logits after the last one.
fn greedy(m: &Model, prompt: &str, n: usize) -> (Vec<u32>, Vec<f32>) {
    let ids = m.tokenizer.encode(prompt, true, false);
    let mut s = Session::new(m, ids.len() + n + 1).unwrap();
    let mut logits = s.prefill(&ids).unwrap().to_vec();
    let mut out = Vec::new();
    for _ in 0..n {
        let t = argmax(&logits);
        out.push(t);
        logits = s.decode(t).unwrap().to_vec();
    }
    (out, logits)
}

#[test]
fn config_follows_the_gemma3_keys_and_llamacpp_defaults() {
    let c = &model().config;
    assert_eq!(
        (c.n_layers, c.d_model, c.n_heads, c.n_kv_heads, c.head_dim),
        (18, 640, 4, 1, 256)
    );
    assert_eq!((c.d_ff, c.vocab_size, c.rope_base), (2048, 262_144, 1e6));
    assert_eq!(c.attn_scale, 1.0 / 16.0);
    let sliding = c.sliding.expect("sliding window");
    assert_eq!((sliding.window, sliding.rope_base), (512, 10_000.0));
    let global: Vec<usize> = (0..18).filter(|&l| c.window_of(l).is_none()).collect();
    assert_eq!(global, [5, 11, 17]);
    assert_eq!(c.final_logit_softcap, None);
}

#[test]
fn greedy_text_matches_llamacpp() {
    let m = model();
    let fx = fixtures::json("models/gemma3_llamacpp.json");
    let n = fx["n_predict"].as_u64().unwrap() as usize;
    let prompts = fx["prompts"].as_array().unwrap();
    let take = if emulated() { 1 } else { prompts.len() };
    let mut exact = Vec::new();
    for p in &prompts[..take] {
        let (name, prompt) = (p["name"].as_str().unwrap(), p["prompt"].as_str().unwrap());
        let want = p["llamacpp_text"].as_str().unwrap();
        let (tokens, _) = greedy(m, prompt, n);
        let text = m.tokenizer.decode(&tokens).unwrap();
        eprintln!("{name}: {text:?}");
        if text == want {
            exact.push(name);
        }
        // Teacher-forced along llama.cpp's text: each of its tokens is our first choice or a
        // near-tie with it.
        let prompt_ids = m.tokenizer.encode(prompt, true, false);
        let all = m.tokenizer.encode(&format!("{prompt}{want}"), true, false);
        assert_eq!(
            all[..prompt_ids.len()],
            prompt_ids[..],
            "{name}: prompt ids"
        );
        let mut s = Session::new(m, all.len()).unwrap();
        let logits = s.eval_all(&all).unwrap();
        let v = m.config.vocab_size;
        for i in prompt_ids.len() - 1..all.len() - 1 {
            let row = &logits[i * v..(i + 1) * v];
            let (ours, theirs) = (argmax(row) as usize, all[i + 1] as usize);
            let gap = row[ours] - row[theirs];
            if ours != theirs {
                eprintln!(
                    "{name}: position {i}: llama.cpp's token {theirs} is {gap} below ours {ours}"
                );
            }
            assert!(
                gap <= NEAR_TIE,
                "{name}: position {i}: llama.cpp's token {theirs} is {gap} logits below our {ours}"
            );
        }
    }
    let want: Vec<&str> = if emulated() {
        EXACT[..1].to_vec()
    } else {
        EXACT.to_vec()
    };
    assert_eq!(exact, want, "prompts whose greedy text equals llama.cpp's");
}

/// A prompt crossing the 512-token window: one prefill (batches of 256, the third of
/// which crosses position 512 inside the local layers' ring caches) gives the bits of a
/// shorter prefill followed by token-by-token decoding, and of a session whose context is
/// too short for ring caches (flat caches with windowed attention).
#[test]
fn prefill_across_the_window_equals_decoding_and_flat_caches() {
    if emulated() {
        eprintln!("skipped under qemu: see emulated()");
        return;
    }
    let m = model();
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/solar-power.md"),
    )
    .unwrap();
    let ids = m.tokenizer.encode(&text, true, false);
    const N: usize = 700;
    assert!(ids.len() >= N, "{} tokens", ids.len());
    let ids = &ids[..N];
    let bits = |l: &[f32]| l.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();

    // Rings: window 512 + batch 256 - 1 = 767 < 2048 positions.
    let mut ring = Session::new(m, 2048).unwrap();
    let want = bits(ring.prefill(ids).unwrap());
    // Flat caches: 767 positions are too few for a ring of 768 slots.
    let mut flat = Session::new(m, 767).unwrap();
    let (fl, rl) = (flat.kv_layer_bytes(), ring.kv_layer_bytes());
    assert!(fl.iter().all(|&b| b == fl[5]), "flat caches: {fl:?}");
    assert!(rl[0] < rl[5], "ring caches on local layers: {rl:?}");
    assert_eq!(
        bits(flat.prefill(ids).unwrap()),
        want,
        "flat vs ring caches"
    );

    // Prefill up to before the window, then one token at a time across it.
    let split = 480;
    let mut decode = Session::new(m, 2048).unwrap();
    decode.prefill(&ids[..split]).unwrap();
    let mut last = Vec::new();
    for &t in &ids[split..] {
        last = decode.decode(t).unwrap().to_vec();
    }
    assert_eq!(bits(&last), want, "decode from {split} vs one prefill");
}

/// The KV cache at --ctx 8192: the 15 local layers keep rings of 768 positions, the 3
/// global layers all 8192 (f16: 1 KiB per position and layer, K and V of one 256-wide head).
#[test]
fn local_layers_keep_window_sized_caches() {
    let m = model();
    let c = &m.config;
    for ty in [KvType::F16, KvType::Q8_0, KvType::F32] {
        let s = Session::with_kv_type(m, 8192, ty).unwrap();
        let per_position = 2 * ty.row_bytes(c.kv_width());
        let layers = s.kv_layer_bytes();
        for (l, &bytes) in layers.iter().enumerate() {
            let positions = if c.window_of(l).is_some() { 768 } else { 8192 };
            assert_eq!(bytes, positions * per_position, "{} layer {l}", ty.name());
        }
        let full = c.n_layers * 8192 * per_position;
        eprintln!(
            "{} KV cache at ctx 8192: {} bytes per position and layer; local layers {} bytes \
             each (768 positions), global layers {} bytes each; total {} bytes = {:.3} of a \
             full cache ({full} bytes)",
            ty.name(),
            per_position,
            768 * per_position,
            8192 * per_position,
            s.kv_bytes(),
            s.kv_bytes() as f64 / full as f64
        );
    }
}

#[test]
fn rewind_into_an_overwritten_window_is_refused() {
    if emulated() {
        eprintln!("skipped under qemu: see emulated()");
        return;
    }
    let m = model();
    let mut s = Session::new(m, 2048).unwrap();
    let n = 1000;
    s.prefill(&vec![236_761; n]).unwrap();
    // The rings hold the last 768 positions: a query at 990 needs keys from 479 on.
    assert_eq!(
        s.rewind(100).unwrap_err(),
        SessionError::RewindPastWindow { to: 100 }
    );
    assert_eq!(s.position(), n);
    s.rewind(n - 10).unwrap();
    s.decode(2).unwrap();
    s.rewind(0).unwrap();
    s.prefill(&[2, 818]).unwrap();
}

/// Every kernel tier this CPU runs gives the scalar tier's greedy tokens and bit-identical
/// logits, so under qemu each ARM tier is checked end to end against the scalar run.
#[test]
fn every_tier_generates_the_scalar_tokens() {
    use slimlm::kernels::dispatch::Isa;
    let run = |isa: Isa| {
        let m = load(&LoadOptions {
            isa: Some(isa),
            threads: Some(2),
            ..LoadOptions::default()
        });
        assert_eq!(m.isa(), isa);
        greedy(&m, "The capital of France is", 8)
    };
    let (scalar_tokens, scalar_logits) = run(Isa::Scalar);
    let tiers: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|isa| *isa != Isa::Scalar && isa.is_available())
        .collect();
    if let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") {
        assert!(
            tiers.iter().any(|isa| isa.name() == expected),
            "tier {expected} must be among the tested ones: {tiers:?}"
        );
    }
    for isa in tiers {
        let (tokens, logits) = run(isa);
        eprintln!("{isa}: {tokens:?}");
        assert_eq!(tokens, scalar_tokens, "{isa} greedy tokens");
        assert!(
            logits
                .iter()
                .zip(&scalar_logits)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{isa}: logits differ from the scalar tier's"
        );
    }
}
