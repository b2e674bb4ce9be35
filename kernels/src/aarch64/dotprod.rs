//! The dotprod tier's tile (ARMv8.2 FEAT_DotProd): x4x8 weight panels times int8 activation
//! rows with `sdot`, bit-identical with the scalar tier (`matmul/scalar.rs`).
//!
//! Micro-kernels `gemm_*x4x8_*_4x4_dotprod` (entries in [`super::kernels`], loop nest in
//! [`super::driver`]), tile 4 weight rows (one panel) x `n` activation rows (`n` = 4,
//! tails 1..=3; `n` = 1 is the GEMV of decode). Per K block of 32:
//! - activations were repacked once per call ([`super::driver`]): each 8-byte group duplicated
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

use core::arch::aarch64::{
    float32x4_t, vdupq_n_f32, vdupq_n_s32, vld1q_f32, vld1q_s8, vpaddq_s32, vst1q_f32,
};

use super::asm::sdot;
use super::driver::{out_at, RowTile, Rows};
use super::format::{ActBlock, Format};

/// Activation rows per tile.
const TILE_M: usize = 4;

/// One K block of up to 4 activation rows for `sdot`: group `k` of row `j` duplicated
/// into both halves of `qs[j][k]`; scales as f32.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub(crate) struct DupBlockX4 {
    qs: [[[i8; 16]; 4]; TILE_M],
    d: [f32; TILE_M],
    s: [f32; TILE_M],
}

/// The dotprod micro-kernel as a [`RowTile`]: sums `[float32x4_t; 4]`, vector `j` = the 4
/// weight rows against activation row `j`.
pub(crate) struct DotTile;

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
                let qs = x.qs();
                for k in 0..4 {
                    t.qs[j][k][..8].copy_from_slice(&qs[8 * k..8 * k + 8]);
                    t.qs[j][k][8..].copy_from_slice(&qs[8 * k..8 * k + 8]);
                }
                // SAFETY: the caller guarantees dotprod (so NEON); reads `x`'s scales.
                [t.d[j], t.s[j]] = unsafe { x.scale_values() };
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
