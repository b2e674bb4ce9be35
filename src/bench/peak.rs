//! The int8 peak of a kernel tier: a loop of independent multiply-accumulate instructions
//! of that tier (nothing else but the loop counter), on every worker thread at once.
//!
//! | tier    | instruction(s) per step                  | int8 MACs per step |
//! |---------|------------------------------------------|--------------------|
//! | avx512  | vpdpbusd ymm (the tier's 256-bit VNNI)   | 32                 |
//! | avx2    | vpmaddubsw + vpmaddwd (x1) + vpaddd ymm  | 32                 |
//! | neon    | smull + smull2 + 2 sadalp                | 16                 |
//! | dotprod | sdot v.4s                                | 16                 |
//! | i8mm    | smmla v.4s                               | 32                 |
//!
//! Each loop keeps 12 (x86) or 16 (ARM) independent accumulators, enough to cover the
//! instruction latency on current cores, so it measures issue throughput: the rate no
//! kernel of the tier can beat. The scalar tier has no int8 peak.

use std::time::Instant;

use crate::exec::threads::Pool;
use slimlm_kernels::dispatch::Isa;

/// A tier's peak loop: runs `iters` steps of the loop body.
struct PeakLoop {
    instruction: &'static str,
    macs_per_iter: u64,
    run: fn(u64),
}

/// The measured int8 peak of a tier on the whole pool.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Int8Peak {
    pub tier: String,
    pub instruction: &'static str,
    pub threads: usize,
    /// Giga-operations per second (one multiply-accumulate = 2 operations).
    pub gops: f64,
}

/// The peak loop of `isa`, or `None` for the scalar tier (and tiers of another
/// architecture). `isa` must be available on this CPU: the caller checked it with
/// [`Isa::is_available`] (the loops are only called after that check).
fn peak_loop(isa: Isa) -> Option<PeakLoop> {
    if !isa.is_available() {
        return None;
    }
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => Some(PeakLoop {
            instruction: "vpdpbusd ymm",
            macs_per_iter: 12 * 32,
            // SAFETY: avx512 (F, BW, VL, VNNI) is available: checked above.
            run: |n| unsafe { x86::vpdpbusd_ymm(n) },
        }),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Some(PeakLoop {
            instruction: "vpmaddubsw + vpmaddwd + vpaddd ymm",
            macs_per_iter: 6 * 32,
            // SAFETY: avx2 is available: checked above.
            run: |n| unsafe { x86::vpmaddubsw_ymm(n) },
        }),
        #[cfg(target_arch = "aarch64")]
        Isa::Neon => Some(PeakLoop {
            instruction: "smull + smull2 + sadalp",
            macs_per_iter: 4 * 16,
            run: arm::smull,
        }),
        #[cfg(target_arch = "aarch64")]
        Isa::Dotprod => Some(PeakLoop {
            instruction: "sdot v.4s",
            macs_per_iter: 16 * 16,
            // SAFETY: dotprod is available: checked above.
            run: |n| unsafe { arm::sdot(n) },
        }),
        #[cfg(target_arch = "aarch64")]
        Isa::I8mm => Some(PeakLoop {
            instruction: "smmla v.4s",
            macs_per_iter: 16 * 32,
            // SAFETY: i8mm is available: checked above.
            run: |n| unsafe { arm::smmla(n) },
        }),
        _ => None,
    }
}

/// Measures the int8 peak of `isa` on every thread of `pool` at once: calibrates the loop
/// to about `seconds` per run, keeps the best of three runs.
pub fn int8_peak(isa: Isa, pool: &Pool, seconds: f64) -> Option<Int8Peak> {
    let l = peak_loop(isa)?;
    let probe = 1u64 << 14;
    let start = Instant::now();
    (l.run)(probe);
    let per_iter = start.elapsed().as_secs_f64() / probe as f64;
    let iters = ((seconds / per_iter.max(1e-12)) as u64).clamp(probe, 1 << 34);
    let mut best = 0.0f64;
    for _ in 0..3 {
        let start = Instant::now();
        pool.broadcast(|_| (l.run)(iters));
        let wall = start.elapsed().as_secs_f64();
        let macs = (l.macs_per_iter * iters * pool.threads() as u64) as f64;
        best = best.max(2.0 * macs / wall / 1e9);
    }
    Some(Int8Peak {
        tier: isa.name().into(),
        instruction: l.instruction,
        threads: pool.threads(),
        gops: best,
    })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::asm;

    /// `n` steps of 12 independent `vpdpbusd ymm`.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, VL and VNNI.
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    pub unsafe fn vpdpbusd_ymm(n: u64) {
        // SAFETY: registers only (no memory, no stack); the caller guarantees the
        // features; n >= 1 so the counted loop ends.
        unsafe {
            asm!(
                "vpcmpeqb {x}, {x}, {x}",
                "vpcmpeqb {y}, {y}, {y}",
                "2:",
                "vpdpbusd {a0}, {x}, {y}",
                "vpdpbusd {a1}, {x}, {y}",
                "vpdpbusd {a2}, {x}, {y}",
                "vpdpbusd {a3}, {x}, {y}",
                "vpdpbusd {a4}, {x}, {y}",
                "vpdpbusd {a5}, {x}, {y}",
                "vpdpbusd {a6}, {x}, {y}",
                "vpdpbusd {a7}, {x}, {y}",
                "vpdpbusd {a8}, {x}, {y}",
                "vpdpbusd {a9}, {x}, {y}",
                "vpdpbusd {a10}, {x}, {y}",
                "vpdpbusd {a11}, {x}, {y}",
                "dec {n}",
                "jnz 2b",
                n = inout(reg) n.max(1) => _,
                x = out(ymm_reg) _, y = out(ymm_reg) _,
                a0 = out(ymm_reg) _, a1 = out(ymm_reg) _, a2 = out(ymm_reg) _,
                a3 = out(ymm_reg) _, a4 = out(ymm_reg) _, a5 = out(ymm_reg) _,
                a6 = out(ymm_reg) _, a7 = out(ymm_reg) _, a8 = out(ymm_reg) _,
                a9 = out(ymm_reg) _, a10 = out(ymm_reg) _, a11 = out(ymm_reg) _,
                options(nomem, nostack),
            );
        }
    }

    /// `n` steps of 6 independent `vpmaddubsw` + `vpmaddwd` + `vpaddd` (ymm).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub unsafe fn vpmaddubsw_ymm(n: u64) {
        // SAFETY: registers only (no memory, no stack); the caller guarantees AVX2; n >= 1
        // so the counted loop ends.
        unsafe {
            asm!(
                "vpcmpeqb {x}, {x}, {x}",
                "vpcmpeqb {y}, {y}, {y}",
                "vpcmpeqw {one}, {one}, {one}",
                "2:",
                "vpmaddubsw {t0}, {x}, {y}",
                "vpmaddubsw {t1}, {x}, {y}",
                "vpmaddubsw {t2}, {x}, {y}",
                "vpmaddubsw {t3}, {x}, {y}",
                "vpmaddubsw {t4}, {x}, {y}",
                "vpmaddubsw {t5}, {x}, {y}",
                "vpmaddwd {t0}, {t0}, {one}",
                "vpmaddwd {t1}, {t1}, {one}",
                "vpmaddwd {t2}, {t2}, {one}",
                "vpmaddwd {t3}, {t3}, {one}",
                "vpmaddwd {t4}, {t4}, {one}",
                "vpmaddwd {t5}, {t5}, {one}",
                "vpaddd {a0}, {a0}, {t0}",
                "vpaddd {a1}, {a1}, {t1}",
                "vpaddd {a2}, {a2}, {t2}",
                "vpaddd {a0}, {a0}, {t3}",
                "vpaddd {a1}, {a1}, {t4}",
                "vpaddd {a2}, {a2}, {t5}",
                "dec {n}",
                "jnz 2b",
                n = inout(reg) n.max(1) => _,
                x = out(ymm_reg) _, y = out(ymm_reg) _, one = out(ymm_reg) _,
                t0 = out(ymm_reg) _, t1 = out(ymm_reg) _, t2 = out(ymm_reg) _,
                t3 = out(ymm_reg) _, t4 = out(ymm_reg) _, t5 = out(ymm_reg) _,
                a0 = out(ymm_reg) _, a1 = out(ymm_reg) _, a2 = out(ymm_reg) _,
                options(nomem, nostack),
            );
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use core::arch::asm;

    /// `n` steps of 4 x (`smull` + `smull2` + 2 `sadalp`), 8 accumulators.
    pub fn smull(n: u64) {
        // SAFETY: registers only (no memory, no stack); NEON is part of every aarch64
        // target Rust supports; n >= 1 so the counted loop ends.
        unsafe {
            asm!(
                "movi {x:v}.16b, #1",
                "movi {y:v}.16b, #2",
                "2:",
                "smull {t0:v}.8h, {x:v}.8b, {y:v}.8b",
                "smull2 {t1:v}.8h, {x:v}.16b, {y:v}.16b",
                "smull {t2:v}.8h, {x:v}.8b, {y:v}.8b",
                "smull2 {t3:v}.8h, {x:v}.16b, {y:v}.16b",
                "smull {t4:v}.8h, {x:v}.8b, {y:v}.8b",
                "smull2 {t5:v}.8h, {x:v}.16b, {y:v}.16b",
                "smull {t6:v}.8h, {x:v}.8b, {y:v}.8b",
                "smull2 {t7:v}.8h, {x:v}.16b, {y:v}.16b",
                "sadalp {a0:v}.4s, {t0:v}.8h",
                "sadalp {a1:v}.4s, {t1:v}.8h",
                "sadalp {a2:v}.4s, {t2:v}.8h",
                "sadalp {a3:v}.4s, {t3:v}.8h",
                "sadalp {a4:v}.4s, {t4:v}.8h",
                "sadalp {a5:v}.4s, {t5:v}.8h",
                "sadalp {a6:v}.4s, {t6:v}.8h",
                "sadalp {a7:v}.4s, {t7:v}.8h",
                "subs {n}, {n}, #1",
                "b.ne 2b",
                n = inout(reg) n.max(1) => _,
                x = out(vreg) _, y = out(vreg) _,
                t0 = out(vreg) _, t1 = out(vreg) _, t2 = out(vreg) _, t3 = out(vreg) _,
                t4 = out(vreg) _, t5 = out(vreg) _, t6 = out(vreg) _, t7 = out(vreg) _,
                a0 = out(vreg) _, a1 = out(vreg) _, a2 = out(vreg) _, a3 = out(vreg) _,
                a4 = out(vreg) _, a5 = out(vreg) _, a6 = out(vreg) _, a7 = out(vreg) _,
                options(nomem, nostack),
            );
        }
    }

    /// `n` steps of 16 independent `sdot`.
    ///
    /// # Safety
    /// The CPU must support the dot product extension.
    #[target_feature(enable = "dotprod")]
    pub unsafe fn sdot(n: u64) {
        // SAFETY: registers only (no memory, no stack); the caller guarantees dotprod;
        // n >= 1 so the counted loop ends.
        unsafe {
            asm!(
                "movi {x:v}.16b, #1",
                "movi {y:v}.16b, #2",
                "2:",
                "sdot {a0:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a1:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a2:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a3:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a4:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a5:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a6:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a7:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a8:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a9:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a10:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a11:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a12:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a13:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a14:v}.4s, {x:v}.16b, {y:v}.16b",
                "sdot {a15:v}.4s, {x:v}.16b, {y:v}.16b",
                "subs {n}, {n}, #1",
                "b.ne 2b",
                n = inout(reg) n.max(1) => _,
                x = out(vreg) _, y = out(vreg) _,
                a0 = out(vreg) _, a1 = out(vreg) _, a2 = out(vreg) _, a3 = out(vreg) _,
                a4 = out(vreg) _, a5 = out(vreg) _, a6 = out(vreg) _, a7 = out(vreg) _,
                a8 = out(vreg) _, a9 = out(vreg) _, a10 = out(vreg) _, a11 = out(vreg) _,
                a12 = out(vreg) _, a13 = out(vreg) _, a14 = out(vreg) _, a15 = out(vreg) _,
                options(nomem, nostack),
            );
        }
    }

    /// `n` steps of 16 independent `smmla`.
    ///
    /// # Safety
    /// The CPU must support the int8 matrix multiply extension.
    #[target_feature(enable = "i8mm")]
    pub unsafe fn smmla(n: u64) {
        // SAFETY: registers only (no memory, no stack); the caller guarantees i8mm;
        // n >= 1 so the counted loop ends.
        unsafe {
            asm!(
                "movi {x:v}.16b, #1",
                "movi {y:v}.16b, #2",
                "2:",
                "smmla {a0:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a1:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a2:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a3:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a4:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a5:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a6:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a7:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a8:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a9:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a10:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a11:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a12:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a13:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a14:v}.4s, {x:v}.16b, {y:v}.16b",
                "smmla {a15:v}.4s, {x:v}.16b, {y:v}.16b",
                "subs {n}, {n}, #1",
                "b.ne 2b",
                n = inout(reg) n.max(1) => _,
                x = out(vreg) _, y = out(vreg) _,
                a0 = out(vreg) _, a1 = out(vreg) _, a2 = out(vreg) _, a3 = out(vreg) _,
                a4 = out(vreg) _, a5 = out(vreg) _, a6 = out(vreg) _, a7 = out(vreg) _,
                a8 = out(vreg) _, a9 = out(vreg) _, a10 = out(vreg) _, a11 = out(vreg) _,
                a12 = out(vreg) _, a13 = out(vreg) _, a14 = out(vreg) _, a15 = out(vreg) _,
                options(nomem, nostack),
            );
        }
    }
}
