//! The NEON activation quantizers against the scalar ones, bit for bit: random rows of
//! 1..=8 blocks mixing ordinary spreads, exact ties (`x * id = k + 0.5`) and near-ties
//! (one ulp either side), zeros and signed zeros, huge and tiny (subnormal) magnitudes,
//! and infinities and NaNs (any bit pattern).
//!
//! aarch64 only (on other targets this file is empty). The quantizers are crate-private
//! until the runtime exposes a safe entry, so this test compiles their source file itself:
//! its only dependency, `crate::formats`, resolves to the public `slimlm_kernels::formats`
//! through the `use` below. When a public entry exists, call it instead.
#![cfg(target_arch = "aarch64")]

mod common;

use proptest::prelude::*;
// Stands in for the crate's own `formats` in the included file's `crate::formats` paths.
use slimlm_kernels::formats;
use slimlm_kernels::formats::{quantize_blocks, BlockQ8_0, BlockQ8_1};

#[path = "../src/aarch64/quantize.rs"]
#[allow(dead_code)]
mod neon_quantize;

use neon_quantize::{quantize_row_q8_0_neon, quantize_row_q8_1_neon};

/// Checks one row with both formats.
fn check_row(x: &[f32]) -> Result<(), TestCaseError> {
    let n = x.len() / 32;
    let mut want0 = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; n];
    let mut got0 = vec![BlockQ8_0 { d: 1, qs: [1; 32] }; n];
    quantize_blocks(x, &mut want0).unwrap();
    // SAFETY: NEON is part of every aarch64 Linux/Android target's baseline.
    unsafe { quantize_row_q8_0_neon(x, &mut got0) };
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
    unsafe { quantize_row_q8_1_neon(x, &mut got1) };
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

/// A block whose amax is `127 * 2^e`, so `d = 2^e` and `id = 2^-e` exactly and every
/// other value `(k + 0.5) * 2^e` lands on an exact tie `k + 0.5`, or (a third of them)
/// one ulp below or above it.
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
                .map(|&(k, ulp)| {
                    let t = (k as f32 + 0.5) * s;
                    f32::from_bits(t.to_bits().wrapping_add_signed(ulp))
                })
                .collect();
            v[at] = if neg { -127.0 * s } else { 127.0 * s };
            v
        })
}

/// Extremes: zeros of both signs, huge values near f32::MAX, subnormals (where `1 / d`
/// may overflow to infinity), and non-finite values at any position (the last included).
fn extreme_block() -> impl Strategy<Value = Vec<f32>> {
    let elem = prop_oneof![
        Just(0.0f32),
        Just(-0.0f32),
        Just(f32::MAX),
        Just(-f32::MAX),
        1.0f32..3.4e38,
        Just(f32::from_bits(1)), // smallest subnormal
        (1u32..0x0080_0000).prop_map(f32::from_bits),
        (1u32..0x0080_0000).prop_map(|b| -f32::from_bits(b)),
        (-1.0f32..1.0).prop_map(|v| v * 1e-38),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::NAN),
        Just(-f32::NAN),
        any::<u32>().prop_map(f32::from_bits), // any bit pattern, NaN payloads included
        -1.0f32..1.0,
    ];
    prop::collection::vec(elem, 32)
}

fn row() -> impl Strategy<Value = Vec<f32>> {
    let block = prop_oneof![
        4 => common::values(32),
        2 => tie_block(),
        1 => Just(vec![0.0f32; 32]),
        2 => extreme_block(),
    ];
    prop::collection::vec(block, 1..=8).prop_map(|b| b.concat())
}

proptest! {
    #[test]
    fn neon_quantizers_match_scalar(x in row()) {
        check_row(&x)?;
    }
}

/// Deterministic edge blocks, each alone in a row.
#[test]
fn edge_blocks_match_scalar() {
    let mut rows: Vec<Vec<f32>> = vec![
        vec![0.0; 32],
        vec![-0.0; 32],
        vec![f32::MAX; 32],
        vec![f32::NAN; 32],
        vec![f32::INFINITY; 32],
        vec![f32::from_bits(1); 32],
        // Half-way cases 0.5, 1.5, ..., 126.5 and their negatives around amax 127.
        (0..32)
            .map(|i| {
                if i == 0 {
                    127.0
                } else {
                    (i as f32 - 16.0) * 4.0 + 0.5
                }
            })
            .collect(),
    ];
    // 0.49999997 * 127 / 127: `x * id` just below one half (rounds to 0, not 1).
    let mut v = vec![0.499_999_97f32; 32];
    v[5] = 127.0;
    rows.push(v);
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
    let mut out = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; 2];
    // SAFETY: NEON is part of every aarch64 Linux/Android target's baseline.
    unsafe { quantize_row_q8_0_neon(&[0.0; 32], &mut out) };
}
