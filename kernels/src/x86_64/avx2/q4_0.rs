//! Q4_0 panels x Q8_0 activations on AVX2. The panel bytes (stored XOR 0x88) are XORed back,
//! so each nibble is the unsigned code 0..=15; `maddubs` multiplies codes with activations
//! and the term `8 * sum(a)` is subtracted in int16 before `madd` with ones widens to
//! int32, leaving `sum((code - 8) * a)`, the exact block sum of
//! [`crate::reference::dot::q4_0_q8_0_block_sum`].
//!
//! Bounds (int16 lanes, each covering one activation pair position t of 4 combos of
//! (8-value group, nibble half)): one `maddubs` lane is at most 2 * 15 * 128 = 3840 in
//! magnitude, the sum of 4 at most 15360; the correction lane is `8 * (4 pairs)` at most
//! 8 * 8 * 128 = 8192; their difference, the true `sum((code - 8) * a)` of the lane, is at
//! most 8 * 8 * 128 = 8192. Every intermediate fits int16, so nothing wraps or saturates.
//! Why not the `x16` trick of the panel layout (`shl 4` gives `16 * (code - 8)` as i8):
//! `maddubs` needs one operand unsigned, and |16 * -8| * |-128| * 2 = 32768 saturates.

use core::arch::x86_64::{
    __m256i, _mm256_add_epi16, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_maddubs_epi16,
    _mm256_permute2x128_si256, _mm256_set1_epi16, _mm256_set1_epi8, _mm256_shuffle_epi32,
    _mm256_sub_epi16, _mm256_xor_si256,
};

use super::maddubs4;
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ4_0x4;
use crate::x86_64::format;
use crate::x86_64::operands::{q4_acts, q4_codes, q4_vectors};
use crate::x86_64::panel::{core_tile, Core, PERM_ROWS_IN_ORDER};

/// The avx2 core of the Q4_0 product.
pub(in crate::x86_64) struct Q4_0Avx2;

/// An activation block ready for [`Q4_0Avx2::isum`].
#[derive(Clone, Copy)]
pub(in crate::x86_64) struct Act {
    /// See [`crate::x86_64::operands::q4_acts`].
    groups: [__m256i; 4],
    /// int16 lane `4r + t` (every row `r`): `8 * sum` of activation pair `t` of all four
    /// 8-value groups, the lane-exact image of the code sums.
    corr: __m256i,
}

impl Core for Q4_0Avx2 {
    type F = format::Q4_0;
    type APrep = Act;
    type WPrep = [__m256i; 4];
    const PERM: [i32; 8] = PERM_ROWS_IN_ORDER;

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> Act {
        // SAFETY: the caller guarantees AVX2; the 32-byte load reads `a.qs`.
        unsafe {
            // Lane 4k + t: 8 * (pair t of group k), k = 0..3 (values 8k..8k + 8).
            let x = _mm256_maddubs_epi16(
                _mm256_set1_epi8(8),
                _mm256_loadu_si256(a.qs.as_ptr().cast()),
            );
            // Sum over k, into every 64-bit lane: add the other 128-bit half (k + 2), then
            // the other 64-bit half (k ^ 1). |lane| <= 4 * 2 * 8 * 128 = 8192.
            let y = _mm256_add_epi16(x, _mm256_permute2x128_si256(x, x, 0x01));
            let corr = _mm256_add_epi16(y, _mm256_shuffle_epi32(y, 0x4E));
            Act {
                groups: q4_acts(&a.qs),
                corr,
            }
        }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ4_0x4) -> [__m256i; 4] {
        // SAFETY: the caller guarantees AVX2.
        unsafe {
            let [v0, v1] = q4_vectors(&p.qs);
            let x = _mm256_set1_epi8(0x88u8 as i8);
            q4_codes([_mm256_xor_si256(v0, x), _mm256_xor_si256(v1, x)])
        }
    }

    #[inline(always)]
    unsafe fn isum(w: &[__m256i; 4], a: &Act) -> __m256i {
        // SAFETY: the caller guarantees AVX2. Bounds in the module docs.
        unsafe {
            let s = _mm256_sub_epi16(maddubs4(w, &a.groups), a.corr);
            _mm256_madd_epi16(s, _mm256_set1_epi16(1))
        }
    }

    core_tile!("avx2,fma,f16c");
}
