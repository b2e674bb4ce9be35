//! AVX-512 (F + BW + VL) tier of the non-matmul ops ([`crate::ops`]): 16 lanes in one
//! `__m512`, each vector operation the same IEEE operation as the scalar reference, the
//! reductions in the reference's tree (the last levels shared with the AVX2 tier, in
//! [`super::reduce`]).

use core::arch::x86_64::*;

use super::reduce::{reduce8_add, reduce8_max};
use crate::reference::lanes::{Lanes, Tier, LANES};

/// Proof that the CPU runs the `avx512` tier (AVX-512 F/BW/VL and everything AVX2 has).
#[derive(Clone, Copy)]
pub(crate) struct Avx512;

#[derive(Clone, Copy)]
pub(crate) struct F32x16(__m512);

// SAFETY (every `unsafe` block in this file): values of `Avx512` and `F32x16` exist only
// once `Avx512::new` was called, whose contract is that the CPU runs the avx512 tier;
// pointers come from slices checked to hold 16 (8 for `load_dup_pairs`) elements.

impl Tier for Avx512 {
    type V = F32x16;
    #[inline(always)]
    unsafe fn new() -> Self {
        Avx512
    }
    #[inline(always)]
    fn splat(self, v: f32) -> F32x16 {
        // SAFETY: see the note above the impls.
        unsafe { F32x16(_mm512_set1_ps(v)) }
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> F32x16 {
        // SAFETY: see the note above the impls.
        unsafe { F32x16(_mm512_loadu_ps(s[..LANES].as_ptr())) }
    }
    #[inline(always)]
    fn load_f16(self, s: &[u16]) -> F32x16 {
        let p = s[..LANES].as_ptr().cast::<__m256i>();
        // SAFETY: see the note above the impls.
        unsafe { F32x16(_mm512_cvtph_ps(_mm256_loadu_si256(p))) }
    }
    #[inline(always)]
    fn load_dup_pairs(self, s: &[f32]) -> F32x16 {
        let p = s[..LANES / 2].as_ptr();
        // SAFETY: see the note above the impls.
        unsafe {
            let idx = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
            F32x16(_mm512_permutexvar_ps(
                idx,
                _mm512_castps256_ps512(_mm256_loadu_ps(p)),
            ))
        }
    }
}

/// A two-operand `__m512` intrinsic.
macro_rules! op {
    ($f:ident, $a:expr, $b:expr) => {{
        // SAFETY: see the note above the impls.
        unsafe { F32x16($f($a.0, $b.0)) }
    }};
}

/// An integer `__m512i` intrinsic on the bit patterns.
macro_rules! int_op {
    ($f:ident, $a:expr, $b:expr) => {{
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(_mm512_castsi512_ps($f(
                _mm512_castps_si512($a.0),
                _mm512_castps_si512($b.0),
            )))
        }
    }};
}

impl Lanes for F32x16 {
    type Mask = __mmask16;
    #[inline(always)]
    fn store(self, s: &mut [f32]) {
        // SAFETY: see the note above the impls.
        unsafe { _mm512_storeu_ps(s[..LANES].as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    fn store_f16(self, s: &mut [u16]) {
        let p = s[..LANES].as_mut_ptr().cast::<__m256i>();
        // SAFETY: see the note above the impls.
        unsafe { _mm256_storeu_si256(p, _mm512_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(self.0)) }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        op!(_mm512_add_ps, self, o)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        op!(_mm512_sub_ps, self, o)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        op!(_mm512_mul_ps, self, o)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        op!(_mm512_div_ps, self, o)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        // vminps: `a < b ? a : b`, the reference's definition.
        op!(_mm512_min_ps, self, o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        op!(_mm512_max_ps, self, o)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        int_op!(_mm512_and_si512, self, o)
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        int_op!(_mm512_or_si512, self, o)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> __mmask16 {
        // SAFETY: see the note above the impls.
        unsafe { _mm512_cmp_ps_mask::<_CMP_LT_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn eq(self, o: Self) -> __mmask16 {
        // SAFETY: see the note above the impls.
        unsafe { _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(self.0, o.0) }
    }
    #[inline(always)]
    fn select(m: __mmask16, a: Self, b: Self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe { F32x16(_mm512_mask_blend_ps(m, b.0, a.0)) }
    }
    #[inline(always)]
    fn add_i32(self, o: Self) -> Self {
        int_op!(_mm512_add_epi32, self, o)
    }
    #[inline(always)]
    fn sub_i32(self, o: Self) -> Self {
        int_op!(_mm512_sub_epi32, self, o)
    }
    #[inline(always)]
    fn shr1_i32(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(_mm512_castsi512_ps(_mm512_srai_epi32::<1>(
                _mm512_castps_si512(self.0),
            )))
        }
    }
    #[inline(always)]
    fn shl23_i32(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(_mm512_castsi512_ps(_mm512_slli_epi32::<23>(
                _mm512_castps_si512(self.0),
            )))
        }
    }
    #[inline(always)]
    fn swap_pairs(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe { F32x16(_mm512_permute_ps::<0b10_11_00_01>(self.0)) }
    }
    #[inline(always)]
    fn reduce_add(self) -> f32 {
        // SAFETY: see the note above the impls.
        unsafe {
            let (lo, hi) = halves(self.0);
            reduce8_add(_mm256_add_ps(lo, hi))
        }
    }
    #[inline(always)]
    fn reduce_max(self) -> f32 {
        // SAFETY: see the note above the impls.
        unsafe {
            let (lo, hi) = halves(self.0);
            reduce8_max(_mm256_max_ps(lo, hi))
        }
    }
}

/// Lanes 0..8 and 8..16.
///
/// # Safety
/// The CPU must run AVX-512F.
#[inline(always)]
unsafe fn halves(v: __m512) -> (__m256, __m256) {
    // SAFETY: the caller guarantees AVX-512F.
    unsafe {
        (
            _mm512_castps512_ps256(v),
            _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v))),
        )
    }
}

crate::ops::contract::ops_tier!(
    Avx512,
    "avx512",
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c")]
);
