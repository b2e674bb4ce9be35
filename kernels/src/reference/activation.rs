//! Elementwise activations: exact (erf) GELU, tanh GELU, SiLU and SwiGLU, evaluated in f64
//! with the functions of [`super::math`] and rounded once to f32.

use super::math;

/// Exact GELU, `0.5 x (1 + erf(x / sqrt 2))` (PyTorch's default, SlimLM's MLP).
pub fn gelu_erf(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + math::erf(x * core::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// GELU with the tanh approximation, `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`
/// (GPT-2's "gelu_new", llama.cpp's GELU).
pub fn gelu_tanh(x: f32) -> f32 {
    const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;
    let x = f64::from(x);
    (0.5 * x * (1.0 + math::tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))) as f32
}

/// SiLU, `x * sigmoid(x)` (-0 where e^-x overflows, as the limit is 0 from below).
pub fn silu(x: f32) -> f32 {
    let x = f64::from(x);
    let e = math::exp(-x);
    if e.is_infinite() {
        return -0.0;
    }
    (x / (1.0 + e)) as f32
}

/// Applies exact GELU in place.
pub fn gelu_erf_inplace(x: &mut [f32]) {
    for v in x {
        *v = gelu_erf(*v);
    }
}

/// SwiGLU: `gate[i] = silu(gate[i]) * up[i]`.
pub fn swiglu_inplace(gate: &mut [f32], up: &[f32]) {
    debug_assert_eq!(gate.len(), up.len());
    for (g, &u) in gate.iter_mut().zip(up) {
        *g = silu(*g) * u;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((gelu_erf(1.0) - 0.841_344_7).abs() < 1e-7);
        assert!((gelu_erf(-1.0) + 0.158_655_26).abs() < 1e-7);
        assert!((gelu_tanh(1.0) - 0.841_192).abs() < 1e-6);
        assert!((silu(1.0) - 0.731_058_6).abs() < 1e-7);
        assert_eq!(gelu_erf(0.0), 0.0);
        assert_eq!(gelu_erf(-20.0), -0.0);
        assert_eq!(gelu_erf(20.0), 20.0);
        assert!(gelu_erf(f32::NAN).is_nan());
        assert_eq!(silu(f32::NEG_INFINITY), -0.0);
    }
}
