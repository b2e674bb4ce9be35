//! Softmax over a row.

/// In-place softmax: `x[i] = exp(x[i] - max) / sum`. Entries of `-inf` become 0; a row of
/// only `-inf` becomes all zeros (nothing to attend to) instead of NaN.
pub fn softmax_f32(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        x.fill(0.0);
        return;
    }
    let mut sum = 0.0f64;
    for v in x.iter_mut() {
        let e = super::math::exp(f64::from(*v - max));
        *v = e as f32;
        sum += e;
    }
    let inv = (1.0 / sum) as f32;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_handles_neg_inf_and_large_values() {
        let mut x = [1000.0f32, 1000.0, f32::NEG_INFINITY];
        softmax_f32(&mut x);
        assert_eq!(x, [0.5, 0.5, 0.0]);
        let mut y = [f32::NEG_INFINITY; 3];
        softmax_f32(&mut y);
        assert_eq!(y, [0.0; 3]);
    }
}
