//! The avx2 tier (AVX2 + FMA + F16C): x4x8 weight panels times int8 activation rows,
//! bit-identical with the scalar tier ([`crate::matmul::scalar`]).
//!
//! Kernels `gemm_{q8_0,q4_0,q6_k}x4x8_q8_0_4x4_avx2` and `gemm_q4_1x4x8_q8_1_4x4_avx2`: GEMM tile 4
//! weight rows (one panel) x 4 activation rows (tails 2, 3), GEMV (one activation row,
//! decode) tile 16 weight rows (4 panels) x 1. The loop nest and the reduction to one lane
//! per output ([`super::panel`]), the float stage ([`super::format`]) and the operand
//! loaders ([`super::operands`]) are the shared x86 layer; this file and its per-format
//! files only say how a panel block meets an activation block in int32.
//!
//! Exactness: x86 has no int8 x int8 dot product before VNNI, and the usual
//! `_mm256_maddubs_epi16` (u8 x i8, pairs summed into a SATURATING int16) plus the sign
//! trick is not exact for our inputs (|w| = |a| = 128 gives 2 * 128 * 128 = 32768 > i16,
//! and `_mm256_sign_epi8` cannot negate -128). So:
//! - Q8_0 widens both sides to int16 (`vpmovsxbw`) and uses `_mm256_madd_epi16` (i16 x i16,
//!   pairs summed into int32): every product fits, nothing saturates ([`q8_0`]).
//! - Q6_K panels hold int8 quants: the Q8_0 path, each widened weight first multiplied by
//!   its sub-block scale in int16 ([`q6_k`]).
//! - Q4_0 / Q4_1 feed `maddubs` the UNSIGNED nibble codes 0..=15 (Q4_0: un-XORed), so a
//!   pair is at most 2 * 15 * 128 = 3840 in magnitude; Q4_0 subtracts `8 * sum(a)` in int16
//!   ([`q4_0`], [`q4_1`]).
//!
//! Nothing here allocates; all loads stay inside the blocks passed in.

mod q4_0;
mod q4_1;
mod q6_k;
mod q8_0;

use core::arch::x86_64::{__m256i, _mm256_add_epi16, _mm256_maddubs_epi16};

use super::panel::panel_kernel;
use crate::matmul::contract::{kernel, KernelTable};

/// GEMM tile width in row groups (16 registers: one panel, 4 activation rows).
const GEMM_GROUPS: usize = 1;

panel_kernel!(gemm_q8_0x4x8_q8_0_4x4_avx2, q8_0::Q8_0Avx2, GEMM_GROUPS);
panel_kernel!(gemm_q4_0x4x8_q8_0_4x4_avx2, q4_0::Q4_0Avx2, GEMM_GROUPS);
panel_kernel!(gemm_q4_1x4x8_q8_1_4x4_avx2, q4_1::Q4_1Avx2, GEMM_GROUPS);
panel_kernel!(gemm_q6_kx4x8_q8_0_4x4_avx2, q6_k::Q6KAvx2, GEMM_GROUPS);

/// The int16 sums of the four Q4 code vectors `w` (u8, 0..=15) times their activation
/// operands `x` (i8): `(w0 x0 + w1 x1) + (w2 x2 + w3 x3)` by `vpmaddubsw`, each int16 lane
/// at most 4 * 2 * 15 * 128 = 15360 in magnitude, so nothing saturates or wraps.
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
unsafe fn maddubs4(w: &[__m256i; 4], x: &[__m256i; 4]) -> __m256i {
    // SAFETY: the caller guarantees AVX2.
    unsafe {
        let p0 = _mm256_add_epi16(
            _mm256_maddubs_epi16(w[0], x[0]),
            _mm256_maddubs_epi16(w[1], x[1]),
        );
        let p1 = _mm256_add_epi16(
            _mm256_maddubs_epi16(w[2], x[2]),
            _mm256_maddubs_epi16(w[3], x[3]),
        );
        _mm256_add_epi16(p0, p1)
    }
}

/// Installs the avx2 kernels: GEMM tiles of 4 weight rows x 4 activation rows, GEMV 16
/// weight rows.
pub(crate) fn install(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0_4x4_avx2, 4 x 4, gemv 16);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0_4x4_avx2, 4 x 4, gemv 16);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1_4x4_avx2, 4 x 4, gemv 16);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0_4x4_avx2, 4 x 4, gemv 16);
}

#[cfg(test)]
mod tests {
    use crate::dispatch::Isa;

    #[test]
    fn empty_k_writes_nothing() {
        if !Isa::Avx2.is_available() {
            return;
        }
        let mut out = [1.0f32; 8];
        // SAFETY: AVX2 is available (checked above); nothing is read or written.
        unsafe { super::gemm_q8_0x4x8_q8_0_4x4_avx2(&[], 0, &[], 2, &mut out, 4) };
        assert_eq!(out, [1.0; 8]);
    }
}
