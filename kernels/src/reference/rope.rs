//! Rotary position embedding (RoPE).
//!
//! Two pairings exist in GGUF models:
//! - [`RopePairing::Adjacent`]: rotate (x[2j], x[2j+1]), llama.cpp's "normal" mode, used
//!   for `llama` GGUFs, whose Q/K rows the converter permuted so that this equals HF's
//!   half-split rotation;
//! - [`RopePairing::HalfSplit`]: rotate (x[j], x[j + d/2]), the NeoX mode (Qwen2).
//!
//! Pair j at position p turns by the angle `p * base^(-2j/d)`.

/// Which elements of a head form a rotated pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopePairing {
    Adjacent,
    HalfSplit,
}

/// Rotates every head of `x` (`n_heads` heads of `head_dim` contiguous values) for
/// one position, given the `cos`/`sin` of that position's angles (length `rot_dims / 2`;
/// pair j turns by `pos * base^(-2j/rot_dims)`). Dimensions at or past `rot_dims` are left alone.
pub fn rope_f32(
    x: &mut [f32],
    head_dim: usize,
    rot_dims: usize,
    pairing: RopePairing,
    cos: &[f32],
    sin: &[f32],
) {
    let half = rot_dims / 2;
    debug_assert!(rot_dims <= head_dim && cos.len() >= half && sin.len() >= half);
    for head in x.chunks_exact_mut(head_dim) {
        for j in 0..half {
            let (a, b) = match pairing {
                RopePairing::Adjacent => (2 * j, 2 * j + 1),
                RopePairing::HalfSplit => (j, j + half),
            };
            let (x0, x1) = (head[a], head[b]);
            head[a] = x0 * cos[j] - x1 * sin[j];
            head[b] = x0 * sin[j] + x1 * cos[j];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_zero_is_identity_and_norm_is_kept() {
        let mut x: [f32; 8] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let (cos, sin) = ([1.0; 4], [0.0; 4]);
        rope_f32(&mut x, 8, 8, RopePairing::Adjacent, &cos, &sin);
        assert_eq!(x, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);

        let (cos, sin) = ([0.6f32, 0.8], [0.8f32, -0.6]); // unit (cos, sin) pairs
        let mut y = [3.0f32, 4.0, 1.0, 0.0];
        rope_f32(&mut y, 4, 4, RopePairing::HalfSplit, &cos, &sin);
        // pairs (y0, y2) and (y1, y3) keep their norms
        assert!(((y[0] * y[0] + y[2] * y[2]) - 10.0).abs() < 1e-5);
        assert!(((y[1] * y[1] + y[3] * y[3]) - 16.0).abs() < 1e-5);
    }
}
