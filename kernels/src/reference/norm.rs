//! Normalizations: RMSNorm (Llama family) and LayerNorm with bias (SlimLM / MPT), fused
//! with their weight (and bias), over one or more rows.
//!
//! Sums are lane-canonical f32 sums ([`super::lanes::sum_of`]); the per-row scale
//! `1 / sqrt(.. + eps)` is one scalar step shared by every tier.

use super::lanes::{map_n, sum_of, Lanes, ScalarTier, Tier};

/// `1 / sqrt(v)` for the per-row scale, the same scalar computation for every tier: the
/// correctly rounded f64 square root (the hardware instruction; ARMv8 and x86-64 both
/// have it in their baseline), then one f32 division.
fn inv_sqrt(v: f32) -> f32 {
    1.0 / sqrt_f64(f64::from(v)) as f32
}

/// The IEEE (correctly rounded) square root.
#[inline(always)]
fn sqrt_f64(x: f64) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_cvtsd_f64, _mm_set_sd, _mm_sqrt_sd};
        // SAFETY: SSE2 is part of the x86-64 baseline.
        unsafe {
            let v = _mm_set_sd(x);
            _mm_cvtsd_f64(_mm_sqrt_sd(v, v))
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        use core::arch::aarch64::{vdup_n_f64, vget_lane_f64, vsqrt_f64};
        // SAFETY: NEON (AdvSIMD) is part of the aarch64 baseline.
        unsafe { vget_lane_f64::<0>(vsqrt_f64(vdup_n_f64(x))) }
    }
    // Targets without kernel tiers: Newton's iteration, within one ulp.
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        super::math::sqrt(x)
    }
}

/// Every row of `x` (rows of `weight.len()`): `out = x / sqrt(mean(x^2) + eps) * weight`.
#[inline(always)]
pub(crate) fn rms_norm<T: Tier>(t: T, x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let n = weight.len();
    for (xr, or) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        let ss = sum_of(
            t,
            n,
            #[inline(always)]
            |i| {
                let v = t.load(&xr[i..]);
                v.mul(v)
            },
            #[inline(always)]
            |j| xr[j] * xr[j],
        );
        let scale = t.splat(inv_sqrt(ss / n as f32 + eps));
        map_n(
            t,
            or,
            [xr, weight],
            #[inline(always)]
            |[v, w]| v.mul(scale).mul(w),
        );
    }
}

/// Every row of `x`: `out = (x - mean) / sqrt(var + eps) * weight + bias`, with the biased
/// (population) variance, as PyTorch's `LayerNorm`.
#[inline(always)]
pub(crate) fn layer_norm<T: Tier>(
    t: T,
    x: &[f32],
    weight: &[f32],
    bias: &[f32],
    eps: f32,
    out: &mut [f32],
) {
    let n = weight.len();
    for (xr, or) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        let mean = sum_of(
            t,
            n,
            #[inline(always)]
            |i| t.load(&xr[i..]),
            #[inline(always)]
            |j| xr[j],
        ) / n as f32;
        let m = t.splat(mean);
        let var = sum_of(
            t,
            n,
            #[inline(always)]
            |i| {
                let d = t.load(&xr[i..]).sub(m);
                d.mul(d)
            },
            #[inline(always)]
            |j| (xr[j] - mean) * (xr[j] - mean),
        ) / n as f32;
        let scale = t.splat(inv_sqrt(var + eps));
        map_n(
            t,
            or,
            [xr, weight, bias],
            #[inline(always)]
            |[v, w, b]| v.sub(m).mul(scale).mul(w).add(b),
        );
    }
}

/// RMSNorm of every row of `x` (rows of `weight.len()`; scalar reference).
pub fn rmsnorm_f32(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    check_rows("rmsnorm", x.len(), weight.len(), out.len());
    rms_norm(ScalarTier, x, weight, eps, out);
}

/// LayerNorm of every row of `x` (rows of `weight.len()`; scalar reference).
pub fn layernorm_f32(x: &[f32], weight: &[f32], bias: &[f32], eps: f32, out: &mut [f32]) {
    check_rows("layernorm", x.len(), weight.len(), out.len());
    assert_eq!(
        bias.len(),
        weight.len(),
        "layernorm: bias and weight lengths differ"
    );
    layer_norm(ScalarTier, x, weight, bias, eps, out);
}

/// Panics (a caller bug) unless `x` is whole rows of `n > 0` and `out` is as long.
pub(crate) fn check_rows(op: &str, x: usize, n: usize, out: usize) {
    assert!(
        n > 0 && x.is_multiple_of(n) && out == x,
        "{op}: x ({x} values) must be whole rows of the weight's {n} values, and out ({out}) as long"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmsnorm_of_constant_vector_is_weight() {
        let x = [3.0f32; 8];
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let mut out = [0.0; 8];
        rmsnorm_f32(&x, &w, 0.0, &mut out);
        for (o, w) in out.iter().zip(w) {
            assert!((o - w).abs() < 1e-6);
        }
    }

    #[test]
    fn layernorm_centres_and_scales() {
        let x = [1.0f32, 2.0, 3.0, 4.0];
        let mut out = [0.0; 4];
        layernorm_f32(&x, &[1.0; 4], &[0.5; 4], 0.0, &mut out);
        let mean: f32 = out.iter().sum::<f32>() / 4.0;
        assert!((mean - 0.5).abs() < 1e-6);
        // (1 - 2.5) / sqrt(1.25) + 0.5
        assert!((out[0] - (-1.5 / 1.118_034 + 0.5)).abs() < 1e-6);
    }
}
