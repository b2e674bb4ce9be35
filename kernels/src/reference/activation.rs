//! Elementwise activations: exact (erf) GELU, tanh GELU, SiLU x up (SwiGLU), tanh GELU x up
//! (GeGLU, Gemma's MLP), written once
//! over [`Lanes`] with the approximations of [`super::approx`]; the `*_inplace` functions
//! are the scalar reference. Each form avoids cancellation in the negative tail:
//! - `gelu_erf(x) = x Phi(x)` with `Phi = erfc(|x|/sqrt 2) / 2` for x < 0 and
//!   `1 - erfc(x/sqrt 2) / 2` otherwise;
//! - `gelu_tanh(x) = 0.5 x (1 + tanh(u)) = x / (1 + e^(-2u))`,
//!   `u = sqrt(2/pi) (x + 0.044715 x^3)`;
//! - `silu(x) = x / (1 + e^-x)`.
//!
//! Where the exponential overflows (x -> -inf) the result is -0, the limit from below.
//!
//! Measured errors against f64 (`kernels/tests/ops_accuracy.rs`, bounds in brackets):
//! SiLU 2.3 ulp for x >= -87 [16]; exact GELU 34 ulp for x >= -5 [40] (at x = -4.5, where
//! the value is -1.5e-5: the rounding of z^2 amplified by exp; absolute error 3e-12 below
//! x = -5 [1e-11]); tanh GELU 179 ulp for x >= -9 [200] (at x = -9, value -1e-28; the
//! rounding of 2u, about 66 there, amplified by exp), -0 instead of values < 1e-37 below
//! x = -10. Elsewhere, near zero and for positive x, all are within a few ulp.

use super::approx::{abs, erfc, exp};
use super::lanes::{map, map2, Lanes, ScalarTier, Tier};

/// `x / (1 + e)`, or -0 where `e` is +inf.
#[inline(always)]
fn div_one_plus<T: Tier>(t: T, x: T::V, e: T::V) -> T::V {
    let q = x.div(t.splat(1.0).add(e));
    T::V::select(e.eq(t.splat(f32::INFINITY)), t.splat(-0.0), q)
}

/// Exact GELU of every lane.
#[inline(always)]
pub(crate) fn gelu_erf_lanes<T: Tier>(t: T, x: T::V) -> T::V {
    let z = abs(t, x).mul(t.splat(core::f32::consts::FRAC_1_SQRT_2));
    let half_tail = erfc(t, z).mul(t.splat(0.5));
    let phi = T::V::select(x.lt(t.splat(0.0)), half_tail, t.splat(1.0).sub(half_tail));
    // Phi = 0 only for x -> -inf, where x * 0 would be NaN.
    T::V::select(phi.eq(t.splat(0.0)), t.splat(-0.0), x.mul(phi))
}

/// tanh GELU of every lane.
#[inline(always)]
pub(crate) fn gelu_tanh_lanes<T: Tier>(t: T, x: T::V) -> T::V {
    // -2 sqrt(2/pi)
    const MINUS_2_SQRT_2_OVER_PI: f32 = -1.595_769_2;
    let cube = x.mul(x).mul(x);
    let inner = x.add(cube.mul(t.splat(0.044_715)));
    let e = exp(t, inner.mul(t.splat(MINUS_2_SQRT_2_OVER_PI)));
    div_one_plus(t, x, e)
}

/// SiLU of every lane.
#[inline(always)]
pub(crate) fn silu_lanes<T: Tier>(t: T, x: T::V) -> T::V {
    let e = exp(t, t.splat(0.0).sub(x));
    div_one_plus(t, x, e)
}

/// Exact GELU in place.
#[inline(always)]
pub(crate) fn gelu_erf<T: Tier>(t: T, x: &mut [f32]) {
    map(
        t,
        x,
        #[inline(always)]
        |v| gelu_erf_lanes(t, v),
    );
}

/// tanh GELU in place.
#[inline(always)]
pub(crate) fn gelu_tanh<T: Tier>(t: T, x: &mut [f32]) {
    map(
        t,
        x,
        #[inline(always)]
        |v| gelu_tanh_lanes(t, v),
    );
}

/// `gate[i] = silu(gate[i]) * up[i]`.
#[inline(always)]
pub(crate) fn silu_mul<T: Tier>(t: T, gate: &mut [f32], up: &[f32]) {
    map2(
        t,
        gate,
        up,
        #[inline(always)]
        |g, u| silu_lanes(t, g).mul(u),
    );
}

/// `gate[i] = gelu_tanh(gate[i]) * up[i]` (GeGLU with the tanh approximation, as Gemma's
/// MLP and llama.cpp's `LLM_FFN_GELU` + `LLM_FFN_PAR` compute it): the tanh GELU of
/// [`gelu_tanh_lanes`], then one multiply.
#[inline(always)]
pub(crate) fn gelu_tanh_mul<T: Tier>(t: T, gate: &mut [f32], up: &[f32]) {
    map2(
        t,
        gate,
        up,
        #[inline(always)]
        |g, u| gelu_tanh_lanes(t, g).mul(u),
    );
}

/// Applies exact GELU in place (scalar reference).
pub fn gelu_erf_inplace(x: &mut [f32]) {
    gelu_erf(ScalarTier, x);
}

/// Applies tanh GELU in place (scalar reference).
pub fn gelu_tanh_inplace(x: &mut [f32]) {
    gelu_tanh(ScalarTier, x);
}

/// SwiGLU: `gate[i] = silu(gate[i]) * up[i]` (scalar reference).
pub fn swiglu_inplace(gate: &mut [f32], up: &[f32]) {
    assert_eq!(gate.len(), up.len(), "swiglu: gate and up lengths differ");
    silu_mul(ScalarTier, gate, up);
}

/// GeGLU: `gate[i] = gelu_tanh(gate[i]) * up[i]` (scalar reference).
pub fn geglu_tanh_inplace(gate: &mut [f32], up: &[f32]) {
    assert_eq!(gate.len(), up.len(), "geglu: gate and up lengths differ");
    gelu_tanh_mul(ScalarTier, gate, up);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(f: fn(&mut [f32]), x: f32) -> f32 {
        let mut v = [x];
        f(&mut v);
        v[0]
    }

    #[test]
    fn known_values() {
        assert!((one(gelu_erf_inplace, 1.0) - 0.841_344_7).abs() < 1e-7);
        assert!((one(gelu_erf_inplace, -1.0) + 0.158_655_26).abs() < 1e-7);
        assert!((one(gelu_tanh_inplace, 1.0) - 0.841_192).abs() < 1e-6);
        let mut g = [1.0f32, f32::NEG_INFINITY];
        swiglu_inplace(&mut g, &[1.0, 1.0]);
        assert!((g[0] - 0.731_058_6).abs() < 1e-7);
        assert_eq!(g[1].to_bits(), (-0.0f32).to_bits());
        let mut g = [1.0f32, 2.0];
        geglu_tanh_inplace(&mut g, &[2.0, -0.5]);
        assert_eq!(g[0], 2.0 * one(gelu_tanh_inplace, 1.0));
        assert_eq!(g[1], -0.5 * one(gelu_tanh_inplace, 2.0));
        assert_eq!(one(gelu_erf_inplace, 0.0), 0.0);
        assert_eq!(one(gelu_erf_inplace, -20.0), -0.0);
        assert_eq!(one(gelu_erf_inplace, 20.0), 20.0);
        assert_eq!(
            one(gelu_erf_inplace, f32::NEG_INFINITY).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(
            one(gelu_tanh_inplace, f32::NEG_INFINITY).to_bits(),
            (-0.0f32).to_bits()
        );
        assert_eq!(one(gelu_tanh_inplace, f32::INFINITY), f32::INFINITY);
        assert!(one(gelu_erf_inplace, f32::NAN).is_nan());
    }
}
