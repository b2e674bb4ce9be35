//! Q8_0 panels x Q8_0 activations with VNNI. `vpdpbusd` wants one unsigned operand: the
//! weights become `w ^ 0x80 = w + 128` (0..=255, exact), so a lane sums
//! `(w + 128) * a = w * a + 128 * a`, and each sum starts at `-128 * (the activations of its
//! lane)` ([`super::neg_offset_sums`]), leaving `sum(w * a)` per lane, the exact block sum of
//! [`crate::reference::dot::q8_0_q8_0_block_sum`]. (Offsetting the activations instead would
//! need a per-row weight sum; the activation sum is shared by every panel of a tile.)
//!
//! Bound: the start is at most 128 * 16 * 128 = 2^18 in magnitude, each of the 4 steps adds
//! 4 products of at most 255 * 128: every intermediate is far inside int32 (and `vpdpbusd`
//! never saturates).

use core::arch::x86_64::{
    __m256i, _mm256_dpbusd_epi32, _mm256_loadu_si256, _mm256_set1_epi8, _mm256_xor_si256,
};

use super::neg_offset_sums;
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ8_0x4;
use crate::x86_64::format;
use crate::x86_64::operands::group_x4;
use crate::x86_64::panel::{self, Core};

/// The avx512 core of the Q8_0 product.
pub(in crate::x86_64) struct Q8_0Vnni;

/// An activation block ready for [`Q8_0Vnni::isum`].
#[derive(Clone, Copy)]
pub(in crate::x86_64) struct Act {
    /// Group q (8 values) in all four 64-bit lanes.
    groups: [__m256i; 4],
    /// `-128 * (the activations of each lane)`.
    start: __m256i,
}

impl Core for Q8_0Vnni {
    type F = format::Q8_0;
    type APrep = Act;
    /// Group q of rows 0-3 as `w + 128` (u8).
    type WPrep = [__m256i; 4];
    // `[r0 r0 r1 r1 | r2 r2 r3 r3]` per item; `hadd` gives `[x0 x1 y0 y1 | x2 x3 y2 y3]`.
    const PERM: [i32; 8] = [0, 1, 4, 5, 2, 3, 6, 7];

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> Act {
        // SAFETY: the caller guarantees the tier; every group index is below 4.
        unsafe {
            Act {
                groups: core::array::from_fn(|q| group_x4(&a.qs, q)),
                start: neg_offset_sums(&a.qs, 0x80),
            }
        }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ8_0x4) -> [__m256i; 4] {
        // SAFETY: the caller guarantees the tier; each 32-byte load lies inside the
        // 128-byte `p.qs` (q < 4) and is unaligned.
        unsafe {
            let x = _mm256_set1_epi8(0x80u8 as i8);
            core::array::from_fn(|q| {
                _mm256_xor_si256(_mm256_loadu_si256(p.qs.as_ptr().add(32 * q).cast()), x)
            })
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
        w: &[BlockQ8_0x4],
        kb: usize,
        a: &[BlockQ8_0],
        out: &mut [f32],
        ldo: usize,
    ) {
        // SAFETY: this function is compiled with (and its caller guarantees) the tier.
        unsafe { panel::tile::<Self, G, MR>(w, kb, a, out, ldo) }
    }
}
