//! The ARMv8.0 NEON tier of the x4x8 panel products (Q8_0, Q4_0, Q6_K x Q8_0; Q4_1 x
//! Q8_1).
//!
//! Integer sums use `smull`/`smull2` + `sadalp` (no `sdot`), exact in int32; the float
//! stage per block is the scalar tier's expression ([`crate::matmul::scalar`]) lane for
//! lane, with separate multiplies and adds (never `fmla`), so the outputs are bit-identical
//! to the scalar reference. The shared micro-kernel and the tile shapes are in [`tile`];
//! this file only says, per format, how a panel block becomes int8 and how its row sums
//! become floats. Nothing allocates.

mod tile;

use core::arch::aarch64::*;

use self::tile::{group_dot, load_f32x4, load_s8x16, load_u8x16, ActGroups, Expanded, Panel};
use crate::formats::{BlockQ8_0, BlockQ8_1};
use crate::matmul::contract::{kernel, KernelTable};
use crate::pack::{BlockQ4_0x4, BlockQ4_1x4, BlockQ6Kx4, BlockQ8_0x4};

/// Replaces the scalar products of every format with this tier's: GEMM tiles of 4 weight
/// rows x 4 activation rows, GEMV tiles of 8 weight rows ([`tile`]).
pub(crate) fn install(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0_4x4_neon, 4 x 4, gemv 8);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0_4x4_neon, 4 x 4, gemv 8);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1_4x4_neon, 4 x 4, gemv 8);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0_4x4_neon, 4 x 4, gemv 8);
}

/// Q8_0 panels: the quants are already int8; expanding is 8 plain loads.
impl Panel for BlockQ8_0x4 {
    type Act = BlockQ8_0;
    type Scales = float32x4_t;
    const ACT_SCALES: usize = 1;

    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn expand(&self) -> Expanded {
        // Vector v = (group v / 2, rows 0-1 or 2-3): exactly the `Expanded` order.
        core::array::from_fn(|v| load_s8x16(&self.qs, 16 * v))
    }
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn scales(&self) -> float32x4_t {
        load_f32x4(&self.d, 0)
    }
    #[inline]
    fn act_qs(a: &BlockQ8_0) -> &[i8; 32] {
        &a.qs
    }
    #[inline]
    fn act_scale_bits(a: &BlockQ8_0) -> [u16; 2] {
        [a.d, 0]
    }
    /// Scalar: `sumf += sumi as f32 * (d[r] * da)`.
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn accumulate(
        dw: float32x4_t,
        [da, _]: [f32; 2],
        isum: int32x4_t,
        sumf: float32x4_t,
    ) -> float32x4_t {
        vaddq_f32(sumf, vmulq_f32(vcvtq_f32_s32(isum), vmulq_n_f32(dw, da)))
    }
}

/// Q4_0 panels (bytes XOR 0x88): `shl #4` of a byte is 16 * (low code - 8) and
/// `and #0xF0` is 16 * (high code - 8), both as int8, so the row sums come out 16 times
/// too large and are shifted back (exactly) per block.
impl Panel for BlockQ4_0x4 {
    type Act = BlockQ8_0;
    type Scales = float32x4_t;
    const ACT_SCALES: usize = 1;

    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn expand(&self) -> Expanded {
        // v[2q + h] = group q, rows 0-1 (h = 0) or 2-3 (h = 1); low nibbles are values
        // 8q..8q+8 (expanded groups 0, 1), high nibbles 16+8q.. (expanded groups 2, 3).
        let v: [int8x16_t; 4] =
            core::array::from_fn(|i| vreinterpretq_s8_u8(load_u8x16(&self.qs, 16 * i)));
        let hi_mask = vdupq_n_s8(0xF0u8 as i8);
        let lo: [int8x16_t; 4] = core::array::from_fn(|i| vshlq_n_s8::<4>(v[i]));
        let hi = v.map(|x| vandq_s8(x, hi_mask));
        [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
    }
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn scales(&self) -> float32x4_t {
        load_f32x4(&self.d, 0)
    }
    #[inline]
    fn act_qs(a: &BlockQ8_0) -> &[i8; 32] {
        &a.qs
    }
    #[inline]
    fn act_scale_bits(a: &BlockQ8_0) -> [u16; 2] {
        [a.d, 0]
    }
    /// Scalar: `sumf += (sum16 >> 4) as f32 * d[r] * da` (left to right).
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn accumulate(
        dw: float32x4_t,
        [da, _]: [f32; 2],
        isum: int32x4_t,
        sumf: float32x4_t,
    ) -> float32x4_t {
        let isum = vcvtq_f32_s32(vshrq_n_s32::<4>(isum));
        vaddq_f32(sumf, vmulq_n_f32(vmulq_f32(isum, dw), da))
    }
}

/// Q4_1 panels: plain nibble codes 0..=15 (`and #0x0F`, `ushr #4`), which are valid int8.
impl Panel for BlockQ4_1x4 {
    type Act = BlockQ8_1;
    /// `(d, m)` of the 4 rows.
    type Scales = (float32x4_t, float32x4_t);
    const ACT_SCALES: usize = 2;

    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn expand(&self) -> Expanded {
        // Same order as Q4_0 (see there).
        let v: [uint8x16_t; 4] = core::array::from_fn(|i| load_u8x16(&self.qs, 16 * i));
        let lo_mask = vdupq_n_u8(0x0F);
        let lo = v.map(|x| vreinterpretq_s8_u8(vandq_u8(x, lo_mask)));
        let hi = v.map(|x| vreinterpretq_s8_u8(vshrq_n_u8::<4>(x)));
        [lo[0], lo[1], lo[2], lo[3], hi[0], hi[1], hi[2], hi[3]]
    }
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn scales(&self) -> (float32x4_t, float32x4_t) {
        (load_f32x4(&self.d, 0), load_f32x4(&self.m, 0))
    }
    #[inline]
    fn act_qs(a: &BlockQ8_1) -> &[i8; 32] {
        &a.qs
    }
    #[inline]
    fn act_scale_bits(a: &BlockQ8_1) -> [u16; 2] {
        [a.d, a.s]
    }
    /// Scalar: `sumf += (d[r] * da) * sumi as f32 + m[r] * sa`.
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn accumulate(
        (dw, mw): (float32x4_t, float32x4_t),
        [da, sa]: [f32; 2],
        isum: int32x4_t,
        sumf: float32x4_t,
    ) -> float32x4_t {
        let scaled = vmulq_f32(vmulq_n_f32(dw, da), vcvtq_f32_s32(isum));
        vaddq_f32(sumf, vaddq_f32(scaled, vmulq_n_f32(mw, sa)))
    }
}

/// Q6_K panels: int8 quants as Q8_0's; each row's two sub-block sums (groups 0-1 and 2-3)
/// are multiplied by their int8 scales in int32 (exact: |sum| <= 2^24).
impl Panel for BlockQ6Kx4 {
    type Act = BlockQ8_0;
    /// `d` of the 4 rows, and their scales of values 0..16 and 16..32 as int32.
    type Scales = (float32x4_t, int32x4_t, int32x4_t);
    const ACT_SCALES: usize = 1;

    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn expand(&self) -> Expanded {
        core::array::from_fn(|v| load_s8x16(&self.qs, 16 * v))
    }
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn scales(&self) -> (float32x4_t, int32x4_t, int32x4_t) {
        // SAFETY: `self.sc` is exactly 8 bytes; `vld1_s8` has no alignment requirement.
        let sc = vmovl_s8(unsafe { vld1_s8(self.sc.as_ptr()) });
        (
            load_f32x4(&self.d, 0),
            vmovl_s16(vget_low_s16(sc)),
            vmovl_high_s16(sc),
        )
    }
    #[inline]
    fn act_qs(a: &BlockQ8_0) -> &[i8; 32] {
        &a.qs
    }
    #[inline]
    fn act_scale_bits(a: &BlockQ8_0) -> [u16; 2] {
        [a.d, 0]
    }
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn row_sums(
        w: &Expanded,
        x: &ActGroups,
        &(_, sc0, sc1): &(float32x4_t, int32x4_t, int32x4_t),
    ) -> int32x4_t {
        let (lo, hi) = (group_dot::<0, 2>(w, x), group_dot::<2, 2>(w, x));
        vmlaq_s32(vmulq_s32(lo, sc0), hi, sc1)
    }
    /// Scalar: `sumf += sumi as f32 * (d[r] * da)`, as Q8_0.
    #[target_feature(enable = "neon")]
    #[inline]
    unsafe fn accumulate(
        (dw, _, _): (float32x4_t, int32x4_t, int32x4_t),
        [da, _]: [f32; 2],
        isum: int32x4_t,
        sumf: float32x4_t,
    ) -> float32x4_t {
        vaddq_f32(sumf, vmulq_f32(vcvtq_f32_s32(isum), vmulq_n_f32(dw, da)))
    }
}

/// See [`crate::matmul::contract::GemmQ6KFn`]; tiles as in [`tile`].
///
/// # Safety
/// As [`gemm_q8_0x4x8_q8_0_4x4_neon`].
#[target_feature(enable = "neon")]
pub(crate) unsafe fn gemm_q6_kx4x8_q8_0_4x4_neon(
    w: &[BlockQ6Kx4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    tile::gemm(w, kb, a, m, out, ldo);
}

/// See [`crate::matmul::contract::GemmQ8_0Fn`]; tiles as in [`tile`].
///
/// # Safety
/// The CPU must support NEON (every aarch64 CPU that runs Linux or Android does). Slices
/// that do not fit the contract's shapes make it panic, never read or write out of bounds.
#[target_feature(enable = "neon")]
pub(crate) unsafe fn gemm_q8_0x4x8_q8_0_4x4_neon(
    w: &[BlockQ8_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    tile::gemm(w, kb, a, m, out, ldo);
}

/// See [`crate::matmul::contract::GemmQ4_0Fn`]; tiles as in [`tile`].
///
/// # Safety
/// As [`gemm_q8_0x4x8_q8_0_4x4_neon`].
#[target_feature(enable = "neon")]
pub(crate) unsafe fn gemm_q4_0x4x8_q8_0_4x4_neon(
    w: &[BlockQ4_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    tile::gemm(w, kb, a, m, out, ldo);
}

/// See [`crate::matmul::contract::GemmQ4_1Fn`]; tiles as in [`tile`].
///
/// # Safety
/// As [`gemm_q8_0x4x8_q8_0_4x4_neon`].
#[target_feature(enable = "neon")]
pub(crate) unsafe fn gemm_q4_1x4x8_q8_1_4x4_neon(
    w: &[BlockQ4_1x4],
    kb: usize,
    a: &[BlockQ8_1],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    tile::gemm(w, kb, a, m, out, ldo);
}
