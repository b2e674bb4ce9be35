//! Operand loaders both x86 tiers share: int8 activation groups broadcast to every 64-bit
//! lane, and the nibble codes of Q4 panels with the activation groups they meet. They only
//! load and rearrange bytes (no arithmetic on values), so each tier's integer core can feed
//! them to its own multiply (`vpmaddubsw` on avx2, `vpdpbusd` on avx512).
//!
//! Everything here is `#[inline(always)]` without a `#[target_feature]` of its own: it is
//! inlined into each tier's `Core::tile`, which carries the tier's features.

use core::arch::x86_64::{
    __m256i, _mm256_and_si256, _mm256_loadu_si256, _mm256_set1_epi64x, _mm256_set1_epi8,
    _mm256_srli_epi16,
};

/// Activation group `q` (values `8q..8q + 8`) of `qs` in all four 64-bit lanes: the
/// operand that meets a 32-byte vector of 4 panel rows' group `q`.
///
/// # Safety
/// The CPU must support AVX; `q < 4`.
#[inline(always)]
pub(in crate::x86_64) unsafe fn group_x4(qs: &[i8; 32], q: usize) -> __m256i {
    debug_assert!(q < 4);
    // SAFETY: `q < 4`, so the 8 bytes at `8q` lie inside the array; the read is unaligned.
    unsafe {
        let g = qs.as_ptr().add(8 * q).cast::<i64>().read_unaligned();
        _mm256_set1_epi64x(g)
    }
}

/// The 32-byte vectors `[rows 0-3 of group q]` of a panel's 64 Q4 bytes, q = 0, 1.
///
/// # Safety
/// The CPU must support AVX.
#[inline(always)]
pub(in crate::x86_64) unsafe fn q4_vectors(qs: &[u8; 64]) -> [__m256i; 2] {
    // SAFETY: both 32-byte loads lie inside the 64-byte array; they are unaligned loads.
    unsafe {
        [
            _mm256_loadu_si256(qs.as_ptr().cast()),
            _mm256_loadu_si256(qs.as_ptr().add(32).cast()),
        ]
    }
}

/// The nibble codes (0..=15, one per byte) of Q4 panel vectors `v`, in the order the
/// activations of [`q4_acts`] come: `[lo(v0), hi(v0), lo(v1), hi(v1)]` = values
/// `0..8, 16..24, 8..16, 24..32` of each of the 4 rows.
///
/// # Safety
/// The CPU must support AVX2.
#[inline(always)]
pub(in crate::x86_64) unsafe fn q4_codes(v: [__m256i; 2]) -> [__m256i; 4] {
    // SAFETY: the caller guarantees AVX2. The 16-bit shift moves the high nibble of each
    // byte down (bits of the neighbouring byte land in bits 4-7 and are masked off).
    unsafe {
        let m = _mm256_set1_epi8(0x0F);
        [
            _mm256_and_si256(v[0], m),
            _mm256_and_si256(_mm256_srli_epi16(v[0], 4), m),
            _mm256_and_si256(v[1], m),
            _mm256_and_si256(_mm256_srli_epi16(v[1], 4), m),
        ]
    }
}

/// The activation operands that meet [`q4_codes`]: groups 0, 2, 1, 3 of `qs`.
///
/// # Safety
/// The CPU must support AVX.
#[inline(always)]
pub(in crate::x86_64) unsafe fn q4_acts(qs: &[i8; 32]) -> [__m256i; 4] {
    // SAFETY: the caller guarantees AVX; every group index is below 4.
    unsafe {
        [
            group_x4(qs, 0),
            group_x4(qs, 2),
            group_x4(qs, 1),
            group_x4(qs, 3),
        ]
    }
}
