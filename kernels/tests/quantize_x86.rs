//! The AVX2 activation quantizers against the scalar ones, bit for bit: random rows of
//! 1..=8 blocks mixing ordinary spreads, exact ties (`x * id = k + 0.5`), near-ties
//! (`k + 0.5 -+ 1 ulp`, where `trunc(y + 0.5)` would go wrong), zeros and signed zeros,
//! huge and tiny (subnormal) magnitudes, infinities and NaNs (any bit pattern).
//!
//! x86-64 only, and skipped (with a note) on a CPU without AVX2. The quantizers are
//! crate-private until the runtime exposes a safe entry, so this test compiles their
//! source file itself: its only dependency, `crate::formats`, resolves to the public
//! `slimlm_kernels::formats` through the `use` below. When a public entry exists, call it
//! instead.
#![cfg(target_arch = "x86_64")]

mod common;

use proptest::prelude::*;
// Stands in for the crate's own `formats` in the included file's `crate::formats` paths.
use slimlm_kernels::formats;
use slimlm_kernels::formats::{quantize_blocks, BlockQ8_0, BlockQ8_1};

#[path = "../src/x86_64/quantize.rs"]
#[allow(dead_code)]
mod avx2_quantize;

use avx2_quantize::{quantize_row_q8_0_avx2, quantize_row_q8_1_avx2};

fn has_avx2() -> bool {
    let yes = std::is_x86_feature_detected!("avx2");
    if !yes {
        eprintln!("no AVX2 on this CPU: the AVX2 quantizers are not tested");
    }
    yes
}

/// Checks one row with both formats (the caller checked AVX2).
fn check_row(x: &[f32]) -> Result<(), TestCaseError> {
    let n = x.len() / 32;
    let mut want0 = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; n];
    let mut got0 = vec![BlockQ8_0 { d: 1, qs: [1; 32] }; n];
    quantize_blocks(x, &mut want0).unwrap();
    // SAFETY: every caller checked AVX2 with `has_avx2`.
    unsafe { quantize_row_q8_0_avx2(x, &mut got0) };
    for b in 0..n {
        prop_assert_eq!(
            got0[b],
            want0[b],
            "Q8_0 block {} of {:?}",
            b,
            &x[32 * b..32 * b + 32]
        );
    }
    let mut want1 = vec![
        BlockQ8_1 {
            d: 0,
            s: 0,
            qs: [0; 32]
        };
        n
    ];
    let mut got1 = vec![
        BlockQ8_1 {
            d: 1,
            s: 1,
            qs: [1; 32]
        };
        n
    ];
    quantize_blocks(x, &mut want1).unwrap();
    // SAFETY: as above.
    unsafe { quantize_row_q8_1_avx2(x, &mut got1) };
    for b in 0..n {
        prop_assert_eq!(
            got1[b],
            want1[b],
            "Q8_1 block {} of {:?}",
            b,
            &x[32 * b..32 * b + 32]
        );
    }
    Ok(())
}

/// A block whose amax is `127 * 2^e`, so `d = 2^e` and `id = 2^-e` exactly, and every other
/// value is `(k + 0.5) * 2^e` (an exact tie), or one ulp either side of it.
fn tie_block() -> impl Strategy<Value = Vec<f32>> {
    (
        -40i32..40,
        any::<bool>(),
        0usize..32,
        prop::collection::vec((-127i32..=126, -1i32..=1), 32),
    )
        .prop_map(|(e, neg, at, ks)| {
            let s = 2f32.powi(e);
            let mut v: Vec<f32> = ks
                .iter()
                .map(|&(k, nudge)| {
                    let t = k as f32 + 0.5;
                    let t = match nudge {
                        -1 => f32::from_bits(t.to_bits() - 1),
                        1 => f32::from_bits(t.to_bits() + 1),
                        _ => t,
                    };
                    t * s
                })
                .collect();
            v[at] = if neg { -127.0 * s } else { 127.0 * s };
            v
        })
}

/// Extremes: zeros of both signs, huge values near f32::MAX, subnormals (where `1 / d`
/// overflows to infinity), and non-finite values anywhere (the last position included).
fn extreme_block() -> impl Strategy<Value = Vec<f32>> {
    let elem = prop_oneof![
        Just(0.0f32),
        Just(-0.0f32),
        Just(f32::MAX),
        Just(-f32::MAX),
        1.0f32..3.4e38,
        Just(f32::from_bits(1)),
        (1u32..0x0080_0000).prop_map(f32::from_bits),
        (1u32..0x0080_0000).prop_map(|b| -f32::from_bits(b)),
        (-1.0f32..1.0).prop_map(|v| v * 1e-38),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::NAN),
        Just(-f32::NAN),
        any::<u32>().prop_map(f32::from_bits),
        -1.0f32..1.0,
    ];
    prop::collection::vec(elem, 32)
}

fn row() -> impl Strategy<Value = Vec<f32>> {
    let block = prop_oneof![
        4 => common::values(32),
        3 => tie_block(),
        1 => Just(vec![0.0f32; 32]),
        2 => extreme_block(),
    ];
    prop::collection::vec(block, 1..=8).prop_map(|b| b.concat())
}

proptest! {
    #[test]
    fn avx2_quantizers_match_scalar(x in row()) {
        if has_avx2() {
            check_row(&x)?;
        }
    }
}

/// Deterministic edge blocks, each alone in a row.
#[test]
fn edge_blocks_match_scalar() {
    if !has_avx2() {
        return;
    }
    let mut rows: Vec<Vec<f32>> = vec![
        vec![0.0; 32],
        vec![-0.0; 32],
        vec![f32::MAX; 32],
        vec![f32::NAN; 32],
        vec![f32::INFINITY; 32],
        vec![f32::from_bits(1); 32],
        // Ties 0.5, 1.5, ..., and their negatives with amax 127 (d = 1).
        (0..32)
            .map(|i| {
                if i == 0 {
                    127.0
                } else {
                    (i as f32 - 16.0) * 4.0 + 0.5
                }
            })
            .collect(),
        // 0.49999997 (the f32 below 0.5): `0.49999997 + 0.5` rounds to 1 in f32, roundf
        // gives 0; likewise just below 126.5 and -2.5.
        (0..32)
            .map(|i| match i {
                0 => 127.0,
                1 => 0.499_999_97,
                2 => -0.499_999_97,
                3 => f32::from_bits(126.5f32.to_bits() - 1),
                4 => f32::from_bits((-2.5f32).to_bits() - 1),
                _ => 0.0,
            })
            .collect(),
        // d subnormal with a finite, huge `1 / d` (amax = 127 * 2^-127).
        (0..32)
            .map(|i| (i as f32 - 15.5) * 2f32.powi(-127))
            .collect(),
    ];
    // NaN first, in the middle, last; +-inf among finite values.
    for at in [0, 13, 31] {
        let mut v: Vec<f32> = (0..32).map(|i| i as f32 * 0.25 - 3.0).collect();
        v[at] = f32::NAN;
        rows.push(v.clone());
        v[at] = f32::NEG_INFINITY;
        rows.push(v);
    }
    for x in rows {
        check_row(&x).unwrap();
    }
    // The empty row.
    check_row(&[]).unwrap();
}

#[test]
#[should_panic(expected = "32 values per block")]
fn row_length_mismatch_panics() {
    if !has_avx2() {
        panic!("32 values per block (no AVX2 to test with)");
    }
    let mut out = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; 2];
    // SAFETY: AVX2 checked above.
    unsafe { quantize_row_q8_0_avx2(&[0.0; 32], &mut out) };
}
