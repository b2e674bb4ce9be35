//! The avx2 tier (AVX2 + FMA + F16C): x4x8 weight panels times int8 activation rows,
//! bit-identical with the scalar tier ([`crate::matmul::scalar`]).
//!
//! Kernels `gemm_{q8_0,q4_0,q6_k}x4x8_q8_0_4x4_avx2` and `gemm_q4_1x4x8_q8_1_4x4_avx2`: GEMM tile 4
//! weight rows (one panel) x 4 activation rows (tails 2, 3), GEMV (one activation row,
//! decode) tile 16 weight rows (4 panels) x 1. The loop nest, the reduction to one lane per
//! output and the float stage are [`panel`], shared with the avx512 tier; this file and its
//! per-format files only say how a panel block meets an activation block in int32.
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

pub(super) mod panel;
mod q4_0;
mod q4_1;
pub(super) mod q6_k;
mod q8_0;

use core::arch::x86_64::{__m256i, _mm256_set1_epi64x};

use crate::matmul::contract::{kernel, KernelTable};
use panel::panel_kernel;

/// GEMM tile width in row groups (16 registers: one panel, 4 activation rows).
const GEMM_GROUPS: usize = 1;

panel_kernel!(gemm_q8_0x4x8_q8_0_4x4_avx2, q8_0::Q8_0Avx2, GEMM_GROUPS);
panel_kernel!(gemm_q4_0x4x8_q8_0_4x4_avx2, q4_0::Q4_0Avx2, GEMM_GROUPS);
panel_kernel!(gemm_q4_1x4x8_q8_1_4x4_avx2, q4_1::Q4_1Avx2, GEMM_GROUPS);
panel_kernel!(gemm_q6_kx4x8_q8_0_4x4_avx2, q6_k::Q6KAvx2, GEMM_GROUPS);

/// Installs the avx2 kernels: GEMM tiles of 4 weight rows x 4 activation rows, GEMV 16
/// weight rows.
pub(crate) fn install(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0_4x4_avx2, 4 x 4, gemv 16);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0_4x4_avx2, 4 x 4, gemv 16);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1_4x4_avx2, 4 x 4, gemv 16);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0_4x4_avx2, 4 x 4, gemv 16);
}

/// Activation group `q` (values `8q..8q + 8`) of `qs` in all four 64-bit lanes: the
/// operand that meets a 32-byte vector of 4 panel rows' group `q`.
///
/// # Safety
/// The CPU must support AVX; `q < 4`.
#[inline(always)]
pub(super) unsafe fn group_x4(qs: &[i8; 32], q: usize) -> __m256i {
    debug_assert!(q < 4);
    // SAFETY: `q < 4`, so the 8 bytes at `8q` lie inside the array; the read is unaligned.
    unsafe {
        let g = qs.as_ptr().add(8 * q).cast::<i64>().read_unaligned();
        _mm256_set1_epi64x(g)
    }
}

/// The 32-byte vectors `[rows 0-3 of group q]` of a panel's 64 Q4 bytes, q = 0, 1.
///
/// # Safety
/// The CPU must support AVX.
#[inline(always)]
pub(super) unsafe fn q4_vectors(qs: &[u8; 64]) -> [__m256i; 2] {
    use core::arch::x86_64::_mm256_loadu_si256;
    // SAFETY: both 32-byte loads lie inside the 64-byte array; they are unaligned loads.
    unsafe {
        [
            _mm256_loadu_si256(qs.as_ptr().cast()),
            _mm256_loadu_si256(qs.as_ptr().add(32).cast()),
        ]
    }
}

/// The nibble codes (0..=15, one per byte) of Q4 panel vectors `v`, in the order the
/// activations of [`q4_acts`] come: `[lo(v0), hi(v0), lo(v1), hi(v1)]` = values
/// `0..8, 16..24, 8..16, 24..32` of each of the 4 rows.
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
pub(super) unsafe fn q4_codes(v: [__m256i; 2]) -> [__m256i; 4] {
    use core::arch::x86_64::{_mm256_and_si256, _mm256_set1_epi8, _mm256_srli_epi16};
    // SAFETY: the caller guarantees AVX2. The 16-bit shift moves the high nibble of each
    // byte down (bits of the neighbouring byte land in bits 4-7 and are masked off).
    unsafe {
        let m = _mm256_set1_epi8(0x0F);
        [
            _mm256_and_si256(v[0], m),
            _mm256_and_si256(_mm256_srli_epi16(v[0], 4), m),
            _mm256_and_si256(v[1], m),
            _mm256_and_si256(_mm256_srli_epi16(v[1], 4), m),
        ]
    }
}

/// The activation operands that meet [`q4_codes`]: groups 0, 2, 1, 3 of `qs`.
///
/// # Safety
/// The CPU must support AVX.
#[inline(always)]
pub(super) unsafe fn q4_acts(qs: &[i8; 32]) -> [__m256i; 4] {
    // SAFETY: the caller guarantees AVX; every group index is below 4.
    unsafe {
        [
            group_x4(qs, 0),
            group_x4(qs, 2),
            group_x4(qs, 1),
            group_x4(qs, 3),
        ]
    }
}
