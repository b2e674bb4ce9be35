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

use core::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_set1_epi8, _mm256_xor_si256};

use super::{dpbusd4, neg_offset_sums, OffsetAct};
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ8_0x4;
use crate::x86_64::format;
use crate::x86_64::operands::group_x4;
use crate::x86_64::panel::{core_tile, Core, PERM_ROWS_IN_ORDER};

/// The avx512 core of the Q8_0 product.
pub(in crate::x86_64) struct Q8_0Vnni;

impl Core for Q8_0Vnni {
    type F = format::Q8_0;
    type APrep = OffsetAct;
    /// Group q of rows 0-3 as `w + 128` (u8).
    type WPrep = [__m256i; 4];
    const PERM: [i32; 8] = PERM_ROWS_IN_ORDER;

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> OffsetAct {
        // SAFETY: the caller guarantees the tier; every group index is below 4.
        unsafe {
            OffsetAct {
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
    unsafe fn isum(w: &[__m256i; 4], a: &OffsetAct) -> __m256i {
        // SAFETY: the caller guarantees AVX512-VNNI/VL. Bounds in the module docs.
        unsafe { dpbusd4(a.start, w, &a.groups) }
    }

    core_tile!("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni");
}
