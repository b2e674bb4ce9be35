//! Normalizations: RMSNorm (Llama family) and LayerNorm with bias (SlimLM / MPT).
//!
//! Sums are accumulated in f64 so that the reference is more accurate than any SIMD tier
//! that is compared with it (as llama.cpp's CPU backend does with `ggml_float`).

/// `out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i]`.
///
/// `x`, `weight` and `out` have the same length.
pub fn rmsnorm_f32(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    debug_assert!(x.len() == weight.len() && x.len() == out.len());
    let sum_sq: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
    let mean = sum_sq / x.len().max(1) as f64;
    let scale = (1.0 / super::math::sqrt(mean + f64::from(eps))) as f32;
    for ((o, &v), &w) in out.iter_mut().zip(x).zip(weight) {
        *o = v * scale * w;
    }
}

/// `out[i] = (x[i] - mean) / sqrt(var + eps) * weight[i] + bias[i]`, with the biased
/// (population) variance, as PyTorch's `LayerNorm`.
pub fn layernorm_f32(x: &[f32], weight: &[f32], bias: &[f32], eps: f32, out: &mut [f32]) {
    debug_assert!(x.len() == weight.len() && x.len() == bias.len() && x.len() == out.len());
    let n = x.len().max(1) as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = x
        .iter()
        .map(|&v| {
            let d = f64::from(v) - mean;
            d * d
        })
        .sum::<f64>()
        / n;
    let inv_std = 1.0 / super::math::sqrt(var + f64::from(eps));
    for (((o, &v), &w), &b) in out.iter_mut().zip(x).zip(weight).zip(bias) {
        *o = ((f64::from(v) - mean) * inv_std) as f32 * w + b;
    }
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
