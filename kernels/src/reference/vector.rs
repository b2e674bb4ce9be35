//! Vector primitives: residual and bias adds, scaling, f16 <-> f32 conversion, dot
//! products and axpy (the attention building blocks), and the approximations of
//! [`super::approx`] over slices. Written once over [`Lanes`]; the scalar reference is the
//! [`ScalarTier`] instantiation, reached through `crate::ops::Ops`.
//!
//! Dot products are lane-canonical sums of `a[i] * b[i]` (separate multiply and add);
//! f16 inputs are widened exactly first, so `dot_f16(a, b) == dot(a, widen(b))`.

use super::approx;
use super::lanes::{map, map2, sum_of, Lanes, Tier, LANES};
use crate::formats::f16_to_f32;

/// `x += y`.
#[inline(always)]
pub(crate) fn add<T: Tier>(t: T, x: &mut [f32], y: &[f32]) {
    map2(
        t,
        x,
        y,
        #[inline(always)]
        |a, b| a.add(b),
    );
}

/// Every row of `x` (rows of `bias.len()`) `+= bias`.
#[inline(always)]
pub(crate) fn add_bias<T: Tier>(t: T, x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        add(t, row, bias);
    }
}

/// `x *= s`.
#[inline(always)]
pub(crate) fn scale<T: Tier>(t: T, x: &mut [f32], s: f32) {
    let s = t.splat(s);
    map(
        t,
        x,
        #[inline(always)]
        |v| v.mul(s),
    );
}

/// e^x in place.
#[inline(always)]
pub(crate) fn exp<T: Tier>(t: T, x: &mut [f32]) {
    map(
        t,
        x,
        #[inline(always)]
        |v| approx::exp(t, v),
    );
}

/// erf in place.
#[inline(always)]
pub(crate) fn erf<T: Tier>(t: T, x: &mut [f32]) {
    map(
        t,
        x,
        #[inline(always)]
        |v| approx::erf(t, v),
    );
}

/// tanh in place.
#[inline(always)]
pub(crate) fn tanh<T: Tier>(t: T, x: &mut [f32]) {
    map(
        t,
        x,
        #[inline(always)]
        |v| approx::tanh(t, v),
    );
}

/// `out = x` widened from f16 bits (exact).
#[inline(always)]
pub(crate) fn f16_to_f32s<T: Tier>(t: T, x: &[u16], out: &mut [f32]) {
    let mut xs = x.chunks_exact(LANES);
    let mut os = out.chunks_exact_mut(LANES);
    for (c, o) in (&mut xs).zip(&mut os) {
        t.load_f16(c).store(o);
    }
    for (o, &h) in os.into_remainder().iter_mut().zip(xs.remainder()) {
        *o = f16_to_f32(h);
    }
}

/// `out = x` rounded to f16 bits, nearest even.
#[inline(always)]
pub(crate) fn f32_to_f16s<T: Tier>(t: T, x: &[f32], out: &mut [u16]) {
    let mut xs = x.chunks_exact(LANES);
    let mut os = out.chunks_exact_mut(LANES);
    for (c, o) in (&mut xs).zip(&mut os) {
        t.load(c).store_f16(o);
    }
    let (tail, otail) = (xs.remainder(), os.into_remainder());
    if !tail.is_empty() {
        let mut buf = [0.0; LANES];
        buf[..tail.len()].copy_from_slice(tail);
        let mut hbuf = [0u16; LANES];
        t.load(&buf).store_f16(&mut hbuf);
        otail.copy_from_slice(&hbuf[..tail.len()]);
    }
}

/// The lane-canonical `sum a[i] * b[i]`.
#[inline(always)]
pub(crate) fn dot<T: Tier>(t: T, a: &[f32], b: &[f32]) -> f32 {
    sum_of(
        t,
        a.len(),
        #[inline(always)]
        |i| t.load(&a[i..]).mul(t.load(&b[i..])),
        #[inline(always)]
        |j| a[j] * b[j],
    )
}

/// [`dot`] with `b` in f16 bits.
#[inline(always)]
pub(crate) fn dot_f16<T: Tier>(t: T, a: &[f32], b: &[u16]) -> f32 {
    sum_of(
        t,
        a.len(),
        #[inline(always)]
        |i| t.load(&a[i..]).mul(t.load_f16(&b[i..])),
        #[inline(always)]
        |j| a[j] * f16_to_f32(b[j]),
    )
}

/// `y += alpha * x`.
#[inline(always)]
pub(crate) fn axpy<T: Tier>(t: T, y: &mut [f32], alpha: f32, x: &[f32]) {
    let alpha = t.splat(alpha);
    map2(
        t,
        y,
        x,
        #[inline(always)]
        |y, x| y.add(alpha.mul(x)),
    );
}

/// `y += alpha * x` with `x` in f16 bits.
#[inline(always)]
pub(crate) fn axpy_f16<T: Tier>(t: T, y: &mut [f32], alpha: f32, x: &[u16]) {
    let va = t.splat(alpha);
    let mut ys = y.chunks_exact_mut(LANES);
    let mut xs = x.chunks_exact(LANES);
    for (c, h) in (&mut ys).zip(&mut xs) {
        t.load(c).add(va.mul(t.load_f16(h))).store(c);
    }
    for (o, &h) in ys.into_remainder().iter_mut().zip(xs.remainder()) {
        *o += alpha * f16_to_f32(h);
    }
}

/// Keys per block of [`key_major_scores`] (the attention kernel's `KV_BLOCK`).
pub(crate) const SCORE_KEYS: usize = 2 * LANES;

/// Scores of one query against a block of [`SCORE_KEYS`] keys stored key-major
/// (`kt[i * SCORE_KEYS + j]` = dimension `i` of key `j`):
/// `out[j] = scale * sum_i q[i] * kt[i * SCORE_KEYS + j]`.
///
/// The lanes are keys, so no horizontal reduction is needed: each key's sum runs as four
/// chains over `i mod 4` (in order of `i`), combined as `(c0 + c1) + (c2 + c3)`, then
/// scaled. `kt` holds `q.len() * SCORE_KEYS` values and `out` [`SCORE_KEYS`].
#[inline(always)]
pub(crate) fn key_major_scores<T: Tier>(t: T, q: &[f32], kt: &[f32], scale: f32, out: &mut [f32]) {
    let zero = t.splat(0.0);
    let mut acc = [[zero; 2]; 4];
    /// One dimension of the query against the block: its chain += q_i * key lanes.
    #[inline(always)]
    fn step<T: Tier>(t: T, acc: &mut [T::V; 2], qi: f32, row: &[f32]) {
        let qv = t.splat(qi);
        acc[0] = acc[0].add(qv.mul(t.load(&row[..LANES])));
        acc[1] = acc[1].add(qv.mul(t.load(&row[LANES..SCORE_KEYS])));
    }
    let mut rows = kt.chunks_exact(4 * SCORE_KEYS);
    let mut qs = q.chunks_exact(4);
    for (q4, r4) in (&mut qs).zip(&mut rows) {
        let [a0, a1, a2, a3] = &mut acc;
        step(t, a0, q4[0], &r4[..SCORE_KEYS]);
        step(t, a1, q4[1], &r4[SCORE_KEYS..2 * SCORE_KEYS]);
        step(t, a2, q4[2], &r4[2 * SCORE_KEYS..3 * SCORE_KEYS]);
        step(t, a3, q4[3], &r4[3 * SCORE_KEYS..]);
    }
    for (c, (&qi, row)) in qs
        .remainder()
        .iter()
        .zip(rows.remainder().chunks_exact(SCORE_KEYS))
        .enumerate()
    {
        step(t, &mut acc[c], qi, row);
    }
    let s = t.splat(scale);
    for half in 0..2 {
        let sum = acc[0][half]
            .add(acc[1][half])
            .add(acc[2][half].add(acc[3][half]));
        sum.mul(s).store(&mut out[half * LANES..(half + 1) * LANES]);
    }
}

/// `acc[i] += p[j] * v[j * acc.len() + i]` for every key `j` in order: [`axpy`] once per
/// key (the same operations per element), with `acc` held in registers across the keys.
/// `v` holds `p.len()` rows of `acc.len()` values.
#[inline(always)]
pub(crate) fn accumulate_rows<T: Tier>(t: T, acc: &mut [f32], p: &[f32], v: &[f32]) {
    let hd = acc.len();
    // Four vectors (64 values) of `acc` per pass over the keys.
    let mut at = 0;
    while at + 4 * LANES <= hd {
        let mut a: [T::V; 4] = core::array::from_fn(|c| t.load(&acc[at + c * LANES..]));
        for (&pj, row) in p.iter().zip(v.chunks_exact(hd)) {
            let pv = t.splat(pj);
            for (c, ac) in a.iter_mut().enumerate() {
                *ac = ac.add(pv.mul(t.load(&row[at + c * LANES..])));
            }
        }
        for (c, ac) in a.iter().enumerate() {
            ac.store(&mut acc[at + c * LANES..at + (c + 1) * LANES]);
        }
        at += 4 * LANES;
    }
    while at + LANES <= hd {
        let mut a = t.load(&acc[at..]);
        for (&pj, row) in p.iter().zip(v.chunks_exact(hd)) {
            a = a.add(t.splat(pj).mul(t.load(&row[at..])));
        }
        a.store(&mut acc[at..at + LANES]);
        at += LANES;
    }
    for (i, o) in acc.iter_mut().enumerate().skip(at) {
        for (&pj, row) in p.iter().zip(v.chunks_exact(hd)) {
            *o += pj * row[i];
        }
    }
}
