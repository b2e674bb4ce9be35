//! Every tier's activation quantizers ([`Kernels::quantize_q8_0`] / `quantize_q8_1`)
//! against the scalar ones, bit for bit: random rows of 1..=8 blocks mixing ordinary
//! spreads, exact ties (`x * id = k + 0.5`), near-ties (`k + 0.5 -+ 1 ulp`, where
//! `trunc(y + 0.5)` would go wrong), zeros and signed zeros, huge and tiny (subnormal)
//! magnitudes, infinities and NaNs (any bit pattern).
//!
//! Each tier this CPU supports is tested; under qemu `SLIMLM_EXPECT_ISA` names the tier
//! the emulated CPU must run, and `expected_tier_quantizes` fails unless that tier's table
//! serves both formats with a SIMD quantizer.

mod common;

use proptest::prelude::*;
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::{quantize_blocks, BlockQ8_0, BlockQ8_1, GgmlType};
use slimlm_kernels::matmul::Kernels;

/// The tiers this CPU runs (the scalar tier included).
fn tiers() -> Vec<Kernels> {
    common::available_isas()
        .into_iter()
        .map(|isa| Kernels::new(isa).unwrap())
        .collect()
}

/// Checks one row with both formats on every tier.
fn check_row(x: &[f32]) -> Result<(), TestCaseError> {
    let n = x.len() / 32;
    let mut want0 = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; n];
    quantize_blocks(x, &mut want0).unwrap();
    let mut want1 = vec![
        BlockQ8_1 {
            d: 0,
            s: 0,
            qs: [0; 32]
        };
        n
    ];
    quantize_blocks(x, &mut want1).unwrap();
    for k in tiers() {
        let mut got0 = vec![BlockQ8_0 { d: 1, qs: [1; 32] }; n];
        k.quantize_q8_0(x, &mut got0).unwrap();
        let mut got1 = vec![
            BlockQ8_1 {
                d: 1,
                s: 1,
                qs: [1; 32]
            };
            n
        ];
        k.quantize_q8_1(x, &mut got1).unwrap();
        for b in 0..n {
            let block = &x[32 * b..32 * b + 32];
            let name = k.quantizer_name(GgmlType::Q8_0);
            prop_assert_eq!(got0[b], want0[b], "{} block {} of {:?}", name, b, block);
            let name = k.quantizer_name(GgmlType::Q8_1);
            prop_assert_eq!(got1[b], want1[b], "{} block {} of {:?}", name, b, block);
        }
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
    fn every_tier_quantizes_like_scalar(x in row()) {
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
fn row_length_mismatch_is_an_error() {
    for k in tiers() {
        let mut out = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; 2];
        assert!(k.quantize_q8_0(&[0.0; 32], &mut out).is_err());
        let mut out = vec![
            BlockQ8_1 {
                d: 0,
                s: 0,
                qs: [0; 32]
            };
            1
        ];
        assert!(k.quantize_q8_1(&[0.0; 33], &mut out).is_err());
    }
}

/// The tier the emulated CPU must run quantizes with SIMD code (aarch64 tiers share the
/// NEON quantizers, x86 tiers the AVX2 ones).
#[test]
fn expected_tier_quantizes() {
    let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") else {
        return;
    };
    let isa = Isa::parse(&expected).expect("SLIMLM_EXPECT_ISA names a tier");
    let kernels = Kernels::new(isa).expect("the expected tier is available on this CPU");
    let simd = match isa {
        Isa::Scalar => "scalar",
        Isa::Avx2 | Isa::Avx512 => "avx2",
        _ => "neon",
    };
    for ty in [GgmlType::Q8_0, GgmlType::Q8_1] {
        let name = kernels.quantizer_name(ty);
        eprintln!("{isa}: {ty} activations -> {name}");
        assert!(name.ends_with(simd), "{isa} quantizes {ty} with {name}");
    }
}
