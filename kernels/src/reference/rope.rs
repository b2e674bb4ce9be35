//! Rotary position embedding (RoPE).
//!
//! Two pairings exist in GGUF models:
//! - [`RopePairing::Adjacent`]: rotate (x[2j], x[2j+1]), llama.cpp's "normal" mode, used
//!   for `llama` GGUFs, whose Q/K rows the converter permuted so that this equals HF's
//!   half-split rotation;
//! - [`RopePairing::HalfSplit`]: rotate (x[j], x[j + d/2]), the NeoX mode (Qwen2).
//!
//! Pair j at position p turns by the angle `p * base^(-2j/d)`; the caller passes that
//! position's `cos`/`sin` table (frequency base and position offset live there).
//! Each pair becomes `(x0 cos - x1 sin, x1 cos + x0 sin)`; the adjacent form computes it as
//! `x * [c, c] + swap(x) * [-s, s]`, which is the same IEEE operations.

use super::lanes::{Lanes, ScalarTier, Tier, LANES};

/// Which elements of a head form a rotated pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopePairing {
    Adjacent,
    HalfSplit,
}

/// Rotates every head of `x` (heads of `head_dim` contiguous values) for one position:
/// pair j (of `rot_dims / 2`) by the angle whose cosine and sine are `cos[j]`, `sin[j]`.
/// Dimensions at or past `rot_dims` are left alone.
#[inline(always)]
pub(crate) fn rope<T: Tier>(
    t: T,
    x: &mut [f32],
    head_dim: usize,
    rot_dims: usize,
    pairing: RopePairing,
    cos: &[f32],
    sin: &[f32],
) {
    let half = rot_dims / 2;
    let (cos, sin) = (&cos[..half], &sin[..half]);
    for head in x.chunks_exact_mut(head_dim) {
        let head = &mut head[..2 * half];
        match pairing {
            RopePairing::HalfSplit => rope_half_split(t, head, cos, sin),
            RopePairing::Adjacent => rope_adjacent(t, head, cos, sin),
        }
    }
}

/// (x[j], x[j + half]), 16 pairs at a time; the tail through padded copies.
#[inline(always)]
fn rope_half_split<T: Tier>(t: T, head: &mut [f32], cos: &[f32], sin: &[f32]) {
    let half = cos.len();
    let (a, b) = head.split_at_mut(half);
    // A nested function, not a closure: closures are not forced inline, and an outlined
    // one would lack the tier's target features (every intrinsic a call).
    #[inline(always)]
    fn rotate<T: Tier>(t: T, a: &mut [f32], b: &mut [f32], c: &[f32], s: &[f32]) {
        let (va, vb, c, s) = (t.load(a), t.load(b), t.load(c), t.load(s));
        va.mul(c).sub(vb.mul(s)).store(a);
        vb.mul(c).add(va.mul(s)).store(b);
    }
    let full = half - half % LANES;
    for i in (0..full).step_by(LANES) {
        rotate(t, &mut a[i..], &mut b[i..], &cos[i..], &sin[i..]);
    }
    let n = half - full;
    if n > 0 {
        let mut bufs = [[0.0; LANES]; 4];
        for (buf, src) in bufs
            .iter_mut()
            .zip([&a[full..], &b[full..], &cos[full..], &sin[full..]])
        {
            buf[..n].copy_from_slice(src);
        }
        let [mut ba, mut bb, bc, bs] = bufs;
        rotate(t, &mut ba, &mut bb, &bc, &bs);
        a[full..].copy_from_slice(&ba[..n]);
        b[full..].copy_from_slice(&bb[..n]);
    }
}

/// (x[2j], x[2j + 1]), 8 pairs (16 values) at a time: with `p = x * [c, c]` and
/// `q = swap(x) * [s, s]`, even lanes take `p - q` and odd lanes `p + q`.
#[inline(always)]
fn rope_adjacent<T: Tier>(t: T, head: &mut [f32], cos: &[f32], sin: &[f32]) {
    const PAIRS: usize = LANES / 2;
    let lane_parity: [f32; LANES] = core::array::from_fn(|i| (i % 2) as f32);
    let even = t.load(&lane_parity).lt(t.splat(0.5));
    // A nested function for the reason given in `rope_half_split`.
    #[inline(always)]
    fn rotate<T: Tier>(t: T, even: <T::V as Lanes>::Mask, x: &mut [f32], c: &[f32], s: &[f32]) {
        let v = t.load(x);
        let p = v.mul(t.load_dup_pairs(c));
        let q = v.swap_pairs().mul(t.load_dup_pairs(s));
        T::V::select(even, p.sub(q), p.add(q)).store(x);
    }
    let half = cos.len();
    let full = half - half % PAIRS;
    for j in (0..full).step_by(PAIRS) {
        rotate(t, even, &mut head[2 * j..], &cos[j..], &sin[j..]);
    }
    let n = half - full;
    if n > 0 {
        let (mut bx, mut bc, mut bs) = ([0.0; LANES], [0.0; PAIRS], [0.0; PAIRS]);
        bx[..2 * n].copy_from_slice(&head[2 * full..]);
        bc[..n].copy_from_slice(&cos[full..]);
        bs[..n].copy_from_slice(&sin[full..]);
        rotate(t, even, &mut bx, &bc, &bs);
        head[2 * full..].copy_from_slice(&bx[..2 * n]);
    }
}

/// Rotates every head of `x` for one position (scalar reference; see [`RopePairing`]).
/// `cos` and `sin` hold at least `rot_dims / 2` values; `rot_dims <= head_dim`.
pub fn rope_f32(
    x: &mut [f32],
    head_dim: usize,
    rot_dims: usize,
    pairing: RopePairing,
    cos: &[f32],
    sin: &[f32],
) {
    check_rope(x.len(), head_dim, rot_dims, cos.len(), sin.len());
    rope(ScalarTier, x, head_dim, rot_dims, pairing, cos, sin);
}

/// Panics (a caller bug) on a RoPE shape that does not fit.
pub(crate) fn check_rope(x: usize, head_dim: usize, rot_dims: usize, cos: usize, sin: usize) {
    assert!(
        head_dim > 0 && x.is_multiple_of(head_dim),
        "rope: x ({x} values) must be whole heads of head_dim {head_dim}"
    );
    assert!(
        rot_dims <= head_dim && rot_dims.is_multiple_of(2),
        "rope: rot_dims {rot_dims} must be even and <= head_dim {head_dim}"
    );
    assert!(
        cos >= rot_dims / 2 && sin >= rot_dims / 2,
        "rope: cos ({cos}) and sin ({sin}) need rot_dims / 2 = {} values",
        rot_dims / 2
    );
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

    #[test]
    fn adjacent_pairs_turn_like_complex_numbers() {
        // (1 + 2i) * (0.6 + 0.8i) = -1 + 2i; the pair past rot_dims is untouched.
        let mut x = [1.0f32, 2.0, 5.0, 6.0];
        rope_f32(&mut x, 4, 2, RopePairing::Adjacent, &[0.6], &[0.8]);
        assert!((x[0] + 1.0).abs() < 1e-6 && (x[1] - 2.0).abs() < 1e-6);
        assert_eq!(&x[2..], &[5.0, 6.0]);
    }
}
