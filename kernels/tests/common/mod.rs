//! Shared proptest strategies and helpers for the kernels integration tests.
#![allow(dead_code)]

use proptest::prelude::*;
use slimlm_kernels::formats::{
    f16_to_f32, f32_to_f16, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1,
    BlockQ6K, BlockQ8K, BlockQ8_0, QK_K,
};

/// A finite f16 with a magnitude in [2^lo, 2^hi), random sign when `signed`.
pub fn f16_scale(lo: i32, hi: i32, signed: bool) -> impl Strategy<Value = u16> {
    (lo..hi, 0u16..1024, any::<bool>()).prop_map(move |(e, m, neg)| {
        let v = f32_to_f16(2f32.powi(e) * (1.0 + f32::from(m) / 1024.0));
        if signed && neg {
            v | 0x8000
        } else {
            v
        }
    })
}

/// `n` f32 values: a random spread of magnitudes (16 binades under a random overall
/// scale 2^-20..2^12), random signs, some exact zeros, ties and repeats.
pub fn values(n: usize) -> impl Strategy<Value = Vec<f32>> {
    let elem = prop_oneof![
        8 => -1.0f32..1.0,
        1 => Just(0.0f32),
        1 => (-8i32..8).prop_map(|k| k as f32 * 0.5),
        1 => (-16i32..0, any::<bool>()).prop_map(|(e, neg)| {
            let v = 2f32.powi(e);
            if neg { -v } else { v }
        }),
    ];
    (prop::collection::vec(elem, n), -20i32..12).prop_map(|(v, e)| {
        let s = 2f32.powi(e);
        v.into_iter().map(|x| x * s).collect()
    })
}

pub fn block_q4_0() -> impl Strategy<Value = BlockQ4_0> {
    (f16_scale(-20, 12, true), any::<[u8; 16]>()).prop_map(|(d, qs)| BlockQ4_0 { d, qs })
}

pub fn block_q4_1() -> impl Strategy<Value = BlockQ4_1> {
    (
        f16_scale(-20, 12, false),
        f16_scale(-20, 12, true),
        any::<[u8; 16]>(),
    )
        .prop_map(|(d, m, qs)| BlockQ4_1 { d, m, qs })
}

pub fn block_q5_0() -> impl Strategy<Value = BlockQ5_0> {
    (
        f16_scale(-20, 12, true),
        any::<[u8; 4]>(),
        any::<[u8; 16]>(),
    )
        .prop_map(|(d, qh, qs)| BlockQ5_0 { d, qh, qs })
}

pub fn block_q5_1() -> impl Strategy<Value = BlockQ5_1> {
    (
        f16_scale(-20, 12, false),
        f16_scale(-20, 12, true),
        any::<[u8; 4]>(),
        any::<[u8; 16]>(),
    )
        .prop_map(|(d, m, qh, qs)| BlockQ5_1 { d, m, qh, qs })
}

pub fn block_q5_k() -> impl Strategy<Value = BlockQ5K> {
    (
        f16_scale(-20, 8, true),
        f16_scale(-20, 8, true),
        any::<[u8; 12]>(),
        any::<[u8; 32]>(),
        prop::collection::vec(any::<u8>(), QK_K / 2),
    )
        .prop_map(|(d, dmin, scales, qh, qs)| BlockQ5K {
            d,
            dmin,
            scales,
            qh,
            qs: qs.try_into().unwrap(),
        })
}

pub fn block_q8_0() -> impl Strategy<Value = BlockQ8_0> {
    (f16_scale(-20, 12, true), any::<[i8; 32]>()).prop_map(|(d, qs)| BlockQ8_0 { d, qs })
}

pub fn block_q4_k() -> impl Strategy<Value = BlockQ4K> {
    (
        f16_scale(-20, 8, false),
        f16_scale(-20, 8, false),
        any::<[u8; 12]>(),
        prop::collection::vec(any::<u8>(), QK_K / 2),
    )
        .prop_map(|(d, dmin, scales, qs)| BlockQ4K {
            d,
            dmin,
            scales,
            qs: qs.try_into().unwrap(),
        })
}

pub fn block_q6_k() -> impl Strategy<Value = BlockQ6K> {
    (
        prop::collection::vec(any::<u8>(), QK_K / 2),
        prop::collection::vec(any::<u8>(), QK_K / 4),
        any::<[i8; 16]>(),
        f16_scale(-20, 8, true),
    )
        .prop_map(|(ql, qh, scales, d)| BlockQ6K {
            ql: ql.try_into().unwrap(),
            qh: qh.try_into().unwrap(),
            scales,
            d,
        })
}

/// A Q8_K block with any quants (including -128), consistent `bsums` and a random scale.
pub fn block_q8_k() -> impl Strategy<Value = BlockQ8K> {
    (
        prop::collection::vec(any::<i8>(), QK_K),
        -30i32..4,
        1u32..1 << 20,
    )
        .prop_map(|(qs, e, m)| {
            BlockQ8K {
                d: 2f32.powi(e) * (1.0 + m as f32 / (1u32 << 20) as f32),
                qs: qs.try_into().unwrap(),
                bsums: [0; 16],
            }
            .with_bsums()
        })
}

/// The f16 value of `h` as f64.
pub fn h(h: u16) -> f64 {
    f64::from(f16_to_f32(h))
}

/// The tiers this CPU runs, the scalar one first. When `SLIMLM_EXPECT_ISA` names a tier
/// (CI sets it from the CPU: scripts/test-all.sh from /proc/cpuinfo on the host,
/// scripts/test-aarch64.sh from the emulated CPU model), fails unless that tier is among
/// them: a tier test cannot pass by quietly testing fewer tiers.
pub fn available_isas() -> Vec<slimlm_kernels::dispatch::Isa> {
    use slimlm_kernels::dispatch::Isa;
    let isas: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .collect();
    if let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") {
        let want = Isa::parse(&expected)
            .unwrap_or_else(|| panic!("SLIMLM_EXPECT_ISA={expected} names no tier"));
        assert!(
            isas.contains(&want),
            "SLIMLM_EXPECT_ISA={expected}, but this CPU runs only {isas:?}"
        );
    }
    isas
}
