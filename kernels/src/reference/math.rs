//! f64 elementary functions for the scalar references, without std (the kernels crate is
//! no_std): `exp`, `tanh`, `erf` and `sqrt`, each accurate to a few ulps, so that the
//! references are more precise than any SIMD approximation measured against them.

use core::f64::consts::{FRAC_2_SQRT_PI, LOG2_E, PI};

/// ln 2 split into a head with zeros in its low bits and a tail (fdlibm's constants), so
/// that `x - k ln2` is exact for every |k| <= 1100.
const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);

/// e^x: range reduction by ln 2, then a Taylor series on |r| <= ln2/2.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.782_712_893_384 {
        return f64::INFINITY;
    }
    if x < -745.133_219_101_941_1 {
        return 0.0;
    }
    let k = (x * LOG2_E + if x >= 0.0 { 0.5 } else { -0.5 }) as i64;
    let kf = k as f64;
    let r = (x - kf * LN2_HI) - kf * LN2_LO;
    // Horner: 1 + r(1 + r/2(1 + r/3(...))); 18 terms reach (ln2/2)^18/18! ~ 1e-25.
    let mut sum = 1.0;
    for n in (1..=18).rev() {
        sum = 1.0 + sum * r / f64::from(n);
    }
    // 2^k in two factors, so that k down to -1075 (subnormal results) stays representable.
    let half = k / 2;
    sum * pow2(half) * pow2(k - half)
}

/// 2^k for -1022 <= k <= 1023.
fn pow2(k: i64) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// tanh(x) = (1 - e^-2|x|) / (1 + e^-2|x|) with the sign of x; for small |x| the series,
/// where that quotient would cancel.
pub fn tanh(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let t = if a < 0.01 {
        let a2 = a * a;
        a * (1.0 - a2 / 3.0 + 2.0 * a2 * a2 / 15.0 - 17.0 * a2 * a2 * a2 / 315.0)
    } else {
        let e = exp(-2.0 * a);
        (1.0 - e) / (1.0 + e)
    };
    t.copysign(x)
}

/// The error function, within 4.5e-16 absolute (a few ulps) over the whole real line.
///
/// Below |x| = 3 the series of positive terms
/// `erf(a) = 2/sqrt(pi) e^(-a^2) sum_n (2a^2)^n a / (2n+1)!!` (no cancellation), above it
/// the Laplace continued fraction of erfc.
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    let r = if a < 3.0 {
        // Term ratio 2a^2/(2n+3) < 18/(2n+3): 100 terms end far below an ulp of the sum.
        let two_a2 = 2.0 * a * a;
        let mut term = a;
        let mut sum = a;
        for n in 0..100 {
            term *= two_a2 / f64::from(2 * n + 3);
            sum += term;
        }
        FRAC_2_SQRT_PI * exp(-a * a) * sum
    } else if a < 6.0 {
        1.0 - erfc_continued_fraction(a)
    } else {
        1.0 // erfc(6) = 2e-17: below half an ulp of 1.
    };
    r.copysign(x)
}

/// erfc(a) for a >= 3, evaluated bottom-up:
/// erfc(a) = e^(-a^2) / sqrt(pi) / (a + (1/2)/(a + 1/(a + (3/2)/(a + 2/(a + ...))))).
fn erfc_continued_fraction(a: f64) -> f64 {
    let mut f = a;
    for k in (1..=80).rev() {
        f = a + (f64::from(k) / 2.0) / f;
    }
    exp(-a * a) / (f * sqrt(PI))
}

/// Square root by Newton's iteration from an exponent-halving first guess (within one ulp;
/// the reference never needs the correctly rounded value).
pub fn sqrt(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 || x == f64::INFINITY {
        return x;
    }
    // Subnormals: scale by 2^104 into the normal range, then back by 2^52.
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    if x < f64::MIN_POSITIVE {
        return sqrt(x * TWO_52 * TWO_52) / TWO_52;
    }
    let mut y = f64::from_bits((x.to_bits() >> 1) + (1023u64 << 51));
    for _ in 0..6 {
        y = 0.5 * (y + x / y);
    }
    y
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        ((a - b) / b.abs().max(f64::MIN_POSITIVE)).abs() / f64::EPSILON
    }

    #[test]
    fn exp_within_two_ulps_of_std() {
        let mut x = -745.0;
        while x < 709.7 {
            assert!(
                ulps(exp(x), x.exp()) <= 2.0 || exp(x) < f64::MIN_POSITIVE,
                "exp({x}) = {} vs {}",
                exp(x),
                x.exp()
            );
            x += 0.173;
        }
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1000.0), f64::INFINITY);
        assert_eq!(exp(-1000.0), 0.0);
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn tanh_and_sqrt_match_std() {
        let mut x = -20.0;
        while x < 20.0 {
            assert!(
                (tanh(x) - x.tanh()).abs() <= 4.0 * f64::EPSILON,
                "tanh({x})"
            );
            x += 0.0137;
        }
        for x in [1e-310, 1e-300, 0.5, 2.0, 3.0, 1e10, 1e300, f64::MAX] {
            assert!(ulps(sqrt(x), x.sqrt()) <= 1.0, "sqrt({x})");
        }
        assert!(sqrt(-1.0).is_nan());
        assert_eq!(sqrt(0.0), 0.0);
    }

    #[test]
    fn erf_matches_tabulated_values() {
        // erf to 16 digits (Abramowitz & Stegun Table 7.1 extended with mpmath values).
        let cases = [
            (0.0, 0.0),
            (1e-8, 1.128_379_167_095_512_6e-8),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (2.9, 0.999_958_902_121_900_5),
            (3.0, 0.999_977_909_503_001_4),
            (4.0, 0.999_999_984_582_742_1),
            (5.5, 0.999_999_999_999_992_6),
        ];
        for (x, want) in cases {
            assert!(
                (erf(x) - want).abs() <= 4.5e-16,
                "erf({x}) = {} want {want}",
                erf(x)
            );
            assert!((erf(-x) + want).abs() <= 4.5e-16, "erf(-{x})");
        }
        assert_eq!(erf(10.0), 1.0);
        assert_eq!(erf(f64::INFINITY), 1.0);
        assert_eq!(erf(f64::NEG_INFINITY), -1.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn erf_is_continuous_across_the_method_switches() {
        for edge in [3.0f64, 6.0] {
            let below = erf(edge - 1e-12);
            let above = erf(edge);
            assert!(
                (below - above).abs() < 1e-15,
                "at {edge}: {below} vs {above}"
            );
        }
    }
}
