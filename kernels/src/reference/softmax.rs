//! Softmax over a row, in place: `x[i] = exp(x[i] - max) * (1 / sum)`, with the
//! approximate [`super::approx::exp`] and a lane-canonical sum.
//!
//! Special rows (the same in every tier):
//! - `-inf` entries become 0 (masked positions);
//! - a row of only `-inf` (or an empty row) becomes all zeros, not NaN: nothing to attend
//!   to contributes nothing;
//! - a `+inf` or NaN entry makes the whole row NaN (the max ignores NaN, but its exp is NaN
//!   and so is the sum; `inf - inf` is NaN);
//! - very large finite values are safe (everything is relative to the max, whose exp is
//!   exactly 1, so the sum is in [1, n]); very small ones underflow to 0 gracefully.

use super::approx::exp;
use super::lanes::{fmax, map, sum_of, Lanes, ScalarTier, Tier, LANES};

/// The row max with [`fmax`]: lane-canonical (16 strided maxima, the tree, then the tail).
#[inline(always)]
fn row_max<T: Tier>(t: T, x: &[f32]) -> f32 {
    let full = x.len() - x.len() % LANES;
    let mut acc = t.splat(f32::NEG_INFINITY);
    for i in (0..full).step_by(LANES) {
        acc = t.load(&x[i..]).max(acc);
    }
    x[full..].iter().fold(acc.reduce_max(), |m, &v| fmax(v, m))
}

#[inline(always)]
pub(crate) fn softmax<T: Tier>(t: T, x: &mut [f32]) {
    // `row_max` ignores NaN, so the max is `-inf` only for a row of `-inf` (or empty).
    let (max, sum) = online_block(t, x, f32::NEG_INFINITY);
    if max == f32::NEG_INFINITY {
        x.fill(0.0);
        return;
    }
    let inv = t.splat(1.0 / sum);
    map(
        t,
        x,
        #[inline(always)]
        |v| v.mul(inv),
    );
}

/// One block of an online softmax: `m = fmax(max(x), running)` (the max with
/// [`fmax`], lane-canonical); unless `m` is `-inf`, `x[i] = exp(x[i] - m)` in place. Returns
/// `m` and the lane-canonical sum of the new `x` (0 and `x` unchanged when `m` is `-inf`).
#[inline(always)]
pub(crate) fn online_block<T: Tier>(t: T, x: &mut [f32], running: f32) -> (f32, f32) {
    let max = fmax(row_max(t, x), running);
    if max == f32::NEG_INFINITY {
        return (max, 0.0);
    }
    let m = t.splat(max);
    map(
        t,
        x,
        #[inline(always)]
        |v| exp(t, v.sub(m)),
    );
    let sum = sum_of(
        t,
        x.len(),
        #[inline(always)]
        |i| t.load(&x[i..]),
        #[inline(always)]
        |j| x[j],
    );
    (max, sum)
}

/// In-place softmax of one row (scalar reference).
pub fn softmax_f32(x: &mut [f32]) {
    softmax(ScalarTier, x);
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
        let mut z = [1.0f32, f32::INFINITY];
        softmax_f32(&mut z);
        assert!(z.iter().all(|v| v.is_nan()));
    }
}
