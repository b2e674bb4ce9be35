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
