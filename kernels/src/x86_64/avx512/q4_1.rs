//! Q4_1 panels x Q8_1 activations with VNNI: `vpdpbusd` of the nibble codes (u8, 0..=15)
//! with the activations (i8), four dependent steps (one per nibble vector) into the int32
//! lanes. Bound: a lane gains 4 products of at most 15 * 128 per step, 16 in all:
//! |lane| <= 30720, exact, as [`crate::reference::dot::q4_1_q8_1_block_sum`].

use core::arch::x86_64::{__m256i, _mm256_setzero_si256};

use super::dpbusd4;
use crate::formats::BlockQ8_1;
use crate::pack::BlockQ4_1x4;
use crate::x86_64::format;
use crate::x86_64::operands::{q4_acts, q4_codes, q4_vectors};
use crate::x86_64::panel::{core_tile, Core, PERM_ROWS_IN_ORDER};

/// The avx512 core of the Q4_1 product.
pub(in crate::x86_64) struct Q4_1Vnni;

impl Core for Q4_1Vnni {
    type F = format::Q4_1;
    type APrep = [__m256i; 4];
    type WPrep = [__m256i; 4];
    const PERM: [i32; 8] = PERM_ROWS_IN_ORDER;

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
        unsafe { dpbusd4(_mm256_setzero_si256(), w, a) }
    }

    core_tile!("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni");
}
