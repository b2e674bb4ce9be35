//! SmolLM2-135M-Instruct (Q4_1, tied Q8_0 head) against transformers running the same GGUF
//! dequantized to float (fixtures from scripts/make-model-fixtures.py).
//!
//! Tolerances, measured rather than assumed: slimlm multiplies Q4_1/Q8_0 weights with
//! activations quantized to 8 bits per block of 32, exactly as llama.cpp's CPU backend
//! does, while transformers multiplies the same dequantized weights with float
//! activations. That activation rounding costs SmolLM2-135M up to 0.3% of logit cosine on
//! a 38-token prompt: llama.cpp itself reaches only 0.99684 there and 95.6% teacher-forced
//! top-1 agreement (tests/fixtures/models/smollm2_llamacpp.json). (The float graph alone
//! is checked against float64 oracles where no activation is quantized:
//! tests/model_slimlm_random.rs and tests/model_tiny.rs.) Each bound is at most 10x the
//! error measured on 2026-12-07 (avx512; every tier gives the same bits), written beside
//! it: against transformers, cosine >= 0.995 with the default f16 KV cache (measured 1 -
//! cosine <= 1.94e-3, long_sentence) and >= 0.99 with the q8_0 and f32 caches (4.1e-3 and
//! 6.8e-3); top-1 equal where the reference margin exceeds 0.5; teacher-forced
//! agreement at least 95% overall (measured 96.1%), 98% where the reference margin is at
//! least 0.1 (98.4%) and 100% where it is at least 0.5 (100%). llama.cpp (same weight and
//! activation formats, but its own summation orders) sits closer to us than transformers:
//! cosine at least 0.995 (measured 1 - cosine <= 1.48e-3, capital).

#[path = "common/fixtures.rs"]
mod fixtures;
#[path = "common/model.rs"]
mod model;

use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::sampler::argmax;
use slimlm::runtime::session::KvType;
use slimlm::runtime::Session;

fn load(threads: usize) -> Model {
    let options = LoadOptions {
        threads: Some(threads),
        cpus: None,
        ..LoadOptions::default()
    };
    Model::load(model::real_model_path(), &options).expect("load SmolLM2")
}

#[test]
fn last_position_logits_match_transformers() {
    let m = load(2);
    let fx = fixtures::json("models/smollm2.json");
    for p in fx["prompts"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let ids = fixtures::ids(&p["ids"]);
        let text = p["text"].as_str().unwrap();
        assert_eq!(
            m.tokenizer.encode(text, true, true),
            ids,
            "{name}: token ids"
        );
        let want = fixtures::f32_gz(&format!(
            "models/{}",
            p["last_logits_file"].as_str().unwrap()
        ));
        // The Q8_0 and f32 caches, against the same reference (the default f16 one is
        // checked in full below). With int8 activations any perturbation (the cache's
        // rounding, the order of a sum) moves values across quantization steps, and the
        // cosine of one prompt moves by a few 1e-3 either way: long_sentence measured
        // 0.9932 (Q8_0), 0.9939 (f32), 0.995 (f16) with lane-tree attention scores, and
        // 0.9932 / 0.9987 / 0.9937 with key-major scores, while the perplexity of a 11k-token
        // text moved by 0.2% both ways (f16 18.88 -> 18.92, f32 18.93 -> 18.90). So the
        // bound is 0.99 for both caches (measured 2026-12-07: 1 - cosine <= 4.1e-3 for
        // Q8_0, 6.8e-3 for f32, both long_sentence), and the exact behaviour is checked
        // elsewhere (the kernels against f64 oracles, every tier against the scalar tier).
        for (kv, min_cos) in [(KvType::Q8_0, 0.99), (KvType::F32, 0.99)] {
            let mut s = Session::with_kv_type(&m, 512, kv).unwrap();
            let got = s.prefill(&ids).unwrap();
            let cos = fixtures::cosine(got, &want);
            eprintln!("{name}: {} KV cache: cosine {cos:.6}", kv.name());
            assert!(
                cos >= min_cos,
                "{name}: {} KV cache: cosine {cos}",
                kv.name()
            );
        }
        let mut s = Session::new(&m, 512).unwrap();
        let got = s.prefill(&ids).unwrap();
        let cos = fixtures::cosine(got, &want);
        eprintln!(
            "{name}: cosine {cos:.6}, max |diff| {:.4}, top-1 {} (reference {})",
            fixtures::max_abs_diff(got, &want),
            fixtures::argmax(got),
            fixtures::argmax(&want)
        );
        // Measured 1 - cosine <= 1.94e-3 (long_sentence).
        assert!(cos >= 0.995, "{name}: cosine {cos}");
        let peer = fixtures::f32_gz(&format!("models/smollm2_llamacpp/{name}.f32.gz"));
        let cos_peer = fixtures::cosine(got, &peer);
        eprintln!("{name}: cosine vs llama.cpp {cos_peer:.6}");
        // Measured 1 - cosine <= 1.48e-3 (capital).
        assert!(cos_peer >= 0.995, "{name}: cosine vs llama.cpp {cos_peer}");
        if p["top1_margin"].as_f64().unwrap() > 0.5 {
            assert_eq!(
                fixtures::argmax(got),
                fixtures::argmax(&want),
                "{name}: top-1"
            );
        }
    }
}

#[test]
fn teacher_forced_top1_agrees_with_transformers() {
    let m = load(2);
    let tf = &fixtures::json("models/smollm2.json")["teacher_forced"];
    let ids = fixtures::ids(&tf["ids"]);
    let want = fixtures::ids(&tf["argmax"]);
    let mut s = Session::new(&m, ids.len()).unwrap();
    let logits = s.eval_all(&ids).unwrap();
    let margins: Vec<f64> = tf["top1_margins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let vocab = m.config.vocab_size;
    let hits: Vec<bool> = want
        .iter()
        .enumerate()
        .map(|(i, &w)| fixtures::argmax(&logits[i * vocab..(i + 1) * vocab]) == w as usize)
        .collect();
    let rate = |min_margin: f64| {
        let picked: Vec<bool> = hits
            .iter()
            .zip(&margins)
            .filter(|(_, &m)| m >= min_margin)
            .map(|(&h, _)| h)
            .collect();
        picked.iter().filter(|&&h| h).count() as f64 / picked.len().max(1) as f64
    };
    let (all, clear, sure) = (rate(0.0), rate(0.1), rate(0.5));
    eprintln!(
        "teacher-forced top-1 agreement over {} tokens: {all:.4} (margin >= 0.1: {clear:.4}, >= 0.5: {sure:.4})",
        hits.len()
    );
    // Measured 2026-12-07: 0.9610, 0.9843 and 1.0 (410 tokens).
    assert!(all >= 0.95, "agreement {all}");
    assert!(
        clear >= 0.98,
        "agreement where the margin is >= 0.1: {clear}"
    );
    assert_eq!(sure, 1.0, "agreement where the margin is >= 0.5");
}

#[test]
fn capital_of_france_is_paris() {
    let m = load(2);
    let ids = m.tokenizer.encode("The capital of France is", true, false);
    let mut s = Session::new(&m, 64).unwrap();
    let first = argmax(s.prefill(&ids).unwrap());
    assert_eq!(m.tokenizer.decode(&[first]).unwrap(), " Paris");
}

#[test]
fn greedy_tokens_identical_for_one_and_two_threads_and_prefill_equals_decode() {
    let prompt = "def fibonacci(n):";
    let run = |threads: usize, batched: bool| {
        let m = load(threads);
        let ids = m.tokenizer.encode(prompt, true, false);
        let mut s = Session::new(&m, 64).unwrap();
        let mut logits = if batched {
            s.prefill(&ids).unwrap().to_vec()
        } else {
            let mut last = Vec::new();
            for &t in &ids {
                last = s.decode(t).unwrap().to_vec();
            }
            last
        };
        let mut out = vec![];
        for _ in 0..8 {
            let t = argmax(&logits);
            out.push(t);
            logits = s.decode(t).unwrap().to_vec();
        }
        (out, logits)
    };
    let (one, l1) = run(1, true);
    let (two, l2) = run(2, true);
    assert_eq!(one, two);
    assert!(
        l1.iter().zip(&l2).all(|(a, b)| a.to_bits() == b.to_bits()),
        "logits differ bitwise"
    );
    let (decoded, _) = run(2, false);
    assert_eq!(
        one, decoded,
        "token-by-token prompt evaluation must give the same tokens"
    );
    let fx = fixtures::json("models/smollm2.json");
    let want = fixtures::ids(&fx["prompts"][1]["greedy_ids"]);
    assert_eq!(one[..4], want[..4], "greedy continuation of {prompt:?}");
}

#[test]
fn session_errors_leave_the_state_unchanged() {
    use slimlm::runtime::SessionError;
    let m = load(1);
    let mut s = Session::new(&m, 8).unwrap();
    assert_eq!(s.prefill(&[]).unwrap_err(), SessionError::Empty);
    assert!(matches!(
        s.prefill(&[0; 9]).unwrap_err(),
        SessionError::ContextOverflow { .. }
    ));
    assert!(matches!(
        s.prefill(&[1, 49152]).unwrap_err(),
        SessionError::BadToken {
            id: 49152,
            index: 1,
            ..
        }
    ));
    assert_eq!(s.position(), 0);
    s.prefill(&[1, 2, 3]).unwrap();
    assert!(matches!(s.rewind(4), Err(SessionError::BadRewind { .. })));
    s.rewind(1).unwrap();
    assert_eq!(s.position(), 1);
    assert!(matches!(
        Session::new(&m, 0),
        Err(SessionError::BadContext { .. })
    ));
}

/// Every kernel tier this CPU runs gives the scalar tier's greedy tokens and bit-identical
/// logits (the panel kernels are bit-exact with the reference), so under qemu each ARM
/// tier is checked end to end against the scalar run.
#[test]
fn every_tier_generates_the_scalar_tokens() {
    use slimlm::kernels::dispatch::Isa;
    let greedy = |isa: Isa| {
        let options = LoadOptions {
            isa: Some(isa),
            threads: Some(2),
            ..LoadOptions::default()
        };
        let m = Model::load(model::real_model_path(), &options).unwrap();
        assert_eq!(m.isa(), isa);
        let ids = m.tokenizer.encode("The capital of France is", true, false);
        let mut s = Session::new(&m, 64).unwrap();
        let mut logits = s.prefill(&ids).unwrap().to_vec();
        let mut out = Vec::new();
        for _ in 0..8 {
            let t = argmax(&logits);
            out.push(t);
            logits = s.decode(t).unwrap().to_vec();
        }
        (out, logits)
    };
    let (scalar_tokens, scalar_logits) = greedy(Isa::Scalar);
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
        let (tokens, logits) = greedy(isa);
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
