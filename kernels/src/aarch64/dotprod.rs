//! The dotprod tier (ARMv8.2 FEAT_DotProd): x4x8 weight panels times int8 activation rows
//! with `sdot`, bit-identical with the scalar tier ([`crate::matmul::scalar`]).
//!
//! Micro-kernel `gemm_*x4x8_*_dotprod`, tile 4 weight rows (one panel) x `N` activation
//! rows (`N` = 4, tails 1..=3; `N` = 1 is the GEMV of decode). Per K block of 32:
//! - the panel's 8 weight vectors are loaded (and nibble-unpacked) once per tile; vector
//!   `[row r: 8 bytes][row r+1: 8 bytes]` meets activation group k (8 bytes) duplicated
//!   into both halves (`ld1r {v.2d}`), so one `sdot` leaves lanes
//!   `[r: bytes 0-3, r: bytes 4-7, r+1: bytes 0-3, r+1: bytes 4-7]` and every one of its
//!   16 multiplies is useful;
//! - 2 accumulators per activation row (rows 0-1 and 2-3 of the panel) take 4 `sdot` each,
//!   one `addp` folds them into the 4 rows' exact int32 block sums;
//! - the float stage is the scalar tier's, lane-wise (one lane per weight row), without
//!   fused multiply-adds, so every output is the reference's to the bit.
//!
//! The float stage runs once per block and output (the scales are per block), which is
//! what bounds this tier's MACs per cycle (see docs/kernels.md), not the `sdot`s.
//! Nothing here allocates; all loads stay inside the slices passed in.

mod q4_0;
mod q4_1;
mod q8_0;

use core::arch::aarch64::{
    float32x4_t, int32x4_t, int8x16_t, vdupq_n_f32, vdupq_n_s32, vdupq_n_s64, vpaddq_s32,
    vreinterpretq_s8_s64, vst1q_f32,
};

use super::asm::sdot;
use crate::formats::{BlockQ8_0, BlockQ8_1};
use crate::matmul::Kernel;
use crate::pack::{BlockQ4_0x4, BlockQ4_1x4, BlockQ8_0x4, PANEL_ROWS};
use crate::tiers::Table;

pub(super) use q4_0::Q4_0;
pub(super) use q4_1::{Affine, Q4_1};
pub(super) use q8_0::Q8_0;

/// Activation rows per full tile of the GEMM micro-kernel.
const TILE_M: usize = 4;

/// One weight format's block arithmetic over the x4x8 panels, shared by the dotprod and
/// i8mm tiers (which only differ in how the int32 block sums are laid out in lanes).
pub(super) trait Format {
    /// A panel block: 4 weight rows x 32 values.
    type Panel;
    /// An activation block: 32 values.
    type Act;
    /// Weight-side scales of one float-stage vector (4 lanes).
    type WScales: Copy;
    /// Activation-side scales of one float-stage vector (4 lanes).
    type AScales: Copy;

    /// The 8 int8 operand vectors of a panel block: vector `2k` holds rows 0-1 and vector
    /// `2k + 1` rows 2-3 (8 values each) of the values that meet activation group `k`
    /// (values `8k..8k + 8`). Q4 codes come out as `16 * (code - 8)` (Q4_0) or `code`.
    ///
    /// # Safety
    /// The CPU must support NEON (always true on aarch64 Linux).
    unsafe fn weights(p: &Self::Panel) -> [int8x16_t; 8];

    /// The quants of an activation block.
    fn act_qs(a: &Self::Act) -> &[i8; 32];

    /// The weight scales with lane `l` = panel row `l`.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn row_scales(p: &Self::Panel) -> Self::WScales;

    /// The activation scales broadcast to all 4 lanes.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn act_scales(a: &Self::Act) -> Self::AScales;

    /// `sumf + (the block's contribution)` per lane, from the raw int32 block sum (Q4_0: 16x
    /// the value sum, divided here exactly) with the scalar tier's float operations in
    /// its order, lane by lane.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn accumulate(
        sumf: float32x4_t,
        isum: int32x4_t,
        w: Self::WScales,
        a: Self::AScales,
    ) -> float32x4_t;
}

/// Activation group `k` (values `8k..8k + 8`) of `qs` in both 64-bit halves (`ld1r`).
///
/// # Safety
/// The CPU must support NEON; `k < 4`.
#[inline]
#[target_feature(enable = "neon")]
pub(super) unsafe fn dup_group(qs: &[i8; 32], k: usize) -> int8x16_t {
    debug_assert!(k < 4);
    // SAFETY: `k < 4`, so the 8 bytes at `8k` lie inside the 32-byte array; the read is
    // unaligned-safe.
    let g = unsafe { qs.as_ptr().add(8 * k).cast::<i64>().read_unaligned() };
    vreinterpretq_s8_s64(vdupq_n_s64(g))
}

/// The float sums of one panel (4 weight rows) against `N` activation rows, lane `r` of
/// vector `j` = weight row `r` x activation row `j`.
///
/// # Safety
/// The CPU must support FEAT_DotProd; every `acts[j]` has `panel.len()` blocks.
#[inline]
#[target_feature(enable = "neon,dotprod")]
unsafe fn tile<F: Format, const N: usize>(
    panel: &[F::Panel],
    acts: [&[F::Act]; N],
) -> [float32x4_t; N] {
    let mut sumf = [vdupq_n_f32(0.0); N];
    for (b, p) in panel.iter().enumerate() {
        let x: [&F::Act; N] = core::array::from_fn(|j| &acts[j][b]);
        // SAFETY (this block and the next two): the caller guarantees dotprod (which
        // implies NEON); the loads read only the panel block and activation blocks
        // borrowed here.
        let w = unsafe { F::weights(p) };
        let mut acc = [[vdupq_n_s32(0); 2]; N];
        for k in 0..4 {
            for j in 0..N {
                // SAFETY: see above; `k < 4`.
                unsafe {
                    let a = dup_group(F::act_qs(x[j]), k);
                    acc[j][0] = sdot(acc[j][0], w[2 * k], a);
                    acc[j][1] = sdot(acc[j][1], w[2 * k + 1], a);
                }
            }
        }
        // SAFETY: see above.
        unsafe {
            let ws = F::row_scales(p);
            for j in 0..N {
                let isum = vpaddq_s32(acc[j][0], acc[j][1]);
                sumf[j] = F::accumulate(sumf[j], isum, ws, F::act_scales(x[j]));
            }
        }
    }
    sumf
}

/// The `N` activation rows starting at row `i`, `kb` blocks each.
#[inline]
fn rows<A, const N: usize>(a: &[A], i: usize, kb: usize) -> [&[A]; N] {
    core::array::from_fn(|j| &a[(i + j) * kb..(i + j + 1) * kb])
}

/// Stores tile results: `out[(i + j) * ldo + 4g..][..4] = s[j]`.
///
/// # Safety
/// The CPU must support NEON.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn store<const N: usize>(
    out: &mut [f32],
    ldo: usize,
    i: usize,
    g: usize,
    s: [float32x4_t; N],
) {
    for (j, v) in s.into_iter().enumerate() {
        let at = (i + j) * ldo + g * PANEL_ROWS;
        let dst = &mut out[at..at + PANEL_ROWS];
        // SAFETY: `dst` holds exactly the 4 floats written.
        unsafe { vst1q_f32(dst.as_mut_ptr(), v) };
    }
}

/// Activation rows `i..i + n` (`n` in 1..=3) against one panel: the tails of a GEMM
/// (also the single-row path of the i8mm tier).
///
/// # Safety
/// The CPU must support FEAT_DotProd; rows `i..i + n` of `a` exist (`kb` blocks each).
#[inline]
#[target_feature(enable = "neon,dotprod")]
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn tail_rows<F: Format>(
    panel: &[F::Panel],
    a: &[F::Act],
    kb: usize,
    i: usize,
    n: usize,
    out: &mut [f32],
    ldo: usize,
    g: usize,
) {
    // SAFETY: dotprod is guaranteed by the caller; slices are indexed with bounds checks.
    unsafe {
        match n {
            1 => store(out, ldo, i, g, tile::<F, 1>(panel, rows(a, i, kb))),
            2 => store(out, ldo, i, g, tile::<F, 2>(panel, rows(a, i, kb))),
            3 => store(out, ldo, i, g, tile::<F, 3>(panel, rows(a, i, kb))),
            _ => unreachable!("tail of 1..=3 rows"),
        }
    }
}

/// The whole product of the kernel contract ([`crate::matmul`]) with `sdot` tiles.
///
/// # Safety
/// The CPU must support FEAT_DotProd. (Shapes are checked: a slice too short panics.)
#[inline]
#[target_feature(enable = "neon,dotprod")]
unsafe fn gemm<F: Format>(
    w: &[F::Panel],
    kb: usize,
    a: &[F::Act],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    if kb == 0 {
        return; // no K blocks: no panels either
    }
    for (g, panel) in w.chunks_exact(kb).enumerate() {
        let mut i = 0;
        while i + TILE_M <= m {
            // SAFETY: dotprod is guaranteed by the caller; rows `i..i + 4` exist.
            unsafe {
                let s = tile::<F, TILE_M>(panel, rows(a, i, kb));
                store(out, ldo, i, g, s);
            }
            i += TILE_M;
        }
        if i < m {
            // SAFETY: as above, for the 1..=3 remaining rows.
            unsafe { tail_rows::<F>(panel, a, kb, i, m - i, out, ldo, g) };
        }
    }
}

/// Q8_0 panels x Q8_0 activations, see [`crate::matmul::GemmQ8_0Fn`].
///
/// # Safety
/// The CPU must support FEAT_DotProd; slices as in the kernel contract.
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn gemm_q8_0x4x8_q8_0_dotprod(
    w: &[BlockQ8_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: dotprod is guaranteed by the caller.
    unsafe { gemm::<Q8_0>(w, kb, a, m, out, ldo) }
}

/// Q4_0 panels x Q8_0 activations, see [`crate::matmul::GemmQ4_0Fn`].
///
/// # Safety
/// The CPU must support FEAT_DotProd; slices as in the kernel contract.
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn gemm_q4_0x4x8_q8_0_dotprod(
    w: &[BlockQ4_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: dotprod is guaranteed by the caller.
    unsafe { gemm::<Q4_0>(w, kb, a, m, out, ldo) }
}

/// Q4_1 panels x Q8_1 activations, see [`crate::matmul::GemmQ4_1Fn`].
///
/// # Safety
/// The CPU must support FEAT_DotProd; slices as in the kernel contract.
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn gemm_q4_1x4x8_q8_1_dotprod(
    w: &[BlockQ4_1x4],
    kb: usize,
    a: &[BlockQ8_1],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: dotprod is guaranteed by the caller.
    unsafe { gemm::<Q4_1>(w, kb, a, m, out, ldo) }
}

/// Installs the dotprod kernels (the table is only built for a tier the CPU supports).
pub(crate) fn install(table: &mut Table<'_>) {
    *table.q8_0 = Kernel {
        name: "gemm_q8_0x4x8_q8_0_dotprod",
        run: gemm_q8_0x4x8_q8_0_dotprod,
    };
    *table.q4_0 = Kernel {
        name: "gemm_q4_0x4x8_q8_0_dotprod",
        run: gemm_q4_0x4x8_q8_0_dotprod,
    };
    *table.q4_1 = Kernel {
        name: "gemm_q4_1x4x8_q8_1_dotprod",
        run: gemm_q4_1x4x8_q8_1_dotprod,
    };
}
