//! Q4_1 panels x Q8_1 activations on AVX2: `maddubs` of the nibble codes (u8, 0..=15) with
//! the activations (i8), summed in int16, then `madd` with ones into int32.
//!
//! Bound: each int16 lane of `maddubs` is `c0 * a0 + c1 * a1` with `0 <= c <= 15` and
//! `-128 <= a <= 127`, so |lane| <= 2 * 15 * 128 = 3840 (no saturation); the sum of the 4
//! `maddubs` is at most 15360 < 32767, so the int16 adds are exact, and `madd` widens
//! to int32 exactly. Each row's block sum `sum(code * a)` is then exact, as in
//! [`crate::reference::dot::q4_1_q8_1_block_sum`].

use core::arch::x86_64::{__m256i, _mm256_madd_epi16, _mm256_set1_epi16};

use super::maddubs4;
use crate::formats::BlockQ8_1;
use crate::pack::BlockQ4_1x4;
use crate::x86_64::format;
use crate::x86_64::operands::{q4_acts, q4_codes, q4_vectors};
use crate::x86_64::panel::{core_tile, Core, PERM_ROWS_IN_ORDER};

/// The avx2 core of the Q4_1 product.
pub(in crate::x86_64) struct Q4_1Avx2;

impl Core for Q4_1Avx2 {
    type F = format::Q4_1;
    type APrep = [__m256i; 4];
    type WPrep = [__m256i; 4];
    const PERM: [i32; 8] = PERM_ROWS_IN_ORDER;

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_1) -> [__m256i; 4] {
        // SAFETY: the caller guarantees AVX2.
        unsafe { q4_acts(&a.qs) }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ4_1x4) -> [__m256i; 4] {
        // SAFETY: the caller guarantees AVX2.
        unsafe { q4_codes(q4_vectors(&p.qs)) }
    }

    #[inline(always)]
    unsafe fn isum(w: &[__m256i; 4], a: &[__m256i; 4]) -> __m256i {
        // SAFETY: the caller guarantees AVX2. Bounds in the module docs.
        unsafe { _mm256_madd_epi16(maddubs4(w, a), _mm256_set1_epi16(1)) }
    }

    core_tile!("avx2,fma,f16c");
}
