//! The activation side of a tile, written once per activation block type (Q8_0 for the
//! Q8_0, Q4_0, Q5_0 and Q6_K panels; Q8_1 for Q4_1 and Q4_K): its quants and scales.

use crate::aarch64::asm::load_f16;
use crate::formats::{BlockQ8_0, BlockQ8_1};

/// An activation block: 32 int8 quants and one (Q8_0: `d`) or two (Q8_1: `d`, `s`) f16
/// scales.
pub(crate) trait ActBlock {
    /// How many f16 scales the block carries.
    const SCALES: usize;

    /// The block's quants.
    fn qs(&self) -> &[i8; 32];

    /// The block's f16 scales as bits, `[d, s]` (`s` is 0 where the block has none), for
    /// tiles that convert several rows' scales at once.
    fn scale_bits(&self) -> [u16; 2];

    /// The block's scale `d` and sum `s` (0 where the block has none) as f32.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn scale_values(&self) -> [f32; 2];
}

impl ActBlock for BlockQ8_0 {
    const SCALES: usize = 1;

    #[inline]
    fn qs(&self) -> &[i8; 32] {
        &self.qs
    }

    #[inline]
    fn scale_bits(&self) -> [u16; 2] {
        [self.d, 0]
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn scale_values(&self) -> [f32; 2] {
        // SAFETY: reads the 2 bytes of `self.d`; NEON is guaranteed by the caller.
        [unsafe { load_f16(&self.d) }, 0.0]
    }
}

impl ActBlock for BlockQ8_1 {
    const SCALES: usize = 2;

    #[inline]
    fn qs(&self) -> &[i8; 32] {
        &self.qs
    }

    #[inline]
    fn scale_bits(&self) -> [u16; 2] {
        [self.d, self.s]
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn scale_values(&self) -> [f32; 2] {
        // SAFETY: reads the 2 bytes of `self.d` and of `self.s`; NEON is guaranteed by the
        // caller.
        unsafe { [load_f16(&self.d), load_f16(&self.s)] }
    }
}
