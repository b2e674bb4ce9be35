//! Q4_1 panels x Q8_1 activations with VNNI: `vpdpbusd` of the nibble codes (u8, 0..=15)
//! with the activations (i8), four dependent steps (one per nibble vector) into the int32
//! lanes. Bound: a lane gains 4 products of at most 15 * 128 per step, 16 in all:
//! |lane| <= 30720, exact, as [`crate::reference::dot::q4_1_q8_1_block_sum`].

use core::arch::x86_64::{__m256i, _mm256_dpbusd_epi32, _mm256_setzero_si256};

use crate::formats::BlockQ8_1;
use crate::pack::BlockQ4_1x4;
use crate::x86_64::format;
use crate::x86_64::operands::{q4_acts, q4_codes, q4_vectors};
use crate::x86_64::panel::{self, Core};

/// The avx512 core of the Q4_1 product.
pub(in crate::x86_64) struct Q4_1Vnni;

impl Core for Q4_1Vnni {
    type F = format::Q4_1;
    type APrep = [__m256i; 4];
    type WPrep = [__m256i; 4];
    // `[r0 r0 r1 r1 | r2 r2 r3 r3]` per item; `hadd` gives `[x0 x1 y0 y1 | x2 x3 y2 y3]`.
    const PERM: [i32; 8] = [0, 1, 4, 5, 2, 3, 6, 7];

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_1) -> [__m256i; 4] {
        // SAFETY: the caller guarantees the tier.
        unsafe { q4_acts(&a.qs) }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ4_1x4) -> [__m256i; 4] {
        // SAFETY: the caller guarantees the tier.
        unsafe { q4_codes(q4_vectors(&p.qs)) }
    }

    #[inline(always)]
    unsafe fn isum(w: &[__m256i; 4], a: &[__m256i; 4]) -> __m256i {
        // SAFETY: the caller guarantees AVX512-VNNI/VL. Bounds in the module docs.
        unsafe {
            w.iter().zip(a).fold(_mm256_setzero_si256(), |s, (&w, &x)| {
                _mm256_dpbusd_epi32(s, w, x)
            })
        }
    }

    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")]
    unsafe fn tile<const G: usize, const MR: usize>(
        w: &[BlockQ4_1x4],
        kb: usize,
        a: &[BlockQ8_1],
        out: &mut [f32],
        ldo: usize,
    ) {
        // SAFETY: this function is compiled with (and its caller guarantees) the tier.
        unsafe { panel::tile::<Self, G, MR>(w, kb, a, out, ldo) }
    }
}
