//! NEON (ARMv8.0) tier of the non-matmul ops ([`crate::ops`]), used by the neon, dotprod
//! and i8mm tiers: 16 lanes as four `float32x4_t`, each vector operation the same IEEE
//! operation as the scalar reference (no `fmla`; min/max emulated with compare + select,
//! because `fmin`/`fmax` treat NaN and signed zeros differently from the reference), the
//! reductions in the reference's tree. f16 <-> f32 use `fcvtl` / `fcvtn` (round to
//! nearest even under the default FPCR), emitted with `asm!` because the f16 vector types
//! are unstable.

use core::arch::aarch64::*;
use core::arch::asm;

use crate::reference::lanes::{fmax, Lanes, Tier, LANES};

/// Proof that the CPU runs NEON.
#[derive(Clone, Copy)]
pub(crate) struct Neon;

/// Lanes 0..4, 4..8, 8..12, 12..16.
#[derive(Clone, Copy)]
pub(crate) struct F32x16([float32x4_t; 4]);

// SAFETY (every `unsafe` block in this file): values of `Neon` and `F32x16` exist only
// once `Neon::new` was called, whose contract is that the CPU runs NEON; pointers come
// from slices checked to hold 16 (8 for `load_dup_pairs`) elements.

impl Tier for Neon {
    type V = F32x16;
    #[inline(always)]
    unsafe fn new() -> Self {
        Neon
    }
    #[inline(always)]
    fn splat(self, v: f32) -> F32x16 {
        // SAFETY: see the note above the impls.
        unsafe { F32x16([vdupq_n_f32(v); 4]) }
    }
    #[inline(always)]
    fn load(self, s: &[f32]) -> F32x16 {
        let p = s[..LANES].as_ptr();
        // SAFETY: see the note above the impls.
        unsafe { F32x16(core::array::from_fn(|k| vld1q_f32(p.add(4 * k)))) }
    }
    #[inline(always)]
    fn load_f16(self, s: &[u16]) -> F32x16 {
        let p = s[..LANES].as_ptr();
        // SAFETY: see the note above the impls; `fcvtl` only reads and writes registers.
        unsafe {
            F32x16(core::array::from_fn(|k| {
                let h = vld1_u16(p.add(4 * k));
                let f: float32x4_t;
                asm!(
                    "fcvtl {f:v}.4s, {h:v}.4h",
                    f = lateout(vreg) f,
                    h = in(vreg) h,
                    options(pure, nomem, nostack, preserves_flags)
                );
                f
            }))
        }
    }
    #[inline(always)]
    fn load_dup_pairs(self, s: &[f32]) -> F32x16 {
        let p = s[..LANES / 2].as_ptr();
        // SAFETY: see the note above the impls.
        unsafe {
            let (c0, c1) = (vld1q_f32(p), vld1q_f32(p.add(4)));
            F32x16([
                vzip1q_f32(c0, c0),
                vzip2q_f32(c0, c0),
                vzip1q_f32(c1, c1),
                vzip2q_f32(c1, c1),
            ])
        }
    }
}

/// Applies a two-operand `float32x4_t` operation to the four registers.
macro_rules! quads {
    ($f:expr, $a:expr, $b:expr) => {{
        let (a, b) = ($a, $b);
        // SAFETY: see the note above the impls.
        unsafe { F32x16(core::array::from_fn(|k| $f(a.0[k], b.0[k]))) }
    }};
}

/// `a < b ? a : b` per lane (the reference's min).
///
/// # Safety
/// The CPU must run NEON.
#[inline(always)]
unsafe fn min4(a: float32x4_t, b: float32x4_t) -> float32x4_t {
    // SAFETY: the caller guarantees NEON.
    unsafe { vbslq_f32(vcltq_f32(a, b), a, b) }
}

/// `a > b ? a : b` per lane (the reference's max).
///
/// # Safety
/// The CPU must run NEON.
#[inline(always)]
unsafe fn max4(a: float32x4_t, b: float32x4_t) -> float32x4_t {
    // SAFETY: the caller guarantees NEON.
    unsafe { vbslq_f32(vcgtq_f32(a, b), a, b) }
}

/// An integer `int32x4_t` operation on the bit patterns.
macro_rules! int_quads {
    ($f:ident, $a:expr, $b:expr) => {{
        quads!(
            |x, y| vreinterpretq_f32_s32($f(vreinterpretq_s32_f32(x), vreinterpretq_s32_f32(y))),
            $a,
            $b
        )
    }};
}

/// A bitwise `uint32x4_t` operation on the bit patterns.
macro_rules! bit_quads {
    ($f:ident, $a:expr, $b:expr) => {{
        quads!(
            |x, y| vreinterpretq_f32_u32($f(vreinterpretq_u32_f32(x), vreinterpretq_u32_f32(y))),
            $a,
            $b
        )
    }};
}

impl Lanes for F32x16 {
    type Mask = [uint32x4_t; 4];
    #[inline(always)]
    fn store(self, s: &mut [f32]) {
        let p = s[..LANES].as_mut_ptr();
        // SAFETY: see the note above the impls.
        unsafe {
            for (k, v) in self.0.into_iter().enumerate() {
                vst1q_f32(p.add(4 * k), v);
            }
        }
    }
    #[inline(always)]
    fn store_f16(self, s: &mut [u16]) {
        let p = s[..LANES].as_mut_ptr();
        // SAFETY: see the note above the impls; `fcvtn` only reads and writes registers.
        unsafe {
            for (k, f) in self.0.into_iter().enumerate() {
                let h: uint16x4_t;
                asm!(
                    "fcvtn {h:v}.4h, {f:v}.4s",
                    h = lateout(vreg) h,
                    f = in(vreg) f,
                    options(pure, nomem, nostack, preserves_flags)
                );
                vst1_u16(p.add(4 * k), h);
            }
        }
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        quads!(vaddq_f32, self, o)
    }
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        quads!(vsubq_f32, self, o)
    }
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        quads!(vmulq_f32, self, o)
    }
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        quads!(vdivq_f32, self, o)
    }
    #[inline(always)]
    fn min(self, o: Self) -> Self {
        quads!(min4, self, o)
    }
    #[inline(always)]
    fn max(self, o: Self) -> Self {
        quads!(max4, self, o)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        bit_quads!(vandq_u32, self, o)
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        bit_quads!(vorrq_u32, self, o)
    }
    #[inline(always)]
    fn lt(self, o: Self) -> [uint32x4_t; 4] {
        // SAFETY: see the note above the impls.
        unsafe { core::array::from_fn(|k| vcltq_f32(self.0[k], o.0[k])) }
    }
    #[inline(always)]
    fn eq(self, o: Self) -> [uint32x4_t; 4] {
        // SAFETY: see the note above the impls.
        unsafe { core::array::from_fn(|k| vceqq_f32(self.0[k], o.0[k])) }
    }
    #[inline(always)]
    fn select(m: [uint32x4_t; 4], a: Self, b: Self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe { F32x16(core::array::from_fn(|k| vbslq_f32(m[k], a.0[k], b.0[k]))) }
    }
    #[inline(always)]
    fn add_i32(self, o: Self) -> Self {
        int_quads!(vaddq_s32, self, o)
    }
    #[inline(always)]
    fn sub_i32(self, o: Self) -> Self {
        int_quads!(vsubq_s32, self, o)
    }
    #[inline(always)]
    fn shr1_i32(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                self.0
                    .map(|x| vreinterpretq_f32_s32(vshrq_n_s32::<1>(vreinterpretq_s32_f32(x)))),
            )
        }
    }
    #[inline(always)]
    fn shl23_i32(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe {
            F32x16(
                self.0
                    .map(|x| vreinterpretq_f32_s32(vshlq_n_s32::<23>(vreinterpretq_s32_f32(x)))),
            )
        }
    }
    #[inline(always)]
    fn swap_pairs(self) -> Self {
        // SAFETY: see the note above the impls.
        unsafe { F32x16(self.0.map(|x| vrev64q_f32(x))) }
    }
    #[inline(always)]
    fn reduce_add(self) -> f32 {
        let [r0, r1, r2, r3] = self.0;
        // SAFETY: see the note above the impls.
        unsafe {
            // w = 8: lanes i and i + 8 are registers k and k + 2.
            let s4 = vaddq_f32(vaddq_f32(r0, r2), vaddq_f32(r1, r3));
            let s2 = vadd_f32(vget_low_f32(s4), vget_high_f32(s4));
            vget_lane_f32::<0>(s2) + vget_lane_f32::<1>(s2)
        }
    }
    #[inline(always)]
    fn reduce_max(self) -> f32 {
        let [r0, r1, r2, r3] = self.0;
        // SAFETY: see the note above the impls.
        unsafe {
            let s4 = max4(max4(r0, r2), max4(r1, r3));
            let (lo, hi) = (vget_low_f32(s4), vget_high_f32(s4));
            let s2 = vbsl_f32(vcgt_f32(lo, hi), lo, hi);
            fmax(vget_lane_f32::<0>(s2), vget_lane_f32::<1>(s2))
        }
    }
}

crate::ops::contract::ops_tier!(Neon, "neon", #[target_feature(enable = "neon")]);
