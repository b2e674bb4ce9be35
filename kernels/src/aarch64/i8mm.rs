//! The i8mm tier (ARMv8.6 FEAT_I8MM): x4x8 weight panels times int8 activation rows with
//! `smmla`, bit-identical with the scalar tier ([`crate::matmul::scalar`]).
//!
//! Micro-kernel `gemm_*x4x8_*x4_i8mm`, tile 4 weight rows (one panel) x 4 activation rows:
//! - Activations are repacked per tile of 4 rows and chunk of up to [`CHUNK`] K blocks
//!   into a stack buffer ([`ActBlockX4`], "q8_0x4"): the x4x8 layout of the weights, so
//!   each 16-byte vector is the 2x8 matrix `[row i: group k][row i+1: group k]`, plus the
//!   activation scales already converted to f32 and spread in the lane pattern of the
//!   results. The buffer is reused by every panel of the call, so the repacking costs
//!   one pass over the activations, and the inner loop is only loads and `smmla`.
//! - `smmla acc, act pair, weight pair` leaves the 2x2 block
//!   `[(a_i, w_r), (a_i, w_r+1), (a_i+1, w_r), (a_i+1, w_r+1)]` of exact int32 block sums,
//!   with no horizontal add; per K block of 32 and tile: 16 `smmla` (4 groups x 2 act
//!   pairs x 2 weight pairs), weights unpacked once for the 4 activation rows.
//! - The float stage is the scalar tier's, lane-wise, no fused multiply-add (shared with
//!   the dotprod tier through [`Format::accumulate`]); weight scales come in the pattern
//!   `[d_r, d_r+1, d_r, d_r+1]` straight from the panel (`ld1r {v.2d}`).
//! - Tails: 3 rows run a 4-row tile whose 4th row is zeros (its results are dropped); 2
//!   rows a 4x2 tile; 1 row (and the GEMV of decode, m == 1) the dotprod tile, which uses
//!   all 16 multiplies of each `sdot` where a zero-padded `smmla` would waste half.
//! - K longer than a chunk: the float sums of a chunk go to `out` and are reloaded for the
//!   next one (a store and load of the same f32 values: still bit-exact).
//!
//! Nothing here allocates (the buffer is a fixed stack array); all loads stay inside the
//! slices passed in.

use core::arch::aarch64::{
    float32x4_t, vdupq_n_f32, vdupq_n_s32, vdupq_n_u64, vld1q_f32, vld1q_s8, vreinterpretq_f32_f64,
    vreinterpretq_f32_u64, vreinterpretq_f64_f32, vst1q_f32, vzip1q_f64, vzip2q_f64,
};

use super::asm::{load_f16, smmla};
use super::dotprod::{self, Affine, Format, Q4_0, Q4_1, Q8_0};
use crate::formats::{BlockQ8_0, BlockQ8_1};
use crate::matmul::Kernel;
use crate::pack::{BlockQ4_0x4, BlockQ4_1x4, BlockQ8_0x4, PANEL_ROWS};
use crate::tiers::Table;

/// K blocks per repacked activation chunk (64 x 192 bytes = 12 KiB of stack).
const CHUNK: usize = 64;

/// Activation rows per tile.
const TILE_M: usize = 4;

/// One K block of 4 activation rows, repacked for `smmla`.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct ActBlockX4 {
    /// The vector of group `k` (values `8k..8k + 8`) and rows `2p, 2p + 1` at byte
    /// `16 * (2k + p)`: `[row 2p: 8 bytes][row 2p + 1: 8 bytes]`.
    qs: [i8; 128],
    /// Per row pair `p`: `[d_2p, d_2p, d_2p+1, d_2p+1]` (f32 activation scales).
    d: [[f32; 4]; 2],
    /// The same pattern of the Q8_1 sums `s` (zero for Q8_0).
    s: [[f32; 4]; 2],
}

const ZERO_BLOCK: ActBlockX4 = ActBlockX4 {
    qs: [0; 128],
    d: [[0.0; 4]; 2],
    s: [[0.0; 4]; 2],
};

/// What the `smmla` tile needs of a format beyond [`Format`].
trait Mmla: Format {
    /// The weight scales of panel rows `2wp, 2wp + 1` in the result lane pattern
    /// `[r, r + 1, r, r + 1]`.
    ///
    /// # Safety
    /// The CPU must support NEON; `wp < 2`.
    unsafe fn pair_scales(p: &Self::Panel, wp: usize) -> Self::WScales;

    /// The activation block's scale `d` and sum `s` (Q8_1; 0 for Q8_0) as f32.
    ///
    /// # Safety
    /// The CPU must support NEON.
    unsafe fn act_scale_values(a: &Self::Act) -> [f32; 2];

    /// The activation scales of row pair `ap` of a repacked block, in the result lane
    /// pattern `[i, i, i + 1, i + 1]`.
    ///
    /// # Safety
    /// The CPU must support NEON; `ap < 2`.
    unsafe fn tile_scales(t: &ActBlockX4, ap: usize) -> Self::AScales;
}

/// `[x[2wp], x[2wp + 1], x[2wp], x[2wp + 1]]` (`ld1r {v.2d}`).
///
/// # Safety
/// The CPU must support NEON; `wp < 2`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn dup_pair(x: &[f32; 4], wp: usize) -> float32x4_t {
    debug_assert!(wp < 2);
    // SAFETY: `wp < 2`, so the 8 bytes at float `2wp` lie inside the array; unaligned read.
    let bits = unsafe { x.as_ptr().add(2 * wp).cast::<u64>().read_unaligned() };
    vreinterpretq_f32_u64(vdupq_n_u64(bits))
}

impl Mmla for Q8_0 {
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn pair_scales(p: &BlockQ8_0x4, wp: usize) -> float32x4_t {
        // SAFETY: forwarded from the caller.
        unsafe { dup_pair(&p.d, wp) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn act_scale_values(a: &BlockQ8_0) -> [f32; 2] {
        // SAFETY: reads the 2 bytes of `a.d`.
        [unsafe { load_f16(&a.d) }, 0.0]
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn tile_scales(t: &ActBlockX4, ap: usize) -> float32x4_t {
        // SAFETY: reads the 4 floats of `t.d[ap]` (bounds-checked index).
        unsafe { vld1q_f32(t.d[ap].as_ptr()) }
    }
}

impl Mmla for Q4_0 {
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn pair_scales(p: &BlockQ4_0x4, wp: usize) -> float32x4_t {
        // SAFETY: forwarded from the caller.
        unsafe { dup_pair(&p.d, wp) }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn act_scale_values(a: &BlockQ8_0) -> [f32; 2] {
        // SAFETY: reads the 2 bytes of `a.d`.
        [unsafe { load_f16(&a.d) }, 0.0]
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn tile_scales(t: &ActBlockX4, ap: usize) -> float32x4_t {
        // SAFETY: reads the 4 floats of `t.d[ap]` (bounds-checked index).
        unsafe { vld1q_f32(t.d[ap].as_ptr()) }
    }
}

impl Mmla for Q4_1 {
    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn pair_scales(p: &BlockQ4_1x4, wp: usize) -> Affine {
        // SAFETY: forwarded from the caller.
        unsafe {
            Affine {
                d: dup_pair(&p.d, wp),
                m: dup_pair(&p.m, wp),
            }
        }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn act_scale_values(a: &BlockQ8_1) -> [f32; 2] {
        // SAFETY: reads the 2 bytes of `a.d` and of `a.s`.
        unsafe { [load_f16(&a.d), load_f16(&a.s)] }
    }

    #[inline]
    #[target_feature(enable = "neon")]
    unsafe fn tile_scales(t: &ActBlockX4, ap: usize) -> Affine {
        // SAFETY: reads the 4 floats of `t.d[ap]` and of `t.s[ap]` (bounds-checked).
        unsafe {
            Affine {
                d: vld1q_f32(t.d[ap].as_ptr()),
                m: vld1q_f32(t.s[ap].as_ptr()),
            }
        }
    }
}

/// Repacks K blocks `c0..c0 + buf.len()` of up to 4 activation rows (`None` = zero row).
///
/// # Safety
/// The CPU must support NEON. (Every row present has at least `c0 + buf.len()` blocks,
/// else this panics.)
#[inline]
#[target_feature(enable = "neon")]
unsafe fn pack_acts<F: Mmla>(
    rows: &[Option<&[F::Act]>; TILE_M],
    c0: usize,
    buf: &mut [ActBlockX4],
) {
    for (b, t) in buf.iter_mut().enumerate() {
        for (i, row) in rows.iter().enumerate() {
            let (p, half) = (i / 2, i % 2);
            let (qs, [d, s]) = match row {
                Some(r) => {
                    let x = &r[c0 + b];
                    // SAFETY: NEON is guaranteed by the caller; reads `x`'s scales.
                    (*F::act_qs(x), unsafe { F::act_scale_values(x) })
                }
                None => ([0; 32], [0.0; 2]),
            };
            for k in 0..4 {
                let at = 16 * (2 * k + p) + 8 * half;
                t.qs[at..at + 8].copy_from_slice(&qs[8 * k..8 * k + 8]);
            }
            t.d[p][2 * half] = d;
            t.d[p][2 * half + 1] = d;
            t.s[p][2 * half] = s;
            t.s[p][2 * half + 1] = s;
        }
    }
}

/// Adds one panel's chunk times `AP` repacked activation row pairs into `sumf`
/// (`sumf[ap][wp]` = the 2x2 block of activation pair `ap` and weight pair `wp`).
///
/// # Safety
/// The CPU must support FEAT_I8MM (and NEON, dotprod, implied on every i8mm core and
/// checked by the tier); `acts` has at least `panel.len()` blocks.
#[inline]
#[target_feature(enable = "neon,dotprod,i8mm")]
unsafe fn tile<F: Mmla, const AP: usize>(
    panel: &[F::Panel],
    acts: &[ActBlockX4],
    sumf: &mut [[float32x4_t; 2]; AP],
) {
    for (p, t) in panel.iter().zip(acts) {
        // SAFETY (this block and the next two): the caller guarantees i8mm; the loads
        // read only the panel block `p` and the repacked block `t` (16 bytes at
        // `16 * (2k + ap)` with `k < 4`, `ap < 2`: inside the 128 bytes of `t.qs`).
        let w = unsafe { F::weights(p) };
        let mut acc = [[vdupq_n_s32(0); 2]; AP];
        for k in 0..4 {
            for (ap, acc) in acc.iter_mut().enumerate() {
                // SAFETY: see above.
                unsafe {
                    let a = vld1q_s8(t.qs.as_ptr().add(16 * (2 * k + ap)));
                    acc[0] = smmla(acc[0], a, w[2 * k]);
                    acc[1] = smmla(acc[1], a, w[2 * k + 1]);
                }
            }
        }
        // SAFETY: see above.
        unsafe {
            let ws = [F::pair_scales(p, 0), F::pair_scales(p, 1)];
            for ap in 0..AP {
                let xs = F::tile_scales(t, ap);
                for wp in 0..2 {
                    sumf[ap][wp] = F::accumulate(sumf[ap][wp], acc[ap][wp], ws[wp], xs);
                }
            }
        }
    }
}

/// Where output row `i`'s 4 floats of panel `g` are in `out`.
#[inline]
fn out_at(ldo: usize, i: usize, g: usize) -> core::ops::Range<usize> {
    let at = i * ldo + g * PANEL_ROWS;
    at..at + PANEL_ROWS
}

/// Reloads the partial sums of activation rows `i..i + n` and panel `g` from `out` into the
/// `smmla` lane layout (rows past `n` are zeros).
///
/// # Safety
/// The CPU must support NEON.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load_sums<const AP: usize>(
    out: &[f32],
    ldo: usize,
    i: usize,
    n: usize,
    g: usize,
) -> [[float32x4_t; 2]; AP] {
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

/// Stores the sums of activation rows `i..i + n` and panel `g` (rows past `n` dropped).
///
/// # Safety
/// The CPU must support NEON.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn store_sums<const AP: usize>(
    out: &mut [f32],
    ldo: usize,
    i: usize,
    n: usize,
    g: usize,
    s: &[[float32x4_t; 2]; AP],
) {
    for (ap, [s0, s1]) in s.iter().enumerate() {
        let (s0, s1) = (vreinterpretq_f64_f32(*s0), vreinterpretq_f64_f32(*s1));
        let rows = [vzip1q_f64(s0, s1), vzip2q_f64(s0, s1)];
        for (h, r) in rows.into_iter().enumerate() {
            let j = 2 * ap + h;
            if j < n {
                let dst = &mut out[out_at(ldo, i + j, g)];
                // SAFETY: `dst` is exactly the 4 floats written.
                unsafe { vst1q_f32(dst.as_mut_ptr(), vreinterpretq_f32_f64(r)) };
            }
        }
    }
}

/// Activation rows `i..i + n` (`n` in 2..=4) against every panel, chunk by chunk.
///
/// # Safety
/// The CPU must support FEAT_I8MM (with NEON and dotprod).
#[inline]
#[target_feature(enable = "neon,dotprod,i8mm")]
#[allow(clippy::too_many_arguments)]
unsafe fn row_tile<F: Mmla, const AP: usize>(
    w: &[F::Panel],
    kb: usize,
    rows: &[Option<&[F::Act]>; TILE_M],
    buf: &mut [ActBlockX4; CHUNK],
    out: &mut [f32],
    ldo: usize,
    i: usize,
    n: usize,
) {
    let mut c0 = 0;
    while c0 < kb {
        let len = CHUNK.min(kb - c0);
        let buf = &mut buf[..len];
        // SAFETY: i8mm implies NEON; every present row has `kb` blocks.
        unsafe { pack_acts::<F>(rows, c0, buf) };
        for (g, panel) in w.chunks_exact(kb).enumerate() {
            // SAFETY: the caller guarantees i8mm; `buf` has `len` blocks like the panel
            // slice; loads and stores go through bounds-checked slices of `out`.
            unsafe {
                let mut s = if c0 == 0 {
                    [[vdupq_n_f32(0.0); 2]; AP]
                } else {
                    load_sums::<AP>(out, ldo, i, n, g)
                };
                tile::<F, AP>(&panel[c0..c0 + len], buf, &mut s);
                store_sums(out, ldo, i, n, g, &s);
            }
        }
        c0 += len;
    }
}

/// The whole product of the kernel contract ([`crate::matmul`]).
///
/// # Safety
/// The CPU must support FEAT_I8MM (with NEON and dotprod). (Shapes are checked: a slice
/// too short panics.)
#[inline]
#[target_feature(enable = "neon,dotprod,i8mm")]
unsafe fn gemm<F: Mmla>(
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
    let mut buf = [ZERO_BLOCK; CHUNK];
    let mut i = 0;
    while i < m {
        let n = TILE_M.min(m - i);
        if n == 1 {
            // One row (the GEMV of decode, or the last row): the dotprod tile.
            for (g, panel) in w.chunks_exact(kb).enumerate() {
                // SAFETY: i8mm cores have dotprod (checked with the tier); row `i` exists.
                unsafe { dotprod::tail_rows::<F>(panel, a, kb, i, 1, out, ldo, g) };
            }
            break;
        }
        let rows: [Option<&[F::Act]>; TILE_M] =
            core::array::from_fn(|j| (j < n).then(|| &a[(i + j) * kb..(i + j + 1) * kb]));
        // SAFETY: the caller guarantees i8mm.
        unsafe {
            if n == 2 {
                row_tile::<F, 1>(w, kb, &rows, &mut buf, out, ldo, i, n);
            } else {
                row_tile::<F, 2>(w, kb, &rows, &mut buf, out, ldo, i, n);
            }
        }
        i += n;
    }
}

/// Q8_0 panels x Q8_0 activations, see [`crate::matmul::GemmQ8_0Fn`]; `m == 1` runs the
/// dotprod tile.
///
/// # Safety
/// The CPU must support FEAT_I8MM (with NEON and dotprod); slices as in the contract.
#[target_feature(enable = "neon,dotprod,i8mm")]
pub(super) unsafe fn gemm_q8_0x4x8_q8_0x4_i8mm(
    w: &[BlockQ8_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: forwarded from the caller.
    unsafe { gemm::<Q8_0>(w, kb, a, m, out, ldo) }
}

/// Q4_0 panels x Q8_0 activations, see [`crate::matmul::GemmQ4_0Fn`]; `m == 1` runs the
/// dotprod tile.
///
/// # Safety
/// The CPU must support FEAT_I8MM (with NEON and dotprod); slices as in the contract.
#[target_feature(enable = "neon,dotprod,i8mm")]
pub(super) unsafe fn gemm_q4_0x4x8_q8_0x4_i8mm(
    w: &[BlockQ4_0x4],
    kb: usize,
    a: &[BlockQ8_0],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: forwarded from the caller.
    unsafe { gemm::<Q4_0>(w, kb, a, m, out, ldo) }
}

/// Q4_1 panels x Q8_1 activations, see [`crate::matmul::GemmQ4_1Fn`]; `m == 1` runs the
/// dotprod tile.
///
/// # Safety
/// The CPU must support FEAT_I8MM (with NEON and dotprod); slices as in the contract.
#[target_feature(enable = "neon,dotprod,i8mm")]
pub(super) unsafe fn gemm_q4_1x4x8_q8_1x4_i8mm(
    w: &[BlockQ4_1x4],
    kb: usize,
    a: &[BlockQ8_1],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: forwarded from the caller.
    unsafe { gemm::<Q4_1>(w, kb, a, m, out, ldo) }
}

/// Installs the i8mm kernels over the dotprod table (the table is only built for a tier
/// the CPU supports, and i8mm is only detected together with dotprod).
pub(crate) fn install(table: &mut Table<'_>) {
    *table.q8_0 = Kernel {
        name: "gemm_q8_0x4x8_q8_0x4_i8mm",
        run: gemm_q8_0x4x8_q8_0x4_i8mm,
    };
    *table.q4_0 = Kernel {
        name: "gemm_q4_0x4x8_q8_0x4_i8mm",
        run: gemm_q4_0x4x8_q8_0x4_i8mm,
    };
    *table.q4_1 = Kernel {
        name: "gemm_q4_1x4x8_q8_1x4_i8mm",
        run: gemm_q4_1x4x8_q8_1x4_i8mm,
    };
}

#[cfg(all(test, feature = "std"))]
mod tests {
    //! K longer than one repacked chunk, and every activation tail, against the scalar
    //! tier (the tier tests use K of at most 6 blocks).

    use crate::dispatch::Isa;
    use crate::formats::{f32_to_f16, BlockQ4_0, BlockQ8_0, GgmlType};
    use crate::matmul::{Activations, Kernels};
    use crate::pack::PackedMatrix;

    #[test]
    fn long_k_and_every_tail_match_the_scalar_tier() {
        if !Isa::I8mm.is_available() {
            eprintln!("i8mm chunk test skipped: this CPU has no i8mm");
            return;
        }
        let (rows, kb) = (8, 2 * super::CHUNK + 3);
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut byte = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        };
        let blocks: Vec<BlockQ4_0> = (0..rows * kb)
            .map(|i| BlockQ4_0 {
                d: f32_to_f16(0.01 + (i % 7) as f32 * 0.003),
                qs: core::array::from_fn(|_| byte()),
            })
            .collect();
        let w = PackedMatrix::pack(GgmlType::Q4_0, bytemuck::cast_slice(&blocks), rows, kb * 32)
            .unwrap();
        let scalar = Kernels::new(Isa::Scalar).unwrap();
        let i8mm = Kernels::new(Isa::I8mm).unwrap();
        for m in 1..=9 {
            let a: Vec<BlockQ8_0> = (0..m * kb)
                .map(|i| BlockQ8_0 {
                    d: f32_to_f16(0.5 + (i % 5) as f32 * 0.1),
                    qs: core::array::from_fn(|_| byte() as i8),
                })
                .collect();
            let ldo = rows + 3;
            let mut want = vec![f32::NAN; m * ldo];
            let mut got = vec![f32::NAN; m * ldo];
            let acts = Activations::Q8_0(&a);
            scalar.gemm(&w, 0..2, acts, m, &mut want, ldo).unwrap();
            i8mm.gemm(&w, 0..2, acts, m, &mut got, ldo).unwrap();
            for (j, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(g.to_bits(), w.to_bits(), "m {m} index {j}: {g} != {w}");
            }
        }
    }
}
