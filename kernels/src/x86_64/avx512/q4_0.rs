//! Q4_0 panels x Q8_0 activations with VNNI. The panel bytes (stored XOR 0x88) are XORed
//! back, so each nibble is the unsigned code 0..=15 that `vpdpbusd` multiplies with the
//! activations (i8); each sum starts at `-8 * (the activations of its lane)`
//! ([`super::neg_offset_sums`]), leaving `sum((code - 8) * a)` per lane, the exact block
//! sum of [`crate::reference::dot::q4_0_q8_0_block_sum`].
//!
//! Bound: the start is at most 8 * 16 * 128 = 16384 in magnitude, each of the 4 steps adds
//! 4 products of at most 15 * 128: every intermediate is far inside int32.

use core::arch::x86_64::{__m256i, _mm256_set1_epi8, _mm256_srli_epi16, _mm256_ternarylogic_epi32};

use super::{dpbusd4, neg_offset_sums, OffsetAct};
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ4_0x4;
use crate::x86_64::format;
use crate::x86_64::operands::{q4_acts, q4_vectors};
use crate::x86_64::panel::{core_tile, Core, PERM_ROWS_IN_ORDER};

/// The avx512 core of the Q4_0 product.
pub(in crate::x86_64) struct Q4_0Vnni;

impl Core for Q4_0Vnni {
    type F = format::Q4_0;
    type APrep = OffsetAct;
    type WPrep = [__m256i; 4];
    const PERM: [i32; 8] = PERM_ROWS_IN_ORDER;

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> OffsetAct {
        // SAFETY: the caller guarantees the tier.
        unsafe {
            OffsetAct {
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
    unsafe fn isum(w: &[__m256i; 4], a: &OffsetAct) -> __m256i {
        // SAFETY: the caller guarantees AVX512-VNNI/VL. Bounds in the module docs.
        unsafe { dpbusd4(a.start, w, &a.groups) }
    }

    core_tile!("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni");
}
