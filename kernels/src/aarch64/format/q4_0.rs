//! Q4_0 panels (nibbles XOR 0x88) x Q8_0 activations:
//! `sumf += (isum as f32 * dw) * da` per block and row, `isum = sum16 >> 4`.

use core::arch::aarch64::{
    float32x4_t, int32x4_t, int8x16_t, uint8x16_t, vaddq_f32, vandq_u8, vcvtq_n_f32_s32,
    vdupq_n_u8, vld1q_f32, vld1q_u8, vmulq_f32, vreinterpretq_s8_u8, vshlq_n_u8,
};

use super::{dup_pair, Format};
use crate::formats::BlockQ8_0;
use crate::pack::BlockQ4_0x4;

/// Q4_0 weights: `shl #4` (low nibble) and `and #0xF0` (high nibble) of the XOR'd bytes
/// are `16 * (code - 8)` as int8, so the int32 sums are 16x the value sums, exactly.
pub(crate) struct Q4_0;

impl Format for Q4_0 {
    type Panel = BlockQ4_0x4;
    type Act = BlockQ8_0;
    type WScales = float32x4_t;
    type AScales = float32x4_t;

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn weights(p: &BlockQ4_0x4) -> [int8x16_t; 8] {
        // SAFETY: 4 vectors of 16 bytes cover exactly the 64 bytes of `p.qs`.
        let v: [uint8x16_t; 4] =
            core::array::from_fn(|j| unsafe { vld1q_u8(p.qs.as_ptr().add(16 * j)) });
        let hi_mask = vdupq_n_u8(0xF0);
        // Low nibbles of group q are values 8q.., high nibbles values 16 + 8q..
        let lo = |x: uint8x16_t| vreinterpretq_s8_u8(vshlq_n_u8::<4>(x));
        let hi = |x: uint8x16_t| vreinterpretq_s8_u8(vandq_u8(x, hi_mask));
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
    unsafe fn row_scales(p: &BlockQ4_0x4) -> float32x4_t {
        // SAFETY: reads the 4 floats of `p.d`.
        unsafe { vld1q_f32(p.d.as_ptr()) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn pair_scales(p: &BlockQ4_0x4, wp: usize) -> float32x4_t {
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
        sum16: int32x4_t,
        dw: float32x4_t,
        da: float32x4_t,
    ) -> float32x4_t {
        // `scvtf #4`: sum16 / 16 as f32, exact (every term is a multiple of 16 and the
        // quotient has at most 16 bits), so equal to `(sum16 >> 4) as f32`.
        let isum = vcvtq_n_f32_s32::<4>(sum16);
        vaddq_f32(sumf, vmulq_f32(vmulq_f32(isum, dw), da))
    }
}
