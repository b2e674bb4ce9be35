//! Q8_0 panels x Q8_0 activations: `sumf += isum as f32 * (dw * da)` per block and row.

use core::arch::aarch64::{
    float32x4_t, int32x4_t, int8x16_t, vaddq_f32, vcvtq_f32_s32, vld1q_f32, vmulq_f32,
};

use super::{dup_pair, int8_panel_vectors, Format};
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ8_0x4;

/// Q8_0 weights (quants used as they are).
pub(crate) struct Q8_0;

impl Format for Q8_0 {
    type Panel = BlockQ8_0x4;
    type Act = BlockQ8_0;
    type WScales = float32x4_t;
    type AScales = float32x4_t;

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn weights(p: &BlockQ8_0x4) -> [int8x16_t; 8] {
        // SAFETY: NEON is guaranteed by the caller.
        unsafe { int8_panel_vectors(&p.qs) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn row_scales(p: &BlockQ8_0x4) -> float32x4_t {
        // SAFETY: reads the 4 floats of `p.d`.
        unsafe { vld1q_f32(p.d.as_ptr()) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn pair_scales(p: &BlockQ8_0x4, wp: usize) -> float32x4_t {
        // SAFETY: forwarded from the caller (`wp < 2`).
        unsafe { dup_pair(&p.d, wp) }
    }

    #[inline]
    fn act_scales(d: float32x4_t, _s: float32x4_t) -> float32x4_t {
        d
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn accumulate(
        sumf: float32x4_t,
        isum: int32x4_t,
        dw: float32x4_t,
        da: float32x4_t,
    ) -> float32x4_t {
        vaddq_f32(sumf, vmulq_f32(vcvtq_f32_s32(isum), vmulq_f32(dw, da)))
    }
}
