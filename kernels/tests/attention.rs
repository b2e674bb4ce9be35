//! Online-softmax attention against the f64 full-softmax reference, and its exact
//! invariants:
//! - prefill (a tile of queries) equals decode (one query at a time) bit for bit;
//! - an f16 cache gives the bits of an f32 cache holding the same (f16-rounded) values;
//! - every tier gives the scalar tier's bits;
//! - a Q8_0 cache matches the reference over its dequantized rows and query;
//! - with a sliding window, the same against the reference over the window's keys only,
//!   and a ring cache gives the flat cache's bits, also when written one position at a
//!   time across the window boundary (decode) or in chunks (prefill).
//!
//! Tolerances: F32 caches within 2e-5 of the output scale (|out| <= max |v|): the online
//! softmax rescales in f32 and the exponentials use the f32 vector exp (relative error ~
//! 1e-7 each), against an f64 reference. Q8_0 the same, against the reference fed the
//! dequantized keys, values and query (the kernel's integer dot products are exact, so
//! only the float steps differ); the 8-bit rounding itself is the model-level error that
//! tests/model_smollm2.rs bounds.

mod common;

use proptest::prelude::*;
use slimlm_kernels::attention::{
    attend_tile, AttentionScratch, AttentionShape, KvType, LayerCache, KV_BLOCK,
};
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::{f16_to_f32, f32_to_f16, quantize_blocks, BlockQ8_0};
use slimlm_kernels::ops::{Op, Ops};
use slimlm_kernels::reference::attention::{attention_head_f32, AttentionShape as RefShape};

/// splitmix64: a reproducible value stream per case.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        lo + (hi - lo) * ((z >> 40) as f32 / (1u64 << 24) as f32)
    }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

/// The op tables this CPU runs.
fn tiers() -> Vec<Ops> {
    common::available_isas()
        .into_iter()
        .map(|isa| Ops::new(isa).unwrap())
        .collect()
}

#[derive(Clone, Debug)]
struct Case {
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
    /// Cached positions before the queries.
    pos: usize,
    /// Queries evaluated together.
    queries: usize,
    seed: u64,
    /// Spread of the values: large spreads make peaked softmaxes.
    spread: f32,
    /// Sliding window (`None`: full causal attention).
    window: Option<usize>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        1usize..=16,
        prop_oneof![Just(64usize), Just(128), Just(32)],
        prop_oneof![0usize..=3, 0usize..=70, 0usize..=400],
        prop_oneof![1usize..=3, 1usize..=20],
        any::<u64>(),
        prop_oneof![Just(0.1f32), Just(1.0), Just(8.0)],
        prop_oneof![
            2 => Just(None),
            1 => (1usize..=40).prop_map(Some),
            1 => (1usize..=300).prop_map(Some),
        ],
    )
        .prop_flat_map(|(heads, hd, pos, queries, seed, spread, window)| {
            let divisors: Vec<usize> = (1..=heads).filter(|d| heads % d == 0).collect();
            proptest::sample::select(divisors).prop_map(move |kv_heads| Case {
                heads,
                kv_heads,
                head_dim: hd,
                pos,
                queries,
                seed,
                spread,
                window,
            })
        })
}

struct Data {
    shape: AttentionShape,
    /// [query][head][head_dim]
    q: Vec<f32>,
    /// [position][kv_head][head_dim], f16-representable so every cache type holds them.
    k: Vec<f32>,
    v: Vec<f32>,
}

fn data(c: &Case) -> Data {
    let shape = AttentionShape {
        n_heads: c.heads,
        n_kv_heads: c.kv_heads,
        head_dim: c.head_dim,
        scale: 1.0 / (c.head_dim as f32).sqrt(),
        window: c.window,
    };
    let mut rng = Rng(c.seed);
    let positions = c.pos + c.queries;
    let mut gen = |n: usize| -> Vec<f32> {
        (0..n)
            .map(|_| f16_to_f32(f32_to_f16(rng.uniform(-c.spread, c.spread))))
            .collect()
    };
    Data {
        q: gen(c.queries * c.heads * c.head_dim),
        k: gen(positions * shape.kv_width()),
        v: gen(positions * shape.kv_width()),
        shape,
    }
}

/// Head `h` of every query, contiguous ([query][head_dim]).
fn head_queries(d: &Data, queries: usize, h: usize) -> Vec<f32> {
    let hd = d.shape.head_dim;
    (0..queries)
        .flat_map(|t| d.q[(t * d.shape.n_heads + h) * hd..][..hd].to_vec())
        .collect()
}

/// The f64 full-softmax reference for query `t` of head `h`, over the keys its window
/// shows (all earlier ones without a window).
#[allow(clippy::too_many_arguments)]
fn reference(
    d: &Data,
    queries: &[f32],
    pos: usize,
    t: usize,
    h: usize,
    k: &[f32],
    v: &[f32],
) -> Vec<f32> {
    let hd = d.shape.head_dim;
    // Written out here rather than taken from the kernel's `first_visible`.
    let first = d
        .shape
        .window
        .map_or(0, |w| (pos + t + 1).saturating_sub(w));
    let row = d.shape.kv_width();
    let shape = RefShape {
        n_heads: d.shape.n_heads,
        n_kv_heads: d.shape.n_kv_heads,
        head_dim: hd,
        n_keys: pos + t + 1 - first,
        scale: d.shape.scale,
    };
    let mut scores = vec![0.0; shape.n_keys];
    let mut out = vec![0.0; hd];
    let q = &queries[(t * d.shape.n_heads + h) * hd..][..hd];
    let (k, v) = (&k[first * row..], &v[first * row..]);
    attention_head_f32(&shape, h, q, k, v, &mut scores, &mut out);
    out
}

/// A cache of type `ty` holding the rows `k`, `v` ([position][kv_head][head_dim]).
fn cache(ops: &Ops, ty: KvType, shape: &AttentionShape, k: &[f32], v: &[f32]) -> LayerCache {
    let positions = k.len() / shape.kv_width();
    let mut c = LayerCache::new(ty, shape.n_kv_heads, shape.head_dim, positions).unwrap();
    c.store(ops, 0, k, v);
    c
}

/// A ring cache of type `ty` for `shape`'s window, written `max_store` positions per store
/// (the last store ends at the last row) with the rows `k`, `v`.
fn ring_cache(
    ops: &Ops,
    ty: KvType,
    shape: &AttentionShape,
    max_store: usize,
    k: &[f32],
    v: &[f32],
) -> LayerCache {
    let w = shape.kv_width();
    let window = shape.window.expect("a windowed shape");
    let mut c = LayerCache::ring(ty, shape.n_kv_heads, shape.head_dim, window, max_store).unwrap();
    assert!(c.max_store() >= max_store);
    let positions = k.len() / w;
    let mut pos = 0;
    // Stores end exactly at `positions`: the first one takes the remainder.
    let mut len = positions % max_store;
    if len == 0 {
        len = max_store.min(positions);
    }
    while pos < positions {
        c.store(
            ops,
            pos,
            &k[pos * w..(pos + len) * w],
            &v[pos * w..(pos + len) * w],
        );
        pos += len;
        len = max_store;
    }
    c
}

fn to_q8_0(x: &[f32]) -> Vec<BlockQ8_0> {
    let mut blocks = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; x.len() / 32];
    quantize_blocks(x, &mut blocks).unwrap();
    blocks
}

fn dequantize(blocks: &[BlockQ8_0]) -> Vec<f32> {
    blocks
        .iter()
        .flat_map(|b| b.qs.map(|q| f16_to_f32(b.d) * f32::from(q)))
        .collect()
}

fn max_abs(x: &[f32]) -> f32 {
    x.iter().fold(0.0, |m, v| m.max(v.abs()))
}

fn check_case(c: &Case) -> Result<(), TestCaseError> {
    let d = data(c);
    let (hd, queries) = (c.head_dim, c.queries);
    let (kq, vq) = (to_q8_0(&d.k), to_q8_0(&d.v));
    let (kq_f, vq_f) = (dequantize(&kq), dequantize(&vq));
    // The kernel quantizes each query head to Q8_0 for the integer dot products.
    let q_f = dequantize(&to_q8_0(&d.q));
    let scale_v = max_abs(&d.v).max(f32::MIN_POSITIVE);
    let mut scratch = AttentionScratch::default();
    let tiers = tiers();
    for h in 0..c.heads {
        let q = head_queries(&d, queries, h);
        let mut first: Option<Vec<f32>> = None;
        for ops in &tiers {
            let f32_cache = cache(ops, KvType::F32, &d.shape, &d.k, &d.v);
            let f16_cache = cache(ops, KvType::F16, &d.shape, &d.k, &d.v);
            let q8_cache = cache(ops, KvType::Q8_0, &d.shape, &d.k, &d.v);
            // Prefill tile over the F32 cache.
            let mut tile = vec![0.0; queries * hd];
            attend_tile(
                ops,
                &d.shape,
                h,
                &q,
                c.pos,
                &f32_cache,
                &mut tile,
                &mut scratch,
            );
            // Decode, one query at a time, gives the same bits.
            for t in 0..queries {
                let mut one = vec![0.0; hd];
                let qt = &q[t * hd..(t + 1) * hd];
                attend_tile(
                    ops,
                    &d.shape,
                    h,
                    qt,
                    c.pos + t,
                    &f32_cache,
                    &mut one,
                    &mut scratch,
                );
                let same = one
                    .iter()
                    .zip(&tile[t * hd..])
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                prop_assert!(same, "head {h} query {t}: decode differs from prefill");
            }
            // The f16 cache of the same values gives the same bits.
            let mut f16_out = vec![0.0; queries * hd];
            attend_tile(
                ops,
                &d.shape,
                h,
                &q,
                c.pos,
                &f16_cache,
                &mut f16_out,
                &mut scratch,
            );
            prop_assert!(
                f16_out
                    .iter()
                    .zip(&tile)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "head {h}: f16 cache differs from f32 cache of the same values"
            );
            // A ring cache holding the same positions gives the flat cache's bits, for
            // every storage type.
            if c.window.is_some() {
                for (ty, flat) in [
                    (KvType::F32, &f32_cache),
                    (KvType::F16, &f16_cache),
                    (KvType::Q8_0, &q8_cache),
                ] {
                    let ring = ring_cache(ops, ty, &d.shape, queries, &d.k, &d.v);
                    let mut want = vec![0.0; queries * hd];
                    attend_tile(ops, &d.shape, h, &q, c.pos, flat, &mut want, &mut scratch);
                    let mut got = vec![0.0; queries * hd];
                    attend_tile(ops, &d.shape, h, &q, c.pos, &ring, &mut got, &mut scratch);
                    prop_assert!(
                        got.iter()
                            .zip(&want)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "head {h}: {} ring cache differs from the flat cache",
                        ty.name()
                    );
                }
            }
            // Every tier gives the first tier's bits.
            match &first {
                None => first = Some(tile.clone()),
                Some(f) => prop_assert!(
                    f.iter().zip(&tile).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "head {h}: tiers differ"
                ),
            }
            // Against the f64 full softmax.
            for t in 0..queries {
                let want = reference(&d, &d.q, c.pos, t, h, &d.k, &d.v);
                let err = max_abs_diff(&tile[t * hd..(t + 1) * hd], &want);
                prop_assert!(
                    err <= 2e-5 * scale_v,
                    "head {h} query {t}: f32 cache off by {err} (scale {scale_v})"
                );
            }
            // Q8_0 cache, against the reference over the dequantized rows.
            let mut q8_out = vec![0.0; queries * hd];
            attend_tile(
                ops,
                &d.shape,
                h,
                &q,
                c.pos,
                &q8_cache,
                &mut q8_out,
                &mut scratch,
            );
            for t in 0..queries {
                let want = reference(&d, &q_f, c.pos, t, h, &kq_f, &vq_f);
                let err = max_abs_diff(&q8_out[t * hd..(t + 1) * hd], &want);
                prop_assert!(
                    err <= 2e-5 * scale_v,
                    "head {h} query {t}: q8_0 cache off by {err} (scale {scale_v})"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn online_softmax_matches_the_full_softmax(c in cases()) {
        check_case(&c)?;
    }
}

#[test]
fn long_context_and_block_edges() {
    // Positions straddling KV_BLOCK boundaries, and one query at 2047.
    for (pos, queries) in [
        (KV_BLOCK - 1, 2),
        (KV_BLOCK, 1),
        (3 * KV_BLOCK - 3, 9),
        (2047, 1),
    ] {
        let c = Case {
            heads: 2,
            kv_heads: 1,
            head_dim: 64,
            pos,
            queries,
            seed: pos as u64,
            spread: 2.0,
            window: None,
        };
        check_case(&c).unwrap();
        // Gemma 3's window (512) and small ones, cut inside and at block edges.
        for window in [1, KV_BLOCK - 1, KV_BLOCK, KV_BLOCK + 1, 512] {
            check_case(&Case {
                window: Some(window),
                ..c.clone()
            })
            .unwrap();
        }
    }
}

/// A ring cache written one position at a time (decode), attending after each, gives
/// the bits of one prefill over a flat cache, across several turns of the ring; and so
/// does a prefill in chunks of the ring's `max_store` positions, each chunk attended
/// right after it is stored.
#[test]
fn ring_decode_and_chunked_prefill_equal_flat_prefill() {
    for (window, chunk, positions) in [(512, 64, 1400), (40, 16, 300), (33, 1, 200)] {
        let c = Case {
            heads: 2,
            kv_heads: 1,
            head_dim: 64,
            pos: 0,
            queries: positions,
            seed: window as u64,
            spread: 3.0,
            window: Some(window),
        };
        let d = data(&c);
        let (hd, w) = (c.head_dim, d.shape.kv_width());
        let queries: Vec<Vec<f32>> = (0..c.heads)
            .map(|h| head_queries(&d, positions, h))
            .collect();
        let mut scratch = AttentionScratch::default();
        for ops in tiers() {
            for ty in [KvType::F32, KvType::F16, KvType::Q8_0] {
                let flat = cache(&ops, ty, &d.shape, &d.k, &d.v);
                let mut want = vec![vec![0.0; positions * hd]; c.heads];
                for (h, (q, out)) in queries.iter().zip(&mut want).enumerate() {
                    attend_tile(&ops, &d.shape, h, q, 0, &flat, out, &mut scratch);
                }
                for store in [1, chunk] {
                    let mut ring = LayerCache::ring(ty, 1, hd, window, store).unwrap();
                    assert!(ring.is_ring() && ring.capacity() < positions);
                    let mut got = vec![vec![0.0; positions * hd]; c.heads];
                    for start in (0..positions).step_by(store) {
                        let end = (start + store).min(positions);
                        let (k, v) = (&d.k[start * w..end * w], &d.v[start * w..end * w]);
                        ring.store(&ops, start, k, v);
                        for (h, (q, out)) in queries.iter().zip(&mut got).enumerate() {
                            let (q, out) =
                                (&q[start * hd..end * hd], &mut out[start * hd..end * hd]);
                            attend_tile(&ops, &d.shape, h, q, start, &ring, out, &mut scratch);
                        }
                    }
                    for (h, (g, wnt)) in got.iter().zip(&want).enumerate() {
                        assert!(
                            g.iter().zip(wnt).all(|(a, b)| a.to_bits() == b.to_bits()),
                            "window {window}, {} cache, stores of {store}, head {h}: ring \
                             differs from one flat prefill",
                            ty.name()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn infinite_scores_give_no_nan_from_masking() {
    // A -inf key score (query and key of huge opposite values) is weighed 0, and the
    // other keys share the weight.
    let shape = AttentionShape {
        n_heads: 1,
        n_kv_heads: 1,
        head_dim: 32,
        scale: 1.0,
        window: None,
    };
    let q = vec![1.0f32; 32];
    let mut k = vec![0.0f32; 3 * 32];
    k[..32].fill(-f32::MAX);
    let v: Vec<f32> = (0..3 * 32).map(|i| (i / 32) as f32).collect();
    let mut out = vec![0.0; 32];
    let mut scratch = AttentionScratch::default();
    for ops in tiers() {
        let c = cache(&ops, KvType::F32, &shape, &k, &v);
        attend_tile(&ops, &shape, 0, &q, 2, &c, &mut out, &mut scratch);
        assert!(out.iter().all(|&o| o == 1.5), "{out:?}");
    }
}

/// Under `SLIMLM_EXPECT_ISA` (CI: the host's tier from /proc/cpuinfo, the emulated CPU
/// model's under qemu): attention's f32/f16-cache steps run on that tier's own ops (the
/// cache's f16 conversions, key-major scores, the online softmax block and its rescaling,
/// the accumulation of values), and the tests above ran it (`common::available_isas`).
#[test]
fn expected_tier_runs_attention() {
    let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") else {
        return;
    };
    let isa = Isa::parse(&expected).expect("SLIMLM_EXPECT_ISA names a tier");
    let ops = Ops::new(isa).expect("the expected tier is available on this CPU");
    let own = match isa {
        Isa::Neon | Isa::Dotprod | Isa::I8mm => "neon",
        other => other.name(),
    };
    for op in [
        Op::F32ToF16,
        Op::F16ToF32,
        Op::KeyMajorScores,
        Op::OnlineSoftmaxBlock,
        Op::Exp,
        Op::Scale,
        Op::AccumulateRows,
    ] {
        let name = ops.kernel_name(op);
        eprintln!("{isa}: attention {op:?} -> {name}");
        assert!(
            name.ends_with(own),
            "{isa} runs attention's {op:?} with {name}"
        );
    }
}
