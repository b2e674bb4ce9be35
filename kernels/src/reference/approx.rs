//! f32 approximations of exp, erfc, erf and tanh, written once as a fixed sequence of IEEE
//! operations on [`Lanes`] so that every tier computes them bit for bit alike (the scalar
//! reference included). Range reduction builds powers of two with integer operations on
//! the bit patterns, the same way in every tier.
//!
//! Maximum errors against f64 math, measured over a sweep of the whole f32 range by
//! `kernels/tests/ops_accuracy.rs` (which asserts the bounds in brackets):
//! - [`exp`]: 0.93 ulp for normal results [2]; subnormal results (x < -87.3) within
//!   0.74 of the subnormal spacing 2^-149 [1]; +inf from 88.72 up, 0 below -103.97;
//!   exp(-inf) = 0, exp(+inf) = +inf.
//! - [`erfc`] of z >= 0: relative 1.2e-7 from the fit (Numerical Recipes' Chebyshev
//!   formula, erfc = t exp(-z^2 + P(t))) plus the f32 rounding of z and -z^2, which exp
//!   amplifies as z grows (see GELU in [`super::activation`]).
//! - [`erf`]: Taylor series (7 terms) below |x| = 0.5, 1 - erfc above: 2.55 ulp [3].
//! - [`tanh`]: Cephes' tanhf odd polynomial below |x| = 0.625, else 1 - 2 / (e^2|x| + 1):
//!   1.2 ulp [3].
//!
//! NaN inputs give NaN; signs of zero are kept by erf and tanh.

use super::lanes::{Lanes, Tier};

const SIGN: u32 = 0x8000_0000;

/// |x|.
#[inline(always)]
pub(crate) fn abs<T: Tier>(t: T, x: T::V) -> T::V {
    x.and(t.splat(f32::from_bits(!SIGN)))
}

/// `y` with the sign bit of `x` set when `x`'s is (y must be non-negative).
#[inline(always)]
fn with_sign_of<T: Tier>(t: T, y: T::V, x: T::V) -> T::V {
    y.or(x.and(t.splat(f32::from_bits(SIGN))))
}

/// e^x.
#[inline(always)]
pub(crate) fn exp<T: Tier>(t: T, x: T::V) -> T::V {
    // Clamp so that k = round(x / ln 2) stays in [-150, 128]; NaN passes through (the
    // clamps keep their second operand's NaN). Beyond these bounds the result is already
    // 0 or +inf, which the scaling below produces.
    let x = t.splat(89.0).min(x);
    let x = t.splat(-104.0).max(x);
    // k = round-to-nearest-even(x log2 e) by the 1.5 * 2^23 shifter: the sum's low
    // mantissa bits hold k, and its bits minus the shifter's bits are k as an i32.
    let shifter = t.splat(12_582_912.0);
    let sum = x.mul(t.splat(core::f32::consts::LOG2_E)).add(shifter);
    let k = sum.sub(shifter);
    let k_int = sum.sub_i32(shifter);
    // r = x - k ln2 with ln 2 = C1 + C2, C1 having few bits so that k C1 is exact.
    let r = x
        .sub(k.mul(t.splat(0.693_359_4)))
        .sub(k.mul(t.splat(-2.121_944_4e-4)));
    // e^r on |r| <= ln2/2: Cephes' expf polynomial, 1 + r + r^2 P(r).
    let mut p = t.splat(1.987_569_1e-4);
    for c in [1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5] {
        p = p.mul(r).add(t.splat(c));
    }
    let e = p.mul(r.mul(r)).add(r).add(t.splat(1.0));
    // 2^k as two normal factors 2^(k/2) and 2^(k - k/2), so that subnormal results (k down
    // to -150) and overflow (k = 128) come out of ordinary rounded multiplies.
    let k1 = k_int.shr1_i32();
    let k2 = k_int.sub_i32(k1);
    let bias = t.splat(f32::from_bits(127));
    let s1 = k1.add_i32(bias).shl23_i32();
    let s2 = k2.add_i32(bias).shl23_i32();
    e.mul(s1).mul(s2)
}

/// erfc(z) for z >= 0 (or NaN).
#[inline(always)]
pub(crate) fn erfc<T: Tier>(t: T, z: T::V) -> T::V {
    let one = t.splat(1.0);
    let u = one.div(one.add(z.mul(t.splat(0.5))));
    let mut p = t.splat(0.170_872_77);
    for c in [
        -0.822_152_23,
        1.488_515_9,
        -1.135_204,
        0.278_868_07,
        -0.186_288_06,
        0.096_784_18,
        0.374_091_96,
        1.000_023_7,
        -1.265_512_2,
    ] {
        p = p.mul(u).add(t.splat(c));
    }
    let z2 = t.splat(0.0).sub(z.mul(z));
    u.mul(exp(t, z2.add(p)))
}

/// erf(x).
#[inline(always)]
pub(crate) fn erf<T: Tier>(t: T, x: T::V) -> T::V {
    let a = abs(t, x);
    // Taylor series: erf(a) = a sum_n c_n a^2n, c_n = 2/sqrt(pi) (-1)^n / (n! (2n+1)).
    let z = a.mul(a);
    let mut p = t.splat(1.205_533_3e-4);
    for c in [
        -8.548_327e-4,
        5.223_977_6e-3,
        -2.686_617e-2,
        0.112_837_92,
        -0.376_126_4,
        core::f32::consts::FRAC_2_SQRT_PI,
    ] {
        p = p.mul(z).add(t.splat(c));
    }
    let small = p.mul(a);
    let large = t.splat(1.0).sub(erfc(t, a));
    let r = T::V::select(a.lt(t.splat(0.5)), small, large);
    with_sign_of(t, r, x)
}

/// tanh(x).
#[inline(always)]
pub(crate) fn tanh<T: Tier>(t: T, x: T::V) -> T::V {
    let a = abs(t, x);
    let z = a.mul(a);
    let mut p = t.splat(-5.704_988_7e-3);
    for c in [0.020_639_088, -0.053_739_715, 0.133_314_42, -0.333_332_8] {
        p = p.mul(z).add(t.splat(c));
    }
    let small = p.mul(z).mul(a).add(a);
    let one = t.splat(1.0);
    let e = exp(t, a.add(a));
    let large = one.sub(t.splat(2.0).div(e.add(one)));
    let r = T::V::select(a.lt(t.splat(0.625)), small, large);
    with_sign_of(t, r, x)
}
