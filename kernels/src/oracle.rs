//! Independent f64 oracles of the non-matmul ops, each with a derived error bound.
//!
//! Every tier's ops ([`crate::ops`]), the scalar one included, instantiate the same 16-lane
//! code of [`crate::reference`]; comparing the tiers with each other shows that they agree,
//! not that the shared code is right. These oracles are the textbook formulas evaluated in
//! f64 (std's `sqrt` and `exp`), written without the lane code or its helpers, so a wrong
//! norm, pairing or tail in the shared code shows up as a miss here.
//!
//! Each oracle returns the exact result (to f64 rounding, about 2^-53 relative, far below
//! the f32 errors it judges) and, per element, a bound on the error of an f32
//! implementation of the op's stated contract. The bounds are derived, not fitted: with
//! `u = 2^-24` (f32's unit roundoff) and `γ(k) = k u / (1 - k u)` (Higham's bound for `k`
//! successive roundings), each function's doc says which roundings the contract makes and
//! how they add up. They hold for normal f32 intermediates (a subnormal result adds at most
//! 2^-149 absolute per rounding, which [`TINY`] covers); second-order terms are absorbed by
//! the factor [`SLACK`].
//!
//! Used by kernels/tests/ops_oracle.rs (every tier, real and random widths), and for the C
//! entry points by src/ffi/kernels/tests.rs and tests/c_abi.rs.

use alloc::vec;
use alloc::vec::Vec;

use crate::ops::RopePairing;

/// f32's unit roundoff: a rounding to nearest changes a normal value by at most `u |x|`.
pub const U: f64 = 1.0 / (1u64 << 24) as f64;

/// Absolute error a rounding into f32's subnormal range can add (half of 2^-149), counted
/// a few times per element.
pub const TINY: f64 = 4.0 * f32::MIN_POSITIVE as f64 / (1u64 << 23) as f64;

/// Factor for the second-order terms dropped in the first-order bounds (products of two
/// error terms, each below 1e-3 here).
pub const SLACK: f64 = 1.01;

/// Higham's `γ(k) = k u / (1 - k u)`: the relative error of a product of `k` roundings.
pub fn gamma(k: usize) -> f64 {
    let ku = k as f64 * U;
    assert!(
        ku < 0.5,
        "gamma({k}): too many roundings for a useful bound"
    );
    ku / (1.0 - ku)
}

/// The most additions one term goes through in the ops' lane-canonical sum of `n` terms
/// (the order `reference::lanes::sum_of` documents: vector `v` into accumulator `v % 4`,
/// i.e. `ceil(n / 64)` adds; 2 to combine the four accumulators; 4 for the 16-lane tree;
/// at most 15 tail adds). Any other order would need `n - 1`.
pub fn lane_sum_depth(n: usize) -> usize {
    n.div_ceil(64) + 2 + 4 + 15
}

/// Exact values and the error each may have.
#[derive(Clone, Debug)]
pub struct Expected {
    pub value: Vec<f64>,
    pub bound: Vec<f64>,
}

/// The worst element of a comparison with [`Expected`].
#[derive(Clone, Copy, Debug)]
pub struct Worst {
    pub index: usize,
    pub got: f32,
    pub want: f64,
    pub bound: f64,
    /// `|got - want| / bound` (infinite for a NaN or a length mismatch).
    pub ratio: f64,
}

impl core::fmt::Display for Worst {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "element {}: got {:e}, exact {:e}, error {:e} = {:.3} x the bound {:e}",
            self.index,
            self.got,
            self.want,
            (f64::from(self.got) - self.want).abs(),
            self.ratio,
            self.bound
        )
    }
}

impl Expected {
    /// The element of `got` farthest out of its bound (relative to the bound). `ratio <=
    /// 1` means every element is within its bound.
    pub fn worst(&self, got: &[f32]) -> Worst {
        let mut worst = Worst {
            index: 0,
            got: 0.0,
            want: 0.0,
            bound: 0.0,
            ratio: if got.len() == self.value.len() {
                0.0
            } else {
                f64::INFINITY
            },
        };
        for (i, ((&g, &w), &b)) in got.iter().zip(&self.value).zip(&self.bound).enumerate() {
            let err = (f64::from(g) - w).abs();
            let ratio = if err == 0.0 {
                0.0
            } else if err.is_nan() || b == 0.0 {
                f64::INFINITY
            } else {
                err / b
            };
            if ratio > worst.ratio || (i == 0 && worst.ratio == 0.0) {
                worst = Worst {
                    index: i,
                    got: g,
                    want: w,
                    bound: b,
                    ratio,
                };
            }
        }
        worst
    }
}

fn sum(x: impl Iterator<Item = f64>) -> f64 {
    x.fold(0.0, |a, b| a + b)
}

/// RMSNorm of every row of `x` (rows of `weight.len()`): `x / sqrt(mean(x^2) + eps) * w`.
///
/// Contract: `ss` = the lane-canonical f32 sum of the rounded squares; `scale = 1 / sqrt(ss
/// / n + eps)` (sqrt in f64, rounded to f32, one f32 division); `out = (x * scale) * w`.
///
/// Bound, relative to each exact output: the terms `x^2` are non-negative, so the computed
/// sum is `ss (1 + θ)` with `|θ| <= γ(k + 1)` (`k` = [`lane_sum_depth`], plus the square's
/// rounding); the division by `n` and the add of `eps >= 0` make it `γ(k + 3)`; the inverse
/// square root halves that and adds 3 roundings (the f64 sqrt's, the cast's and the
/// division's): `γ(k + 3) / 2 + γ(3)`; the two products add `γ(2)`. So `|out - exact| <=
/// (γ(k + 3) / 2 + γ(5)) |exact|`, times [`SLACK`], plus [`TINY`].
pub fn rms_norm(x: &[f32], weight: &[f32], eps: f32) -> Expected {
    let n = weight.len();
    let rel = SLACK * (gamma(lane_sum_depth(n) + 3) / 2.0 + gamma(5));
    let mut e = Expected {
        value: vec![0.0; x.len()],
        bound: vec![0.0; x.len()],
    };
    for (r, xr) in x.chunks_exact(n).enumerate() {
        let ms = sum(xr.iter().map(|&v| f64::from(v) * f64::from(v))) / n as f64;
        let s = 1.0 / (ms + f64::from(eps)).sqrt();
        for (i, (&xi, &wi)) in xr.iter().zip(weight).enumerate() {
            let o = f64::from(xi) * s * f64::from(wi);
            e.value[r * n + i] = o;
            e.bound[r * n + i] = rel * o.abs() + TINY;
        }
    }
    e
}

/// LayerNorm of every row of `x`: `(x - mean) / sqrt(var + eps) * w + b`, population
/// variance.
///
/// Contract: `mean` = lane-canonical f32 sum of `x`, divided by `n`; `var` = lane-canonical
/// sum of `d^2` with `d = x - mean` (f32), divided by `n`; `scale = 1 / sqrt(var + eps)` as
/// in RMSNorm; `out = ((d * scale) * w) + b`.
///
/// Bound: the mean is off by `e <= γ(k + 1) sum|x| / n` (a sum of signed terms: error
/// relative to the sum of magnitudes). The deviations `d_i = (x_i - mean - e)(1 + α)`; their
/// squares sum to `n (var + e^2)` exactly, so the computed variance is `(var + e^2)(1 +
/// β)`, `|β| <= γ(k + 4)`; with `eps` added, `γ(k + 5)`. The scale is then off by at most
/// `ε_s = e^2 / (2 (var + eps)) + γ(k + 5) / 2 + γ(3)` relative. Each output differs from
/// the exact one by at most `|w| S (e + |x - mean| (ε_s + γ(3)))` before the bias add (`S`
/// the exact scale), and that add rounds once more: `+ u |exact|`. Times [`SLACK`], plus
/// [`TINY`].
pub fn layer_norm(x: &[f32], weight: &[f32], bias: &[f32], eps: f32) -> Expected {
    let n = weight.len();
    let k = lane_sum_depth(n);
    let mut e = Expected {
        value: vec![0.0; x.len()],
        bound: vec![0.0; x.len()],
    };
    for (r, xr) in x.chunks_exact(n).enumerate() {
        let mean = sum(xr.iter().map(|&v| f64::from(v))) / n as f64;
        let var = sum(xr.iter().map(|&v| (f64::from(v) - mean).powi(2))) / n as f64;
        let ve = var + f64::from(eps);
        let s = 1.0 / ve.sqrt();
        let mean_err = gamma(k + 1) * sum(xr.iter().map(|&v| f64::from(v).abs())) / n as f64;
        let eps_s = mean_err * mean_err / (2.0 * ve) + gamma(k + 5) / 2.0 + gamma(3);
        for (i, ((&xi, &wi), &bi)) in xr.iter().zip(weight).zip(bias).enumerate() {
            let d = f64::from(xi) - mean;
            let o = d * s * f64::from(wi) + f64::from(bi);
            let before_bias = f64::from(wi).abs() * s * (mean_err + d.abs() * (eps_s + gamma(3)));
            e.value[r * n + i] = o;
            e.bound[r * n + i] = SLACK * (before_bias + U * o.abs()) + TINY;
        }
    }
    e
}

/// RoPE of every head of `x` (heads of `head_dim`) for one position: pair `j` of the first
/// `rot_dims` values turned by the angle whose cosine and sine are `cos[j]`, `sin[j]` (the
/// f32 table values, taken as exact); the rest unchanged. Pairs are `(x[2j], x[2j + 1])`
/// for [`RopePairing::Adjacent`] and `(x[j], x[j + rot_dims / 2])` for
/// [`RopePairing::HalfSplit`].
///
/// Contract: `(x0 c - x1 s, x1 c + x0 s)`, each product and the sum rounded once.
///
/// Bound: `|fl(fl(a) -+ fl(b)) - (a -+ b)| <= u (|a| + |b|) + u |a -+ b| (1 + u) <= γ(2)
/// (|a| + |b|)` with `a, b` the two exact products; unrotated values are exact (bound 0).
/// Times [`SLACK`], plus [`TINY`].
pub fn rope(
    x: &[f32],
    head_dim: usize,
    rot_dims: usize,
    pairing: RopePairing,
    cos: &[f32],
    sin: &[f32],
) -> Expected {
    let half = rot_dims / 2;
    let mut e = Expected {
        value: x.iter().map(|&v| f64::from(v)).collect(),
        bound: vec![0.0; x.len()],
    };
    for base in (0..x.len()).step_by(head_dim) {
        for j in 0..half {
            let (i0, i1) = match pairing {
                RopePairing::Adjacent => (base + 2 * j, base + 2 * j + 1),
                RopePairing::HalfSplit => (base + j, base + j + half),
            };
            let (x0, x1) = (f64::from(x[i0]), f64::from(x[i1]));
            let (c, s) = (f64::from(cos[j]), f64::from(sin[j]));
            e.value[i0] = x0 * c - x1 * s;
            e.value[i1] = x1 * c + x0 * s;
            e.bound[i0] = SLACK * gamma(2) * ((x0 * c).abs() + (x1 * s).abs()) + TINY;
            e.bound[i1] = SLACK * gamma(2) * ((x1 * c).abs() + (x0 * s).abs()) + TINY;
        }
    }
    e
}

/// The relative error bound of the ops' f32 `exp` for normal results: 2 ulp (what
/// kernels/tests/ops_accuracy.rs asserts over the whole range), and one ulp is at most
/// `2^-23 |v| = 2u |v|`.
pub const EXP_REL: f64 = 4.0 * U;

/// Softmax of one row: `p_j = exp(x_j - max) / sum_l exp(x_l - max)`; `-inf` entries give
/// 0, a row of only `-inf` all zeros. The row must hold no NaN or `+inf` (their contract is
/// a NaN row, checked bit for bit elsewhere).
///
/// Contract: `t_j = x_j - max` (one rounding), `e_j = exp(t_j)` (the f32 exp, [`EXP_REL`]),
/// `sum` = lane-canonical f32 sum of the `e_j`, `p_j = e_j * (1 / sum)`.
///
/// Bound: the rounding of `t_j` changes `exp(t_j)` by the factor `exp(u t_j)`, at most `1.0001
/// u |t_j|` relative for `|t_j| < 10^4`; with exp's own error `e_j` is off by `r_j = EXP_REL
/// + 1.0001 u |t_j|` relative (and [`TINY`] absolute where it is subnormal). The sum, of
/// non-negative terms, is off by `R = sum_l p_l r_l + γ(k)` relative; the reciprocal and the
/// product add `γ(2)`. So `|p_j - exact_j| <= exact_j (r_j + R + γ(2))`, times [`SLACK`],
/// plus `(n + 2)` [`TINY`] (the sum is at least 1: the max's term is `exp(0) = 1`).
pub fn softmax(x: &[f32]) -> Expected {
    let n = x.len();
    let max = x
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    if max == f64::NEG_INFINITY {
        return Expected {
            value: vec![0.0; n],
            bound: vec![0.0; n],
        };
    }
    let t: Vec<f64> = x.iter().map(|&v| f64::from(v) - max).collect();
    let ex: Vec<f64> = t.iter().map(|&t| t.exp()).collect();
    let total = sum(ex.iter().copied());
    let p: Vec<f64> = ex.iter().map(|&e| e / total).collect();
    let r: Vec<f64> = t
        .iter()
        .map(|&t| {
            if t.is_finite() {
                EXP_REL + 1.0001 * U * t.abs()
            } else {
                0.0
            }
        })
        .collect();
    let big_r = sum(p.iter().zip(&r).map(|(p, r)| p * r)) + gamma(lane_sum_depth(n));
    let bound = p
        .iter()
        .zip(&r)
        .map(|(&p, &r)| SLACK * p * (r + big_r + gamma(2)) + (n + 2) as f64 * TINY)
        .collect();
    Expected { value: p, bound }
}

/// The shape of one attention decode call: one query position over the first `n_keys`
/// cache rows. Cache rows hold `n_kv_heads * head_dim` values (position-major, then
/// head-major); query head `h` reads KV head `h / (n_heads / n_kv_heads)`.
#[derive(Clone, Copy, Debug)]
pub struct AttentionDecode {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub n_keys: usize,
    pub scale: f32,
    /// Keys per online-softmax block of the implementation judged (the number of blocks
    /// sets how often the running maximum can be rescaled); the whole key count for a
    /// one-pass softmax.
    pub key_block: usize,
}

/// Attention of one query (`n_heads * head_dim` values) over the cache rows `k`, `v`:
/// every head's `out = softmax(scale * q . K^T) V` (the f16 cache's rounding is storage:
/// pass the values it holds).
///
/// Contract (`attention::attend_tile`, `Ops::key_major_scores`): each score is `scale`
/// times an f32 dot product of four chains (dimension `i` into chain `i mod 4`) added
/// `(c0 + c1) + (c2 + c3)`; keys in blocks of `key_block`, each block's scores through the
/// softmax contract against the running max `m`, which, when it grows, rescales the running
/// sum and the output accumulator by `exp(m_old - m_new)`; the output accumulates `p_j v_j`
/// key by key in f32; at the end it is multiplied by `1 / sum`.
///
/// Bound, for one head with `B` blocks: score `j` is off by `Δ_j <= γ(ceil(hd / 4) + 4)
/// |scale| sum_i |q_i k_ji|` (a product, `ceil(hd / 4) - 1 + 2` adds, the scale). A weight's
/// exponentials (its block's and up to `B - 1` corrections) have arguments summing to `m̂ -
/// ŝ_j <= M - s_j + 2 Δmax`, so their roundings cost `1.0001 u (M - s_j + 2 Δmax)`, their
/// approximations `B` [`EXP_REL`], the corrections' products `B u`: with the score error,
/// `r_j = 1.0001 (Δ_j + u (M - s_j + 2 Δmax)) + B (EXP_REL + u)`. The accumulation of `p_j
/// v_j` adds `γ(n + B + 1)` relative to `sum_j p_j |v_j|`; the sum of the weights (block
/// sums of depth `k(key_block)`, then `B` adds) `γ(k + B)`. Normalizing: `|out_d -
/// exact_d| <= sum_j w_j |v_jd| (r_j + γ(n + B + 1)) + |exact_d| (sum_j w_j r_j + γ(k + B)
/// + γ(2))`, `w_j` the exact weights. Times [`SLACK`], plus `(n + 2)` [`TINY`] `max |v|`.
pub fn attention_decode(s: &AttentionDecode, q: &[f32], k: &[f32], v: &[f32]) -> Expected {
    let (hd, n) = (s.head_dim, s.n_keys);
    let row = s.n_kv_heads * hd;
    let group = s.n_heads / s.n_kv_heads;
    let blocks = n.div_ceil(s.key_block).max(1);
    let g_score = gamma(hd.div_ceil(4) + 4);
    let g_acc = gamma(n + blocks + 1);
    let g_sum = gamma(lane_sum_depth(s.key_block) + blocks);
    let scale = f64::from(s.scale);
    let mut e = Expected {
        value: vec![0.0; s.n_heads * hd],
        bound: vec![0.0; s.n_heads * hd],
    };
    for h in 0..s.n_heads {
        let kv = (h / group) * hd;
        let qh = &q[h * hd..(h + 1) * hd];
        let key = |j: usize| &k[j * row + kv..j * row + kv + hd];
        let val = |j: usize, d: usize| f64::from(v[j * row + kv + d]);
        let scores: Vec<f64> = (0..n)
            .map(|j| {
                scale
                    * sum(qh
                        .iter()
                        .zip(key(j))
                        .map(|(&a, &b)| f64::from(a) * f64::from(b)))
            })
            .collect();
        let delta: Vec<f64> = (0..n)
            .map(|j| {
                let mags = sum(qh
                    .iter()
                    .zip(key(j))
                    .map(|(&a, &b)| (f64::from(a) * f64::from(b)).abs()));
                g_score * scale.abs() * mags
            })
            .collect();
        let delta_max = delta.iter().fold(0.0f64, |m, &d| m.max(d));
        let max = scores.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let ex: Vec<f64> = scores.iter().map(|&sj| (sj - max).exp()).collect();
        let total = sum(ex.iter().copied());
        let w: Vec<f64> = ex.iter().map(|&x| x / total).collect();
        let r: Vec<f64> = (0..n)
            .map(|j| {
                1.0001 * (delta[j] + U * (max - scores[j] + 2.0 * delta_max))
                    + blocks as f64 * (EXP_REL + U)
            })
            .collect();
        let big_r = sum(w.iter().zip(&r).map(|(w, r)| w * r));
        let v_max = (0..n)
            .flat_map(|j| (0..hd).map(move |d| (j, d)))
            .fold(0.0f64, |m, (j, d)| m.max(val(j, d).abs()));
        for d in 0..hd {
            let o = sum((0..n).map(|j| w[j] * val(j, d)));
            let spread = sum((0..n).map(|j| w[j] * val(j, d).abs() * (r[j] + g_acc)));
            e.value[h * hd + d] = o;
            e.bound[h * hd + d] = SLACK * (spread + o.abs() * (big_r + g_sum + gamma(2)))
                + (n + 2) as f64 * TINY * v_max;
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oracles_of_small_cases_by_hand() {
        // RMSNorm of (3, 4): rms = sqrt(12.5).
        let e = rms_norm(&[3.0, 4.0], &[1.0, 2.0], 0.0);
        let r = 12.5f64.sqrt();
        assert_eq!(e.value, vec![3.0 / r, 8.0 / r]);
        // LayerNorm of (1, 3): mean 2, var 1.
        let e = layer_norm(&[1.0, 3.0], &[2.0, 2.0], &[0.5, 0.5], 0.0);
        assert_eq!(e.value, vec![-1.5, 2.5]);
        // A quarter turn of (1, 2) adjacent and of (1, _, 2, _) half-split.
        let e = rope(&[1.0, 2.0], 2, 2, RopePairing::Adjacent, &[0.0], &[1.0]);
        assert_eq!(e.value, vec![-2.0, 1.0]);
        let e = rope(
            &[1.0, 5.0, 2.0, 6.0],
            4,
            4,
            RopePairing::HalfSplit,
            &[0.0, 1.0],
            &[1.0, 0.0],
        );
        assert_eq!(e.value, vec![-2.0, 5.0, 1.0, 6.0]);
        // Softmax of equal values and a masked one.
        let e = softmax(&[2.0, 2.0, f32::NEG_INFINITY]);
        assert_eq!(e.value, vec![0.5, 0.5, 0.0]);
        // Attention with equal scores averages the values.
        let s = AttentionDecode {
            n_heads: 1,
            n_kv_heads: 1,
            head_dim: 1,
            n_keys: 2,
            scale: 1.0,
            key_block: 32,
        };
        let e = attention_decode(&s, &[0.0], &[5.0, 7.0], &[1.0, 3.0]);
        assert_eq!(e.value, vec![2.0]);
        assert!(e.worst(&[2.0]).ratio == 0.0 && e.worst(&[2.1]).ratio > 1.0);
    }
}
