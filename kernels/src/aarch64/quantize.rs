//! NEON activation quantizers: f32 rows to Q8_0 / Q8_1 blocks, bit for bit what the scalar
//! quantizers make ([`crate::formats::quantize_blocks`], ggml's `quantize_row_q8_*_ref`).
//!
//! Per block of 32: `amax` by `fabs` + `fmax` (order does not matter without NaNs; a block
//! with a NaN takes the scalar's in-order fold instead, so even NaN blocks match),
//! `d = amax / 127` and `id = 1 / d` (or 0) in scalar f32 exactly as the scalar code, then
//! `q = roundf(x * id)` by `fmul` + `fcvtas` (round to nearest, ties away from zero, as
//! C's `roundf`) and saturating narrows `sqxtn` to int8 (as Rust's saturating `as i8`;
//! NaN becomes 0 in both). `d` (and Q8_1's `s = f16(sum(q) as f32 * d)`) go through the
//! crate's own `f32_to_f16`, not `fcvt`, so NaN payloads also match.
//!
//! This file depends on nothing but `crate::formats`: `tests/quantize_tiers.rs` compiles
//! it on its own (with `slimlm_kernels::formats` standing in) until the runtime exposes a
//! public entry. Keep it that way.

use core::arch::aarch64::*;

use crate::formats::{f32_to_f16, BlockQ8_0, BlockQ8_1};

/// Values per Q8_0 / Q8_1 block.
const QK: usize = 32;

/// ggml's `amax = MAX(amax, fabsf(v))` in element order: a NaN `|v|` replaces `amax`, and a
/// NaN `amax` is replaced by the next `|v|`. Only blocks holding a NaN take this path.
#[cold]
fn amax_in_order(x: &[f32; QK]) -> f32 {
    let mut amax = 0.0f32;
    for &v in x {
        amax = if amax > v.abs() { amax } else { v.abs() };
    }
    amax
}

/// The f32 scale `d` and the quants of one block, plus the exact sum of the quants.
#[target_feature(enable = "neon")]
#[inline]
fn quantize_block(x: &[f32; QK]) -> (f32, [int8x16_t; 2], i32) {
    let v: [float32x4_t; 8] = core::array::from_fn(|j| {
        let s = &x[4 * j..4 * j + 4];
        // SAFETY: `s` has exactly 4 elements (checked by the range index).
        unsafe { vld1q_f32(s.as_ptr()) }
    });
    // Tree reductions of |v| (max) and of the "not NaN" masks (and).
    let a: [float32x4_t; 8] = core::array::from_fn(|j| vabsq_f32(v[j]));
    let m4 = [
        vmaxq_f32(a[0], a[1]),
        vmaxq_f32(a[2], a[3]),
        vmaxq_f32(a[4], a[5]),
        vmaxq_f32(a[6], a[7]),
    ];
    let amax = vmaxvq_f32(vmaxq_f32(vmaxq_f32(m4[0], m4[1]), vmaxq_f32(m4[2], m4[3])));
    let ord = v.map(|x| vceqq_f32(x, x));
    let o4 = [
        vandq_u32(ord[0], ord[1]),
        vandq_u32(ord[2], ord[3]),
        vandq_u32(ord[4], ord[5]),
        vandq_u32(ord[6], ord[7]),
    ];
    let all_ordered = vminvq_u32(vandq_u32(vandq_u32(o4[0], o4[1]), vandq_u32(o4[2], o4[3])));
    let amax = if all_ordered != 0 {
        amax
    } else {
        amax_in_order(x)
    };

    // The scalar code's exact expressions (`q8_scale`).
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };

    let q32 = v.map(|x| vcvtaq_s32_f32(vmulq_n_f32(x, id)));
    let q16: [int16x8_t; 4] =
        core::array::from_fn(|j| vcombine_s16(vqmovn_s32(q32[2 * j]), vqmovn_s32(q32[2 * j + 1])));
    let q8: [int8x16_t; 2] =
        core::array::from_fn(|j| vcombine_s8(vqmovn_s16(q16[2 * j]), vqmovn_s16(q16[2 * j + 1])));
    // `saddlv` sums 16 int8 into int16 exactly (|sum| <= 2048).
    let sum = i32::from(vaddlvq_s8(q8[0])) + i32::from(vaddlvq_s8(q8[1]));
    (d, q8, sum)
}

/// Stores the 32 quants into `qs`.
#[target_feature(enable = "neon")]
#[inline]
fn store_qs(qs: &mut [i8; QK], q: [int8x16_t; 2]) {
    let (lo, hi) = qs.split_at_mut(16);
    // SAFETY: `lo` and `hi` are unique borrows of exactly 16 elements each; `st1` has no
    // alignment requirement.
    unsafe {
        vst1q_s8(lo.as_mut_ptr(), q[0]);
        vst1q_s8(hi.as_mut_ptr(), q[1]);
    }
}

/// Quantizes the row `x` into `out` as Q8_0, bit-identical to
/// `quantize_blocks::<BlockQ8_0>` (non-finite inputs included).
///
/// # Safety
/// The CPU must support NEON (every aarch64 CPU that runs Linux or Android does). Any
/// slices are fine: all accesses are bounds-checked.
///
/// # Panics
/// If `x.len() != 32 * out.len()`.
#[target_feature(enable = "neon")]
pub(crate) unsafe fn quantize_row_q8_0_neon(x: &[f32], out: &mut [BlockQ8_0]) {
    assert_eq!(x.len(), QK * out.len(), "Q8_0 row: 32 values per block");
    for (xb, o) in x.chunks_exact(QK).zip(out.iter_mut()) {
        let xb: &[f32; QK] = xb.try_into().expect("chunks_exact(32) yields 32 values");
        let (d, q, _) = quantize_block(xb);
        o.d = f32_to_f16(d);
        store_qs(&mut o.qs, q);
    }
}

/// Quantizes the row `x` into `out` as Q8_1 (`s = f16(sum(q) as f32 * d)` with the f32
/// `d`), bit-identical to `quantize_blocks::<BlockQ8_1>` (non-finite inputs included).
///
/// # Safety
/// As [`quantize_row_q8_0_neon`].
///
/// # Panics
/// If `x.len() != 32 * out.len()`.
#[target_feature(enable = "neon")]
pub(crate) unsafe fn quantize_row_q8_1_neon(x: &[f32], out: &mut [BlockQ8_1]) {
    assert_eq!(x.len(), QK * out.len(), "Q8_1 row: 32 values per block");
    for (xb, o) in x.chunks_exact(QK).zip(out.iter_mut()) {
        let xb: &[f32; QK] = xb.try_into().expect("chunks_exact(32) yields 32 values");
        let (d, q, sum) = quantize_block(xb);
        o.d = f32_to_f16(d);
        o.s = f32_to_f16(sum as f32 * d);
        store_qs(&mut o.qs, q);
    }
}
