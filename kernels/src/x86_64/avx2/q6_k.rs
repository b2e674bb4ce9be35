//! Q6_K panels x Q8_0 activations on AVX2: the Q8_0 core ([`super::q8_0`]) with each
//! weight, widened to int16, first multiplied by its sub-block's int8 scale
//! (`_mm256_mullo_epi16`). The products are exact: |(code - 32) * sc| <= 32 * 128 = 4096
//! fits int16, a `madd` pair is at most 2 * 4096 * 128 = 2^20 and a block sum
//! 32 * 4096 * 128 = 2^24, which is
//! [`crate::reference::dot::q6_k_q8_0_block_sum`] (the scale distributes over the sum).

use core::arch::x86_64::{
    __m256i, _mm256_broadcastsi128_si256, _mm256_cvtepi8_epi16, _mm256_mullo_epi16,
    _mm256_set_m128i, _mm256_shuffle_epi8, _mm_cvtepi8_epi16, _mm_loadl_epi64, _mm_loadu_si128,
    _mm_set1_epi16,
};

use super::q8_0::Q8_0Avx2;
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ6Kx4;
use crate::x86_64::format;
use crate::x86_64::panel::{core_tile, Core};

/// The avx2 core of the Q6_K product.
pub(in crate::x86_64) struct Q6KAvx2;

/// The `vpshufb` control that fills the low 128-bit half with int16 word `lo` of a
/// broadcast 8-word vector and the high half with word `hi`.
///
/// # Safety
/// The CPU must support AVX.
#[inline(always)]
unsafe fn pick_words(lo: i16, hi: i16) -> __m256i {
    let control = |w: i16| (2 * w) | ((2 * w + 1) << 8);
    // SAFETY: the caller guarantees AVX.
    unsafe { _mm256_set_m128i(_mm_set1_epi16(control(hi)), _mm_set1_epi16(control(lo))) }
}

impl Core for Q6KAvx2 {
    type F = format::Q6K;
    type APrep = [__m256i; 4];
    /// Panel vectors as in [`Q8_0Avx2`], each int16 weight times its scale.
    type WPrep = [__m256i; 8];
    const PERM: [i32; 8] = Q8_0Avx2::PERM;

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> [__m256i; 4] {
        // SAFETY: the caller's guarantees, forwarded.
        unsafe { Q8_0Avx2::prep_act(a) }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ6Kx4) -> [__m256i; 8] {
        // SAFETY: the caller guarantees AVX2; the 8-byte load reads `p.sc`, each 16-byte
        // load lies inside the 128-byte `p.qs` (k < 8); all are unaligned loads.
        unsafe {
            // Words `4h + r` = scale of row r, half h, in both 128-bit halves.
            let sc = _mm_cvtepi8_epi16(_mm_loadl_epi64(p.sc.as_ptr().cast()));
            let sc = _mm256_broadcastsi128_si256(sc);
            core::array::from_fn(|k| {
                // Vector k = group q = k / 2 (half h = q / 2) of rows 2rp, 2rp + 1.
                let (h, rp) = ((k / 4) as i16, (k % 2) as i16);
                let row0 = 4 * h + 2 * rp;
                let scale = _mm256_shuffle_epi8(sc, pick_words(row0, row0 + 1));
                let w = _mm256_cvtepi8_epi16(_mm_loadu_si128(p.qs.as_ptr().add(16 * k).cast()));
                _mm256_mullo_epi16(w, scale)
            })
        }
    }

    #[inline(always)]
    unsafe fn isum(w: &[__m256i; 8], a: &[__m256i; 4]) -> __m256i {
        // SAFETY: the caller's guarantees, forwarded. Bounds in the module docs.
        unsafe { Q8_0Avx2::isum(w, a) }
    }

    core_tile!("avx2,fma,f16c");
}
