//! AVX2 (+ FMA + F16C) tier of the non-matmul ops ([`crate::ops`]): 16 lanes as two
//! `__m256`, each vector operation the same IEEE operation as the scalar reference (no FMA,
//! `vcvtps2ph` rounding to nearest even), the reductions in the reference's tree.

use core::arch::x86_64::*;

use super::reduce::{reduce8_add, reduce8_max};
use crate::reference::lanes::{Lanes, Tier, LANES};

/// Proof that the CPU runs AVX2 + FMA + F16C.
#[derive(Clone, Copy)]
pub(crate) struct Avx2;

/// Lanes 0..8 and 8..16.
#[derive(Clone, Copy)]
pub(crate) struct F32x16(__m256, __m256);

// SAFETY (every `unsafe` block in this file): values of `Avx2` and `F32x16` exist only
// once `Avx2::new` was called, whose contract is that the CPU runs AVX2, FMA and F16C;
// pointers come from slices checked to hold 16 (8 for `load_dup_pairs`) elements.

impl Tier for Avx2 {
    type V = F32x16;
    #[inline(always)]
    unsafe fn new() -> Self {
        Avx2
    }
    #[inline(always)]
    fn splat(self, v: f32) -> F32x16 {
        // SAFETY: see the note above the impls.
        unsafe { F32x16(_mm256_set1_ps(v), _mm256_set1_ps(v)) }
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> F32x16 {
        let p = s[..LANES].as_ptr();
        // SAFETY: see the note above the impls.
        unsafe { F32x16(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) }
    }
    #[inline(always)]
    fn load_f16(self, s: &[u16]) -> F32x16 {
        let p = s[..LANES].as_ptr().cast::<__m128i>();
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                _mm256_cvtph_ps(_mm_loadu_si128(p)),
                _mm256_cvtph_ps(_mm_loadu_si128(p.add(1))),
            )
        }
    }
    #[inline(always)]
    fn load_dup_pairs(self, s: &[f32]) -> F32x16 {
        let p = s[..LANES / 2].as_ptr();
        // SAFETY: see the note above the impls.
        unsafe {
            let (lo, hi) = (_mm_loadu_ps(p), _mm_loadu_ps(p.add(4)));
            F32x16(
                _mm256_set_m128(_mm_unpackhi_ps(lo, lo), _mm_unpacklo_ps(lo, lo)),
                _mm256_set_m128(_mm_unpackhi_ps(hi, hi), _mm_unpacklo_ps(hi, hi)),
            )
        }
    }
}

/// Applies a two-operand `__m256` intrinsic to both halves.
macro_rules! halves {
    ($f:ident, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        // SAFETY: see the note above the impls.
        unsafe { F32x16($f(a.0, b.0), $f(a.1, b.1)) }
    }};
}

/// Applies an integer `__m256i` intrinsic to both halves' bit patterns.
macro_rules! int_halves {
    ($f:ident, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                _mm256_castsi256_ps($f(_mm256_castps_si256(a.0), _mm256_castps_si256(b.0))),
                _mm256_castsi256_ps($f(_mm256_castps_si256(a.1), _mm256_castps_si256(b.1))),
            )
        }
    }};
}

impl Lanes for F32x16 {
    type Mask = (__m256, __m256);
    #[inline(always)]
    fn store(self, s: &mut [f32]) {
        let p = s[..LANES].as_mut_ptr();
        // SAFETY: see the note above the impls.
        unsafe {
            _mm256_storeu_ps(p, self.0);
            _mm256_storeu_ps(p.add(8), self.1);
        }
    }
    #[inline(always)]
    fn store_f16(self, s: &mut [u16]) {
        let p = s[..LANES].as_mut_ptr().cast::<__m128i>();
        // SAFETY: see the note above the impls.
        unsafe {
            _mm_storeu_si128(p, _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(self.0));
            _mm_storeu_si128(
                p.add(1),
                _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(self.1),
            );
        }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        halves!(_mm256_add_ps, self, o)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        halves!(_mm256_sub_ps, self, o)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        halves!(_mm256_mul_ps, self, o)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        halves!(_mm256_div_ps, self, o)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        // vminps: `a < b ? a : b`, the reference's definition.
        halves!(_mm256_min_ps, self, o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        halves!(_mm256_max_ps, self, o)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        halves!(_mm256_and_ps, self, o)
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        halves!(_mm256_or_ps, self, o)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> Self::Mask {
        // SAFETY: see the note above the impls.
        unsafe {
            (
                _mm256_cmp_ps::<_CMP_LT_OQ>(self.0, o.0),
                _mm256_cmp_ps::<_CMP_LT_OQ>(self.1, o.1),
            )
        }
    }
    #[inline(always)]
    fn eq(self, o: Self) -> Self::Mask {
        // SAFETY: see the note above the impls.
        unsafe {
            (
                _mm256_cmp_ps::<_CMP_EQ_OQ>(self.0, o.0),
                _mm256_cmp_ps::<_CMP_EQ_OQ>(self.1, o.1),
            )
        }
    }
    #[inline(always)]
    fn select(m: Self::Mask, a: Self, b: Self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                _mm256_blendv_ps(b.0, a.0, m.0),
                _mm256_blendv_ps(b.1, a.1, m.1),
            )
        }
    }
    #[inline(always)]
    fn add_i32(self, o: Self) -> Self {
        int_halves!(_mm256_add_epi32, self, o)
    }
    #[inline(always)]
    fn sub_i32(self, o: Self) -> Self {
        int_halves!(_mm256_sub_epi32, self, o)
    }
    #[inline(always)]
    fn shr1_i32(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                _mm256_castsi256_ps(_mm256_srai_epi32::<1>(_mm256_castps_si256(self.0))),
                _mm256_castsi256_ps(_mm256_srai_epi32::<1>(_mm256_castps_si256(self.1))),
            )
        }
    }
    #[inline(always)]
    fn shl23_i32(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_castps_si256(self.0))),
                _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_castps_si256(self.1))),
            )
        }
    }
    #[inline(always)]
    fn swap_pairs(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                _mm256_permute_ps::<0b10_11_00_01>(self.0),
                _mm256_permute_ps::<0b10_11_00_01>(self.1),
            )
        }
    }
    #[inline(always)]
    fn reduce_add(self) -> f32 {
        // SAFETY: see the note above the impls.
        unsafe { reduce8_add(_mm256_add_ps(self.0, self.1)) }
    }
    #[inline(always)]
    fn reduce_max(self) -> f32 {
        // SAFETY: see the note above the impls.
        unsafe { reduce8_max(_mm256_max_ps(self.0, self.1)) }
    }
}

crate::ops::contract::ops_tier!(Avx2, "avx2", #[target_feature(enable = "avx2,fma,f16c")]);
