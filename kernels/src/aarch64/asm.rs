//! The int8 dot-product instructions the dotprod and i8mm tiers are built on, emitted with
//! `asm!` because their intrinsics (`vdotq_s32`, `vmmlaq_s32`) are unstable on stable
//! Rust: `sdot` (FEAT_DotProd), `smmla` (FEAT_I8MM), and the hardware f16 -> f32 scale
//! conversion. Each helper is one instruction with no memory access (except the scale
//! load), so the compiler keeps scheduling and register allocation of the kernels around
//! them.
//!
//! The lane semantics are pinned down by the unit tests at the bottom of this file,
//! against scalar definitions, with -128/127 extremes in every position: a swapped operand
//! or a wrong lane mapping fails there before it could fail in a kernel.

use core::arch::aarch64::{int32x4_t, int8x16_t};
use core::arch::asm;

/// `sdot acc.4s, a.16b, b.16b`: lane `l` of the result is
/// `acc[l] + sum(a[4l + k] * b[4l + k] for k in 0..4)`, all signed, exact in int32.
///
/// # Safety
/// The CPU must implement FEAT_DotProd (`is_aarch64_feature_detected!("dotprod")`).
#[inline]
#[target_feature(enable = "neon,dotprod")]
pub(crate) unsafe fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: the caller guarantees FEAT_DotProd; the instruction reads and writes only
    // the three named vector registers.
    unsafe {
        asm!(
            "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    acc
}

/// `smmla acc.4s, a.16b, b.16b`: `a` and `b` are 2x8 int8 matrices (row `i` = bytes
/// `8i..8i + 8`) and lane `2i + j` of the result is
/// `acc[2i + j] + sum(a[8i + k] * b[8j + k] for k in 0..8)`, i.e. `acc + a * b^T`.
///
/// # Safety
/// The CPU must implement FEAT_I8MM (`is_aarch64_feature_detected!("i8mm")`).
#[inline]
#[target_feature(enable = "neon,i8mm")]
pub(crate) unsafe fn smmla(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: the caller guarantees FEAT_I8MM; the instruction reads and writes only the
    // three named vector registers.
    unsafe {
        asm!(
            "smmla {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    acc
}

/// The f16 scale at `h`, widened to f32 by the FPU (`ldr h` + `fcvt s, h`): exact, and
/// equal bit for bit to [`crate::formats::f16_to_f32`] for every non-NaN input.
///
/// # Safety
/// `h` must be valid for reading 2 bytes (no alignment needed).
#[inline]
#[target_feature(enable = "neon")]
pub(crate) unsafe fn load_f16(h: *const u16) -> f32 {
    let x: f32;
    // SAFETY: the caller guarantees `h` is readable for 2 bytes; `fcvt` from half
    // precision is part of the base ARMv8 FP unit (no FEAT_FP16 needed), and neither
    // instruction touches the flags or the stack.
    unsafe {
        asm!(
            "ldr {x:h}, [{h}]",
            "fcvt {x:s}, {x:h}",
            h = in(reg) h,
            x = out(vreg) x,
            options(pure, readonly, nostack, preserves_flags)
        );
    }
    x
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use core::arch::aarch64::{vld1q_s32, vld1q_s8, vst1q_s32};

    /// Operand bytes that catch lane and operand mix-ups: extremes in every position and
    /// position-dependent values.
    fn operands() -> Vec<[i8; 16]> {
        let mut v = vec![[-128; 16], [127; 16], [-1; 16], [0; 16]];
        v.push(core::array::from_fn(
            |i| if i % 2 == 0 { -128 } else { 127 },
        ));
        v.push(core::array::from_fn(|i| (i as i8 - 8) * 9));
        v.push(core::array::from_fn(|i| (i as i8).wrapping_mul(37) ^ 0x55));
        for hot in 0..16 {
            v.push(core::array::from_fn(|i| {
                if i == hot {
                    -128
                } else {
                    1 + i as i8
                }
            }));
        }
        let mut s = 0x9E37_79B9u32;
        for _ in 0..8 {
            v.push(core::array::from_fn(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 24) as i8
            }));
        }
        v
    }

    /// Accumulators with distinct lanes, including values near the int32 edges that the
    /// extreme products cannot overflow.
    const ACCS: [[i32; 4]; 3] = [
        [0; 4],
        [1, -2, 300_000, -7_000_000],
        [i32::MAX - 200_000, i32::MIN + 200_000, 5, -5],
    ];

    fn run(
        f: unsafe fn(int32x4_t, int8x16_t, int8x16_t) -> int32x4_t,
        acc: [i32; 4],
        a: [i8; 16],
        b: [i8; 16],
    ) -> [i32; 4] {
        let mut out = [0i32; 4];
        // SAFETY: the callers checked the CPU feature `f` needs; the loads and the store
        // stay within the local arrays.
        unsafe {
            let r = f(
                vld1q_s32(acc.as_ptr()),
                vld1q_s8(a.as_ptr()),
                vld1q_s8(b.as_ptr()),
            );
            vst1q_s32(out.as_mut_ptr(), r);
        }
        out
    }

    fn sdot_ref(acc: [i32; 4], a: [i8; 16], b: [i8; 16]) -> [i32; 4] {
        core::array::from_fn(|l| {
            acc[l]
                + (0..4)
                    .map(|k| i32::from(a[4 * l + k]) * i32::from(b[4 * l + k]))
                    .sum::<i32>()
        })
    }

    fn smmla_ref(acc: [i32; 4], a: [i8; 16], b: [i8; 16]) -> [i32; 4] {
        core::array::from_fn(|l| {
            let (i, j) = (l / 2, l % 2);
            acc[l]
                + (0..8)
                    .map(|k| i32::from(a[8 * i + k]) * i32::from(b[8 * j + k]))
                    .sum::<i32>()
        })
    }

    #[test]
    fn sdot_lanes_match_the_definition() {
        if !std::arch::is_aarch64_feature_detected!("dotprod") {
            eprintln!("sdot lane test skipped: this CPU has no dotprod");
            return;
        }
        let ops = operands();
        for acc in ACCS {
            for a in &ops {
                for b in &ops {
                    assert_eq!(
                        run(sdot, acc, *a, *b),
                        sdot_ref(acc, *a, *b),
                        "acc {acc:?} a {a:?} b {b:?}"
                    );
                }
            }
        }
        // -128 x -128 everywhere: 4 * 16384 per lane.
        assert_eq!(run(sdot, [0; 4], [-128; 16], [-128; 16]), [65_536; 4]);
    }

    #[test]
    fn smmla_lanes_match_the_definition() {
        if !std::arch::is_aarch64_feature_detected!("i8mm") {
            eprintln!("smmla lane test skipped: this CPU has no i8mm");
            return;
        }
        let ops = operands();
        for acc in ACCS {
            for a in &ops {
                for b in &ops {
                    assert_eq!(
                        run(smmla, acc, *a, *b),
                        smmla_ref(acc, *a, *b),
                        "acc {acc:?} a {a:?} b {b:?}"
                    );
                }
            }
        }
        // -128 x -128 everywhere: 8 * 16384 per lane.
        assert_eq!(run(smmla, [0; 4], [-128; 16], [-128; 16]), [131_072; 4]);
        // Row 0 of `a` against row 1 of `b` lands in lane 1, row 1 against row 0 in lane 2.
        let a: [i8; 16] = core::array::from_fn(|i| if i < 8 { 1 } else { 2 });
        let b: [i8; 16] = core::array::from_fn(|i| if i < 8 { 3 } else { -128 });
        assert_eq!(run(smmla, [0; 4], a, b), [24, -1024, 48, -2048]);
    }

    #[test]
    fn load_f16_matches_the_software_conversion() {
        for h in 0..=u16::MAX {
            let want = crate::formats::f16_to_f32(h);
            if want.is_nan() {
                continue; // NaNs: the FPU quiets them, the software conversion keeps payloads
            }
            // SAFETY: `h` is a local readable for 2 bytes; neon is baseline on aarch64.
            let got = unsafe { load_f16(&h) };
            assert_eq!(got.to_bits(), want.to_bits(), "f16 bits {h:#06x}");
        }
    }
}
