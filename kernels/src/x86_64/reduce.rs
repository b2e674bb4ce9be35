//! The last levels of the reference's reduction tree on one 256-bit vector, shared by the
//! avx2 and avx512 ops tiers ([`super::ops_avx2`], [`super::ops_avx512`]): each first
//! folds its 16 lanes to 8 in its own registers, then ends here, so both keep the order of
//! [`crate::reference::lanes`].

use core::arch::x86_64::{
    __m256, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm_add_ps, _mm_add_ss, _mm_cvtss_f32,
    _mm_max_ps, _mm_max_ss, _mm_movehl_ps, _mm_shuffle_ps,
};

/// The last three levels of the reference tree (w = 4, 2, 1) on 8 lanes.
///
/// # Safety
/// The CPU must run AVX.
#[inline(always)]
pub(in crate::x86_64) unsafe fn reduce8_add(s8: __m256) -> f32 {
    // SAFETY: the caller guarantees AVX.
    unsafe {
        let s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps::<1>(s8));
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps::<1>(s2, s2)))
    }
}

/// [`reduce8_add`] with the reference's max (`a > b ? a : b`, which `maxps` is).
///
/// # Safety
/// The CPU must run AVX.
#[inline(always)]
pub(in crate::x86_64) unsafe fn reduce8_max(s8: __m256) -> f32 {
    // SAFETY: the caller guarantees AVX.
    unsafe {
        let s4 = _mm_max_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps::<1>(s8));
        let s2 = _mm_max_ps(s4, _mm_movehl_ps(s4, s4));
        _mm_cvtss_f32(_mm_max_ss(s2, _mm_shuffle_ps::<1>(s2, s2)))
    }
}
