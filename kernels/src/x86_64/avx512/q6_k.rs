//! Q6_K panels x Q8_0 activations with VNNI: the Q8_0 core ([`super::q8_0`]) once per half
//! of the block, each half's int32 sums then multiplied by its int8 sub-block scales.
//!
//! `vpdpbusd` wants one unsigned operand: the quants (-32..=31) become `w + 32` (0..=63,
//! exact), and each half's sums start at `-32 * (the activations of the lane in that
//! half)`. Half `h` (values `16h..16h + 16`) is groups `2h` and `2h + 1`, so after two
//! `vpdpbusd` lane `2r + j` holds row `r`'s exact partial sum of bytes `4j..4j + 4` of both
//! groups; `vpmulld` by `sc[4h + r]` in that lane scales it, and the two halves add up to
//! the lanes of [`crate::reference::dot::q6_k_q8_0_block_sum`] (the scale distributes over
//! the sum).
//!
//! Bounds: a start is at most 32 * 8 * 128 = 2^15 in magnitude, a half's lane with its
//! offset at most 8 * 63 * 128 < 2^16, a scaled half lane at most 8 * 32 * 128 * 128 = 2^22:
//! every intermediate is far inside int32, and the row sums (at most 2^24) convert to f32
//! exactly.

use core::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_add_epi8, _mm256_cvtepi8_epi32, _mm256_dpbusd_epi32,
    _mm256_loadu_si256, _mm256_mullo_epi32, _mm256_permute2x128_si256, _mm256_permutevar8x32_epi32,
    _mm256_set1_epi8, _mm256_setr_epi32, _mm256_setzero_si256, _mm256_shuffle_epi32,
    _mm256_sub_epi32, _mm_loadl_epi64,
};

use super::q8_0::Q8_0Vnni;
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ6Kx4;
use crate::x86_64::format;
use crate::x86_64::operands::group_x4;
use crate::x86_64::panel::{core_tile, Core};

/// The avx512 core of the Q6_K product.
pub(in crate::x86_64) struct Q6KVnni;

/// An activation block ready for [`Q6KVnni::isum`].
#[derive(Clone, Copy)]
pub(in crate::x86_64) struct Act {
    /// Group q (8 values) in all four 64-bit lanes.
    groups: [__m256i; 4],
    /// Per half: `-32 * (the activations of each lane in that half)`.
    starts: [__m256i; 2],
}

/// A panel block ready for [`Q6KVnni::isum`].
#[derive(Clone, Copy)]
pub(in crate::x86_64) struct Weights {
    /// Group q of rows 0-3 as `w + 32` (u8).
    groups: [__m256i; 4],
    /// Per half: lane `2r + j` = the int8 scale of row `r` in that half, as int32.
    scales: [__m256i; 2],
}

/// Per half `h`: lane `l` (of 8) = `-32 * (sum of the activations of half h that meet lane
/// l)`, i.e. of bytes `4(l % 2)..4(l % 2) + 4` of groups `2h` and `2h + 1`.
///
/// # Safety
/// The CPU must support AVX2 and AVX512-VNNI/VL.
#[inline(always)]
unsafe fn half_starts(qs: &[i8; 32]) -> [__m256i; 2] {
    // SAFETY: the caller guarantees the features; the load reads the 32 bytes of `qs`.
    unsafe {
        // Lane l = 32 * sum(a[4l..4l + 4]): lanes 0-3 are half 0, lanes 4-7 half 1, each in
        // the order (group 2h, j = 0), (2h, 1), (2h + 1, 0), (2h + 1, 1).
        let c = _mm256_dpbusd_epi32(
            _mm256_setzero_si256(),
            _mm256_set1_epi8(32),
            _mm256_loadu_si256(qs.as_ptr().cast()),
        );
        // Add the other group of the half (the other 64-bit half of each 128-bit half):
        // every lane of parity j of 128-bit half h then holds half h's total for j.
        let y = _mm256_add_epi32(c, _mm256_shuffle_epi32(c, 0x4E));
        let zero = _mm256_setzero_si256();
        [
            _mm256_sub_epi32(zero, _mm256_permute2x128_si256(y, y, 0x00)),
            _mm256_sub_epi32(zero, _mm256_permute2x128_si256(y, y, 0x11)),
        ]
    }
}

impl Core for Q6KVnni {
    type F = format::Q6K;
    type APrep = Act;
    type WPrep = Weights;
    const PERM: [i32; 8] = Q8_0Vnni::PERM;

    #[inline(always)]
    unsafe fn prep_act(a: &BlockQ8_0) -> Act {
        // SAFETY: the caller guarantees the tier; every group index is below 4.
        unsafe {
            Act {
                groups: core::array::from_fn(|q| group_x4(&a.qs, q)),
                starts: half_starts(&a.qs),
            }
        }
    }

    #[inline(always)]
    unsafe fn prep_weights(p: &BlockQ6Kx4) -> Weights {
        // SAFETY: the caller guarantees the tier; each 32-byte load lies inside the
        // 128-byte `p.qs` (q < 4), the 8-byte load is `p.sc`; all are unaligned loads.
        unsafe {
            let offset = _mm256_set1_epi8(32);
            // `sc[4h + r]` as int32 in lane 4h + r, then spread to lanes 2r, 2r + 1.
            let sc = _mm256_cvtepi8_epi32(_mm_loadl_epi64(p.sc.as_ptr().cast()));
            let spread = |h: i32| {
                let r = 4 * h;
                _mm256_setr_epi32(r, r, r + 1, r + 1, r + 2, r + 2, r + 3, r + 3)
            };
            Weights {
                groups: core::array::from_fn(|q| {
                    _mm256_add_epi8(_mm256_loadu_si256(p.qs.as_ptr().add(32 * q).cast()), offset)
                }),
                scales: [
                    _mm256_permutevar8x32_epi32(sc, spread(0)),
                    _mm256_permutevar8x32_epi32(sc, spread(1)),
                ],
            }
        }
    }

    #[inline(always)]
    unsafe fn isum(w: &Weights, a: &Act) -> __m256i {
        // SAFETY: the caller guarantees AVX512-VNNI/VL. Bounds in the module docs.
        unsafe {
            let half = |h: usize| {
                let s = _mm256_dpbusd_epi32(a.starts[h], w.groups[2 * h], a.groups[2 * h]);
                let s = _mm256_dpbusd_epi32(s, w.groups[2 * h + 1], a.groups[2 * h + 1]);
                _mm256_mullo_epi32(s, w.scales[h])
            };
            _mm256_add_epi32(half(0), half(1))
        }
    }

    core_tile!("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni");
}
