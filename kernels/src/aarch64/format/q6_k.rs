//! Q6_K panels (int8 quants `code - 32`, two int8 scales per row and K block) x Q8_0
//! activations: `isum = sc0 * dot(values 0..16) + sc1 * dot(values 16..32)` in int32
//! (exact: at most 2^24), then `sumf += isum as f32 * (dw * da)` per block and row.
//!
//! The tiles scale the sums of groups 0-1 by `sc0` before they sum groups 2-3
//! ([`Format::SCALED_HALVES`]).

use core::arch::aarch64::{
    float32x4_t, int32x4_t, int8x16_t, vaddq_f32, vcvtq_f32_s32, vdupq_laneq_s64, vget_low_s16,
    vld1_s8, vld1q_f32, vmlaq_s32, vmovl_high_s16, vmovl_s16, vmovl_s8, vmulq_f32, vmulq_s32,
    vreinterpretq_s32_s64, vreinterpretq_s64_s32,
};

use super::{dup_pair, int8_panel_vectors, Format, Q8_0};
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ6Kx4;

/// Q6_K weights (the panels' quants are int8 already, as Q8_0's).
pub(crate) struct Q6K;

/// The weight scales of one float-stage vector in the tile's lane pattern: `d` as f32 and
/// the two halves' int8 scales as int32.
#[derive(Clone, Copy)]
pub(crate) struct SubScales {
    d: float32x4_t,
    sc0: int32x4_t,
    sc1: int32x4_t,
}

/// The panel's sub-block scales `[sc0, sc1]` (values 0..16 and 16..32) of rows 0-3 as
/// int32.
///
/// # Safety
/// The CPU must support NEON.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn half_scales(p: &BlockQ6Kx4) -> [int32x4_t; 2] {
    // SAFETY: `p.sc` is exactly the 8 bytes read; `ld1` has no alignment requirement.
    let sc = vmovl_s8(unsafe { vld1_s8(p.sc.as_ptr()) });
    [vmovl_s16(vget_low_s16(sc)), vmovl_high_s16(sc)]
}

impl Format for Q6K {
    type Panel = BlockQ6Kx4;
    type Act = BlockQ8_0;
    type WScales = SubScales;
    type AScales = float32x4_t;
    const SCALED_HALVES: bool = true;

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn weights(p: &BlockQ6Kx4) -> [int8x16_t; 8] {
        // SAFETY: NEON is guaranteed by the caller.
        unsafe { int8_panel_vectors(&p.qs) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn row_scales(p: &BlockQ6Kx4) -> SubScales {
        // SAFETY: reads the 4 floats of `p.d` and, in `half_scales`, the 8 bytes of `p.sc`.
        unsafe {
            let [sc0, sc1] = half_scales(p);
            SubScales {
                d: vld1q_f32(p.d.as_ptr()),
                sc0,
                sc1,
            }
        }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn pair_scales(p: &BlockQ6Kx4, wp: usize) -> SubScales {
        // `[sc_r, sc_r+1, sc_r, sc_r+1]` for r = 2wp: the 64-bit lane wp of the row vector.
        let pair = |x: int32x4_t| {
            let x = vreinterpretq_s64_s32(x);
            vreinterpretq_s32_s64(if wp == 0 {
                vdupq_laneq_s64::<0>(x)
            } else {
                vdupq_laneq_s64::<1>(x)
            })
        };
        // SAFETY: `wp < 2` (forwarded from the caller) for `dup_pair`; `half_scales` reads
        // the 8 bytes of `p.sc`.
        unsafe {
            let [sc0, sc1] = half_scales(p);
            SubScales {
                d: dup_pair(&p.d, wp),
                sc0: pair(sc0),
                sc1: pair(sc1),
            }
        }
    }

    #[inline]
    fn act_scales(d: float32x4_t, s: float32x4_t) -> float32x4_t {
        Q8_0::act_scales(d, s)
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn scale_first_half(lo: int32x4_t, w: &SubScales) -> int32x4_t {
        vmulq_s32(lo, w.sc0)
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn add_second_half(first: int32x4_t, hi: int32x4_t, w: &SubScales) -> int32x4_t {
        vmlaq_s32(first, hi, w.sc1)
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn accumulate(
        sumf: float32x4_t,
        isum: int32x4_t,
        w: SubScales,
        da: float32x4_t,
    ) -> float32x4_t {
        vaddq_f32(sumf, vmulq_f32(vcvtq_f32_s32(isum), vmulq_f32(w.d, da)))
    }
}
