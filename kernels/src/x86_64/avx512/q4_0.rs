//! Q4_0 panels x Q8_0 activations with VNNI. The panel bytes (stored XOR 0x88) are XORed
//! back, so each nibble is the unsigned code 0..=15 that `vpdpbusd` multiplies with the
//! activations (i8); each sum starts at `-8 * (the activations of its lane)`
//! ([`super::neg_offset_sums`]), leaving `sum((code - 8) * a)` per lane, the exact block
//! sum of [`crate::reference::dot::q4_0_q8_0_block_sum`].
//!
//! Bound: the start is at most 8 * 16 * 128 = 16384 in magnitude, each of the 4 steps adds
//! 4 products of at most 15 * 128: every intermediate is far inside int32.

use core::arch::x86_64::{
    __m256i, _mm256_dpbusd_epi32, _mm256_set1_epi8, _mm256_srli_epi16, _mm256_ternarylogic_epi32,
};

use super::neg_offset_sums;
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ4_0x4;
use crate::x86_64::format;
use crate::x86_64::operands::{q4_acts, q4_vectors};
use crate::x86_64::panel::{self, Core};

/// The avx512 core of the Q4_0 product.
pub(in crate::x86_64) struct Q4_0Vnni;

/// An activation block ready for [`Q4_0Vnni::isum`].
#[derive(Clone, Copy)]
pub(in crate::x86_64) struct Act {
    /// See [`crate::x86_64::operands::q4_acts`].
    groups: [__m256i; 4],
    /// `-8 * (the activations of each lane)`.
    start: __m256i,
}

impl Core for Q4_0Vnni {
    type F = format::Q4_0;
    type APrep = Act;
    type WPrep = [__m256i; 4];
    // `[r0 r0 r1 r1 | r2 r2 r3 r3]` per item; `hadd` gives `[x0 x1 y0 y1 | x2 x3 y2 y3]`.
    const PERM: [i32; 8] = [0, 1, 4, 5, 2, 3, 6, 7];

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> Act {
        // SAFETY: the caller guarantees the tier.
        unsafe {
            Act {
                groups: q4_acts(&a.qs),
                start: neg_offset_sums(&a.qs, 8),
            }
        }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ4_0x4) -> [__m256i; 4] {
        // SAFETY: the caller guarantees the tier.
        unsafe {
            let [v0, v1] = q4_vectors(&p.qs);
            let (low, bit3) = (_mm256_set1_epi8(0x0F), _mm256_set1_epi8(0x08));
            // `(x & 0x0F) ^ 0x08` in one vpternlogd (truth table 0x6A): the low nibble of
            // each byte with the panel's XOR 0x88 undone, i.e. the code 0..=15. The 16-bit
            // shift brings the high nibbles down first, as in `operands::q4_codes`.
            let code = |x| _mm256_ternarylogic_epi32::<0x6A>(x, low, bit3);
            [
                code(v0),
                code(_mm256_srli_epi16::<4>(v0)),
                code(v1),
                code(_mm256_srli_epi16::<4>(v1)),
            ]
        }
    }

    #[inline(always)]
    unsafe fn isum(w: &[__m256i; 4], a: &Act) -> __m256i {
        // SAFETY: the caller guarantees AVX512-VNNI/VL. Bounds in the module docs.
        unsafe {
            w.iter()
                .zip(&a.groups)
                .fold(a.start, |s, (&w, &x)| _mm256_dpbusd_epi32(s, w, x))
        }
    }

    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn tile<const G: usize, const MR: usize>(
        w: &[BlockQ4_0x4],
        kb: usize,
        a: &[BlockQ8_0],
        out: &mut [f32],
        ldo: usize,
    ) {
        // SAFETY: this function is compiled with (and its caller guarantees) the tier.
        unsafe { panel::tile::<Self, G, MR>(w, kb, a, out, ldo) }
    }
}
