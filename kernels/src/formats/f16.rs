//! IEEE binary16 (f16) and bfloat16 (bf16) conversions, and the F32 / F16 / BF16 row decoders.
//!
//! Every function here is exact integer bit manipulation: no float arithmetic, no tables,
//! no hardware conversion instructions, so the results are the same on every target.
//!
//! NaN policy (the only place where conversions may legitimately differ between
//! implementations):
//! - f16 -> f32 and bf16 -> f32 keep the sign and the whole payload and never quiet a
//!   signaling NaN, like numpy (the outside oracle). AArch64 `fcvt` and x86 F16C set the
//!   quiet bit instead; for a quiet NaN both agree.
//! - f32 -> f16 keeps the sign and the top 10 payload bits, and turns a payload that would
//!   truncate to zero into 1 so that a NaN never becomes infinity (numpy's
//!   `npy_floatbits_to_halfbits`). ggml's portable fallback returns `0x7e00` instead.
//! - f32 -> bf16 forces the quiet bit, exactly like ggml's `ggml_compute_fp32_to_bf16`
//!   and gguf-py's `BF16.quantize`.

use super::{FormatError, GgmlType};

/// The f32 value of the f16 with bits `h`. Exact: every f16 is an f32.
pub const fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h as u32) & 0x8000) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x03ff) as u32;
    let bits = if exp == 0x1f {
        // Infinity (man == 0) or NaN: payload moved up, never quieted.
        sign | 0x7f80_0000 | (man << 13)
    } else if exp != 0 {
        // Normal: rebias the exponent from 15 to 127.
        sign | ((exp + 112) << 23) | (man << 13)
    } else if man == 0 {
        sign
    } else {
        // Subnormal man * 2^-24: normalize so that the top set bit (at position p) becomes
        // the implicit one; the value is then 1.f * 2^(p - 24), biased exponent p + 103.
        let p = 31 - man.leading_zeros();
        sign | ((p + 103) << 23) | ((man << (23 - p)) & 0x007f_ffff)
    };
    f32::from_bits(bits)
}

/// The f16 nearest to `x`, ties to even (IEEE round-to-nearest-even), with overflow to
/// infinity and gradual underflow to subnormals and signed zero.
///
/// Same results as numpy's `astype(np.float16)`, x86 F16C `vcvtps2ph` and AArch64 `fcvt`
/// for every non-NaN input; NaNs follow the module's NaN policy.
pub const fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let abs = bits & 0x7fff_ffff;
    if abs > 0x7f80_0000 {
        let payload = ((abs >> 13) & 0x03ff) as u16;
        let payload = if payload == 0 { 1 } else { payload };
        return sign | 0x7c00 | payload;
    }
    // 65520 = 65504 (the largest f16) + half an ulp; the tie goes to the even neighbour,
    // which is the (odd exponent, zero mantissa) pattern of infinity.
    if abs >= 0x477f_f000 {
        return sign | 0x7c00;
    }
    if abs >= 0x3880_0000 {
        // Normal f16 (|x| >= 2^-14). Rebias the exponent (127 -> 15 is -112 << 23), then
        // drop 13 mantissa bits rounding to nearest even: adding 0xfff plus the bit that
        // will become the lsb rounds a tie up exactly when the lsb is odd. A carry out of
        // the mantissa correctly bumps the exponent.
        let lsb = (abs >> 13) & 1;
        return sign | ((abs - 0x3800_0000 + 0x0fff + lsb) >> 13) as u16;
    }
    // Below 2^-14: f16 subnormals are multiples of 2^-24. Anything <= 2^-25 (half the
    // smallest subnormal; the tie goes to the even neighbour 0) becomes a signed zero.
    if abs <= 0x3300_0000 {
        return sign;
    }
    let exp = abs >> 23; // 102..=112 here
    let sig = (abs & 0x007f_ffff) | 0x0080_0000; // 24-bit significand, value sig * 2^(exp-150)
    let shift = 126 - exp; // value in units of 2^-24 is sig >> shift; shift is 14..=24
    let q = sig >> shift;
    let rem = sig & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    let q = if rem > half || (rem == half && (q & 1) == 1) {
        q + 1
    } else {
        q
    };
    // q == 0x400 (rounded up to 2^-14) is exactly the smallest normal's encoding.
    sign | q as u16
}

/// The f32 value of the bf16 with bits `h`: the top half of an f32. Exact.
pub const fn bf16_to_f32(h: u16) -> f32 {
    f32::from_bits((h as u32) << 16)
}

/// The bf16 nearest to `x`, ties to even; NaNs keep sign and top payload and are quieted
/// (ggml's `ggml_compute_fp32_to_bf16`).
pub const fn f32_to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    if bits & 0x7fff_ffff > 0x7f80_0000 {
        return ((bits >> 16) | 0x0040) as u16;
    }
    // Cannot overflow u32: the largest non-NaN pattern is 0xff80_0000.
    ((bits + 0x7fff + ((bits >> 16) & 1)) >> 16) as u16
}

/// Checks that `bytes` holds whole elements of the 1-element type `ty` and exactly
/// `f32_elems` of them.
fn check_scalar_row(ty: GgmlType, bytes: usize, f32_elems: usize) -> Result<(), FormatError> {
    let size = ty.block_bytes();
    if !bytes.is_multiple_of(size) {
        return Err(FormatError::PartialBlock { ty, bytes });
    }
    if bytes / size != f32_elems {
        return Err(FormatError::LengthMismatch {
            ty,
            block_elems: bytes / size,
            f32_elems,
        });
    }
    Ok(())
}

/// Copies little-endian f32 values from `bytes` (any alignment) into `out`.
pub fn dequantize_row_f32(bytes: &[u8], out: &mut [f32]) -> Result<(), FormatError> {
    check_scalar_row(GgmlType::F32, bytes.len(), out.len())?;
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
        *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    Ok(())
}

/// Widens little-endian f16 values from `bytes` (any alignment) into `out`.
pub fn dequantize_row_f16(bytes: &[u8], out: &mut [f32]) -> Result<(), FormatError> {
    check_scalar_row(GgmlType::F16, bytes.len(), out.len())?;
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = f16_to_f32(u16::from_le_bytes([b[0], b[1]]));
    }
    Ok(())
}

/// Widens little-endian bf16 values from `bytes` (any alignment) into `out`.
pub fn dequantize_row_bf16(bytes: &[u8], out: &mut [f32]) -> Result<(), FormatError> {
    check_scalar_row(GgmlType::BF16, bytes.len(), out.len())?;
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = bf16_to_f32(u16::from_le_bytes([b[0], b[1]]));
    }
    Ok(())
}

/// Writes `x` as little-endian f32 into `out` (any alignment).
pub fn quantize_row_f32(x: &[f32], out: &mut [u8]) -> Result<(), FormatError> {
    check_scalar_row(GgmlType::F32, out.len(), x.len())?;
    for (v, o) in x.iter().zip(out.chunks_exact_mut(4)) {
        o.copy_from_slice(&v.to_le_bytes());
    }
    Ok(())
}

/// Rounds `x` to little-endian f16 ([`f32_to_f16`]) into `out` (any alignment).
pub fn quantize_row_f16(x: &[f32], out: &mut [u8]) -> Result<(), FormatError> {
    check_scalar_row(GgmlType::F16, out.len(), x.len())?;
    for (v, o) in x.iter().zip(out.chunks_exact_mut(2)) {
        o.copy_from_slice(&f32_to_f16(*v).to_le_bytes());
    }
    Ok(())
}

/// Rounds `x` to little-endian bf16 ([`f32_to_bf16`]) into `out` (any alignment).
pub fn quantize_row_bf16(x: &[f32], out: &mut [u8]) -> Result<(), FormatError> {
    check_scalar_row(GgmlType::BF16, out.len(), x.len())?;
    for (v, o) in x.iter().zip(out.chunks_exact_mut(2)) {
        o.copy_from_slice(&f32_to_bf16(*v).to_le_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Independent f16 decoder: the textbook formula evaluated in f64 (exact for every
    /// f16), then narrowed to f32 (also exact). NaNs are built from their definition.
    fn f16_reference(h: u16) -> f32 {
        let neg = h & 0x8000 != 0;
        let exp = i32::from((h >> 10) & 0x1f);
        let man = f64::from(h & 0x3ff);
        if exp == 31 {
            if man == 0.0 {
                return if neg {
                    f32::NEG_INFINITY
                } else {
                    f32::INFINITY
                };
            }
            let bits = (u32::from(neg) << 31) | 0x7f80_0000 | (u32::from(h & 0x3ff) << 13);
            return f32::from_bits(bits);
        }
        let mag = if exp == 0 {
            man * 2f64.powi(-24)
        } else {
            (1.0 + man / 1024.0) * 2f64.powi(exp - 15)
        };
        (if neg { -mag } else { mag }) as f32
    }

    #[test]
    fn f16_to_f32_matches_the_formula_on_all_65536_patterns() {
        for h in 0..=u16::MAX {
            let got = f16_to_f32(h);
            let want = f16_reference(h);
            assert_eq!(got.to_bits(), want.to_bits(), "f16 bits {h:#06x}");
        }
    }

    #[test]
    fn f16_round_trips_through_f32_on_all_65536_patterns() {
        for h in 0..=u16::MAX {
            assert_eq!(f32_to_f16(f16_to_f32(h)), h, "f16 bits {h:#06x}");
        }
    }

    /// Checks the defining property of round-to-nearest-even for one finite input, using
    /// only f16_to_f32 (exhaustively verified above) and exact f64 arithmetic.
    fn assert_rne(x: f32) {
        let h = f32_to_f16(x);
        let xv = f64::from(x);
        if xv.abs() >= 65520.0 {
            assert_eq!(h & 0x7fff, 0x7c00, "{x:e} must overflow");
            assert_eq!(h & 0x8000 != 0, x.is_sign_negative());
            return;
        }
        assert_ne!(h & 0x7c00, 0x7c00, "{x:e} must stay finite");
        assert_eq!(h & 0x8000 != 0, x.is_sign_negative(), "sign of {x:e}");
        let mag = h & 0x7fff;
        let err = (f64::from(f16_to_f32(mag)) - xv.abs()).abs();
        for n in [mag.wrapping_sub(1), mag + 1] {
            if n > 0x7bff {
                continue;
            }
            let e = (f64::from(f16_to_f32(n)) - xv.abs()).abs();
            assert!(err <= e, "{x:e}: {mag:#x} is not nearest, {n:#x} is closer");
            if err == e {
                assert_eq!(mag & 1, 0, "{x:e}: tie must go to even");
            }
        }
    }

    #[test]
    fn f32_to_f16_rounds_to_nearest_even_on_a_sweep_of_f32() {
        // Every 997th pattern: all exponents, many mantissas, both signs.
        let mut bits = 0u32;
        while let Some(next) = bits.checked_add(997) {
            let x = f32::from_bits(bits);
            if !x.is_nan() {
                assert_rne(x);
            }
            bits = next;
        }
    }

    #[test]
    fn f32_to_f16_ties_go_to_even() {
        // Midpoints between consecutive finite f16 (exact in f32: they need 12 bits).
        for h in 0u16..0x7bff {
            let lo = f64::from(f16_to_f32(h));
            let hi = f64::from(f16_to_f32(h + 1));
            let mid = ((lo + hi) / 2.0) as f32;
            assert_eq!(f64::from(mid), (lo + hi) / 2.0);
            let want = if h % 2 == 0 { h } else { h + 1 };
            assert_eq!(f32_to_f16(mid), want, "midpoint above {h:#06x}");
            assert_eq!(
                f32_to_f16(-mid),
                want | 0x8000,
                "negative midpoint above {h:#06x}"
            );
            // One f32 ulp either side of the midpoint is no longer a tie.
            assert_eq!(f32_to_f16(f32::from_bits(mid.to_bits() - 1)), h);
            assert_eq!(f32_to_f16(f32::from_bits(mid.to_bits() + 1)), h + 1);
        }
    }

    #[test]
    fn f32_to_f16_edges() {
        let b = f32::from_bits;
        let cases: [(f32, u16); 17] = [
            (0.0, 0x0000),
            (-0.0, 0x8000),
            (1.0, 0x3c00),
            (65504.0, 0x7bff),
            (b(0x477f_efff), 0x7bff), // just below 65520
            (65520.0, 0x7c00),        // tie between 65504 and 2^16 -> even -> inf
            (-65520.0, 0xfc00),
            (f32::INFINITY, 0x7c00),
            (f32::NEG_INFINITY, 0xfc00),
            (f32::MAX, 0x7c00),
            (b(0x3880_0000), 0x0400), // 2^-14, smallest normal
            (b(0x387f_c000), 0x03ff), // largest subnormal
            (b(0x387f_e000), 0x0400), // tie between largest subnormal and 2^-14 -> even
            (b(0x3380_0000), 0x0001), // 2^-24, smallest subnormal
            (b(0x3300_0000), 0x0000), // 2^-25: tie between 0 and 2^-24 -> 0
            (b(0x3300_0001), 0x0001), // just above 2^-25
            (b(0x33c0_0000), 0x0002), // 1.5 * 2^-24: tie between 1 and 2 -> 2
        ];
        for (x, want) in cases {
            assert_eq!(f32_to_f16(x), want, "{x:e}");
        }
        assert_eq!(f32_to_f16(b(1)), 0x0000, "smallest f32 subnormal");
        assert_eq!(f32_to_f16(-b(1)), 0x8000);
    }

    #[test]
    fn nan_policy() {
        assert_eq!(f32_to_f16(f32::NAN), 0x7e00);
        assert_eq!(f32_to_f16(f32::from_bits(0xffc0_1234)), 0xfe00);
        // Signaling NaN whose payload truncates to 0 stays NaN (numpy's rule).
        assert_eq!(f32_to_f16(f32::from_bits(0x7f80_0001)), 0x7c01);
        assert_eq!(f32_to_f16(f32::from_bits(0x7fa0_0000)), 0x7d00);
        assert_eq!(f16_to_f32(0x7c01).to_bits(), 0x7f80_2000);
        assert_eq!(f32_to_bf16(f32::from_bits(0x7f80_0001)), 0x7fc0);
        assert_eq!(f32_to_bf16(f32::from_bits(0xff81_0000)), 0xffc1);
    }

    #[test]
    fn bf16_round_trip_and_rounding() {
        for h in 0..=u16::MAX {
            let x = bf16_to_f32(h);
            if x.is_nan() {
                assert!(bf16_to_f32(f32_to_bf16(x)).is_nan());
            } else {
                assert_eq!(f32_to_bf16(x), h);
            }
        }
        // 1 + 2^-8 is the tie between 1 and 1 + 2^-7: goes to even (1.0).
        assert_eq!(f32_to_bf16(1.0 + 1.0 / 256.0), 0x3f80);
        // 1 + 3 * 2^-8 is the tie between 1 + 2^-7 (odd) and 1 + 2^-6: goes up.
        assert_eq!(f32_to_bf16(1.0 + 3.0 / 256.0), 0x3f82);
        assert_eq!(f32_to_bf16(f32::MAX), 0x7f80);
    }

    #[test]
    fn rows_check_lengths_and_accept_unaligned_bytes() {
        let mut buf = [0u8; 9];
        quantize_row_f16(&[1.0, -2.0, 0.5, 65504.0], &mut buf[1..]).unwrap();
        let mut out = [0f32; 4];
        dequantize_row_f16(&buf[1..], &mut out).unwrap();
        assert_eq!(out, [1.0, -2.0, 0.5, 65504.0]);
        assert_eq!(
            dequantize_row_f16(&buf[..7], &mut out),
            Err(FormatError::PartialBlock {
                ty: GgmlType::F16,
                bytes: 7
            })
        );
        assert_eq!(
            dequantize_row_f32(&buf[..8], &mut out),
            Err(FormatError::LengthMismatch {
                ty: GgmlType::F32,
                block_elems: 2,
                f32_elems: 4
            })
        );
        let mut b = [0u8; 17];
        quantize_row_f32(&[1.5, -0.25, 3.0, 7.0], &mut b[1..]).unwrap();
        dequantize_row_f32(&b[1..], &mut out).unwrap();
        assert_eq!(out, [1.5, -0.25, 3.0, 7.0]);
        quantize_row_bf16(&[1.5, -0.25, 3.0, 7.0], &mut b[1..9]).unwrap();
        dequantize_row_bf16(&b[1..9], &mut out).unwrap();
        assert_eq!(out, [1.5, -0.25, 3.0, 7.0]);
    }
}
