//! Quantize -> dequantize round trips stay within each format's error bound, and the
//! byte-level row entry points agree with the typed ones on unaligned slices.
//!
//! Bounds (d = the block's f32 scale, D = f16(d)): rounding to the nearest code costs
//! d/2; storing D instead of d costs |code| * |d - D| <= |code| * (d * 2^-11 + 2^-25)
//! (relative f16 rounding, or the absolute step of f16 subnormals); f32 products add a
//! few ulps of the values (covered by `amax * 2^-20`).

mod common;

use bytemuck::Zeroable;
use common::values;
use proptest::prelude::*;
use slimlm_kernels::formats::{
    dequantize_blocks, dequantize_row, f16_to_f32, pack_scale_min_k4, quantize_blocks,
    quantize_row, scale_min_k4, BlockFormat, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0,
    BlockQ5_1, BlockQ6K, BlockQ8K, BlockQ8_0, BlockQ8_1, FormatError, GgmlType, QuantizeBlock,
};

const F16_REL: f64 = 1.0 / 2048.0; // 2^-11: half an ulp of f16, relative
const F16_SUB: f64 = 1.0 / 33_554_432.0; // 2^-25: half the f16 subnormal step
const SLACK: f64 = 1.0 / 1_048_576.0; // 2^-20

fn round_trip<B: QuantizeBlock>(x: &[f32]) -> (Vec<B>, Vec<f32>) {
    let mut blocks = vec![B::zeroed(); x.len() / B::ELEMS];
    quantize_blocks(x, &mut blocks).unwrap();
    let mut y = vec![0f32; x.len()];
    dequantize_blocks(&blocks, &mut y).unwrap();
    (blocks, y)
}

fn amax(x: &[f32]) -> f64 {
    x.iter().fold(0.0, |m, &v| m.max(f64::from(v).abs()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn q8_0_within_half_a_step(x in values(32 * 4)) {
        let (_, y) = round_trip::<BlockQ8_0>(&x);
        for (xb, yb) in x.chunks(32).zip(y.chunks(32)) {
            let a = amax(xb);
            let d = a / 127.0;
            let bound = d * (0.5 + 127.0 * F16_REL) + 127.0 * F16_SUB + a * SLACK;
            for (&v, &w) in xb.iter().zip(yb) {
                prop_assert!((f64::from(v) - f64::from(w)).abs() <= bound, "{v} -> {w}, bound {bound}");
            }
        }
    }

    #[test]
    fn q8_1_within_half_a_step_and_s_is_d_times_sum(x in values(32 * 4)) {
        let (blocks, y) = round_trip::<BlockQ8_1>(&x);
        for ((xb, yb), b) in x.chunks(32).zip(y.chunks(32)).zip(&blocks) {
            let a = amax(xb);
            let d = a / 127.0;
            let bound = d * (0.5 + 127.0 * F16_REL) + 127.0 * F16_SUB + a * SLACK;
            for (&v, &w) in xb.iter().zip(yb) {
                prop_assert!((f64::from(v) - f64::from(w)).abs() <= bound);
            }
            let sum: i32 = b.qs.iter().map(|&q| i32::from(q)).sum();
            let want = f64::from(sum) * f64::from(xb.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0);
            let s = f64::from(f16_to_f32(b.s));
            prop_assert!((s - want).abs() <= want.abs() * F16_REL + F16_SUB, "s {s} want {want}");
        }
    }

    #[test]
    fn q8_k_within_half_a_step(x in values(256 * 2)) {
        let (blocks, y) = round_trip::<BlockQ8K>(&x);
        for ((xb, yb), b) in x.chunks(256).zip(y.chunks(256)).zip(&blocks) {
            let a = amax(xb);
            let bound = a / 127.0 * (0.5 + SLACK) + a * SLACK;
            for (&v, &w) in xb.iter().zip(yb) {
                prop_assert!((f64::from(v) - f64::from(w)).abs() <= bound);
            }
            prop_assert!(b.qs.iter().all(|&q| q != -128));
            prop_assert_eq!(b.bsums, b.with_bsums().bsums);
        }
    }

    #[test]
    fn q4_0_within_half_a_step_except_the_clamped_top(x in values(32 * 4)) {
        let (_, y) = round_trip::<BlockQ4_0>(&x);
        for (xb, yb) in x.chunks(32).zip(y.chunks(32)) {
            // The signed value of largest magnitude (first one wins), as the quantizer.
            let max = xb.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
            let d = f64::from(max).abs() / 8.0;
            let extra = 8.0 * (d * F16_REL + F16_SUB) + f64::from(max).abs() * SLACK;
            for (&v, &w) in xb.iter().zip(yb) {
                // Values at the opposite end (x / d > 7.5 in code units) land on code 16,
                // clamped to 15: up to one full step away.
                let t = if max != 0.0 { -8.0 * f64::from(v) / f64::from(max) } else { 0.0 };
                let step = if t > 7.5 { d } else { d / 2.0 };
                prop_assert!((f64::from(v) - f64::from(w)).abs() <= step + extra, "{v} -> {w}");
            }
        }
    }

    #[test]
    fn q4_1_within_half_a_step(x in values(32 * 4)) {
        let (_, y) = round_trip::<BlockQ4_1>(&x);
        for (xb, yb) in x.chunks(32).zip(y.chunks(32)) {
            let min = xb.iter().fold(f64::MAX, |m, &v| m.min(f64::from(v)));
            let max = xb.iter().fold(f64::MIN, |m, &v| m.max(f64::from(v)));
            let d = (max - min) / 15.0;
            let bound = d * (0.5 + 15.0 * F16_REL) + min.abs() * F16_REL + 16.0 * F16_SUB
                + (max.abs() + min.abs()) * SLACK;
            for (&v, &w) in xb.iter().zip(yb) {
                prop_assert!((f64::from(v) - f64::from(w)).abs() <= bound, "{v} -> {w}");
            }
        }
    }

    #[test]
    fn q5_0_within_half_a_step_except_the_clamped_top(x in values(32 * 4)) {
        let (blocks, y) = round_trip::<BlockQ5_0>(&x);
        for ((xb, yb), b) in x.chunks(32).zip(y.chunks(32)).zip(&blocks) {
            let max = xb.iter().fold(0f32, |m, &v| if v.abs() > m.abs() { v } else { m });
            let d = f64::from(max).abs() / 16.0;
            let extra = 16.0 * (d * F16_REL + F16_SUB) + f64::from(max).abs() * SLACK;
            for (i, (&v, &w)) in xb.iter().zip(yb).enumerate() {
                // Values at the opposite end (x / d > 15.5 in code units) land on code 32,
                // clamped to 31: up to one full step away.
                let t = if max != 0.0 { -16.0 * f64::from(v) / f64::from(max) } else { 0.0 };
                let step = if t > 15.5 { d } else { d / 2.0 };
                prop_assert!((f64::from(v) - f64::from(w)).abs() <= step + extra, "{v} -> {w}");
                // The first value of largest magnitude is exactly code 0.
                if max != 0.0 && v == max && xb[..i].iter().all(|u| u.abs() < max.abs()) {
                    prop_assert_eq!(b.codes()[i], 0);
                }
            }
        }
    }

    #[test]
    fn q5_1_within_half_a_step(x in values(32 * 4)) {
        let (_, y) = round_trip::<BlockQ5_1>(&x);
        for (xb, yb) in x.chunks(32).zip(y.chunks(32)) {
            let min = xb.iter().fold(f64::MAX, |m, &v| m.min(f64::from(v)));
            let max = xb.iter().fold(f64::MIN, |m, &v| m.max(f64::from(v)));
            let d = (max - min) / 31.0;
            let bound = d * (0.5 + 31.0 * F16_REL) + min.abs() * F16_REL + 32.0 * F16_SUB
                + (max.abs() + min.abs()) * SLACK;
            for (&v, &w) in xb.iter().zip(yb) {
                prop_assert!((f64::from(v) - f64::from(w)).abs() <= bound, "{v} -> {w}");
            }
        }
    }

    /// The Q5_K sub-block view (f32 `d`, `m`, codes) gives ggml's decoded values bit for
    /// bit, and the codes read per sub-block are those of the whole block.
    #[test]
    fn q5_k_sub_blocks_decode_exactly(
        d in any::<u16>(), dmin in any::<u16>(), scales in any::<[u8; 12]>(),
        qh in any::<[u8; 32]>(), qs in prop::collection::vec(any::<u8>(), 128),
    ) {
        let b = BlockQ5K { d, dmin, scales, qh, qs: qs.try_into().unwrap() };
        let mut want = [0f32; 256];
        b.dequantize(&mut want);
        let codes = b.codes();
        for j in 0..8 {
            let (sd, sm, sub) = b.sub_block_as_q5_1(j);
            prop_assert_eq!(&sub[..], &codes[32 * j..32 * j + 32]);
            for (i, &c) in sub.iter().enumerate() {
                prop_assert!(c < 32);
                let (got, w) = (sd * f32::from(c) + sm, want[32 * j + i]);
                prop_assert!(got.to_bits() == w.to_bits() || (got.is_nan() && w.is_nan()), "{got} != {w}");
            }
        }
    }

    #[test]
    fn rows_on_unaligned_bytes_equal_the_typed_blocks(x in values(256 * 2), off in 0usize..4) {
        for ty in [GgmlType::Q8_0, GgmlType::Q8_1, GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8K] {
            let bytes_len = ty.row_bytes(x.len() as u64).unwrap() as usize;
            let mut buf = vec![0u8; bytes_len + off];
            quantize_row(ty, &x, &mut buf[off..]).unwrap();
            let mut y = vec![0f32; x.len()];
            dequantize_row(ty, &buf[off..], &mut y).unwrap();
            let mut y_typed = vec![0f32; x.len()];
            let typed_bytes = match ty {
                GgmlType::Q8_0 => typed::<BlockQ8_0>(&x, &mut y_typed),
                GgmlType::Q8_1 => typed::<BlockQ8_1>(&x, &mut y_typed),
                GgmlType::Q4_0 => typed::<BlockQ4_0>(&x, &mut y_typed),
                GgmlType::Q4_1 => typed::<BlockQ4_1>(&x, &mut y_typed),
                GgmlType::Q5_0 => typed::<BlockQ5_0>(&x, &mut y_typed),
                GgmlType::Q5_1 => typed::<BlockQ5_1>(&x, &mut y_typed),
                _ => typed::<BlockQ8K>(&x, &mut y_typed),
            };
            prop_assert_eq!(&buf[off..], &typed_bytes[..], "{}", ty);
            prop_assert_eq!(bits(&y), bits(&y_typed), "{}", ty);
        }
    }

    #[test]
    fn q4_k_scales_pack_and_unpack_are_inverse(
        sc in any::<[u8; 8]>().prop_map(|a| a.map(|v| v & 63)),
        m in any::<[u8; 8]>().prop_map(|a| a.map(|v| v & 63)),
        raw in any::<[u8; 12]>(),
    ) {
        let packed = pack_scale_min_k4(&sc, &m);
        for j in 0..8 {
            prop_assert_eq!(scale_min_k4(j, &packed), (sc[j], m[j]));
        }
        // 16 values of 6 bits fill the 12 bytes exactly: every byte pattern is a code.
        let mut sc2 = [0u8; 8];
        let mut m2 = [0u8; 8];
        for j in 0..8 {
            (sc2[j], m2[j]) = scale_min_k4(j, &raw);
        }
        prop_assert_eq!(pack_scale_min_k4(&sc2, &m2), raw);
    }
}

fn typed<B: QuantizeBlock>(x: &[f32], y: &mut [f32]) -> Vec<u8> {
    let mut blocks = vec![B::zeroed(); x.len() / B::ELEMS];
    quantize_blocks(x, &mut blocks).unwrap();
    dequantize_blocks(&blocks, y).unwrap();
    bytemuck::cast_slice(&blocks).to_vec()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn block_structs_match_the_type_table() {
    fn check<B: BlockFormat>() {
        assert_eq!(
            core::mem::size_of::<B>(),
            B::TYPE.block_bytes(),
            "{}",
            B::TYPE
        );
        assert_eq!(B::ELEMS, B::TYPE.block_elems(), "{}", B::TYPE);
    }
    check::<BlockQ4_0>();
    check::<BlockQ4_1>();
    check::<BlockQ5_0>();
    check::<BlockQ5_1>();
    check::<BlockQ5K>();
    check::<BlockQ8_0>();
    check::<BlockQ8_1>();
    check::<BlockQ4K>();
    check::<BlockQ6K>();
    check::<BlockQ8K>();
}

#[test]
fn rows_report_typed_errors() {
    let mut out = [0f32; 32];
    assert_eq!(
        dequantize_row(GgmlType::Q3K, &[0; 110], &mut [0f32; 256]),
        Err(FormatError::Unsupported {
            ty: GgmlType::Q3K,
            op: "dequantize"
        })
    );
    assert_eq!(
        quantize_row(GgmlType::Q4K, &out, &mut [0; 144]),
        Err(FormatError::Unsupported {
            ty: GgmlType::Q4K,
            op: "quantize"
        })
    );
    assert_eq!(
        quantize_row(GgmlType::Q5K, &[0f32; 256], &mut [0; 176]),
        Err(FormatError::Unsupported {
            ty: GgmlType::Q5K,
            op: "quantize"
        })
    );
    assert_eq!(
        dequantize_row(GgmlType::Q4_0, &[0; 17], &mut out),
        Err(FormatError::PartialBlock {
            ty: GgmlType::Q4_0,
            bytes: 17
        })
    );
    assert_eq!(
        dequantize_row(GgmlType::Q4_0, &[0; 36], &mut out),
        Err(FormatError::LengthMismatch {
            ty: GgmlType::Q4_0,
            block_elems: 64,
            f32_elems: 32
        })
    );
    assert_eq!(
        quantize_row(GgmlType::Q8_0, &out[..31], &mut [0; 34]),
        Err(FormatError::LengthMismatch {
            ty: GgmlType::Q8_0,
            block_elems: 32,
            f32_elems: 31
        })
    );
    assert_eq!(
        quantize_blocks::<BlockQ8_0>(&out, &mut []),
        Err(FormatError::LengthMismatch {
            ty: GgmlType::Q8_0,
            block_elems: 0,
            f32_elems: 32
        })
    );
    // Empty rows are fine.
    assert_eq!(dequantize_row(GgmlType::Q6K, &[], &mut []), Ok(()));
    let e = FormatError::PartialBlock {
        ty: GgmlType::Q4_0,
        bytes: 17,
    };
    assert_eq!(
        e.to_string(),
        "17 bytes is not a whole number of Q4_0 blocks (18 bytes each)"
    );
}

#[test]
fn every_type_either_decodes_or_says_unsupported() {
    for ty in GgmlType::ALL {
        let bytes = vec![0u8; ty.block_bytes()];
        let mut out = vec![0f32; ty.block_elems()];
        match dequantize_row(ty, &bytes, &mut out) {
            Ok(()) => assert!(out.iter().all(|v| *v == 0.0), "{ty}"),
            Err(FormatError::Unsupported { .. }) => {}
            Err(e) => panic!("{ty}: {e}"),
        }
    }
    let _ = BlockQ6K::zeroed();
}
