//! The two float-to-integer roundings ggml's quantizers use, written without libm so the
//! crate stays `no_std` and the result never depends on the platform's math library.

/// C's `roundf`: nearest integer, halfway cases away from zero (not to even), as an f32.
/// ggml's Q8_0 / Q8_1 quantizers use it (gguf-py mirrors it as `np_roundf`).
pub(crate) fn roundf(x: f32) -> f32 {
    let a = x.abs();
    // From 2^23 up every f32 is an integer; NaN and infinities pass through too.
    if a >= 8_388_608.0 || a.is_nan() {
        return x;
    }
    // `a as u32` truncates; `a - t` is exact (both in the same binade, or t == 0) and so
    // is `t + 1` (t < 2^23), so the only rounding decision is the comparison with 0.5.
    let t = a as u32 as f32;
    let r = if a - t >= 0.5 { t + 1.0 } else { t };
    if x.is_sign_negative() {
        -r
    } else {
        r
    }
}

/// ggml's `nearest_int`: round to nearest, ties to EVEN, by adding 1.5 * 2^23 so the
/// integer lands in the low mantissa bits. Valid for |x| <= 2^22 - 1 (ggml asserts it);
/// outside that range (or for NaN) the result is garbage but never UB or a panic.
/// Q8_K and the K-quant quantizers use it.
pub(crate) fn nearest_int(x: f32) -> i32 {
    let v = x + 12_582_912.0;
    (v.to_bits() & 0x007f_ffff) as i32 - 0x0040_0000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundf_rounds_half_away_from_zero() {
        let cases = [
            (0.5, 1.0),
            (1.5, 2.0),
            (2.5, 3.0),
            (-0.5, -1.0),
            (-2.5, -3.0),
            (0.499_999_97, 0.0),
            (126.5, 127.0),
            (-126.49999, -126.0),
            (8_388_607.5, 8_388_608.0),
            (1e10, 1e10),
        ];
        for (x, want) in cases {
            assert_eq!(roundf(x), want, "roundf({x})");
        }
        assert!(roundf(-0.3).is_sign_negative());
        assert!(roundf(f32::NAN).is_nan());
        assert_eq!(roundf(f32::NEG_INFINITY), f32::NEG_INFINITY);
    }

    #[test]
    fn nearest_int_rounds_half_to_even() {
        let cases = [
            (0.5, 0),
            (1.5, 2),
            (2.5, 2),
            (-0.5, 0),
            (-1.5, -2),
            (-2.5, -2),
            (126.7, 127),
            (-127.2, -127),
            (4_194_303.0, 4_194_303),
        ];
        for (x, want) in cases {
            assert_eq!(nearest_int(x), want, "nearest_int({x})");
        }
        // Garbage but no panic outside the valid range.
        let _ = nearest_int(f32::NAN);
        let _ = nearest_int(f32::MAX);
    }
}
