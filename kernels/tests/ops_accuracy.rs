//! Accuracy of the f32 approximations behind the ops (exp, erf, tanh, GELU erf/tanh,
//! SiLU) against f64 math over the whole f32 range, and their special values: +-inf, NaN
//! propagation, subnormals, signed zeros, overflow and underflow. Every tier is
//! bit-identical to the scalar reference (`ops_tiers`), so the scalar tier is measured.
//!
//! Errors are in units of the f32 spacing at the true value (ulp; 2^-149 below the normal
//! range), printed with `--nocapture`; the bounds asserted are the documented ones.

use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::ops::Ops;
use slimlm_kernels::reference::math;

fn ops() -> Ops {
    Ops::new(Isa::Scalar).unwrap()
}

/// The f32 spacing at `v` (2^-149 for subnormals and zero).
fn ulp(v: f64) -> f64 {
    let a = v.abs().max(f64::from(f32::MIN_POSITIVE));
    2f64.powi(a.log2().floor() as i32 - 23)
}

/// Sample points: a fine grid of [-lim, lim] and every binade of both signs from 2^-149
/// to 2^127 at 64 points each.
fn sweep(lim: f64, step: f64) -> Vec<f32> {
    let mut xs = Vec::new();
    let mut x = -lim;
    while x <= lim {
        xs.push(x as f32);
        x += step;
    }
    for e in -149..128 {
        for m in 0..64 {
            let v = 2f32.powi(e) * (1.0 + m as f32 / 64.0);
            if v.is_finite() {
                xs.extend([v, -v]);
            }
        }
    }
    xs
}

/// Max error in ulps of `f` (an op over a slice) against `want` over `xs`, restricted to
/// the points where `keep(x)`; returns (max ulps, worst x).
fn max_ulps(
    xs: &[f32],
    f: impl Fn(&Ops, &mut [f32]),
    want: impl Fn(f64) -> f64,
    keep: impl Fn(f32) -> bool,
) -> (f64, f32) {
    let mut got = xs.to_vec();
    f(&ops(), &mut got);
    let mut worst = (0.0, 0.0);
    for (&x, &g) in xs.iter().zip(&got) {
        if !keep(x) {
            continue;
        }
        let w = want(f64::from(x));
        // Beyond f32::MAX (after rounding) the right answer is infinity.
        let err = if (w as f32).is_infinite() || g.is_infinite() {
            if g == w as f32 {
                0.0
            } else {
                f64::INFINITY
            }
        } else {
            (f64::from(g) - w).abs() / ulp(w)
        };
        if err > worst.0 || err.is_nan() {
            worst = (err, x);
        }
    }
    worst
}

fn run(f: impl Fn(&Ops, &mut [f32]), x: f32) -> f32 {
    let mut v = [x];
    f(&ops(), &mut v);
    v[0]
}

fn report(name: &str, (ulps, at): (f64, f32), bound: f64) {
    eprintln!("{name}: max error {ulps:.3} ulp at x = {at:e} (bound {bound})");
    assert!(
        ulps <= bound,
        "{name}: {ulps} ulp at x = {at:e}, bound {bound}"
    );
}

fn gelu_tanh_f64(x: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
    x / (1.0 + (-2.0 * u).exp())
}

#[test]
fn exp_error_over_the_range() {
    let xs = sweep(110.0, 1e-3);
    let normal = |x: f32| f64::from(x) > -87.3;
    report(
        "exp (normal results)",
        max_ulps(&xs, |o, v| o.exp(v), f64::exp, normal),
        2.0,
    );
    report(
        "exp (subnormal results)",
        max_ulps(&xs, |o, v| o.exp(v), f64::exp, |x| !normal(x)),
        1.0,
    );
    let exp = |x| run(|o, v| o.exp(v), x);
    assert_eq!(exp(f32::INFINITY), f32::INFINITY);
    assert_eq!(exp(f32::NEG_INFINITY).to_bits(), 0);
    assert_eq!(exp(88.8), f32::INFINITY);
    assert_eq!(exp(f32::MAX), f32::INFINITY);
    assert_eq!(exp(-104.0), 0.0);
    assert_eq!(exp(f32::MIN), 0.0);
    assert_eq!(exp(0.0), 1.0);
    assert_eq!(exp(-0.0), 1.0);
    assert_eq!(exp(1e-40), 1.0);
    assert!(exp(-103.0) > 0.0, "gradual underflow to subnormals");
    assert!(exp(f32::NAN).is_nan());
}

#[test]
fn erf_and_tanh_error_over_the_range() {
    let xs = sweep(12.0, 1e-4);
    report(
        "erf",
        max_ulps(&xs, |o, v| o.erf(v), math::erf, |_| true),
        3.0,
    );
    report(
        "tanh",
        max_ulps(&xs, |o, v| o.tanh(v), f64::tanh, |_| true),
        3.0,
    );
    for f in [
        (|o: &Ops, v: &mut [f32]| o.erf(v)) as fn(&Ops, &mut [f32]),
        |o, v| o.tanh(v),
    ] {
        assert!(run(f, f32::NAN).is_nan());
        assert_eq!(run(f, f32::INFINITY), 1.0);
        assert_eq!(run(f, f32::NEG_INFINITY), -1.0);
        assert_eq!(run(f, -0.0).to_bits(), (-0.0f32).to_bits());
        assert_eq!(run(f, 1e30), 1.0);
        assert!(
            run(f, 1e-40) > 0.0,
            "subnormal input keeps a subnormal result"
        );
    }
    assert_eq!(run(|o, v| o.tanh(v), 1e-40), 1e-40);
}

#[test]
fn activations_error_over_the_range() {
    let xs = sweep(30.0, 1e-4);
    // GELU's tail below -5 needs erfc beyond what 1 - erf(f64) resolves: measured there in
    // absolute terms (the values are below 3e-6 anyway).
    let gelu_erf = |x: f64| 0.5 * x * (1.0 + math::erf(x * std::f64::consts::FRAC_1_SQRT_2));
    let gelu_erf_err = max_ulps(&xs, |o, v| o.gelu_erf(v), gelu_erf, |x| x >= -5.0);
    let gelu_tanh_err = max_ulps(&xs, |o, v| o.gelu_tanh(v), gelu_tanh_f64, |x| x >= -9.0);
    let silu = |x: f64| x / (1.0 + (-x).exp());
    let silu_err = max_ulps(
        &xs,
        |o, v| o.silu_mul(v, &vec![1.0; v.len()]),
        silu,
        |x| x >= -87.0,
    );
    // The negative tails lose relative accuracy: the f32 rounding of the exponent's
    // argument (z^2 for erfc, 2u for tanh GELU) is amplified by exp; absolute errors there
    // are below 1e-10. Below x = -9 tanh GELU is under 1e-28 and becomes -0 where
    // e^-2u overflows (x < -10): an absolute error below 1e-37.
    report("gelu_erf (x >= -5)", gelu_erf_err, 40.0);
    report("gelu_tanh (x >= -9)", gelu_tanh_err, 200.0);
    report("silu (x >= -87)", silu_err, 16.0);
    let mut tail: Vec<f32> = xs.iter().copied().filter(|&x| x < -5.0).collect();
    let want: Vec<f64> = tail.iter().map(|&x| gelu_erf(f64::from(x))).collect();
    ops().gelu_erf(&mut tail);
    let abs = tail
        .iter()
        .zip(&want)
        .map(|(&g, &w)| (f64::from(g) - w).abs())
        .fold(0.0, f64::max);
    eprintln!("gelu_erf (x < -5): max absolute error {abs:e}");
    assert!(abs < 1e-11);
    for f in [
        (|o: &Ops, v: &mut [f32]| o.gelu_erf(v)) as fn(&Ops, &mut [f32]),
        |o, v| o.gelu_tanh(v),
        |o, v| o.silu_mul(v, &[1.0]),
    ] {
        assert!(run(f, f32::NAN).is_nan());
        assert_eq!(run(f, f32::INFINITY), f32::INFINITY);
        assert_eq!(run(f, f32::NEG_INFINITY).to_bits(), (-0.0f32).to_bits());
        assert_eq!(run(f, 3e38), 3e38);
        assert_eq!(run(f, -3e38).to_bits(), (-0.0f32).to_bits());
        assert_eq!(run(f, 0.0), 0.0);
    }
}

#[test]
fn softmax_special_rows() {
    let o = ops();
    let mut all_masked = [f32::NEG_INFINITY; 20];
    o.softmax(&mut all_masked);
    assert_eq!(all_masked, [0.0; 20], "a fully masked row is all zeros");
    let mut huge = [3e38f32, 3e38, -3e38, f32::NEG_INFINITY];
    o.softmax(&mut huge);
    assert_eq!(huge, [0.5, 0.5, 0.0, 0.0]);
    let mut tiny = [1e-45f32, -1e-45, 0.0, 1e-40];
    o.softmax(&mut tiny);
    assert!(tiny.iter().all(|&v| v == 0.25));
    let mut nan = [1.0f32, f32::NAN, 2.0];
    o.softmax(&mut nan);
    assert!(nan.iter().all(|v| v.is_nan()));
    // A long row against f64: relative error of each probability.
    let mut row: Vec<f32> = (0..2048)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
        .collect();
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f64> = row.iter().map(|&v| f64::from(v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    o.softmax(&mut row);
    let rel = row
        .iter()
        .zip(&e)
        .map(|(&g, &w)| ((f64::from(g) - w / sum) / (w / sum)).abs())
        .fold(0.0, f64::max);
    eprintln!("softmax (2048 values): max relative error {rel:e}");
    assert!(rel < 1e-6);
}
