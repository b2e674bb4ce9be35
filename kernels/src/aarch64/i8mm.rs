//! The i8mm tier's tile (ARMv8.6 FEAT_I8MM): x4x8 weight panels times int8 activation rows
//! with `smmla`, bit-identical with the scalar tier (`matmul/scalar.rs`).
//!
//! Micro-kernels `gemm_*x4x8_*x4_4x8_i8mm` (entries in [`super::kernels`]), tile 4 weight
//! rows (one panel) x 8 activation rows:
//! - Activations are repacked per tile of 8 rows and chunk of K blocks into a stack buffer
//!   ([`PairBlockX8`], "q8_0x4", through the loop nest of [`super::driver`]): the x4x8
//!   layout of the weights, so each 16-byte vector is the 2x8 matrix
//!   `[row i: group k][row i+1: group k]`, plus the activation scales converted to f32 in
//!   the lane pattern of the results. Every panel of the call reuses the buffer, so the
//!   inner loop is only loads and `smmla` (no lane inserts, no scale conversions).
//! - `smmla acc, act pair, weight pair` leaves the 2x2 block
//!   `[(a_i, w_r), (a_i, w_r+1), (a_i+1, w_r), (a_i+1, w_r+1)]` of exact int32 block sums,
//!   with no horizontal add; per K block of 32 and tile: 32 `smmla` (4 groups x 4 act
//!   pairs x 2 weight pairs), weights unpacked once for the 8 activation rows. 8 rows
//!   rather than 4 halve the per-output share of the weight loads, unpacking and scale
//!   patterns, and the number of passes over the weights.
//! - The float stage is the scalar tier's, lane-wise, no fused multiply-add (shared with
//!   the dotprod tier through [`Format::accumulate`]); weight scales come in the pattern
//!   `[d_r, d_r+1, d_r, d_r+1]` straight from the panel (`ld1r {v.2d}`).
//! - Tails: `n` rows run `ceil(n / 2)` activation pairs, an odd `n` with a zero last row
//!   (its results are dropped); 1 row (the GEMV of decode, m == 1, or the last row of
//!   m = 8t + 1)
//!   the dotprod tile, whose `sdot`s use all 16 multiplies where a zero-padded `smmla`
//!   would waste half of its 32, with a float stage for 4 outputs instead of 8 lanes.
//!
//! Nothing here allocates (the buffer is a fixed stack array); all loads stay inside the
//! slices passed in.

use core::arch::aarch64::{
    float32x4_t, vdupq_n_f32, vdupq_n_s32, vld1q_f32, vld1q_s8, vreinterpretq_f32_f64,
    vreinterpretq_f64_f32, vst1q_f32, vzip1q_f64, vzip2q_f64,
};

use super::asm::smmla;
use super::driver::{out_at, RowTile, Rows};
use super::format::{ActBlock, Format};

/// Activation rows per tile.
pub(crate) const TILE_M: usize = 8;

/// Activation row pairs per tile.
const PAIRS: usize = TILE_M / 2;

/// One K block of 8 activation rows, repacked for `smmla`.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
pub(crate) struct PairBlockX8 {
    /// The vector of group `k` (values `8k..8k + 8`) and rows `2p, 2p + 1` at byte
    /// `16 * (PAIRS * k + p)`: `[row 2p: 8 bytes][row 2p + 1: 8 bytes]`.
    qs: [i8; 32 * TILE_M],
    /// Per row pair `p`: `[d_2p, d_2p, d_2p+1, d_2p+1]` (f32 activation scales).
    d: [[f32; 4]; PAIRS],
    /// The same pattern of the Q8_1 sums `s` (zero for Q8_0).
    s: [[f32; 4]; PAIRS],
}

/// The `smmla` micro-kernel as a [`RowTile`] for tiles of 2..=8 rows: sums
/// `[[float32x4_t; 2]; PAIRS]`, `[ap][wp]` = the 2x2 block of activation pair `ap` and
/// weight pair `wp`.
pub(crate) struct MmlaTile;

impl MmlaTile {
    /// [`RowTile::run`] for `AP` activation row pairs.
    ///
    /// # Safety
    /// The CPU must support FEAT_I8MM (and NEON, dotprod, implied on every i8mm core and
    /// checked with the tier); `AP <= PAIRS`.
    #[inline]
    #[target_feature(enable = "neon,dotprod,i8mm")]
    unsafe fn run_pairs<F: Format, const AP: usize>(
        panel: &[F::Panel],
        acts: &[PairBlockX8],
        sumf: &mut [[float32x4_t; 2]; PAIRS],
    ) {
        for (p, t) in panel.iter().zip(acts) {
            // SAFETY: the caller guarantees i8mm; the loads of this loop's unsafe blocks read
            // only the panel block `p` and the repacked block `t` (16 bytes at
            // `16 * (PAIRS * k + ap)` with `k < 4`, `ap < PAIRS`: inside `t.qs`).
            let w = unsafe { F::weights(p) };
            // SAFETY: as above (`wp < 2`).
            let ws = unsafe { [F::pair_scales(p, 0), F::pair_scales(p, 1)] };
            // `acc[ap][wp]`: the 2x2 block of activation pair `ap` and weight pair `wp`.
            let mut acc = [[vdupq_n_s32(0); 2]; AP];
            let mut first_half = [[vdupq_n_s32(0); 2]; AP];
            for k in 0..4 {
                for (ap, acc) in acc.iter_mut().enumerate() {
                    // SAFETY: see above.
                    unsafe {
                        let a = vld1q_s8(t.qs.as_ptr().add(16 * (PAIRS * k + ap)));
                        acc[0] = smmla(acc[0], a, w[2 * k]);
                        acc[1] = smmla(acc[1], a, w[2 * k + 1]);
                    }
                }
                if F::SCALED_HALVES && k == 1 {
                    for (first, acc) in first_half.iter_mut().zip(&mut acc) {
                        for wp in 0..2 {
                            // SAFETY: see above.
                            first[wp] = unsafe { F::scale_first_half(acc[wp], &ws[wp]) };
                            acc[wp] = vdupq_n_s32(0);
                        }
                    }
                }
            }
            // SAFETY: see above.
            unsafe {
                for (ap, (acc, first)) in acc.iter().zip(first_half).enumerate() {
                    let xs =
                        F::act_scales(vld1q_f32(t.d[ap].as_ptr()), vld1q_f32(t.s[ap].as_ptr()));
                    for wp in 0..2 {
                        let mut isum = acc[wp];
                        if F::SCALED_HALVES {
                            isum = F::add_second_half(first[wp], isum, &ws[wp]);
                        }
                        sumf[ap][wp] = F::accumulate(sumf[ap][wp], isum, ws[wp], xs);
                    }
                }
            }
        }
    }
}

impl<F: Format> RowTile<F> for MmlaTile {
    const ROWS: usize = TILE_M;
    type Block = PairBlockX8;
    type Sums = [[float32x4_t; 2]; PAIRS];

    #[inline]
    #[target_feature(enable = "neon,dotprod,i8mm")]
    unsafe fn pack(rows: &Rows<'_, F::Act>, b: usize) -> PairBlockX8 {
        let mut t = PairBlockX8 {
            qs: [0; 32 * TILE_M],
            d: [[0.0; 4]; PAIRS],
            s: [[0.0; 4]; PAIRS],
        };
        for (i, row) in rows.iter().take(TILE_M).enumerate() {
            let (p, half) = (i / 2, i % 2);
            if let Some(r) = row {
                let x = &r[b];
                let qs = x.qs();
                for k in 0..4 {
                    let at = 16 * (PAIRS * k + p) + 8 * half;
                    t.qs[at..at + 8].copy_from_slice(&qs[8 * k..8 * k + 8]);
                }
                // SAFETY: the caller guarantees i8mm (so NEON); reads `x`'s scales.
                let [d, s] = unsafe { x.scale_values() };
                t.d[p][2 * half..2 * half + 2].fill(d);
                t.s[p][2 * half..2 * half + 2].fill(s);
            }
        }
        t
    }

    #[inline]
    #[target_feature(enable = "neon,dotprod,i8mm")]
    unsafe fn zero() -> Self::Sums {
        [[vdupq_n_f32(0.0); 2]; PAIRS]
    }

    /// Rows `i + 2ap, i + 2ap + 1` become `[r0.lo, r1.lo]`, `[r0.hi, r1.hi]` (zip of the
    /// 64-bit halves); rows past `n` read as zeros.
    #[inline]
    #[target_feature(enable = "neon,dotprod,i8mm")]
    unsafe fn load(out: &[f32], ldo: usize, i: usize, n: usize, g: usize) -> Self::Sums {
        let row = |j: usize| {
            if j < n {
                // SAFETY: the slice is exactly the 4 floats read.
                vreinterpretq_f64_f32(unsafe { vld1q_f32(out[out_at(ldo, i + j, g)].as_ptr()) })
            } else {
                vreinterpretq_f64_f32(vdupq_n_f32(0.0))
            }
        };
        core::array::from_fn(|ap| {
            let (r0, r1) = (row(2 * ap), row(2 * ap + 1));
            [
                vreinterpretq_f32_f64(vzip1q_f64(r0, r1)),
                vreinterpretq_f32_f64(vzip2q_f64(r0, r1)),
            ]
        })
    }

    #[inline]
    #[target_feature(enable = "neon,dotprod,i8mm")]
    unsafe fn run(panel: &[F::Panel], acts: &[PairBlockX8], n: usize, sums: &mut Self::Sums) {
        // SAFETY: the caller guarantees i8mm.
        unsafe {
            match n {
                2 => Self::run_pairs::<F, 1>(panel, acts, sums),
                3 | 4 => Self::run_pairs::<F, 2>(panel, acts, sums),
                5 | 6 => Self::run_pairs::<F, 3>(panel, acts, sums),
                7 | 8 => Self::run_pairs::<F, 4>(panel, acts, sums),
                _ => unreachable!("smmla tiles have 2..=8 rows"),
            }
        }
    }

    /// The inverse of [`RowTile::load`]; rows past `n` are dropped.
    #[inline]
    #[target_feature(enable = "neon,dotprod,i8mm")]
    unsafe fn store(out: &mut [f32], ldo: usize, i: usize, n: usize, g: usize, sums: &Self::Sums) {
        for (ap, [s0, s1]) in sums.iter().enumerate() {
            let (s0, s1) = (vreinterpretq_f64_f32(*s0), vreinterpretq_f64_f32(*s1));
            for (h, r) in [vzip1q_f64(s0, s1), vzip2q_f64(s0, s1)]
                .into_iter()
                .enumerate()
            {
                let j = 2 * ap + h;
                if j < n {
                    let dst = &mut out[out_at(ldo, i + j, g)];
                    // SAFETY: `dst` is exactly the 4 floats written.
                    unsafe { vst1q_f32(dst.as_mut_ptr(), vreinterpretq_f32_f64(r)) };
                }
            }
        }
    }
}
