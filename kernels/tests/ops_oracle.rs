//! Every tier's RMSNorm, LayerNorm, RoPE (both pairings), softmax and attention decode
//! (f32 and f16 KV caches) against the independent f64 oracles of
//! [`slimlm_kernels::oracle`], within the error bounds derived there (each oracle's doc
//! gives the derivation: roundings per step times the sum of magnitudes that step sees).
//! `ops_tiers.rs` shows the tiers agree bit for bit; this shows what they agree on is right.
//!
//! Widths: the real ones (576, 640, 768, 896, 2048: SmolLM2-135M, SlimLM-125M, and the
//! larger models' d_model; heads of 64, 128 and 256) in deterministic tests, random ones
//! 1..=3000 in property tests. Row scales go from 2^-12 (where `eps` dominates RMSNorm's
//! mean square, so a dropped `eps` fails) to 2^12. With `--nocapture` each test prints the
//! worst error it saw as a fraction of its bound.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use proptest::prelude::*;
use slimlm_kernels::attention::KV_BLOCK;
use slimlm_kernels::attention::{
    attend_tile, AttentionScratch, AttentionShape, KvType, LayerCache,
};
use slimlm_kernels::formats::{f16_to_f32, f32_to_f16};
use slimlm_kernels::ops::{Ops, RopePairing};
use slimlm_kernels::oracle::{self, AttentionDecode, Expected};

/// The real model widths.
const REAL_WIDTHS: [usize; 5] = [576, 640, 768, 896, 2048];

/// The tiers this CPU runs, the scalar one first.
fn tiers() -> Vec<Ops> {
    common::available_isas()
        .into_iter()
        .map(|isa| Ops::new(isa).unwrap())
        .collect()
}

/// splitmix64 stream for the data of a case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    /// `n` values `scale * unit * 2^e`, `e` in -4..=4 (so magnitudes vary within a row).
    fn row(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|_| scale * self.unit() * 2f32.powi((self.next() % 9) as i32 - 4))
            .collect()
    }
}

/// The worst error a test has seen, as a fraction of its bound (non-negative f64 bits
/// order like the values, so an atomic max of the bits is the max of the values).
struct Meter {
    what: &'static str,
    worst: &'static AtomicU64,
}

impl Meter {
    /// Fails unless every element of `got` is within its bound; prints each new worst.
    fn check(&self, ops: &Ops, case: &str, want: &Expected, got: &[f32]) {
        let w = want.worst(got);
        assert!(
            w.ratio <= 1.0,
            "{} on {} ({case}): {w}",
            self.what,
            ops.isa()
        );
        let before = self.worst.fetch_max(w.ratio.to_bits(), Ordering::Relaxed);
        if w.ratio.to_bits() > before {
            eprintln!(
                "{}: worst so far {:.4} of the derived bound ({} on {case})",
                self.what,
                w.ratio,
                ops.isa()
            );
        }
    }
}

/// A [`Meter`] with its own static maximum.
macro_rules! meter {
    ($what:literal) => {{
        static WORST: AtomicU64 = AtomicU64::new(0);
        Meter {
            what: $what,
            worst: &WORST,
        }
    }};
}

/// Row scales: eps-dominated (2^-12: mean square ~1e-8 against eps 1e-5), small,
/// ordinary, large.
const SCALES: [f32; 4] = [1.0 / 4096.0, 1.0 / 16.0, 1.0, 4096.0];

fn check_norms(m: &Meter, n: usize, rows: usize, scale: f32, eps: f32, seed: u64) {
    let mut rng = Rng(seed);
    let x = rng.row(n * rows, scale);
    // Weights like a trained model's (around 1, some negative) and a small bias.
    let w: Vec<f32> = (0..n).map(|_| 1.0 + 0.5 * rng.unit()).collect();
    let b = rng.row(n, 0.1);
    let want_rms = oracle::rms_norm(&x, &w, eps);
    let want_ln = oracle::layer_norm(&x, &w, &b, eps);
    let case = format!("width {n}, {rows} rows, scale {scale:e}, eps {eps:e}, seed {seed}");
    for ops in tiers() {
        let mut out = vec![f32::NAN; x.len()];
        ops.rms_norm(&x, &w, eps, &mut out);
        m.check(&ops, &format!("rms_norm {case}"), &want_rms, &out);
        ops.layer_norm(&x, &w, &b, eps, &mut out);
        m.check(&ops, &format!("layer_norm {case}"), &want_ln, &out);
    }
}

#[test]
fn norms_at_real_widths() {
    let m = meter!("rms_norm + layer_norm, real widths");
    for (i, n) in REAL_WIDTHS.into_iter().enumerate() {
        for (j, scale) in SCALES.into_iter().enumerate() {
            for eps in [1e-5f32, 1e-6] {
                check_norms(&m, n, 2, scale, eps, (i * 16 + j) as u64);
            }
        }
    }
}

/// `rot_dims / 2` cos/sin values for a position, as the graph builds them (f64, rounded).
fn rope_table(pos: u32, rot_dims: usize, base: f64) -> (Vec<f32>, Vec<f32>) {
    (0..rot_dims / 2)
        .map(|j| {
            let a = f64::from(pos) * base.powf(-2.0 * j as f64 / rot_dims as f64);
            (a.cos() as f32, a.sin() as f32)
        })
        .unzip()
}

#[allow(clippy::too_many_arguments)]
fn check_rope(
    m: &Meter,
    heads: usize,
    head_dim: usize,
    rot_dims: usize,
    pos: u32,
    scale: f32,
    seed: u64,
) {
    let mut rng = Rng(seed);
    let x = rng.row(heads * head_dim, scale);
    let (cos, sin) = rope_table(pos, rot_dims, 10000.0);
    for pairing in [RopePairing::Adjacent, RopePairing::HalfSplit] {
        let want = oracle::rope(&x, head_dim, rot_dims, pairing, &cos, &sin);
        let case = format!(
            "{pairing:?}, {heads} heads of {head_dim}, rot_dims {rot_dims}, pos {pos}, seed {seed}"
        );
        for ops in tiers() {
            let mut got = x.clone();
            ops.rope(&mut got, head_dim, rot_dims, pairing, &cos, &sin);
            m.check(&ops, &case, &want, &got);
        }
    }
}

#[test]
fn rope_at_real_widths() {
    let m = meter!("rope, real widths");
    // (heads, head_dim): 576 = 9 x 64 (SmolLM2-135M), 640 = 10 x 64, 768 = 12 x 64 (SlimLM),
    // 896 = 14 x 64 (Qwen2-0.5B), 2048 = 16 x 128; Gemma 3 270M's 4 heads of 256.
    for (i, (heads, hd)) in [(9, 64), (10, 64), (12, 64), (14, 64), (16, 128), (4, 256)]
        .into_iter()
        .enumerate()
    {
        for (j, pos) in [0u32, 1, 17, 511, 4095, 32767].into_iter().enumerate() {
            let seed = (i * 8 + j) as u64;
            check_rope(&m, heads, hd, hd, pos, 1.0, seed);
            check_rope(&m, heads, hd, hd / 2, pos, 30.0, seed + 100);
        }
    }
}

/// A softmax row of scores: `spread * unit`, with about one in `mask` entries `-inf`.
fn score_row(rng: &mut Rng, n: usize, spread: f32, mask: u64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            if mask > 0 && rng.next().is_multiple_of(mask) {
                f32::NEG_INFINITY
            } else {
                spread * rng.unit()
            }
        })
        .collect()
}

fn check_softmax(m: &Meter, x: &[f32], case: &str) {
    let want = oracle::softmax(x);
    for ops in tiers() {
        let mut got = x.to_vec();
        ops.softmax(&mut got);
        m.check(&ops, case, &want, &got);
    }
}

#[test]
fn softmax_at_real_widths() {
    let m = meter!("softmax, real widths");
    let mut rng = Rng(7);
    for n in REAL_WIDTHS.into_iter().chain([1, 15, 16, 17, 4096]) {
        for spread in [0.01f32, 1.0, 8.0, 60.0] {
            for mask in [0u64, 3] {
                let x = score_row(&mut rng, n, spread, mask);
                check_softmax(
                    &m,
                    &x,
                    &format!("width {n}, spread {spread}, mask 1/{mask}"),
                );
            }
        }
    }
    check_softmax(&m, &[f32::NEG_INFINITY; 40], "all masked");
}

/// Attention decode of the query at position `n_keys - 1` through [`attend_tile`], every
/// head, on an F32 and an F16 cache, against the oracle over the values each cache holds.
fn check_attention(
    m: &Meter,
    heads: usize,
    kv_heads: usize,
    hd: usize,
    n_keys: usize,
    spread: f32,
    seed: u64,
) {
    let shape = AttentionShape {
        n_heads: heads,
        n_kv_heads: kv_heads,
        head_dim: hd,
        scale: 1.0 / (hd as f32).sqrt(),
        window: None,
    };
    let mut rng = Rng(seed);
    let q = rng.row(heads * hd, spread);
    let k = rng.row(n_keys * kv_heads * hd, spread);
    let v = rng.row(n_keys * kv_heads * hd, 1.0);
    let decode = AttentionDecode {
        n_heads: heads,
        n_kv_heads: kv_heads,
        head_dim: hd,
        n_keys,
        scale: shape.scale,
        key_block: KV_BLOCK,
    };
    let round = |x: &[f32]| -> Vec<f32> { x.iter().map(|&v| f16_to_f32(f32_to_f16(v))).collect() };
    let mut scratch = AttentionScratch::default();
    for (ty, want) in [
        (KvType::F32, oracle::attention_decode(&decode, &q, &k, &v)),
        (
            KvType::F16,
            oracle::attention_decode(&decode, &q, &round(&k), &round(&v)),
        ),
    ] {
        let case = format!("{ty:?} cache, {heads}/{kv_heads} heads of {hd}, {n_keys} keys, spread {spread}, seed {seed}");
        for ops in tiers() {
            let mut cache = LayerCache::new(ty, kv_heads, hd, n_keys).unwrap();
            cache.store(&ops, 0, &k, &v);
            let mut out = vec![f32::NAN; heads * hd];
            for (h, (qh, oh)) in q.chunks_exact(hd).zip(out.chunks_exact_mut(hd)).enumerate() {
                attend_tile(&ops, &shape, h, qh, n_keys - 1, &cache, oh, &mut scratch);
            }
            m.check(&ops, &case, &want, &out);
        }
    }
}

#[test]
fn attention_decode_at_real_shapes() {
    let m = meter!("attention decode, real shapes");
    // SmolLM2-135M (9 heads, 3 KV heads, 64), SlimLM (12/12, 64), Qwen2-0.5B (14/2, 64),
    // a 128-wide head, Gemma 3 270M (4/1, 256); key counts across block edges.
    for (i, (heads, kv, hd)) in [
        (9, 3, 64),
        (12, 12, 64),
        (14, 2, 64),
        (4, 2, 128),
        (4, 1, 256),
    ]
    .into_iter()
    .enumerate()
    {
        for (j, n_keys) in [1, 31, 32, 33, 100, 2048].into_iter().enumerate() {
            for spread in [1.0f32, 4.0] {
                check_attention(&m, heads, kv, hd, n_keys, spread, (i * 8 + j) as u64);
            }
        }
    }
}

proptest! {
    #[test]
    fn norms_at_random_widths(n in 1usize..=3000, rows in 1usize..=3, scale in 0usize..4,
                              eps in prop_oneof![Just(1e-5f32), Just(1e-6), Just(0.0)],
                              seed in any::<u64>()) {
        let m = meter!("rms_norm + layer_norm, random widths");
        check_norms(&m, n, rows, SCALES[scale], eps, seed);
    }

    #[test]
    fn rope_at_random_widths(head_dim in 1usize..=256, heads in 1usize..=12, rot_frac in 0usize..=4,
                             pos in 0u32..40000, seed in any::<u64>()) {
        let m = meter!("rope, random widths");
        let rot_dims = if rot_frac == 0 { head_dim / 2 * 2 } else { head_dim * rot_frac / 4 / 2 * 2 };
        check_rope(&m, heads, head_dim, rot_dims, pos, 1.0, seed);
    }

    #[test]
    fn softmax_at_random_widths(n in 1usize..=3000, spread in prop_oneof![Just(0.5f32), Just(8.0), Just(80.0)],
                                mask in prop_oneof![Just(0u64), Just(2), Just(7)], seed in any::<u64>()) {
        let m = meter!("softmax, random widths");
        let x = score_row(&mut Rng(seed), n, spread, mask);
        check_softmax(&m, &x, &format!("width {n}, spread {spread}, mask 1/{mask}, seed {seed}"));
    }

    #[test]
    fn attention_decode_at_random_shapes(kv in 1usize..=4, group in 1usize..=4,
                                         hd in prop_oneof![Just(64usize), Just(128), 1usize..=160],
                                         n_keys in prop_oneof![1usize..=40, 1usize..=300],
                                         spread in prop_oneof![Just(0.3f32), Just(2.0), Just(6.0)],
                                         seed in any::<u64>()) {
        let m = meter!("attention decode, random shapes");
        check_attention(&m, kv * group, kv, hd, n_keys, spread, seed);
    }
}
