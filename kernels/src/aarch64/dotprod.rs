//! The dotprod tier (ARMv8.2 FEAT_DotProd): x4x8 weight panels times int8 activation rows
//! with `sdot`, bit-identical with the scalar tier ([`crate::matmul::scalar`]).
//!
//! Micro-kernel `gemm_*x4x8_*_4x4_dotprod`, tile 4 weight rows (one panel) x `n` activation
//! rows (`n` = 4, tails 1..=3; `n` = 1 is the GEMV of decode). Per K block of 32:
//! - activations were repacked once per call ([`driver`]): each 8-byte group duplicated
//!   into both halves of a 16-byte vector, scales converted to f32, so the loop loads them
//!   with plain `ldr q` (no `ld1r`, which costs a vector-pipe uop on the big cores);
//! - the panel's 8 weight vectors are loaded (and nibble-unpacked) once per tile; vector
//!   `[row r: 8 bytes][row r+1: 8 bytes]` meets activation group k duplicated, so one
//!   `sdot` leaves lanes `[r: bytes 0-3, r: bytes 4-7, r+1: bytes 0-3, r+1: bytes 4-7]`
//!   and every one of its 16 multiplies is useful;
//! - 2 accumulators per activation row (panel rows 0-1 and 2-3) take 4 `sdot` each, one
//!   `addp` folds them into the 4 rows' exact int32 block sums (Q6_K, whose two halves of
//!   16 have int8 scales of their own, scales the sums of groups 0-1 before it sums
//!   groups 2-3: [`Format::SCALED_HALVES`]);
//! - the float stage is the scalar tier's, lane-wise (one lane per weight row), without
//!   fused multiply-adds, so every output is the reference's to the bit.
//!
//! The float stage runs once per block and output (the scales are per block): 5 vector
//! operations per 4 outputs next to 8 `sdot`, which is what bounds this tier's MACs per
//! cycle (see docs/kernels.md). Nothing here allocates; all loads stay inside the slices
//! passed in.

pub(super) mod driver;
mod q4_0;
mod q4_1;
mod q6_k;
mod q8_0;

use core::arch::aarch64::{
    float32x4_t, int32x4_t, int8x16_t, vaddq_s32, vdupq_n_f32, vdupq_n_s32, vdupq_n_s64, vld1q_f32,
    vld1q_s8, vpaddq_s32, vreinterpretq_f32_s64, vst1q_f32,
};

use super::asm::sdot;
use crate::formats::{BlockQ8_0, BlockQ8_1};
use crate::matmul::contract::{kernel, KernelTable};
use crate::pack::{BlockQ4_0x4, BlockQ4_1x4, BlockQ6Kx4, BlockQ8_0x4};
use driver::{out_at, RowTile, Rows};

pub(super) use q4_0::Q4_0;
pub(super) use q4_1::Q4_1;
pub(super) use q6_k::Q6K;
pub(super) use q8_0::Q8_0;

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
    /// Whether the two halves of a block (values 0..16 and 16..32, activation groups 0-1
    /// and 2-3) have scales of their own (Q6_K's sub-blocks). The tiles then take
    /// [`Format::scale_first_half`] of the sums of groups 0-1, restart the accumulators
    /// for groups 2-3 and finish with [`Format::add_second_half`]. (Summing on through
    /// all four groups and using `sc0 * lo + sc1 * hi = (sc0 - sc1) * lo + sc1 * (lo + hi)`
    /// would save the restart, but the `smmla` tile then needs a copy of each accumulator
    /// and spills: 37.2 instead of 41.3 int8 MACs/cycle on Cortex-X4 in scripts/mca.sh.)
    const SCALED_HALVES: bool = false;

    /// The 8 int8 operand vectors of a panel block: vector `2k` holds rows 0-1 and vector
    /// `2k + 1` rows 2-3 (8 values each) of the values that meet activation group `k`
    /// (values `8k..8k + 8`). Q4 codes come out as `16 * (code - 8)` (Q4_0) or `code`.
    ///
    /// # Safety
    /// The CPU must support NEON (always true on aarch64 Linux).
    unsafe fn weights(p: &Self::Panel) -> [int8x16_t; 8];

    /// The quants of an activation block.
    fn act_qs(a: &Self::Act) -> &[i8; 32];

    /// The activation block's scale `d` and sum `s` (Q8_1; 0 for Q8_0) as f32.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn act_scale_values(a: &Self::Act) -> [f32; 2];

    /// The weight scales with lane `l` = panel row `l`.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn row_scales(p: &Self::Panel) -> Self::WScales;

    /// The weight scales of panel rows `2wp, 2wp + 1` in the lane pattern
    /// `[r, r + 1, r, r + 1]` of `smmla` results.
    ///
    /// # Safety
    /// The CPU must support NEON; `wp < 2`.
    unsafe fn pair_scales(p: &Self::Panel, wp: usize) -> Self::WScales;

    /// Activation scales from the lane vectors of `d` and `s` (see
    /// [`Format::act_scale_values`]).
    fn act_scales(d: float32x4_t, s: float32x4_t) -> Self::AScales;

    /// The int32 sums `lo` of the first half times its scales (only called where
    /// [`Format::SCALED_HALVES`]), lane-wise with the weight scales of
    /// [`Format::row_scales`] or [`Format::pair_scales`]; exact in int32.
    ///
    /// # Safety
    /// The CPU must support NEON.
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn scale_first_half(lo: int32x4_t, _w: &Self::WScales) -> int32x4_t {
        lo
    }

    /// The block's int32 sums: `first` ([`Format::scale_first_half`]) plus the sums `hi`
    /// of the second half times its scales; exact in int32.
    ///
    /// # Safety
    /// The CPU must support NEON.
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn add_second_half(first: int32x4_t, hi: int32x4_t, _w: &Self::WScales) -> int32x4_t {
        vaddq_s32(first, hi)
    }

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

/// The 8 operand vectors of a panel block's int8 quants (Q8_0, Q6_K): their layout
/// `(group k, rows 0-1), (group k, rows 2-3)` is already the operand order.
///
/// # Safety
/// The CPU must support NEON.
#[inline]
#[target_feature(enable = "neon")]
pub(super) unsafe fn int8_panel_vectors(qs: &[i8; 128]) -> [int8x16_t; 8] {
    // SAFETY: 8 vectors of 16 bytes cover exactly the 128 bytes of `qs`.
    core::array::from_fn(|j| unsafe { vld1q_s8(qs.as_ptr().add(16 * j)) })
}

/// `[x[2wp], x[2wp + 1], x[2wp], x[2wp + 1]]` (`ld1r {v.2d}`).
///
/// # Safety
/// The CPU must support NEON; `wp < 2`.
#[inline]
#[target_feature(enable = "neon")]
pub(super) unsafe fn dup_pair(x: &[f32; 4], wp: usize) -> float32x4_t {
    debug_assert!(wp < 2);
    // SAFETY: `wp < 2`, so the 8 bytes at float `2wp` lie inside the array; unaligned read.
    let bits = unsafe { x.as_ptr().add(2 * wp).cast::<i64>().read_unaligned() };
    vreinterpretq_f32_s64(vdupq_n_s64(bits))
}

/// Activation rows per tile.
const TILE_M: usize = 4;

/// One K block of up to 4 activation rows for `sdot`: group `k` of row `j` duplicated
/// into both halves of `qs[j][k]`; scales as f32.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub(super) struct DupBlockX4 {
    qs: [[[i8; 16]; 4]; TILE_M],
    d: [f32; TILE_M],
    s: [f32; TILE_M],
}

/// The dotprod micro-kernel as a [`RowTile`]: sums `[float32x4_t; 4]`, vector `j` = the 4
/// weight rows against activation row `j`.
pub(super) struct DotTile;

impl DotTile {
    /// [`RowTile::run`] for a tile of exactly `N` rows.
    ///
    /// # Safety
    /// The CPU must support FEAT_DotProd; `N <= 4`.
    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    unsafe fn run_n<F: Format, const N: usize>(
        panel: &[F::Panel],
        acts: &[DupBlockX4],
        sumf: &mut [float32x4_t; TILE_M],
    ) {
        for (p, t) in panel.iter().zip(acts) {
            // SAFETY: the caller guarantees dotprod; the loads of this loop's unsafe blocks
            // read only the panel block `p` and `t.qs[j][k]` (16 bytes, j < N <= 4, k < 4).
            let (w, ws) = unsafe { (F::weights(p), F::row_scales(p)) };
            // `acc[j]`: panel rows 0-1 and 2-3 against activation row `j`.
            let mut acc = [[vdupq_n_s32(0); 2]; N];
            let mut first_half = [vdupq_n_s32(0); N];
            for k in 0..4 {
                for (j, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: see above.
                    unsafe {
                        let a = vld1q_s8(t.qs[j][k].as_ptr());
                        acc[0] = sdot(acc[0], w[2 * k], a);
                        acc[1] = sdot(acc[1], w[2 * k + 1], a);
                    }
                }
                if F::SCALED_HALVES && k == 1 {
                    for (first, acc) in first_half.iter_mut().zip(&mut acc) {
                        // SAFETY: see above.
                        *first = unsafe { F::scale_first_half(vpaddq_s32(acc[0], acc[1]), &ws) };
                        *acc = [vdupq_n_s32(0); 2];
                    }
                }
            }
            // SAFETY: see above.
            unsafe {
                for (j, (acc, first)) in acc.iter().zip(first_half).enumerate() {
                    let xs = F::act_scales(vdupq_n_f32(t.d[j]), vdupq_n_f32(t.s[j]));
                    let mut isum = vpaddq_s32(acc[0], acc[1]);
                    if F::SCALED_HALVES {
                        isum = F::add_second_half(first, isum, &ws);
                    }
                    sumf[j] = F::accumulate(sumf[j], isum, ws, xs);
                }
            }
        }
    }
}

impl<F: Format> RowTile<F> for DotTile {
    type Block = DupBlockX4;
    const ROWS: usize = TILE_M;
    type Sums = [float32x4_t; TILE_M];

    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    unsafe fn pack(rows: &Rows<'_, F::Act>, b: usize) -> DupBlockX4 {
        let mut t = DupBlockX4 {
            qs: [[[0; 16]; 4]; TILE_M],
            d: [0.0; TILE_M],
            s: [0.0; TILE_M],
        };
        for (j, row) in rows.iter().take(TILE_M).enumerate() {
            if let Some(r) = row {
                let x = &r[b];
                let qs = F::act_qs(x);
                for k in 0..4 {
                    t.qs[j][k][..8].copy_from_slice(&qs[8 * k..8 * k + 8]);
                    t.qs[j][k][8..].copy_from_slice(&qs[8 * k..8 * k + 8]);
                }
                // SAFETY: the caller guarantees dotprod (so NEON); reads `x`'s scales.
                [t.d[j], t.s[j]] = unsafe { F::act_scale_values(x) };
            }
        }
        t
    }

    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    unsafe fn zero() -> [float32x4_t; TILE_M] {
        [vdupq_n_f32(0.0); TILE_M]
    }

    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    unsafe fn load(out: &[f32], ldo: usize, i: usize, n: usize, g: usize) -> Self::Sums {
        core::array::from_fn(|j| {
            if j < n {
                // SAFETY: the slice is exactly the 4 floats read.
                unsafe { vld1q_f32(out[out_at(ldo, i + j, g)].as_ptr()) }
            } else {
                vdupq_n_f32(0.0)
            }
        })
    }

    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    unsafe fn run(panel: &[F::Panel], acts: &[DupBlockX4], n: usize, sums: &mut Self::Sums) {
        // SAFETY: the caller guarantees dotprod.
        unsafe {
            match n {
                1 => Self::run_n::<F, 1>(panel, acts, sums),
                2 => Self::run_n::<F, 2>(panel, acts, sums),
                3 => Self::run_n::<F, 3>(panel, acts, sums),
                4 => Self::run_n::<F, 4>(panel, acts, sums),
                _ => unreachable!("tiles have 1..=4 rows"),
            }
        }
    }

    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    unsafe fn store(out: &mut [f32], ldo: usize, i: usize, n: usize, g: usize, sums: &Self::Sums) {
        for (j, v) in sums.iter().enumerate().take(n) {
            let dst = &mut out[out_at(ldo, i + j, g)];
            // SAFETY: `dst` is exactly the 4 floats written.
            unsafe { vst1q_f32(dst.as_mut_ptr(), *v) };
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
    // SAFETY: the caller guarantees dotprod; `DotTile` takes every height 1..=4.
    unsafe { driver::gemm::<F, DotTile>(w, kb, a, m, out, ldo) }
}

/// Q8_0 panels x Q8_0 activations, see [`crate::matmul::contract::GemmQ8_0Fn`].
///
/// # Safety
/// The CPU must support FEAT_DotProd; slices as in the kernel contract.
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn gemm_q8_0x4x8_q8_0_4x4_dotprod(
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

/// Q4_0 panels x Q8_0 activations, see [`crate::matmul::contract::GemmQ4_0Fn`].
///
/// # Safety
/// The CPU must support FEAT_DotProd; slices as in the kernel contract.
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn gemm_q4_0x4x8_q8_0_4x4_dotprod(
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

/// Q4_1 panels x Q8_1 activations, see [`crate::matmul::contract::GemmQ4_1Fn`].
///
/// # Safety
/// The CPU must support FEAT_DotProd; slices as in the kernel contract.
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn gemm_q4_1x4x8_q8_1_4x4_dotprod(
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

/// Q6_K panels x Q8_0 activations, see [`crate::matmul::contract::GemmQ6KFn`].
///
/// # Safety
/// The CPU must support FEAT_DotProd; slices as in the kernel contract.
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn gemm_q6_kx4x8_q8_0_4x4_dotprod(
    w: &[BlockQ6Kx4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: dotprod is guaranteed by the caller.
    unsafe { gemm::<Q6K>(w, kb, a, m, out, ldo) }
}

/// Installs the dotprod kernels (the table is only built for a tier the CPU supports):
/// tiles of 4 weight rows x 4 activation rows, GEMV 4 weight rows.
pub(crate) fn install(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0_4x4_dotprod, 4 x 4, gemv 4);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0_4x4_dotprod, 4 x 4, gemv 4);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1_4x4_dotprod, 4 x 4, gemv 4);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0_4x4_dotprod, 4 x 4, gemv 4);
}
