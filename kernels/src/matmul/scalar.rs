//! The scalar tier over x4x8 panels: the reference arithmetic of
//! [`crate::reference::dot`] (same integer sums, same float operations in the same order),
//! reading the repacked layout. Every SIMD tier is tested against the reference through
//! this layout. One panel (4 weight rows) times one activation row per step.

use super::contract::{kernel, quantizer, KernelTable};
use crate::formats::{f16_to_f32, BlockQ8_0, BlockQ8_1};
use crate::pack::{group_offset, BlockQ4_0x4, BlockQ4_1x4, BlockQ6Kx4, BlockQ8_0x4, PANEL_ROWS};

/// See [`super::contract::GemmQ8_0Fn`].
///
/// # Safety
/// None beyond the slice lengths of the contract (checked by [`super::Kernels::gemm`]):
/// plain Rust, `unsafe` only to share the fn-pointer type of the SIMD tiers.
pub(crate) unsafe fn gemm_q8_0x4x8_q8_0_4x1_scalar(
    w: &[BlockQ8_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    for (g, panel) in w.chunks_exact(kb).enumerate() {
        for i in 0..m {
            let act = &a[i * kb..(i + 1) * kb];
            for r in 0..PANEL_ROWS {
                let mut sumf = 0.0f32;
                for (p, x) in panel.iter().zip(act) {
                    let mut sumi = 0i32;
                    for q in 0..4 {
                        let at = group_offset(q, r);
                        for j in 0..8 {
                            sumi += i32::from(p.qs[at + j]) * i32::from(x.qs[8 * q + j]);
                        }
                    }
                    sumf += sumi as f32 * (p.d[r] * f16_to_f32(x.d));
                }
                out[i * ldo + g * PANEL_ROWS + r] = sumf;
            }
        }
    }
}

/// The exact integer sum of one Q4_0 panel row (stored XOR 0x88) with a Q8_0 block.
#[inline]
fn q4_0_row_sum(p: &BlockQ4_0x4, r: usize, x: &BlockQ8_0) -> i32 {
    let mut sum16 = 0i32; // every term is 16 * (code - 8) * q
    for q in 0..2 {
        let at = group_offset(q, r);
        for j in 0..8 {
            let b = p.qs[at + j];
            let lo = i32::from((b << 4) as i8);
            let hi = i32::from((b & 0xF0) as i8);
            sum16 += lo * i32::from(x.qs[8 * q + j]) + hi * i32::from(x.qs[16 + 8 * q + j]);
        }
    }
    sum16 >> 4 // exact: a multiple of 16
}

/// See [`super::contract::GemmQ4_0Fn`].
///
/// # Safety
/// None beyond the slice lengths of the contract (checked by [`super::Kernels::gemm`]):
/// plain Rust, `unsafe` only to share the fn-pointer type of the SIMD tiers.
pub(crate) unsafe fn gemm_q4_0x4x8_q8_0_4x1_scalar(
    w: &[BlockQ4_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    for (g, panel) in w.chunks_exact(kb).enumerate() {
        for i in 0..m {
            let act = &a[i * kb..(i + 1) * kb];
            for r in 0..PANEL_ROWS {
                let mut sumf = 0.0f32;
                for (p, x) in panel.iter().zip(act) {
                    sumf += q4_0_row_sum(p, r, x) as f32 * p.d[r] * f16_to_f32(x.d);
                }
                out[i * ldo + g * PANEL_ROWS + r] = sumf;
            }
        }
    }
}

/// See [`super::contract::GemmQ4_1Fn`].
///
/// # Safety
/// None beyond the slice lengths of the contract (checked by [`super::Kernels::gemm`]):
/// plain Rust, `unsafe` only to share the fn-pointer type of the SIMD tiers.
pub(crate) unsafe fn gemm_q4_1x4x8_q8_1_4x1_scalar(
    w: &[BlockQ4_1x4],
    kb: usize,
    a: &[BlockQ8_1],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    for (g, panel) in w.chunks_exact(kb).enumerate() {
        for i in 0..m {
            let act = &a[i * kb..(i + 1) * kb];
            for r in 0..PANEL_ROWS {
                let mut sumf = 0.0f32;
                for (p, x) in panel.iter().zip(act) {
                    let mut sumi = 0i32;
                    for q in 0..2 {
                        let at = group_offset(q, r);
                        for j in 0..8 {
                            let b = p.qs[at + j];
                            sumi += i32::from(b & 0x0F) * i32::from(x.qs[8 * q + j])
                                + i32::from(b >> 4) * i32::from(x.qs[16 + 8 * q + j]);
                        }
                    }
                    let scaled = (p.d[r] * f16_to_f32(x.d)) * sumi as f32;
                    sumf += scaled + p.m[r] * f16_to_f32(x.s);
                }
                out[i * ldo + g * PANEL_ROWS + r] = sumf;
            }
        }
    }
}

/// See [`super::contract::GemmQ6KFn`]: each row's two sub-block sums of 16 scaled by their int8
/// scales, then the Q8_0 float stage.
///
/// # Safety
/// None beyond the slice lengths of the contract (checked by [`super::Kernels::gemm`]):
/// plain Rust, `unsafe` only to share the fn-pointer type of the SIMD tiers.
pub(crate) unsafe fn gemm_q6_kx4x8_q8_0_4x1_scalar(
    w: &[BlockQ6Kx4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    for (g, panel) in w.chunks_exact(kb).enumerate() {
        for i in 0..m {
            let act = &a[i * kb..(i + 1) * kb];
            for r in 0..PANEL_ROWS {
                let mut sumf = 0.0f32;
                for (p, x) in panel.iter().zip(act) {
                    let mut sumi = 0i32;
                    for h in 0..2 {
                        let mut sub = 0i32;
                        for q in 2 * h..2 * h + 2 {
                            let at = group_offset(q, r);
                            for j in 0..8 {
                                sub += i32::from(p.qs[at + j]) * i32::from(x.qs[8 * q + j]);
                            }
                        }
                        sumi += i32::from(p.sc[4 * h + r]) * sub;
                    }
                    sumf += sumi as f32 * (p.d[r] * f16_to_f32(x.d));
                }
                out[i * ldo + g * PANEL_ROWS + r] = sumf;
            }
        }
    }
}

/// Q8_0 activation quantizer of the scalar tier: [`crate::formats::quantize_blocks`].
///
/// # Safety
/// None beyond the signature (unsafe only to fit [`super::contract::QuantizeQ8_0Fn`]); the caller
/// passes `x.len() == 32 * out.len()`.
pub(crate) unsafe fn quantize_row_q8_0_scalar(x: &[f32], out: &mut [BlockQ8_0]) {
    if let Err(e) = crate::formats::quantize_blocks(x, out) {
        unreachable!("Q8_0 row of {} values: {e}", x.len());
    }
}

/// Q8_1 activation quantizer of the scalar tier.
///
/// # Safety
/// As [`quantize_row_q8_0_scalar`].
pub(crate) unsafe fn quantize_row_q8_1_scalar(x: &[f32], out: &mut [BlockQ8_1]) {
    if let Err(e) = crate::formats::quantize_blocks(x, out) {
        unreachable!("Q8_1 row of {} values: {e}", x.len());
    }
}

/// The table every tier starts from: a scalar entry for every product and quantizer.
pub(crate) fn table() -> KernelTable {
    KernelTable {
        q8_0: kernel!(gemm_q8_0x4x8_q8_0_4x1_scalar, 4 x 1, gemv 4),
        q4_0: kernel!(gemm_q4_0x4x8_q8_0_4x1_scalar, 4 x 1, gemv 4),
        q4_1: kernel!(gemm_q4_1x4x8_q8_1_4x1_scalar, 4 x 1, gemv 4),
        q6_k: kernel!(gemm_q6_kx4x8_q8_0_4x1_scalar, 4 x 1, gemv 4),
        quantize_q8_0: quantizer!(quantize_row_q8_0_scalar),
        quantize_q8_1: quantizer!(quantize_row_q8_1_scalar),
    }
}
