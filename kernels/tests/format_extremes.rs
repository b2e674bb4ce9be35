//! Extremes: every code value, the int8 ends -128 / 127, all-zero blocks (d == 0), the
//! largest and smallest f16 scales, the rounding ties of each quantizer, and the layouts
//! rebuilt independently from ggml's quantizer packing loops.

use bytemuck::Zeroable;
use slimlm_kernels::formats::{
    f16_to_f32, pack_scale_min_k4, BlockFormat, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K,
    BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8K, BlockQ8_0, BlockQ8_1, QuantizeBlock,
};
use slimlm_kernels::reference::dot::*;

const F16_MAX: u16 = 0x7bff; // 65504
const F16_MIN_NORMAL: u16 = 0x0400; // 2^-14
const F16_MIN_SUB: u16 = 0x0001; // 2^-24

fn decode<B: BlockFormat>(b: &B) -> Vec<f32> {
    let mut out = vec![0f32; B::ELEMS];
    b.dequantize(&mut out);
    out
}

#[test]
fn q4_0_every_code_at_extreme_scales() {
    for d in [F16_MAX, F16_MIN_NORMAL, F16_MIN_SUB, F16_MAX | 0x8000] {
        // Element i gets code i % 16: byte j holds codes j % 16 (low) and (j + 16) % 16.
        let qs: [u8; 16] = core::array::from_fn(|j| (j as u8) | ((j as u8) << 4));
        let b = BlockQ4_0 { d, qs };
        let out = decode(&b);
        for (i, &v) in out.iter().enumerate() {
            assert_eq!(b.code(i), (i % 16) as u8);
            let want = ((i % 16) as f64 - 8.0) * f64::from(f16_to_f32(d));
            assert_eq!(f64::from(v), want, "d {d:#06x} element {i}");
        }
    }
}

#[test]
fn q4_1_every_code_at_extreme_scales() {
    for (d, m) in [
        (F16_MAX, F16_MAX | 0x8000),
        (F16_MIN_NORMAL, F16_MIN_SUB),
        (F16_MIN_SUB, 0),
    ] {
        let qs: [u8; 16] = core::array::from_fn(|j| (j as u8) | ((15 - j as u8) << 4));
        let b = BlockQ4_1 { d, m, qs };
        let out = decode(&b);
        for (i, &v) in out.iter().enumerate() {
            let code = if i < 16 { i } else { 15 - (i - 16) } as f32;
            assert_eq!(v, code * f16_to_f32(d) + f16_to_f32(m), "element {i}");
        }
    }
}

#[test]
fn int8_ends_give_the_largest_block_sums() {
    let lo = BlockQ4_0 {
        d: 0x3c00,
        qs: [0x00; 16],
    }; // all codes 0 -> -8
    let hi = BlockQ4_0 {
        d: 0x3c00,
        qs: [0xff; 16],
    }; // all codes 15 -> 7
    let neg = BlockQ8_0 {
        d: 0x3c00,
        qs: [-128; 32],
    };
    let pos = BlockQ8_0 {
        d: 0x3c00,
        qs: [127; 32],
    };
    assert_eq!(q4_0_q8_0_block_sum(&lo, &neg), 32 * 8 * 128);
    assert_eq!(q4_0_q8_0_block_sum(&lo, &pos), -32 * 8 * 127);
    assert_eq!(q4_0_q8_0_block_sum(&hi, &neg), -32 * 7 * 128);
    assert_eq!(q8_0_q8_0_block_sum(&neg, &neg), 32 * 128 * 128);
    assert_eq!(q8_0_q8_0_block_sum(&neg, &pos), -32 * 128 * 127);
    assert_eq!(dot_q8_0_q8_0(&[neg], &[neg]), 524_288.0);
    assert_eq!(dot_q4_0_q8_0(&[lo], &[neg]), 32_768.0);

    let w1 = BlockQ4_1 {
        d: 0x3c00,
        m: 0,
        qs: [0xff; 16],
    };
    let a1 = BlockQ8_1 {
        d: 0x3c00,
        s: 0,
        qs: [-128; 32],
    };
    assert_eq!(q4_1_q8_1_block_sum(&w1, &a1), -32 * 15 * 128);

    let q8k_neg = BlockQ8K {
        d: 1.0,
        qs: [-128; 256],
        bsums: [0; 16],
    }
    .with_bsums();
    assert_eq!(q8k_neg.bsums, [-2048; 16]);
    let w4k = BlockQ4K {
        d: 0x3c00,
        dmin: 0x3c00,
        scales: pack_scale_min_k4(&[63; 8], &[63; 8]),
        qs: [0xff; 128],
    };
    let sums = q4_k_q8_k_block_sums(&w4k, &q8k_neg);
    assert_eq!(sums.scaled, -256 * 63 * 15 * 128);
    assert_eq!(sums.mins, -16 * 63 * 2048);
    // bsums are not recomputed by the dot: arbitrary i16 extremes must not overflow.
    let odd = BlockQ8K {
        bsums: [-32768; 16],
        ..q8k_neg
    };
    assert_eq!(q4_k_q8_k_block_sums(&w4k, &odd).mins, -16 * 63 * 32768);

    // Q6_K: code 0 is -32; with scale -128 and activations -128 every term is -2^19.
    let w6k = BlockQ6K {
        ql: [0; 128],
        qh: [0; 64],
        scales: [-128; 16],
        d: 0x3c00,
    };
    assert_eq!(q6_k_q8_k_block_sum(&w6k, &q8k_neg), -256 * 128 * 32 * 128);
    assert_eq!(q6_k_q8_k_lanes(&w6k, &q8k_neg), [-32 * 128 * 32 * 128; 8]);
    let w6k_top = BlockQ6K {
        ql: [0xff; 128],
        qh: [0xff; 64],
        scales: [127; 16],
        d: 0x3c00,
    };
    assert_eq!(w6k_top.quants(), [31; 256]);
    assert_eq!(
        q6_k_q8_k_block_sum(&w6k_top, &q8k_neg),
        -256 * 127 * 31 * 128
    );
}

#[test]
fn all_zero_blocks_quantize_to_d_zero_and_decode_to_zero() {
    let zeros = [0f32; 256];
    let q8 = BlockQ8_0::quantize(&zeros[..32]);
    assert_eq!(q8, BlockQ8_0 { d: 0, qs: [0; 32] });
    let q81 = BlockQ8_1::quantize(&zeros[..32]);
    assert_eq!((q81.d, q81.s, q81.qs), (0, 0, [0; 32]));
    // Q4_0: d = 0 / -8 is -0.0 (f16 0x8000), as in ggml; every code is 8.
    let q4 = BlockQ4_0::quantize(&zeros[..32]);
    assert_eq!(
        q4,
        BlockQ4_0 {
            d: 0x8000,
            qs: [0x88; 16]
        }
    );
    assert!(decode(&q4).iter().all(|&v| v == 0.0));
    let q41 = BlockQ4_1::quantize(&zeros[..32]);
    assert_eq!(
        q41,
        BlockQ4_1 {
            d: 0,
            m: 0,
            qs: [0; 16]
        }
    );
    let q8k = BlockQ8K::quantize(&zeros);
    assert_eq!(q8k, BlockQ8K::zeroed());
    assert_eq!(dot_q4_0_q8_0(&[q4], &[q8]), 0.0);
    assert_eq!(dot_q4_1_q8_1(&[q41], &[q81]), 0.0);
    // A constant nonzero block: Q4_1 has d = 0 and stores the value as m.
    let q41 = BlockQ4_1::quantize(&[3.5; 32]);
    assert_eq!((q41.d, f16_to_f32(q41.m), q41.qs), (0, 3.5, [0; 16]));
    assert_eq!(decode(&q41), vec![3.5; 32]);
    // d == 0 weights decode to (signed) zeros whatever their codes.
    let w = BlockQ4K {
        d: 0,
        dmin: 0,
        scales: [0xff; 12],
        qs: [0xa5; 128],
    };
    assert!(decode(&w).iter().all(|&v| v == 0.0));
}

#[test]
fn q8_quantizers_round_ties_away_from_zero_and_q8_k_to_even() {
    // amax 127 gives d = 1 and id = 1: the products are the inputs themselves.
    let mut x = [0f32; 32];
    x[0] = 127.0;
    let ties = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -126.5];
    x[1..9].copy_from_slice(&ties);
    let b = BlockQ8_0::quantize(&x);
    assert_eq!(b.d, 0x3c00);
    assert_eq!(&b.qs[..9], &[127, 1, 2, 3, -1, -2, -3, 127, -127]);
    let b1 = BlockQ8_1::quantize(&x);
    assert_eq!(b1.qs, b.qs);
    assert_eq!(f16_to_f32(b1.s), 127.0); // 127 + (1 + 2 + 3 - 1 - 2 - 3) + (127 - 127)

    // Q8_K: max = -127 gives iscale = 1, d = 1; nearest_int ties go to even.
    let mut x = [0f32; 256];
    x[0] = -127.0;
    x[1..9].copy_from_slice(&ties);
    let b = BlockQ8K::quantize(&x);
    assert_eq!(b.d, 1.0);
    assert_eq!(&b.qs[..9], &[-127, 0, 2, 2, 0, -2, -2, 126, -126]);
    // The sign of max flips the quants: iscale = -127 / max.
    let mut x = [0f32; 256];
    x[5] = 127.0;
    x[6] = -127.0; // same magnitude later: the first one wins
    x[7] = 63.5;
    let b = BlockQ8K::quantize(&x);
    assert_eq!(b.d, -1.0);
    assert_eq!(&b.qs[5..8], &[-127, 127, -64]);
    assert_eq!(b.bsums[0], -64);
}

#[test]
fn q4_quantizers_pick_the_signed_extreme_and_round_half_up() {
    // Q4_0: max = -8 gives d = 1 (id = 1); code = trunc(x + 8.5), capped at 15.
    let mut x = [0f32; 32];
    x[0] = -8.0;
    x[1..6].copy_from_slice(&[0.5, -0.5, 7.4, 7.5, 8.0]);
    let b = BlockQ4_0::quantize(&x);
    assert_eq!(f16_to_f32(b.d), 1.0);
    let codes: Vec<u8> = (0..6).map(|i| b.code(i)).collect();
    assert_eq!(codes, [0, 9, 8, 15, 15, 15]);
    // Equal magnitudes: the first one sets the sign of d.
    let mut x = [0f32; 32];
    x[3] = 4.0;
    x[4] = -4.0;
    assert_eq!(f16_to_f32(BlockQ4_0::quantize(&x).d), -0.5);
    x[3] = -4.0;
    x[4] = 4.0;
    assert_eq!(f16_to_f32(BlockQ4_0::quantize(&x).d), 0.5);
    // Q4_1: min 0 and max 15 give d = 1; codes round half up.
    let mut x = [0f32; 32];
    x[0] = 15.0;
    x[1..5].copy_from_slice(&[0.5, 1.5, 2.49, 14.6]);
    let b = BlockQ4_1::quantize(&x);
    let codes: Vec<u8> = (0..5).map(|i| b.code(i)).collect();
    assert_eq!(codes, [15, 1, 2, 2, 15]);
}

/// ggml's Q4_K packing loop (quantize_row_q4_K_ref), written from its description.
fn pack_q4_k(codes: &[u8; 256]) -> [u8; 128] {
    let mut qs = [0u8; 128];
    for (j, q) in (0..256).step_by(64).zip(qs.chunks_exact_mut(32)) {
        for l in 0..32 {
            q[l] = codes[j + l] | (codes[j + l + 32] << 4);
        }
    }
    qs
}

/// ggml's Q6_K packing loop (quantize_row_q6_K_ref) for codes 0..=63.
fn pack_q6_k(codes: &[u8; 256]) -> ([u8; 128], [u8; 64]) {
    let (mut ql, mut qh) = ([0u8; 128], [0u8; 64]);
    for (half, j) in (0..256).step_by(128).enumerate() {
        let (ql, qh) = (&mut ql[64 * half..], &mut qh[32 * half..]);
        for l in 0..32 {
            let c = |k: usize| codes[j + l + 32 * k];
            ql[l] = (c(0) & 0xf) | ((c(2) & 0xf) << 4);
            ql[l + 32] = (c(1) & 0xf) | ((c(3) & 0xf) << 4);
            qh[l] = (c(0) >> 4) | ((c(1) >> 4) << 2) | ((c(2) >> 4) << 4) | ((c(3) >> 4) << 6);
        }
    }
    (ql, qh)
}

#[test]
fn k_quant_layouts_match_ggml_packing() {
    let codes4: [u8; 256] = core::array::from_fn(|i| ((i * 7 + i / 16) % 16) as u8);
    let sc: [u8; 8] = [1, 2, 3, 63, 0, 17, 32, 48];
    let m: [u8; 8] = [63, 0, 5, 9, 33, 1, 62, 7];
    let w = BlockQ4K {
        d: 0x3c00,
        dmin: 0x3800,
        scales: pack_scale_min_k4(&sc, &m),
        qs: pack_q4_k(&codes4),
    };
    assert_eq!(w.codes(), codes4);
    assert_eq!(w.scales_mins(), (sc, m));
    let out = decode(&w);
    for (i, &v) in out.iter().enumerate() {
        let want = f64::from(sc[i / 32]) * f64::from(codes4[i]) - 0.5 * f64::from(m[i / 32]);
        assert_eq!(f64::from(v), want, "Q4_K element {i}");
    }

    let codes6: [u8; 256] = core::array::from_fn(|i| ((i * 37 + 11) % 64) as u8);
    let (ql, qh) = pack_q6_k(&codes6);
    let scales: [i8; 16] = core::array::from_fn(|j| (j as i8 - 8) * 15);
    let w = BlockQ6K {
        ql,
        qh,
        scales,
        d: 0x3c00,
    };
    let want_q: [i8; 256] = core::array::from_fn(|i| codes6[i] as i8 - 32);
    assert_eq!(w.quants(), want_q);
    for (i, &v) in decode(&w).iter().enumerate() {
        assert_eq!(
            v,
            f32::from(scales[i / 16]) * f32::from(want_q[i]),
            "Q6_K element {i}"
        );
    }
}

#[test]
fn q8_k_extreme_scales_do_not_panic() {
    for scale in [1e-30f32, 1e30, f32::MAX / 2.0] {
        let x: Vec<f32> = (0..256)
            .map(|i| (i as f32 - 128.0) / 128.0 * scale)
            .collect();
        let b = BlockQ8K::quantize(&x);
        assert!(
            b.qs.iter().all(|&q| (-127..=127).contains(&q)),
            "scale {scale:e}"
        );
        assert!(decode(&b).iter().all(|v| v.is_finite()));
    }
    // Below ~1.5e-36, -127 / max overflows to infinity: garbage quants (as in ggml),
    // but no panic.
    let x: Vec<f32> = (0..256)
        .map(|i| (i as f32 - 128.0) * f32::MIN_POSITIVE / 128.0)
        .collect();
    let _ = BlockQ8K::quantize(&x);
    // Non-finite input gives some block, never a panic.
    let mut x = [1f32; 256];
    x[3] = f32::NAN;
    x[4] = f32::INFINITY;
    let _ = BlockQ8K::quantize(&x);
    let _ = BlockQ8_0::quantize(&x[..32]);
    let _ = BlockQ8_1::quantize(&x[..32]);
    let _ = BlockQ4_0::quantize(&x[..32]);
    let _ = BlockQ4_1::quantize(&x[..32]);
}

/// Codes 0..32 in element order as Q5_0 / Q5_1's (qh, qs), built the way ggml's
/// quantizers pack them (`qh |= bit4(code j) << j`, `qs[j] = lo(j) | lo(j + 16) << 4`).
fn q5_every_code() -> ([u8; 4], [u8; 16]) {
    let mut qh = 0u32;
    for j in 0..32u32 {
        qh |= ((j & 0x10) >> 4) << j;
    }
    let qs = core::array::from_fn(|j| (j as u8 & 0x0f) | (((j as u8 + 16) & 0x0f) << 4));
    (qh.to_le_bytes(), qs)
}

#[test]
fn q5_0_and_q5_1_every_code_at_extreme_scales() {
    let (qh, qs) = q5_every_code();
    for d in [F16_MAX, F16_MIN_NORMAL, F16_MIN_SUB, F16_MAX | 0x8000, 0] {
        let b = BlockQ5_0 { d, qh, qs };
        assert_eq!(b.codes(), core::array::from_fn(|i| i as u8));
        assert_eq!(b.quants(), core::array::from_fn(|i| i as i8 - 16));
        for (i, &v) in decode(&b).iter().enumerate() {
            let want = (i as f64 - 16.0) * f64::from(f16_to_f32(d));
            assert_eq!(f64::from(v), want, "Q5_0 d {d:#06x} element {i}");
        }
        let m = F16_MIN_SUB | 0x8000;
        let b = BlockQ5_1 { d, m, qh, qs };
        for (i, &v) in decode(&b).iter().enumerate() {
            assert_eq!(
                v,
                i as f32 * f16_to_f32(d) + f16_to_f32(m),
                "Q5_1 element {i}"
            );
        }
    }
}

#[test]
fn q5_k_every_code_and_largest_block_sums() {
    // Element 64c + l: low nibble of qs[32c + l], bit 2c of qh[l]; 64c + 32 + l: high
    // nibble, bit 2c + 1 (ggml's quantize_row_q5_K_ref packing loop, by hand).
    let code = |i: usize| (i % 32) as u8 ^ (((i / 32) as u8 & 1) * 31);
    let mut qs = [0u8; 128];
    let mut qh = [0u8; 32];
    for c in 0..4 {
        for l in 0..32 {
            let (lo, hi) = (code(64 * c + l), code(64 * c + 32 + l));
            qs[32 * c + l] = (lo & 0x0f) | ((hi & 0x0f) << 4);
            qh[l] |= ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1));
        }
    }
    let sc = [0, 1, 63, 62, 31, 32, 17, 45];
    let mn = [63, 0, 1, 62, 32, 31, 45, 17];
    let b = BlockQ5K {
        d: F16_MIN_SUB,
        dmin: F16_MAX,
        scales: pack_scale_min_k4(&sc, &mn),
        qh,
        qs,
    };
    assert_eq!(b.codes(), core::array::from_fn(code));
    let (d, dmin) = (f16_to_f32(b.d), f16_to_f32(b.dmin));
    for (i, &v) in decode(&b).iter().enumerate() {
        let j = i / 32;
        let want = d * f32::from(sc[j]) * f32::from(code(i)) - dmin * f32::from(mn[j]);
        assert_eq!(v, want, "element {i}");
    }

    let q8_neg = BlockQ8_0 {
        d: 0x3c00,
        qs: [-128; 32],
    };
    let q5_low = BlockQ5_0 {
        d: 0x3c00,
        qh: [0; 4],
        qs: [0; 16],
    }; // every code 0 -> -16
    assert_eq!(q5_0_q8_0_block_sum(&q5_low, &q8_neg), 32 * 16 * 128);
    assert_eq!(dot_q5_0_q8_0(&[q5_low], &[q8_neg]), 65_536.0);
    let q5_top = BlockQ5_1 {
        d: 0x3c00,
        m: 0,
        qh: [0xff; 4],
        qs: [0xff; 16],
    }; // every code 31
    let a1 = BlockQ8_1 {
        d: 0x3c00,
        s: 0,
        qs: [-128; 32],
    };
    assert_eq!(q5_1_q8_1_block_sum(&q5_top, &a1), -32 * 31 * 128);
    let q8k = BlockQ8K {
        d: 1.0,
        qs: [-128; 256],
        bsums: [-32768; 16], // not recomputed by the dot: i16 extremes must not overflow
    };
    let top = BlockQ5K {
        d: 0x3c00,
        dmin: 0x3c00,
        scales: pack_scale_min_k4(&[63; 8], &[63; 8]),
        qh: [0xff; 32],
        qs: [0xff; 128],
    };
    let sums = q5_k_q8_k_block_sums(&top, &q8k);
    assert_eq!(sums.scaled, -256 * 63 * 31 * 128);
    assert_eq!(sums.mins, -16 * 63 * 32768);
    assert_eq!(q5_k_q8_k_lanes(&top, &q8k), [-32 * 63 * 31 * 128; 8]);
}

#[test]
fn q5_all_zero_blocks() {
    let zeros = [0f32; 32];
    // Q5_0: d = 0 / -16 is -0.0 (f16 0x8000), as in ggml; every code is 16 (bit 4 set).
    let q5 = BlockQ5_0::quantize(&zeros);
    assert_eq!(
        q5,
        BlockQ5_0 {
            d: 0x8000,
            qh: [0xff; 4],
            qs: [0; 16]
        }
    );
    assert!(decode(&q5).iter().all(|&v| v == 0.0));
    let q51 = BlockQ5_1::quantize(&[-2.25; 32]);
    assert_eq!(
        (q51.d, f16_to_f32(q51.m), q51.qh, q51.qs),
        (0, -2.25, [0; 4], [0; 16])
    );
    assert_eq!(decode(&q51), vec![-2.25; 32]);
}
