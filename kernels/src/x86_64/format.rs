//! The float side of the x86 panel product, the same on every x86 tier: per weight format,
//! the scales of a panel block and of an activation block, and the float stage that adds a
//! block's exact int32 sums into the running f32 sums with the scalar tier's operations in
//! its order, one lane per output, never fused (`_mm256_mul_ps` then `_mm256_add_ps`; Rust
//! never contracts them). [`super::panel`] calls it; the tiers only name a [`Format`] for
//! each of their integer cores.
//!
//! Everything here is `#[inline(always)]` without a `#[target_feature]` of its own: it is
//! inlined into each tier's `Core::tile`, which carries the tier's features.

use core::arch::x86_64::{
    __m128, __m256, _mm256_add_ps, _mm256_mul_ps, _mm_cvtph_ps, _mm_loadu_ps, _mm_set1_epi16,
    _mm_setzero_ps,
};

use crate::formats::{BlockQ8_0, BlockQ8_1};
use crate::pack::{BlockQ4_0x4, BlockQ4_1x4, BlockQ6Kx4, BlockQ8_0x4};

/// One weight format's scales and float stage, the same on every x86 tier.
pub(in crate::x86_64) trait Format {
    /// A panel block: 4 weight rows x 32 values.
    type Panel;
    /// An activation block: 32 values.
    type Act: ActBlock;

    /// `[d, m]` of a panel block, lane `r` = weight row `r` (`m` is zero where the format
    /// has none).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    unsafe fn weight_scales(p: &Self::Panel) -> [__m128; 2];

    /// `sumf + (the block's term)` per lane, from the exact block sums `isum` (converted to
    /// f32) and the scales of each lane, with the scalar tier's operations in its order.
    ///
    /// # Safety
    /// The CPU must support AVX.
    unsafe fn accumulate(sumf: __m256, isum: __m256, w: [__m256; 2], a: [__m256; 2]) -> __m256;
}

/// Q8_0 panels x Q8_0 activations: `sumf += isum as f32 * (dw * da)`.
pub(in crate::x86_64) struct Q8_0;
/// Q4_0 panels x Q8_0 activations: `sumf += (isum as f32 * dw) * da`.
pub(in crate::x86_64) struct Q4_0;
/// Q4_1 panels x Q8_1 activations: `sumf += ((dw * da) * isum as f32) + mw * sa`.
pub(in crate::x86_64) struct Q4_1;
/// Q6_K panels x Q8_0 activations: the float stage of [`Q8_0`].
pub(in crate::x86_64) struct Q6K;

/// `d` of an activation block broadcast to 4 lanes, exactly (F16C).
///
/// # Safety
/// The CPU must support F16C.
#[inline(always)]
unsafe fn f16x4(bits: u16) -> __m128 {
    // SAFETY: the caller guarantees F16C (and so SSE2).
    unsafe { _mm_cvtph_ps(_mm_set1_epi16(bits as i16)) }
}

/// The activation side of the float stage, written once per activation block type.
pub(in crate::x86_64) trait ActBlock {
    /// `[d, s]` of the block as f32, each broadcast to 4 lanes (`s` is zero where the
    /// block has none). F16C's conversion is exact and equals
    /// [`crate::formats::f16_to_f32`] except that it quiets a signaling NaN (the product
    /// is a quiet NaN with the same payload either way).
    ///
    /// # Safety
    /// The CPU must support AVX2 and F16C.
    unsafe fn scales(&self) -> [__m128; 2];
}

impl ActBlock for BlockQ8_0 {
    #[inline(always)]
    unsafe fn scales(&self) -> [__m128; 2] {
        // SAFETY: the caller guarantees AVX2 and F16C.
        unsafe { [f16x4(self.d), _mm_setzero_ps()] }
    }
}

impl ActBlock for BlockQ8_1 {
    #[inline(always)]
    unsafe fn scales(&self) -> [__m128; 2] {
        // SAFETY: the caller guarantees AVX2 and F16C.
        unsafe { [f16x4(self.d), f16x4(self.s)] }
    }
}

impl Format for Q8_0 {
    type Panel = BlockQ8_0x4;
    type Act = BlockQ8_0;

    #[inline(always)]
    unsafe fn weight_scales(p: &BlockQ8_0x4) -> [__m128; 2] {
        // SAFETY: the caller guarantees AVX2; the load reads the 4 floats of `p.d`.
        unsafe { [_mm_loadu_ps(p.d.as_ptr()), _mm_setzero_ps()] }
    }

    #[inline(always)]
    unsafe fn accumulate(sumf: __m256, isum: __m256, w: [__m256; 2], a: [__m256; 2]) -> __m256 {
        // SAFETY: the caller guarantees AVX.
        unsafe { _mm256_add_ps(sumf, _mm256_mul_ps(isum, _mm256_mul_ps(w[0], a[0]))) }
    }
}

impl Format for Q4_0 {
    type Panel = BlockQ4_0x4;
    type Act = BlockQ8_0;

    #[inline(always)]
    unsafe fn weight_scales(p: &BlockQ4_0x4) -> [__m128; 2] {
        // SAFETY: the caller guarantees AVX2; the load reads the 4 floats of `p.d`.
        unsafe { [_mm_loadu_ps(p.d.as_ptr()), _mm_setzero_ps()] }
    }

    #[inline(always)]
    unsafe fn accumulate(sumf: __m256, isum: __m256, w: [__m256; 2], a: [__m256; 2]) -> __m256 {
        // SAFETY: the caller guarantees AVX.
        unsafe { _mm256_add_ps(sumf, _mm256_mul_ps(_mm256_mul_ps(isum, w[0]), a[0])) }
    }
}

impl Format for Q4_1 {
    type Panel = BlockQ4_1x4;
    type Act = BlockQ8_1;

    #[inline(always)]
    unsafe fn weight_scales(p: &BlockQ4_1x4) -> [__m128; 2] {
        // SAFETY: the caller guarantees AVX2; the loads read the 4 floats of `p.d`, `p.m`.
        unsafe { [_mm_loadu_ps(p.d.as_ptr()), _mm_loadu_ps(p.m.as_ptr())] }
    }

    #[inline(always)]
    unsafe fn accumulate(sumf: __m256, isum: __m256, w: [__m256; 2], a: [__m256; 2]) -> __m256 {
        // SAFETY: the caller guarantees AVX.
        unsafe {
            let scaled = _mm256_mul_ps(_mm256_mul_ps(w[0], a[0]), isum);
            _mm256_add_ps(sumf, _mm256_add_ps(scaled, _mm256_mul_ps(w[1], a[1])))
        }
    }
}

impl Format for Q6K {
    type Panel = BlockQ6Kx4;
    type Act = BlockQ8_0;

    #[inline(always)]
    unsafe fn weight_scales(p: &BlockQ6Kx4) -> [__m128; 2] {
        // SAFETY: the caller guarantees AVX2; the load reads the 4 floats of `p.d`.
        unsafe { [_mm_loadu_ps(p.d.as_ptr()), _mm_setzero_ps()] }
    }

    #[inline(always)]
    unsafe fn accumulate(sumf: __m256, isum: __m256, w: [__m256; 2], a: [__m256; 2]) -> __m256 {
        // SAFETY: the caller's guarantees, forwarded.
        unsafe { Q8_0::accumulate(sumf, isum, w, a) }
    }
}
