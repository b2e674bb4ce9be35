//! The reference dot products against the f64 dot of the dequantized rows, and their
//! integer block sums against sums recovered from the dequantizers.
//!
//! Tolerance: with `S = sum_i (|w_i| + |min_i|) * |a_i|` (`min_i` the part of the weight
//! that comes from a block minimum, 0 for symmetric formats), the f32 result may differ
//! from the exact f64 dot by `2^-20 * (blocks + 8) * S`: a few f32 roundings per block
//! (the scale products and one accumulation each) on terms bounded by S. For Q4_1 add
//! `sum_b |m_w| * (|sum(q_a)| * (|d_a| * 2^-10 + 2^-24) + 2^-24)`: the dot uses
//! `s = f16(d * sum(q))` made from the f32 `d` before it was rounded to the stored f16
//! `d_a`, so `s` and `d_a * sum(q)` differ by up to two f16 roundings (relative 2^-11
//! each, or the absolute 2^-25 of f16 subnormals, which small activations do reach).
//! Q5_1 and Q5_K x Q8_1 (each sub-block's minimum `dmin * m[j]`) take the same extra term.

mod common;

use common::*;
use proptest::prelude::*;
use slimlm_kernels::formats::{
    dequantize_blocks, f16_to_f32, quantize_blocks, BlockFormat, BlockQ4K, BlockQ4_1, BlockQ5K,
    BlockQ6K, BlockQ8K, BlockQ8_0, BlockQ8_1,
};
use slimlm_kernels::reference::dot::*;

fn deq<B: BlockFormat>(blocks: &[B]) -> Vec<f64> {
    let mut out = vec![0f32; blocks.len() * B::ELEMS];
    dequantize_blocks(blocks, &mut out).unwrap();
    out.into_iter().map(f64::from).collect()
}

/// (exact dot, S without min parts)
fn f64_dot(w: &[f64], a: &[f64]) -> (f64, f64) {
    let dot = w.iter().zip(a).map(|(x, y)| x * y).sum();
    let s = w.iter().zip(a).map(|(x, y)| (x * y).abs()).sum();
    (dot, s)
}

fn tol(blocks: usize, s: f64) -> f64 {
    (blocks as f64 + 8.0) * s / 1_048_576.0
}

fn quantized<B: slimlm_kernels::formats::QuantizeBlock>(x: &[f32]) -> Vec<B> {
    let mut b = vec![B::zeroed(); x.len() / B::ELEMS];
    quantize_blocks(x, &mut b).unwrap();
    b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn q4_0_q8_0(w in prop::collection::vec(block_q4_0(), 1..9), x in values(32 * 8), raw in prop::collection::vec(block_q8_0(), 8), use_raw in any::<bool>()) {
        let a: Vec<BlockQ8_0> = if use_raw { raw } else { quantized(&x) };
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let got = f64::from(dot_q4_0_q8_0(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s), "{got} vs {exact}");
        for (b, (wb, ab)) in w.iter().zip(a).zip(wd.chunks(32).zip(ad.chunks(32))) {
            // (code - 8) and q recovered from the decoded values (exact for finite d != 0).
            let (dw, da) = (h(b.0.d), h(b.1.d));
            if dw != 0.0 && da != 0.0 {
                let want: f64 = wb.iter().zip(ab).map(|(x, y)| (x / dw) * (y / da)).sum();
                prop_assert_eq!(f64::from(q4_0_q8_0_block_sum(b.0, b.1)), want);
            }
        }
    }

    #[test]
    fn q4_1_q8_1(w in prop::collection::vec(block_q4_1(), 1..9), x in values(32 * 8)) {
        let a: Vec<BlockQ8_1> = quantized(&x);
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let mut s_min = 0.0;
        let mut s_term = 0.0;
        for (b, ab) in w.iter().zip(a) {
            let m = h(b.m).abs();
            let sum_q: f64 = ab.qs.iter().map(|&q| f64::from(q)).sum::<f64>();
            let abs_a: f64 = ab.qs.iter().map(|&q| f64::from(q).abs()).sum::<f64>() * h(ab.d).abs();
            s_min += m * abs_a;
            let da = h(ab.d).abs();
            s_term += m * (sum_q.abs() * (da / 1024.0 + 1.0 / 16_777_216.0) + 1.0 / 16_777_216.0);
        }
        let got = f64::from(dot_q4_1_q8_1(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s + s_min) + s_term, "{got} vs {exact}");
        for (b, ab) in w.iter().zip(a) {
            let want: i32 = (0..32).map(|i| i32::from(b.code(i)) * i32::from(ab.qs[i])).sum();
            prop_assert_eq!(q4_1_q8_1_block_sum(b, ab), want);
        }
    }

    #[test]
    fn q8_0_q8_0(w in prop::collection::vec(block_q8_0(), 1..9), a in prop::collection::vec(block_q8_0(), 8)) {
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let got = f64::from(dot_q8_0_q8_0(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s), "{got} vs {exact}");
    }

    #[test]
    fn q4_k_q8_k(w in prop::collection::vec(block_q4_k(), 1..4), a in prop::collection::vec(block_q8_k(), 3), x in values(256 * 3), use_raw in any::<bool>()) {
        let a: Vec<BlockQ8K> = if use_raw { a } else { quantized(&x) };
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let mut s_min = 0.0;
        for (b, ab) in w.iter().zip(a) {
            let (_, mins) = b.scales_mins();
            for (i, &q) in ab.qs.iter().enumerate() {
                s_min += h(b.dmin) * f64::from(mins[i / 32]) * (f64::from(ab.d) * f64::from(q)).abs();
            }
        }
        let got = f64::from(dot_q4_k_q8_k(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s + s_min), "{got} vs {exact}");
        for (b, ab) in w.iter().zip(a) {
            let sums = q4_k_q8_k_block_sums(b, ab);
            prop_assert_eq!(q4_k_q8_k_lanes(b, ab).iter().sum::<i32>(), sums.scaled);
            let (sc, m) = b.scales_mins();
            let dots = q4_k_q8_k_subblock_dots(b, ab);
            prop_assert_eq!(dots.iter().zip(&sc).map(|(&d, &s)| d * i32::from(s)).sum::<i32>(), sums.scaled);
            // With d = 1 and dmin = 0 the decoded weights are exactly sc * code; with d = 0
            // and dmin = 1 they are exactly -m.
            let scaled_only = BlockQ4K { d: 0x3c00, dmin: 0, ..*b };
            let want: f64 = deq(&[scaled_only]).iter().zip(&ab.qs).map(|(w, &q)| w * f64::from(q)).sum();
            prop_assert_eq!(f64::from(sums.scaled), want);
            let mins_only = BlockQ4K { d: 0, dmin: 0x3c00, ..*b };
            let want: f64 = deq(&[mins_only]).iter().zip(&ab.qs).map(|(w, &q)| -w * f64::from(q)).sum();
            prop_assert_eq!(f64::from(sums.mins), want);
            let want_mins: i32 = (0..256).map(|i| i32::from(m[i / 32]) * i32::from(ab.qs[i])).sum();
            prop_assert_eq!(sums.mins, want_mins);
        }
    }

    #[test]
    fn q6_k_q8_k(w in prop::collection::vec(block_q6_k(), 1..4), a in prop::collection::vec(block_q8_k(), 3), x in values(256 * 3), use_raw in any::<bool>()) {
        let a: Vec<BlockQ8K> = if use_raw { a } else { quantized(&x) };
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let got = f64::from(dot_q6_k_q8_k(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s), "{got} vs {exact}");
        for (b, ab) in w.iter().zip(a) {
            let sum = q6_k_q8_k_block_sum(b, ab);
            prop_assert_eq!(q6_k_q8_k_lanes(b, ab).iter().sum::<i32>(), sum);
            let dots = q6_k_q8_k_subblock_dots(b, ab);
            prop_assert_eq!(dots.iter().zip(&b.scales).map(|(&d, &s)| d * i32::from(s)).sum::<i32>(), sum);
            let unit = BlockQ6K { d: 0x3c00, ..*b };
            let want: f64 = deq(&[unit]).iter().zip(&ab.qs).map(|(w, &q)| w * f64::from(q)).sum();
            prop_assert_eq!(f64::from(sum), want);
        }
    }
}

/// The Q8_1 minimum terms of a Q4_1-style dot: `(sum |m| * |a|, the s rounding term)`
/// for per-block weight minimums `mins` (see the module docs).
fn q8_1_min_terms(mins: impl Iterator<Item = f64>, a: &[BlockQ8_1]) -> (f64, f64) {
    let mut s_min = 0.0;
    let mut s_term = 0.0;
    for (m, ab) in mins.zip(a) {
        let m = m.abs();
        let sum_q: f64 = ab.qs.iter().map(|&q| f64::from(q)).sum::<f64>();
        let da = h(ab.d).abs();
        s_min += m * ab.qs.iter().map(|&q| f64::from(q).abs()).sum::<f64>() * da;
        s_term += m * (sum_q.abs() * (da / 1024.0 + 1.0 / 16_777_216.0) + 1.0 / 16_777_216.0);
    }
    (s_min, s_term)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn q5_0_q8_0(w in prop::collection::vec(block_q5_0(), 1..9), x in values(32 * 8), raw in prop::collection::vec(block_q8_0(), 8), use_raw in any::<bool>()) {
        let a: Vec<BlockQ8_0> = if use_raw { raw } else { quantized(&x) };
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let got = f64::from(dot_q5_0_q8_0(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s), "{got} vs {exact}");
        for (b, (wb, ab)) in w.iter().zip(a).zip(wd.chunks(32).zip(ad.chunks(32))) {
            // (code - 16) and q recovered from the decoded values (exact for finite d != 0).
            let (dw, da) = (h(b.0.d), h(b.1.d));
            if dw != 0.0 && da != 0.0 {
                let want: f64 = wb.iter().zip(ab).map(|(x, y)| (x / dw) * (y / da)).sum();
                prop_assert_eq!(f64::from(q5_0_q8_0_block_sum(b.0, b.1)), want);
            }
            // The same block as Q8_0 (quants code - 16, same d) gives the same dot.
            let as_q8_0 = BlockQ8_0 { d: b.0.d, qs: b.0.quants() };
            prop_assert_eq!(
                dot_q5_0_q8_0(&[*b.0], &[*b.1]).to_bits(),
                dot_q8_0_q8_0(&[as_q8_0], &[*b.1]).to_bits()
            );
        }
        let as_q8_0: Vec<BlockQ8_0> = w.iter().map(|b| BlockQ8_0 { d: b.d, qs: b.quants() }).collect();
        prop_assert_eq!(got.to_bits(), f64::from(dot_q8_0_q8_0(&as_q8_0, a)).to_bits());
    }

    #[test]
    fn q5_1_q8_1(w in prop::collection::vec(block_q5_1(), 1..9), x in values(32 * 8)) {
        let a: Vec<BlockQ8_1> = quantized(&x);
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let (s_min, s_term) = q8_1_min_terms(w.iter().map(|b| h(b.m)), a);
        let got = f64::from(dot_q5_1_q8_1(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s + s_min) + s_term, "{got} vs {exact}");
        for (b, ab) in w.iter().zip(a) {
            let want: i32 = b.codes().iter().zip(&ab.qs).map(|(&c, &q)| i32::from(c) * i32::from(q)).sum();
            prop_assert_eq!(q5_1_q8_1_block_sum(b, ab), want);
        }
    }

    #[test]
    fn q5_k_q8_1(w in prop::collection::vec(block_q5_k(), 1..3), x in values(256 * 2)) {
        let a: Vec<BlockQ8_1> = quantized(&x);
        let a = &a[..8 * w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let mins = w.iter().flat_map(|b| (0..8).map(|j| f64::from(b.sub_block_as_q5_1(j).1)));
        let (s_min, s_term) = q8_1_min_terms(mins, a);
        let got = f64::from(dot_q5_k_q8_1(&w, a));
        prop_assert!((got - exact).abs() <= tol(a.len(), s + s_min) + s_term, "{got} vs {exact}");
    }

    #[test]
    fn q5_k_q8_k(w in prop::collection::vec(block_q5_k(), 1..4), a in prop::collection::vec(block_q8_k(), 3), x in values(256 * 3), use_raw in any::<bool>()) {
        let a: Vec<BlockQ8K> = if use_raw { a } else { quantized(&x) };
        let a = &a[..w.len()];
        let (wd, ad) = (deq(&w), deq(a));
        let (exact, s) = f64_dot(&wd, &ad);
        let mut s_min = 0.0;
        for (b, ab) in w.iter().zip(a) {
            let (_, mins) = b.scales_mins();
            for (i, &q) in ab.qs.iter().enumerate() {
                s_min += h(b.dmin).abs() * f64::from(mins[i / 32]) * (f64::from(ab.d) * f64::from(q)).abs();
            }
        }
        let got = f64::from(dot_q5_k_q8_k(&w, a));
        prop_assert!((got - exact).abs() <= tol(w.len(), s + s_min), "{got} vs {exact}");
        for (b, ab) in w.iter().zip(a) {
            let sums = q5_k_q8_k_block_sums(b, ab);
            prop_assert_eq!(q5_k_q8_k_lanes(b, ab).iter().sum::<i32>(), sums.scaled);
            // With d = 1 and dmin = 0 the decoded weights are exactly sc * code; with d = 0
            // and dmin = 1 they are exactly -m.
            let scaled_only = BlockQ5K { d: 0x3c00, dmin: 0, ..*b };
            let want: f64 = deq(&[scaled_only]).iter().zip(&ab.qs).map(|(w, &q)| w * f64::from(q)).sum();
            prop_assert_eq!(f64::from(sums.scaled), want);
            let mins_only = BlockQ5K { d: 0, dmin: 0x3c00, ..*b };
            let want: f64 = deq(&[mins_only]).iter().zip(&ab.qs).map(|(w, &q)| -w * f64::from(q)).sum();
            prop_assert_eq!(f64::from(sums.mins), want);
        }
    }
}

#[test]
fn q8_1_dot_uses_s_for_the_minimum() {
    // A block whose codes are all 0 contributes only m_w * s_a.
    let w = [BlockQ4_1 {
        d: 0x3c00,
        m: 0x4000, // 2.0
        qs: [0; 16],
    }];
    let a = [BlockQ8_1 {
        d: 0x3c00,
        s: 0x4500, // 5.0, deliberately not d * sum(qs)
        qs: [1; 32],
    }];
    assert_eq!(dot_q4_1_q8_1(&w, &a), 10.0);
    assert_eq!(f16_to_f32(a[0].s), 5.0);
}
