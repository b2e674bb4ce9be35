//! Q4_1 panels (plain nibbles, codes 0..=15) x Q8_1 activations:
//! `sumf += ((dw * da) * isum as f32) + mw * sa` per block and row.

use core::arch::aarch64::{
    float32x4_t, int32x4_t, int8x16_t, uint8x16_t, vaddq_f32, vandq_u8, vcvtq_f32_s32, vdupq_n_u8,
    vld1q_f32, vld1q_u8, vmulq_f32, vreinterpretq_s8_u8, vshrq_n_u8,
};

use super::{dup_pair, Format};
use crate::formats::BlockQ8_1;
use crate::pack::BlockQ4_1x4;

/// Q4_1 weights: `and #0x0F` (low nibble) and `ushr #4` (high nibble) give the codes
/// 0..=15, which are valid signed int8 operands.
pub(crate) struct Q4_1;

/// Scale and minimum vectors.
#[derive(Clone, Copy)]
pub(crate) struct Affine {
    pub(crate) d: float32x4_t,
    pub(crate) m: float32x4_t,
}

impl Format for Q4_1 {
    type Panel = BlockQ4_1x4;
    type Act = BlockQ8_1;
    /// Weight scales `d` and minimums `m`.
    type WScales = Affine;
    /// Activation scales `d` and `s` (= d * sum of quants, from the block).
    type AScales = Affine;

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn weights(p: &BlockQ4_1x4) -> [int8x16_t; 8] {
        // SAFETY: 4 vectors of 16 bytes cover exactly the 64 bytes of `p.qs`.
        let v: [uint8x16_t; 4] =
            core::array::from_fn(|j| unsafe { vld1q_u8(p.qs.as_ptr().add(16 * j)) });
        let lo_mask = vdupq_n_u8(0x0F);
        // Low nibbles of group q are values 8q.., high nibbles values 16 + 8q..
        let lo = |x: uint8x16_t| vreinterpretq_s8_u8(vandq_u8(x, lo_mask));
        let hi = |x: uint8x16_t| vreinterpretq_s8_u8(vshrq_n_u8::<4>(x));
        [
            lo(v[0]),
            lo(v[1]),
            lo(v[2]),
            lo(v[3]),
            hi(v[0]),
            hi(v[1]),
            hi(v[2]),
            hi(v[3]),
        ]
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn row_scales(p: &BlockQ4_1x4) -> Affine {
        // SAFETY: reads the 4 floats of `p.d` and of `p.m`.
        unsafe {
            Affine {
                d: vld1q_f32(p.d.as_ptr()),
                m: vld1q_f32(p.m.as_ptr()),
            }
        }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn pair_scales(p: &BlockQ4_1x4, wp: usize) -> Affine {
        // SAFETY: forwarded from the caller (`wp < 2`).
        unsafe {
            Affine {
                d: dup_pair(&p.d, wp),
                m: dup_pair(&p.m, wp),
            }
        }
    }

    #[inline]
    fn act_scales(d: float32x4_t, s: float32x4_t) -> Affine {
        Affine { d, m: s }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn accumulate(sumf: float32x4_t, isum: int32x4_t, w: Affine, a: Affine) -> float32x4_t {
        let scaled = vmulq_f32(vmulq_f32(w.d, a.d), vcvtq_f32_s32(isum));
        vaddq_f32(sumf, vaddq_f32(scaled, vmulq_f32(w.m, a.m)))
    }
}
