//! A tiny random Gemma 3 (7 layers: 6 local with a window of 8 and RoPE base 1e4, one
//! global with base 1e6; head_dim 32 wider than d_model / heads; GQA 2:1) against
//! transformers' `Gemma3ForCausalLM` logits of every position (tests/fixtures/tiny_gemma3/,
//! made by scripts/make-tiny-gemma3-fixtures.py; README-models.md, section D).
//!
//! Tolerances as for the other tiny models (tests/model_tiny.rs): F32 weights and f32
//! activations, so only float rounding separates us from the float64 oracle: max |logit
//! diff| <= 1e-4 at every position. The 40-token prompt is five windows long. A session
//! whose context takes ring caches on the local layers (8 + 256 - 1 positions < 300) gives
//! the flat caches' bits, and token-by-token decoding gives `eval_all`'s rows bit for bit.

#[path = "common/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

use std::sync::Arc;

use slimlm::gguf::GgufFile;
use slimlm::model::{Arch, LoadOptions, Model};
use slimlm::runtime::session::KvType;
use slimlm::runtime::Session;

const ORACLE_TOLERANCE: f32 = 1e-4;

fn load() -> Model {
    let path = fixtures::path("tiny_gemma3/tiny-gemma3.gguf");
    let gguf = GgufFile::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let options = LoadOptions {
        threads: Some(2),
        ..LoadOptions::default()
    };
    Model::from_file(Arc::new(gguf), &options).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn tiny_gemma3_matches_transformers_at_every_position() {
    let fx = fixtures::json("tiny_gemma3/tiny-gemma3.json");
    let model = load();
    let (c, cfg) = (&model.config, &fx["config"]);
    assert_eq!(c.arch, Arch::Gemma3);
    assert_eq!(
        c.n_layers as u64,
        cfg["num_hidden_layers"].as_u64().unwrap()
    );
    assert_eq!(c.head_dim as u64, cfg["head_dim"].as_u64().unwrap());
    assert_eq!(
        c.n_kv_heads as u64,
        cfg["num_key_value_heads"].as_u64().unwrap()
    );
    assert_eq!(
        c.rope_base,
        cfg["rope_theta_global"].as_f64().unwrap() as f32
    );
    let sliding = c.sliding.expect("a sliding window");
    assert_eq!(
        sliding.window as u64,
        cfg["sliding_window"].as_u64().unwrap()
    );
    assert_eq!(
        sliding.rope_base,
        cfg["rope_theta_local"].as_f64().unwrap() as f32
    );
    let local: Vec<u64> = (0..c.n_layers)
        .filter(|&l| c.window_of(l).is_some())
        .map(|l| l as u64)
        .collect();
    let want_local: Vec<u64> = cfg["local_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(local, want_local, "local layers");
    let vocab = c.vocab_size;

    for p in fx["prompts"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let ids = fixtures::ids(&p["ids"]);
        let n = ids.len();
        let want = fixtures::f32_gz(&format!(
            "tiny_gemma3/{}",
            p["logits_file"].as_str().unwrap()
        ));
        assert_eq!(want.len(), n * vocab, "{name}: reference size");

        let mut flat = Session::with_kv_type(&model, 64, KvType::F32).unwrap();
        let all = flat.eval_all(&ids).unwrap();
        let per_pos: Vec<f32> = (0..n)
            .map(|t| {
                let r = t * vocab..(t + 1) * vocab;
                fixtures::max_abs_diff(&all[r.clone()], &want[r])
            })
            .collect();
        let worst = per_pos.iter().fold(0.0f32, |m, &d| m.max(d));
        let argmax_ok = (0..n)
            .filter(|&t| {
                let best = fixtures::argmax(&all[t * vocab..(t + 1) * vocab]);
                best as u64 == p["argmax_per_position"][t].as_u64().unwrap()
            })
            .count();
        eprintln!("{name}: n {n}, max |diff| {worst:.2e}, argmax {argmax_ok}/{n}");
        assert!(
            worst <= ORACLE_TOLERANCE,
            "{name}: max |diff| per position {per_pos:?}"
        );

        // Ring caches on the local layers: the same bits.
        let mut ring = Session::with_kv_type(&model, 300, KvType::F32).unwrap();
        assert!(
            ring.kv_layer_bytes()[0] < ring.kv_layer_bytes()[5],
            "ring caches"
        );
        assert_eq!(
            bits(&ring.eval_all(&ids).unwrap()),
            bits(&all),
            "{name}: ring vs flat"
        );

        // Token by token through the ring caches: eval_all's rows, bit for bit.
        let mut decode = Session::with_kv_type(&model, 300, KvType::F32).unwrap();
        for (t, &id) in ids.iter().enumerate() {
            let row = decode.decode(id).unwrap();
            assert_eq!(
                bits(row),
                bits(&all[t * vocab..(t + 1) * vocab]),
                "{name}: decode at position {t}"
            );
        }
    }
}
