//! AVX2 activation quantizers: f32 rows to Q8_0 / Q8_1 blocks, bit for bit what the scalar
//! quantizers make ([`crate::formats::quantize_blocks`], ggml's `quantize_row_q8_*_ref`),
//! non-finite inputs included. They never allocate; they panic only on a row length that
//! is not 32 values per output block.
//!
//! Per block of 32:
//! - `amax` by `and` (clear the sign) + `max` tree: without NaNs the order does not matter
//!   (`max` of non-negative values, infinities included, is exact and associative); a block
//!   holding a NaN takes the scalar code's in-order fold instead, so even NaN blocks match.
//! - `d = amax / 127` and `id = 1 / d` (or 0) in scalar f32, the scalar code's expressions.
//! - `y = x * id` (`_mm256_mul_ps`, the same f32 product), then C's `roundf` (halfway away
//!   from zero) and Rust's saturating `as i8` (NaN -> 0), which x86 has no instruction for:
//!   NaN lanes are zeroed and `y` clamped to [-128, 127] first (as the bounds are integers
//!   and `roundf` is monotonic, `roundf(clamp(y))` is the saturated `roundf(y)`, and
//!   `+-inf` land on 127 / -128 as in Rust); then `t = trunc(y)` (`cvttps2dq`, exact for
//!   |y| <= 128), `f = y - t` (exact: the fraction bits of `y`), and `t +- 1` when
//!   `|f| >= 0.5`: the scalar `roundf`'s one decision (`a - trunc(a) >= 0.5`) on the same
//!   exact difference. (`_mm256_round_ps` has no ties-away mode, and
//!   `trunc(y + copysign(0.5, y))` is wrong for 0.49999997, where `y + 0.5` rounds up.)
//! - the int32s pack to int8 without saturating (they are already in range); Q8_1's sum is
//!   the exact sum of those int32s.
//! - `d` (and Q8_1's `s = f16(sum as f32 * d)`, the scalar expression) go through the crate's
//!   own `f32_to_f16`, not F16C, so NaN payloads match too.
//!
//! This file depends on nothing but `crate::formats` and `core`: `tests/quantize_x86.rs`
//! compiles it on its own (with `slimlm_kernels::formats` standing in) until the runtime
//! exposes a public entry. Keep it that way.

use core::arch::x86_64::{
    __m256, __m256i, _mm256_add_epi32, _mm256_add_ps, _mm256_and_ps, _mm256_castsi256_ps,
    _mm256_cmp_ps, _mm256_cvtepi32_ps, _mm256_cvttps_epi32, _mm256_extracti128_si256,
    _mm256_loadu_ps, _mm256_max_ps, _mm256_min_ps, _mm256_movemask_ps, _mm256_mul_ps, _mm256_or_ps,
    _mm256_packs_epi16, _mm256_packs_epi32, _mm256_permutevar8x32_epi32, _mm256_set1_epi32,
    _mm256_set1_ps, _mm256_setr_epi32, _mm256_storeu_si256, _mm256_sub_ps, _mm_add_epi32,
    _mm_cvtsi128_si32, _mm_cvtss_f32, _mm_max_ps, _mm_movehl_ps, _mm_shuffle_epi32, _mm_shuffle_ps,
    _CMP_GE_OQ, _CMP_ORD_Q, _CMP_UNORD_Q,
};

use crate::formats::{f32_to_f16, BlockQ8_0, BlockQ8_1};

/// Values per Q8_0 / Q8_1 block.
const QK: usize = 32;

/// ggml's `amax = MAX(amax, fabsf(v))` in element order: a NaN `|v|` replaces `amax`, and a
/// NaN `amax` is replaced by the next `|v|`. Only blocks holding a NaN take this path.
#[cold]
fn amax_in_order(x: &[f32; QK]) -> f32 {
    let mut amax = 0.0f32;
    for &v in x {
        amax = if amax > v.abs() { amax } else { v.abs() };
    }
    amax
}

/// The f32 scale `d` of one block, its 32 quants (natural order) and their exact sum.
#[inline]
#[target_feature(enable = "avx2")]
fn quantize_block(x: &[f32; QK]) -> (f32, __m256i, i32) {
    // SAFETY: each 8-float load lies inside the 32-float array (j < 4); unaligned loads.
    let v: [__m256; 4] =
        core::array::from_fn(|j| unsafe { _mm256_loadu_ps(x.as_ptr().add(8 * j)) });
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
    let a = v.map(|v| _mm256_and_ps(v, abs_mask));
    let m = _mm256_max_ps(_mm256_max_ps(a[0], a[1]), _mm256_max_ps(a[2], a[3]));
    // A lane of `unord(x, y)` is set when either operand is NaN.
    let unord = _mm256_or_ps(
        _mm256_cmp_ps::<_CMP_UNORD_Q>(v[0], v[1]),
        _mm256_cmp_ps::<_CMP_UNORD_Q>(v[2], v[3]),
    );
    let amax = if _mm256_movemask_ps(unord) == 0 {
        let h = _mm_max_ps(
            core::arch::x86_64::_mm256_castps256_ps128(m),
            core::arch::x86_64::_mm256_extractf128_ps::<1>(m),
        );
        let h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        _mm_cvtss_f32(_mm_max_ps(h, _mm_shuffle_ps::<0b01>(h, h)))
    } else {
        amax_in_order(x)
    };

    // The scalar code's exact expressions (`q8_scale`).
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };

    let idv = _mm256_set1_ps(id);
    let sign_mask = _mm256_set1_ps(-0.0);
    let (lo, hi) = (_mm256_set1_ps(-128.0), _mm256_set1_ps(127.0));
    let q: [__m256i; 4] = v.map(|v| {
        let y = _mm256_mul_ps(v, idv);
        // NaN -> +0, then clamp: `max(lo, y)` and `min(hi, y)` with `y` ordered.
        let y = _mm256_and_ps(y, _mm256_cmp_ps::<_CMP_ORD_Q>(y, y));
        let y = _mm256_min_ps(_mm256_max_ps(y, lo), hi);
        let t = _mm256_cvttps_epi32(y);
        let f = _mm256_sub_ps(y, _mm256_cvtepi32_ps(t));
        let up = _mm256_cmp_ps::<_CMP_GE_OQ>(_mm256_and_ps(f, abs_mask), _mm256_set1_ps(0.5));
        // +-1.0 (the sign of y) where rounding moves away from zero, else +-0.0.
        let step = _mm256_or_ps(
            _mm256_and_ps(up, _mm256_set1_ps(1.0)),
            _mm256_and_ps(y, sign_mask),
        );
        _mm256_cvttps_epi32(_mm256_add_ps(_mm256_cvtepi32_ps(t), step))
    });
    let s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    let s = _mm_add_epi32(
        core::arch::x86_64::_mm256_castsi256_si128(s),
        _mm256_extracti128_si256::<1>(s),
    );
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    let sum = _mm_cvtsi128_si32(s);
    // In range already: the packs do not saturate. Their lane interleave is undone by the
    // dword permutation (see the module docs of the panel kernels for the pattern).
    let p = _mm256_packs_epi16(
        _mm256_packs_epi32(q[0], q[1]),
        _mm256_packs_epi32(q[2], q[3]),
    );
    let p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    (d, p, sum)
}

/// Quantizes the row `x` into `out` as Q8_0, bit-identical to
/// `quantize_blocks::<BlockQ8_0>` (non-finite inputs included).
///
/// Calling it needs `unsafe` outside AVX2 code: the caller must have checked AVX2
/// (`is_x86_feature_detected!("avx2")`, or an avx2/avx512 [`crate::matmul::Kernels`]).
///
/// # Panics
/// If `x.len() != 32 * out.len()`.
#[target_feature(enable = "avx2")]
pub(crate) fn quantize_row_q8_0_avx2(x: &[f32], out: &mut [BlockQ8_0]) {
    assert_eq!(x.len(), QK * out.len(), "Q8_0 row: 32 values per block");
    for (xb, o) in x.chunks_exact(QK).zip(out.iter_mut()) {
        let xb: &[f32; QK] = xb.try_into().expect("chunks_exact(32) yields 32 values");
        let (d, q, _) = quantize_block(xb);
        o.d = f32_to_f16(d);
        // SAFETY: the 32-byte store writes exactly `o.qs`, uniquely borrowed; unaligned.
        unsafe { _mm256_storeu_si256(o.qs.as_mut_ptr().cast(), q) };
    }
}

/// Quantizes the row `x` into `out` as Q8_1 (`s = f16(sum(q) as f32 * d)` with the f32
/// `d`), bit-identical to `quantize_blocks::<BlockQ8_1>` (non-finite inputs included).
///
/// Calling it needs `unsafe` outside AVX2 code, like [`quantize_row_q8_0_avx2`].
///
/// # Panics
/// If `x.len() != 32 * out.len()`.
#[target_feature(enable = "avx2")]
pub(crate) fn quantize_row_q8_1_avx2(x: &[f32], out: &mut [BlockQ8_1]) {
    assert_eq!(x.len(), QK * out.len(), "Q8_1 row: 32 values per block");
    for (xb, o) in x.chunks_exact(QK).zip(out.iter_mut()) {
        let xb: &[f32; QK] = xb.try_into().expect("chunks_exact(32) yields 32 values");
        let (d, q, sum) = quantize_block(xb);
        o.d = f32_to_f16(d);
        o.s = f32_to_f16(sum as f32 * d);
        // SAFETY: the 32-byte store writes exactly `o.qs`, uniquely borrowed; unaligned.
        unsafe { _mm256_storeu_si256(o.qs.as_mut_ptr().cast(), q) };
    }
}
