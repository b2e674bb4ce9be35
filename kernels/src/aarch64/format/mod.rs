//! The weight formats of the aarch64 tiers: one [`Format`] per panel type, shared by the
//! NEON, dotprod and i8mm tiles, which import it (never each other).

mod act;
mod q4_0;
mod q4_1;
mod q6_k;
mod q8_0;

use core::arch::aarch64::{
    float32x4_t, int32x4_t, int8x16_t, vaddq_s32, vdupq_n_s64, vld1q_s8, vreinterpretq_f32_s64,
};

pub(crate) use act::ActBlock;
pub(crate) use q4_0::Q4_0;
pub(crate) use q4_1::Q4_1;
pub(crate) use q6_k::Q6K;
pub(crate) use q8_0::Q8_0;

/// What one weight format contributes to a tile of any aarch64 tier: its panel block as 8
/// int8 operand vectors, its per-row scales, how its activation block's scales decode, and
/// the float stage that folds one block's exact int32 row sums into the accumulators.
/// The NEON (smull/sadalp), dotprod (sdot) and i8mm (smmla) tiles only differ in how they
/// make the int32 sums and lay them out in lanes.
pub(crate) trait Format {
    /// A panel block: 4 weight rows x 32 values.
    type Panel;
    /// An activation block: 32 values.
    type Act: ActBlock;
    /// Weight-side scales of one float-stage vector (4 lanes).
    type WScales: Copy;
    /// Activation-side scales of one float-stage vector (4 lanes).
    type AScales: Copy;
    /// Whether the two halves of a block (values 0..16 and 16..32, activation groups 0-1
    /// and 2-3) have scales of their own (Q6_K's sub-blocks). The tiles then take
    /// [`Format::scale_first_half`] of the sums of groups 0-1, restart the accumulators
    /// for groups 2-3 and finish with [`Format::add_second_half`]. (Summing on through
    /// all four groups and using `sc0 * lo + sc1 * hi = (sc0 - sc1) * lo + sc1 * (lo + hi)`
    /// would save the restart, but the `smmla` tile then needs a copy of each accumulator
    /// and spills: 37.2 instead of 41.3 int8 MACs/cycle on Cortex-X4 in scripts/mca.sh.)
    const SCALED_HALVES: bool = false;

    /// The 8 int8 operand vectors of a panel block: vector `2k` holds rows 0-1 and vector
    /// `2k + 1` rows 2-3 (8 values each) of the values that meet activation group `k`
    /// (values `8k..8k + 8`). Q4 codes come out as `16 * (code - 8)` (Q4_0) or `code`.
    ///
    /// # Safety
    /// The CPU must support NEON (always true on aarch64 Linux).
    unsafe fn weights(p: &Self::Panel) -> [int8x16_t; 8];

    /// The weight scales with lane `l` = panel row `l`.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn row_scales(p: &Self::Panel) -> Self::WScales;

    /// The weight scales of panel rows `2wp, 2wp + 1` in the lane pattern
    /// `[r, r + 1, r, r + 1]` of `smmla` results.
    ///
    /// # Safety
    /// The CPU must support NEON; `wp < 2`.
    unsafe fn pair_scales(p: &Self::Panel, wp: usize) -> Self::WScales;

    /// Activation scales from the lane vectors of `d` and `s` (see
    /// [`ActBlock::scale_values`]).
    fn act_scales(d: float32x4_t, s: float32x4_t) -> Self::AScales;

    /// The int32 sums `lo` of the first half times its scales (only called where
    /// [`Format::SCALED_HALVES`]), lane-wise with the weight scales of
    /// [`Format::row_scales`] or [`Format::pair_scales`]; exact in int32.
    ///
    /// # Safety
    /// The CPU must support NEON.
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn scale_first_half(lo: int32x4_t, _w: &Self::WScales) -> int32x4_t {
        lo
    }

    /// The block's int32 sums: `first` ([`Format::scale_first_half`]) plus the sums `hi`
    /// of the second half times its scales; exact in int32.
    ///
    /// # Safety
    /// The CPU must support NEON.
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn add_second_half(first: int32x4_t, hi: int32x4_t, _w: &Self::WScales) -> int32x4_t {
        vaddq_s32(first, hi)
    }

    /// `sumf + (the block's contribution)` per lane, from the raw int32 block sum (Q4_0: 16x
    /// the value sum, divided here exactly) with the scalar tier's float operations in
    /// its order, lane by lane.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn accumulate(
        sumf: float32x4_t,
        isum: int32x4_t,
        w: Self::WScales,
        a: Self::AScales,
    ) -> float32x4_t;
}

/// The 8 operand vectors of a panel block's int8 quants (Q8_0, Q6_K): their layout
/// `(group k, rows 0-1), (group k, rows 2-3)` is already the operand order.
///
/// # Safety
/// The CPU must support NEON.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) unsafe fn int8_panel_vectors(qs: &[i8; 128]) -> [int8x16_t; 8] {
    // SAFETY: 8 vectors of 16 bytes cover exactly the 128 bytes of `qs`.
    core::array::from_fn(|j| unsafe { vld1q_s8(qs.as_ptr().add(16 * j)) })
}

/// `[x[2wp], x[2wp + 1], x[2wp], x[2wp + 1]]` (`ld1r {v.2d}`).
///
/// # Safety
/// The CPU must support NEON; `wp < 2`.
#[inline]
#[target_feature(enable = "neon")]
pub(crate) unsafe fn dup_pair(x: &[f32; 4], wp: usize) -> float32x4_t {
    debug_assert!(wp < 2);
    // SAFETY: `wp < 2`, so the 8 bytes at float `2wp` lie inside the array; unaligned read.
    let bits = unsafe { x.as_ptr().add(2 * wp).cast::<i64>().read_unaligned() };
    vreinterpretq_f32_s64(vdupq_n_s64(bits))
}
