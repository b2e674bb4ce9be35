//! The NEON tier's tile (ARMv8.0, no `sdot`): exact int32 sums of one panel block (4 weight
//! rows x 32 values) with int8 activation blocks, by `smull`/`smull2` to int16 and `sadalp`
//! into int32, and the loop nest that walks a panel range with it; every format's
//! arithmetic comes from [`Format`] (shared with the dotprod and i8mm tiles), and the float
//! stage per block is the scalar tier's expression lane for lane, so the outputs are
//! bit-identical to the scalar reference. Entries in [`super::kernels`].
//!
//! This tier keeps a loop nest of its own instead of [`super::driver`]'s: it reads the
//! activation blocks where they are (no repacking; its operand loads need no duplicated
//! groups, see [`ActGroups`]), and its GEMV tile spans two panels.
//!
//! It never sums two products in int16: `(-128) * (-128)` twice is 32768, one more than
//! int16 holds. Each int16 lane of an `smull` result is one product; `sadalp` adds adjacent
//! pairs of them straight into int32.
//!
//! Tiles (weight rows x activation rows), chosen with llvm-mca on the ARMv8.0 cores this
//! tier exists for (Cortex-A53 in order; A57/A72 out of order, one scheduling model), in
//! cycles per "unit" = 4 weight rows x 1 activation row x one 32-value block:
//! - GEMV (`m == 1`): 8 x 1, two panel groups per activation block, so each activation
//!   load and scale conversion serves 8 rows and the two panels' dependency chains
//!   interleave (the in-order A53 needs that). Q8_0: 76.5 (A53) / 26.1 (A57) cycles per
//!   unit (Q4_0 82.5 / 29.1, Q4_1 82.5 / 32.4); 4 x 1 takes 112 / 33.2. An odd last group
//!   runs 4 x 1.
//! - GEMM (`m > 1`): 4 x 4, one panel block expanded once into 8 registers and reused for
//!   4 activation rows; tails of 1..=3 activation rows run 4 x 1..=3. Q8_0: 69 / 26.1 per
//!   unit (Q4_0 77.5 / 26.3, Q4_1 79 / 30), as good as 4 x 3 or better on both cores and
//!   better than 4 x 2. 8 x 4 would need 16 weight registers plus 8 sums and spill.
//!
//! Per activation row and 4-row panel block the inner work is 16 widening multiplies
//! (`smull`, and `smull2` where the activation group sits in a high half, see
//! [`ActGroups`]), 4 `saddlp` + 12 `sadalp`, 3 `addp` and the format's float stage: 128
//! int8 MACs in about 40 vector instructions, i.e. 4.9 MACs per cycle on an A57/A72 and
//! 1.9 on an A53 in the Q8_0 4 x 4 tile (one widening multiply and one pairwise add per 8
//! products is the ARMv8.0 floor without `sdot`).
//!
//! Nothing here allocates; all slice accesses are bounds-checked (the checks fold away
//! against the fixed block sizes) except the raw vector loads and stores, whose extent is
//! argued at each `unsafe` block.

use crate::unroll::unroll;
use core::arch::aarch64::*;

use super::format::{ActBlock, Format};
use crate::formats::f16_to_f32;

/// One panel block widened to plain int8 values: `w[2k]` holds rows 0-1 and `w[2k + 1]`
/// rows 2-3 of values `8k..8k + 8` (row r in the low half, row r + 1 in the high half).
pub(crate) type Expanded = [int8x16_t; 8];

/// An activation block (groups `g0..g3` of 8 bytes) as the overlapping 16-byte loads
/// `l[k] = [g_k | g_k+1]` (k = 0, 1, 2) plus `g3` alone: group k is the low half of
/// `l[k]` (or `g3`) for `smull`, and the high half of `l[k - 1]` for `smull2` (k >= 1).
///
/// Duplicated groups (`[g | g]`, one `ld1r` each) would look simpler, but LLVM sees that
/// such a high half equals the low half and rewrites every `smull2` into `smull` of the
/// weights' high half, paying one `ext` per weight vector and block: 16 extra vector
/// instructions per block in the 8 x 1 GEMV tile (where nothing amortizes them) and 8
/// more live registers in GEMM tiles. Real overlapping loads cannot be folded that way;
/// only `g0` has no high-half copy, so group 0 still takes the weights' high halves
/// (2 `ext` per panel block, shared by all activation rows).
#[derive(Clone, Copy)]
pub(super) struct ActGroups {
    l: [int8x16_t; 3],
    g3: int8x8_t,
}

/// Loads 16 bytes of `s` from `at`.
#[target_feature(enable = "neon")]
#[inline]
pub(super) fn load_s8x16(s: &[i8], at: usize) -> int8x16_t {
    let s = &s[at..at + 16];
    // SAFETY: `s` has exactly 16 elements (the range index above checked it); `ld1` has no
    // alignment requirement.
    unsafe { vld1q_s8(s.as_ptr()) }
}

/// Stores `v` to `out[at..at + 4]`.
#[target_feature(enable = "neon")]
#[inline]
fn store_f32x4(out: &mut [f32], at: usize, v: float32x4_t) {
    let dst = &mut out[at..at + 4];
    // SAFETY: `dst` is a unique borrow of exactly 4 elements (checked by the range index).
    unsafe { vst1q_f32(dst.as_mut_ptr(), v) }
}

/// Loads 4 u16 of `s` from `at`.
#[target_feature(enable = "neon")]
#[inline]
fn load_u16x4(s: &[u16], at: usize) -> uint16x4_t {
    let s = &s[at..at + 4];
    // SAFETY: `s` has exactly 4 elements (checked by the range index).
    unsafe { vld1_u16(s.as_ptr()) }
}

/// The lanes of `v`.
#[target_feature(enable = "neon")]
#[inline]
fn f32_lanes(v: float32x4_t) -> [f32; 4] {
    let mut out = [0.0f32; 4];
    // SAFETY: `out` is a unique borrow of exactly 4 f32.
    unsafe { vst1q_f32(out.as_mut_ptr(), v) };
    out
}

/// The f32 values of 4 f16 (bits), identical to [`f16_to_f32`] on every input, NaN
/// payloads included, in 9 vector instructions instead of about 20 scalar ones (with
/// branches) per value: a tile converts all its activation scales at once.
///
/// `(h & 0x7fff) << 13` puts the f16 exponent field e and mantissa m where an f32 keeps
/// them, which is the f32 `2^(e - 127) * 1.m` (e > 0) or `m * 2^-136` (e = 0, an f32
/// subnormal). Times 2^112, exactly (a power of two, no overflow or underflow, and
/// subnormal inputs are kept since Linux runs with FPCR.FZ = 0), that is the f16 value
/// `2^(e - 15) * 1.m` or `m * 2^-24`. e = 31 (infinity, NaN) instead gets the all-ones f32
/// exponent with the payload moved up unchanged; the sign is copied last.
#[target_feature(enable = "neon")]
#[inline]
pub(super) fn f16x4_to_f32(h: uint16x4_t) -> float32x4_t {
    let mag = vshll_n_u16::<13>(vand_u16(h, vdup_n_u16(0x7fff)));
    let two_112 = vdupq_n_f32(f32::from_bits(0x7780_0000));
    let finite = vreinterpretq_u32_f32(vmulq_f32(vreinterpretq_f32_u32(mag), two_112));
    let special = vorrq_u32(mag, vdupq_n_u32(0x7f80_0000));
    let is_special = vcgeq_u32(mag, vdupq_n_u32(0x7c00 << 13));
    let abs = vbslq_u32(is_special, special, finite);
    let sign = vandq_u32(vshll_n_u16::<16>(h), vdupq_n_u32(0x8000_0000));
    vreinterpretq_f32_u32(vorrq_u32(abs, sign))
}

/// The decoded f16 scales of block `b` of every activation row, `[i] = [d, s]`, all
/// converted together with [`f16x4_to_f32`] (lanes `d` of rows `0..N`, then `s` of rows
/// `0..N`), which shortened the 4 x 4 GEMM loop from 314 to 251 instructions. (A single
/// scale converts in scalar, in [`tile`].)
#[target_feature(enable = "neon")]
#[inline]
fn act_scales<F: Format, const N: usize>(acts: &[&[F::Act]; N], b: usize) -> [[f32; 2]; N] {
    const { assert!(N <= 4) };
    let mut bits = [0u16; 8];
    for (i, a) in acts.iter().enumerate() {
        let f = a[b].scale_bits();
        bits[i] = f[0];
        if <F::Act as ActBlock>::SCALES > 1 {
            bits[N + i] = f[1];
        }
    }
    let mut f = [0.0f32; 8];
    f[..4].copy_from_slice(&f32_lanes(f16x4_to_f32(load_u16x4(&bits, 0))));
    if <F::Act as ActBlock>::SCALES * N > 4 {
        f[4..].copy_from_slice(&f32_lanes(f16x4_to_f32(load_u16x4(&bits, 4))));
    }
    core::array::from_fn(|i| [f[i], f[N + i]])
}

/// Loads an activation block's groups (see [`ActGroups`]).
#[target_feature(enable = "neon")]
#[inline]
pub(super) fn act_groups(qs: &[i8; 32]) -> ActGroups {
    let g3 = &qs[24..32];
    ActGroups {
        l: core::array::from_fn(|k| load_s8x16(qs, 8 * k)),
        // SAFETY: `g3` has exactly 8 elements (checked by the range index); `vld1_s8`
        // reads 8 bytes with no alignment requirement.
        g3: unsafe { vld1_s8(g3.as_ptr()) },
    }
}

/// The exact int32 sum of each of the panel block's 4 rows with the activation block:
/// lane r = sum over 32 values of `w[r][j] * x[j]`.
#[target_feature(enable = "neon")]
#[inline]
pub(super) fn block_dot(w: &Expanded, x: &ActGroups) -> int32x4_t {
    group_dot::<0, 4>(w, x)
}

/// As [`block_dot`] over the groups `K0..K0 + KN` of 8 values only (Q6_K sums its two
/// sub-blocks of 16, groups 0-1 and 2-3, apart).
///
/// Row r's products accumulate in their own int32x4 (`acc[r]`); the first group starts
/// them with `saddlp` (no zeroing needed), the others add with `sadalp`. The 4
/// accumulators then reduce pairwise with 3 `addp` into one vector of 4 row sums.
#[target_feature(enable = "neon")]
#[inline]
pub(super) fn group_dot<const K0: usize, const KN: usize>(
    w: &Expanded,
    x: &ActGroups,
) -> int32x4_t {
    const { assert!(KN >= 1 && K0 + KN <= 4) };
    // Row r's 8 products of group k: low/high half of w[2k] (rows 0, 1), of w[2k+1] (2, 3).
    let prods = |k: usize| -> [int16x8_t; 4] {
        let lo = if k < 3 { vget_low_s8(x.l[k]) } else { x.g3 };
        let hi = |wv: int8x16_t| {
            if k == 0 {
                vmull_s8(vget_high_s8(wv), lo)
            } else {
                vmull_high_s8(wv, x.l[k - 1])
            }
        };
        [
            vmull_s8(vget_low_s8(w[2 * k]), lo),
            hi(w[2 * k]),
            vmull_s8(vget_low_s8(w[2 * k + 1]), lo),
            hi(w[2 * k + 1]),
        ]
    };
    let p = prods(K0);
    let mut acc: [int32x4_t; 4] = core::array::from_fn(|r| vpaddlq_s16(p[r]));
    for k in K0 + 1..K0 + KN {
        for (a, p) in acc.iter_mut().zip(prods(k)) {
            *a = vpadalq_s16(*a, p);
        }
    }
    reduce_rows(acc)
}

/// `[sum(acc[0]), sum(acc[1]), sum(acc[2]), sum(acc[3])]` with 3 pairwise adds.
#[target_feature(enable = "neon")]
#[inline]
pub(super) fn reduce_rows(acc: [int32x4_t; 4]) -> int32x4_t {
    vpaddq_s32(vpaddq_s32(acc[0], acc[1]), vpaddq_s32(acc[2], acc[3]))
}

/// The exact int32 row sums of the expanded block with the activation block: the plain
/// [`block_dot`], or for a format whose two halves have scales of their own (Q6_K,
/// [`Format::SCALED_HALVES`]) the sums of groups 0-1 and 2-3 scaled apart, in int32.
///
/// # Safety
/// The CPU must support NEON (always true on aarch64 Linux).
#[target_feature(enable = "neon")]
#[inline]
unsafe fn row_sums<F: Format>(w: &Expanded, x: &ActGroups, ws: &F::WScales) -> int32x4_t {
    if F::SCALED_HALVES {
        // SAFETY: NEON is guaranteed by the caller.
        unsafe {
            let first = F::scale_first_half(group_dot::<0, 2>(w, x), ws);
            F::add_second_half(first, group_dot::<2, 2>(w, x), ws)
        }
    } else {
        block_dot(w, x)
    }
}

/// The outputs of `GP` panel groups (`panels[j]`, `kb` blocks each, output columns
/// `4 * (g0 + j)..+4`) with `N` activation rows (`acts[i]`, output row `i0 + i`).
///
/// Per K block: expand the `GP` panel blocks once, then for each activation row load its
/// groups and scales once and run one `block_dot` per panel. The only loop-carried state
/// is the `GP * N` float sums; int32 sums restart every block (the scales change).
#[target_feature(enable = "neon")]
#[inline]
fn tile<F: Format, const GP: usize, const N: usize>(
    panels: [&[F::Panel]; GP],
    acts: [&[F::Act]; N],
    kb: usize,
    out: &mut [f32],
    ldo: usize,
    g0: usize,
    i0: usize,
) {
    // Lets LLVM drop the per-block bounds checks below.
    for p in panels {
        assert_eq!(p.len(), kb);
    }
    for a in acts {
        assert_eq!(a.len(), kb);
    }
    let mut sumf = [[vdupq_n_f32(0.0); GP]; N];
    for b in 0..kb {
        // SAFETY: this function is compiled with `neon`, so the CPU has it, which is all
        // the `Format` vector methods require (here and in the blocks below).
        let w: [Expanded; GP] = core::array::from_fn(|j| unsafe { F::weights(&panels[j][b]) });
        // SAFETY: as above.
        let ws: [F::WScales; GP] =
            core::array::from_fn(|j| unsafe { F::row_scales(&panels[j][b]) });
        let xs: [[f32; 2]; N] = if N * <F::Act as ActBlock>::SCALES == 1 {
            // A single scale (GEMV on Q8_0 activations) converts in scalar: its ~20 integer
            // instructions issue beside the NEON work, the bottleneck (the vector
            // conversion made the 8 x 1 loop ~7% slower on the A53 in llvm-mca; for Q4_1's
            // two scales it wins). Written here rather than in `act_scales`, which LLVM then
            // declined to inline (a call in the loop, every vector register spilled).
            [[f16_to_f32(acts[0][b].scale_bits()[0]), 0.0]; N]
        } else {
            act_scales::<F, N>(&acts, b)
        };
        unroll!(N, |i| {
            let xg = act_groups(acts[i][b].qs());
            let [da, sa] = xs[i];
            let xsv = F::act_scales(vdupq_n_f32(da), vdupq_n_f32(sa));
            unroll!(GP, |j| {
                // SAFETY: as above.
                unsafe {
                    let isum = row_sums::<F>(&w[j], &xg, &ws[j]);
                    sumf[i][j] = F::accumulate(sumf[i][j], isum, ws[j], xsv);
                }
            });
        });
    }
    unroll!(N, |i| {
        unroll!(GP, |j| {
            store_f32x4(out, (i0 + i) * ldo + 4 * (g0 + j), sumf[i][j]);
        });
    });
}

/// The contract of [`crate::matmul::contract::GemmQ8_0Fn`] for any panel format:
/// `out[i * ldo + 4g + r]` = row `4g + r` of `w` (`w.len() / kb` groups) dot activation row
/// `i` (`a[i*kb..]`).
///
/// # Safety
/// The CPU must support NEON (every aarch64 CPU that runs Linux or Android does). Slices
/// shorter than the contract demands panic (bounds checks), never read or write out of
/// bounds. `kb == 0` writes nothing ([`crate::matmul::Kernels::gemm`] zero-fills that
/// case without calling a kernel).
#[target_feature(enable = "neon")]
#[inline]
pub(crate) unsafe fn gemm<F: Format>(
    w: &[F::Panel],
    kb: usize,
    a: &[F::Act],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    if kb == 0 || m == 0 {
        return;
    }
    let groups = w.len() / kb;
    let panel = |g: usize| &w[g * kb..(g + 1) * kb];
    let act = |i: usize| &a[i * kb..(i + 1) * kb];
    if m == 1 {
        // GEMV: 8 weight rows per pass share the activation loads and scale conversions.
        let mut g = 0;
        while g + 2 <= groups {
            tile::<F, 2, 1>([panel(g), panel(g + 1)], [act(0)], kb, out, ldo, g, 0);
            g += 2;
        }
        if g < groups {
            tile::<F, 1, 1>([panel(g)], [act(0)], kb, out, ldo, g, 0);
        }
        return;
    }
    // GEMM: one panel group at a time (its kb blocks stay in L1 across the activation
    // tiles), 4 activation rows per pass, then the 1..=3 row tail.
    for g in 0..groups {
        let mut i = 0;
        while i + 4 <= m {
            let acts = [act(i), act(i + 1), act(i + 2), act(i + 3)];
            tile::<F, 1, 4>([panel(g)], acts, kb, out, ldo, g, i);
            i += 4;
        }
        match m - i {
            3 => tile::<F, 1, 3>(
                [panel(g)],
                [act(i), act(i + 1), act(i + 2)],
                kb,
                out,
                ldo,
                g,
                i,
            ),
            2 => tile::<F, 1, 2>([panel(g)], [act(i), act(i + 1)], kb, out, ldo, g, i),
            1 => tile::<F, 1, 1>([panel(g)], [act(i)], kb, out, ldo, g, i),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64, for reproducible data without proptest's shrinking (not needed here).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    #[target_feature(enable = "neon")]
    fn lanes(v: int32x4_t) -> [i32; 4] {
        let mut out = [0i32; 4];
        // SAFETY: `out` holds exactly 4 i32.
        unsafe { vst1q_s32(out.as_mut_ptr(), v) };
        out
    }

    /// `block_dot` on raw x4x8 quants (`w` as stored: group k rows 0-1, then rows 2-3)
    /// against the plain scalar sum, lane by lane.
    #[target_feature(enable = "neon")]
    fn check_block_dot(w: &[i8; 128], x: &[i8; 32]) {
        let ev: Expanded = core::array::from_fn(|v| load_s8x16(w, 16 * v));
        let got = lanes(block_dot(&ev, &act_groups(x)));
        for (r, &g) in got.iter().enumerate() {
            let want: i32 = (0..32)
                .map(|j| {
                    let (k, jj) = (j / 8, j % 8);
                    i32::from(w[(4 * k + r) * 8 + jj]) * i32::from(x[j])
                })
                .sum();
            assert_eq!(g, want, "row lane {r}");
        }
    }

    #[test]
    fn block_dot_is_exact_per_row_lane() {
        // SAFETY: NEON is part of every aarch64 Linux/Android target's baseline.
        unsafe { block_dot_cases() }
    }

    #[target_feature(enable = "neon")]
    fn block_dot_cases() {
        let mut rng = Rng(7);
        for _ in 0..500 {
            let w: [i8; 128] = core::array::from_fn(|_| rng.next() as i8);
            let x: [i8; 32] = core::array::from_fn(|_| rng.next() as i8);
            check_block_dot(&w, &x);
        }
        // Extremes: every product (-128)(-128) = 16384 would overflow int16 in pairs.
        for (wv, xv) in [(-128i8, -128i8), (-128, 127), (127, 127), (127, -128)] {
            check_block_dot(&[wv; 128], &[xv; 32]);
        }
        // Each row lane different, to catch a lane permutation.
        let mut w = [0i8; 128];
        for k in 0..4 {
            for r in 0..4 {
                w[(4 * k + r) * 8..(4 * k + r + 1) * 8].fill(r as i8 + 1);
            }
        }
        let x: [i8; 32] = core::array::from_fn(|j| j as i8 - 16);
        check_block_dot(&w, &x);
    }

    #[test]
    fn f16x4_to_f32_matches_the_crate_on_all_65536_patterns() {
        // SAFETY: NEON is part of every aarch64 Linux/Android target's baseline.
        unsafe { f16_cases() }
    }

    #[target_feature(enable = "neon")]
    fn f16_cases() {
        for base in (0..=u16::MAX).step_by(4) {
            let h = [base, base + 1, base + 2, base + 3];
            let got = f32_lanes(f16x4_to_f32(load_u16x4(&h, 0)));
            for (g, &h) in got.iter().zip(&h) {
                let want = f16_to_f32(h);
                assert_eq!(g.to_bits(), want.to_bits(), "f16 bits {h:#06x}");
            }
        }
    }

    #[test]
    fn reduce_rows_sums_each_accumulator_into_its_lane() {
        // SAFETY: NEON is part of every aarch64 Linux/Android target's baseline.
        unsafe { reduce_rows_cases() }
    }

    #[target_feature(enable = "neon")]
    fn reduce_rows_cases() {
        let mut rng = Rng(11);
        for _ in 0..100 {
            let v: [[i32; 4]; 4] = core::array::from_fn(|_| {
                core::array::from_fn(|_| (rng.next() as i32) >> 4) // sums cannot overflow
            });
            // SAFETY: each `v[r]` holds exactly 4 i32.
            let acc = v.map(|a| unsafe { vld1q_s32(a.as_ptr()) });
            let want = v.map(|a| a.iter().sum::<i32>());
            assert_eq!(lanes(reduce_rows(acc)), want);
        }
    }
}
