//! Q8_0 panels x Q8_0 activations on AVX2: both sides widened to int16 (`vpmovsxbw`), then
//! `_mm256_madd_epi16` (i16 x i16, adjacent pairs summed into int32).
//!
//! Why not `maddubs`: it needs one unsigned operand; with the sign trick the pair
//! 2 * 128 * 128 = 32768 saturates int16 and `sign_epi8` cannot negate -128, and with an
//! offset (w + 128, 0..=255) a pair reaches 2 * 255 * 128. Here each int32 lane of `madd`
//! is at most 2 * 128 * 128 = 32768 in magnitude (its one overflow, both pairs
//! -32768 * -32768, needs int16 inputs int8 cannot give), and a block sum at most
//! 32 * 128 * 128 = 2^19: exact, as [`crate::reference::dot::q8_0_q8_0_block_sum`].

use core::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_cvtepi8_epi16, _mm256_hadd_epi32, _mm256_madd_epi16,
    _mm_loadu_si128, _mm_set1_epi64x,
};

use crate::formats::BlockQ8_0;
use crate::pack::BlockQ8_0x4;
use crate::x86_64::format;
use crate::x86_64::panel::{core_tile, Core};

/// The avx2 core of the Q8_0 product.
pub(in crate::x86_64) struct Q8_0Avx2;

impl Core for Q8_0Avx2 {
    type F = format::Q8_0;
    /// Activation group q (8 values) as int16 in both 128-bit halves.
    type APrep = [__m256i; 4];
    /// Panel vector `2q` (rows 0-1 of group q) and `2q + 1` (rows 2-3) as int16.
    type WPrep = [__m256i; 8];
    // `[r0 r0 r2 r2 | r1 r1 r3 r3]` per item; `hadd` gives `[x0 x2 y0 y2 | x1 x3 y1 y3]`.
    const PERM: [i32; 8] = [0, 4, 1, 5, 2, 6, 3, 7];

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> [__m256i; 4] {
        // SAFETY: the caller guarantees AVX2; each 8-byte read lies inside `a.qs` (q < 4)
        // and is unaligned.
        unsafe {
            core::array::from_fn(|q| {
                let g = a.qs.as_ptr().add(8 * q).cast::<i64>().read_unaligned();
                _mm256_cvtepi8_epi16(_mm_set1_epi64x(g))
            })
        }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ8_0x4) -> [__m256i; 8] {
        // SAFETY: the caller guarantees AVX2; each 16-byte load lies inside the 128-byte
        // `p.qs` (k < 8) and is unaligned.
        unsafe {
            core::array::from_fn(|k| {
                _mm256_cvtepi8_epi16(_mm_loadu_si128(p.qs.as_ptr().add(16 * k).cast()))
            })
        }
    }

    #[inline(always)]
    unsafe fn isum(w: &[__m256i; 8], a: &[__m256i; 4]) -> __m256i {
        // SAFETY: the caller guarantees AVX2. Bounds in the module docs.
        unsafe {
            let mut r01 = _mm256_madd_epi16(w[0], a[0]);
            let mut r23 = _mm256_madd_epi16(w[1], a[0]);
            for q in 1..4 {
                r01 = _mm256_add_epi32(r01, _mm256_madd_epi16(w[2 * q], a[q]));
                r23 = _mm256_add_epi32(r23, _mm256_madd_epi16(w[2 * q + 1], a[q]));
            }
            // `[r0 x4 | r1 x4]`, `[r2 x4 | r3 x4]` -> `[r0 r0 r2 r2 | r1 r1 r3 r3]`.
            _mm256_hadd_epi32(r01, r23)
        }
    }

    core_tile!("avx2,fma,f16c");
}
