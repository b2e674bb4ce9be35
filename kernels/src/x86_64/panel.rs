//! The x86 panel product written once, shared by the avx2 and avx512 tiers: the tile loop,
//! the reduction of int32 block sums to one lane per output, and the loop nest over row
//! groups and activation rows. A tier supplies a [`Core`] per format (how a panel block and
//! an activation block become exact int32 block sums); the float stage is the format's
//! ([`super::format`]), and [`panel_kernel!`] names the resulting kernel.
//!
//! Everything here is `#[inline(always)]` and has no `#[target_feature]` of its own: it is
//! inlined into each tier's [`Core::tile`], which carries the tier's features (the pattern
//! of memchr's generic vector code), so the intrinsics inline there.
//!
//! Lanes: an item is one (row group `g`, activation row `i`) pair of a tile. Its int32
//! block sums come from [`Core::isum`] as 8 lanes holding two partial sums per weight row
//! (in a per-core order, undone by [`Core::PERM`]). Two items `x`, `y` meet in one
//! `hadd` + `vpermd`, leaving `[x rows 0-3 | y rows 0-3]` as exact int32s, which convert
//! to f32 exactly (|sum| <= 32 * 128 * 128 < 2^24) and enter the float stage of
//! [`Format::accumulate`]: the scalar tier's operations in its order, one lane per output.
//!
//! Nothing here allocates; every read goes through a reference to a whole block, and every
//! write through a bounds-checked subslice of `out`.

use core::arch::x86_64::{
    __m256, __m256i, _mm256_castps256_ps128, _mm256_cvtepi32_ps, _mm256_extractf128_ps,
    _mm256_hadd_epi32, _mm256_permutevar8x32_epi32, _mm256_set_m128, _mm256_setr_epi32,
    _mm256_setzero_ps, _mm_prefetch, _mm_storeu_ps, _MM_HINT_T0,
};

use super::format::{ActBlock, Format};
use crate::pack::PANEL_ROWS;
use crate::unroll::unroll;

/// Activation rows per full GEMM tile.
pub(in crate::x86_64) const TILE_M: usize = 4;

/// Row groups per GEMV tile (one activation row): the activation block is prepared once
/// for 4 groups (16 weight rows).
pub(in crate::x86_64) const GEMV_GROUPS: usize = 4;

/// Panel bytes per cache block of the GEMM loop nest: the row groups of one block are
/// swept by every activation tile while they stay in L2.
const GEMM_BLOCK_BYTES: usize = 256 * 1024;

/// Most output pairs (two items of 4 lanes) a tile holds: `G * MR <= 16`.
const MAX_PAIRS: usize = 8;

/// A tier's integer core for one format.
pub(in crate::x86_64) trait Core {
    /// The format (scales and float stage).
    type F: Format;
    /// An activation block made ready for [`Core::isum`] (broadcasts, correction terms).
    type APrep: Copy;
    /// A panel block made ready for [`Core::isum`] (unpacked nibbles, offsets).
    type WPrep: Copy;
    /// The `vpermd` indices that turn `hadd(isum(x), isum(y))` into
    /// `[x rows 0-3 | y rows 0-3]`.
    const PERM: [i32; 8];

    /// # Safety
    /// The CPU must support the tier.
    unsafe fn prep_act(a: &Act<Self>) -> Self::APrep;

    /// # Safety
    /// The CPU must support the tier.
    unsafe fn prep_weights(p: &Panel<Self>) -> Self::WPrep;

    /// The exact int32 block sums of the 4 weight rows with the activation block, two
    /// partial sums per row: `hadd` of two of these, permuted by [`Core::PERM`], gives one
    /// lane per row.
    ///
    /// # Safety
    /// The CPU must support the tier.
    unsafe fn isum(w: &Self::WPrep, a: &Self::APrep) -> __m256i;

    /// [`tile`] of this core, compiled with the tier's target features: each impl
    /// writes it with [`core_tile!`].
    ///
    /// # Safety
    /// The CPU must support the tier.
    unsafe fn tile<const G: usize, const MR: usize>(
        w: &[Panel<Self>],
        kb: usize,
        a: &[Act<Self>],
        out: &mut [f32],
        ldo: usize,
    );
}

/// [`Core::PERM`] of a core whose [`Core::isum`] lanes are `[r0 r0 r1 r1 | r2 r2 r3 r3]`
/// (two partial sums per row, rows in order): `hadd` gives `[x0 x1 y0 y1 | x2 x3 y2 y3]`.
pub(in crate::x86_64) const PERM_ROWS_IN_ORDER: [i32; 8] = [0, 1, 4, 5, 2, 3, 6, 7];

/// The panel block type of a core.
pub(in crate::x86_64) type Panel<C> = <<C as Core>::F as Format>::Panel;
/// The activation block type of a core.
pub(in crate::x86_64) type Act<C> = <<C as Core>::F as Format>::Act;

/// Item `n` of a `G x MR` tile: (row group, activation row), activation rows fastest.
#[inline(always)]
const fn item<const MR: usize>(n: usize) -> (usize, usize) {
    (n / MR, n % MR)
}

/// Output pair `p` of a tile (items `2p` and `2p + 1`, or `2p` twice at an odd end) takes
/// K block `b`: exact int32 sums, one lane per output, then the float stage. Preparations
/// are computed where they are used; the compiler merges the repeats across pairs (the
/// same loads, pure operations).
///
/// # Safety
/// The CPU must support the core's tier; `p < (G * MR).div_ceil(2)`, `b` < every slice's
/// length.
#[inline(always)]
unsafe fn pair_step<C: Core, const G: usize, const MR: usize>(
    p: usize,
    b: usize,
    panels: &[&[Panel<C>]; G],
    acts: &[&[Act<C>]; MR],
    perm: __m256i,
    acc: __m256,
) -> __m256 {
    let n = G * MR;
    let (n0, n1) = (2 * p, (2 * p + 1).min(n - 1));
    let ((g0, i0), (g1, i1)) = (item::<MR>(n0), item::<MR>(n1));
    let (p0, p1) = (&panels[g0][b], &panels[g1][b]);
    let (x0, x1) = (&acts[i0][b], &acts[i1][b]);
    // SAFETY: the caller guarantees the tier; the loads read the blocks borrowed above.
    unsafe {
        let s0 = C::isum(&C::prep_weights(p0), &C::prep_act(x0));
        let s1 = C::isum(&C::prep_weights(p1), &C::prep_act(x1));
        let isum = _mm256_cvtepi32_ps(_mm256_permutevar8x32_epi32(_mm256_hadd_epi32(s0, s1), perm));
        let (w0, w1) = (C::F::weight_scales(p0), C::F::weight_scales(p1));
        let (a0, a1) = (x0.scales(), x1.scales());
        let ws = [_mm256_set_m128(w1[0], w0[0]), _mm256_set_m128(w1[1], w0[1])];
        let xs = [_mm256_set_m128(a1[0], a0[0]), _mm256_set_m128(a1[1], a0[1])];
        C::F::accumulate(acc, isum, ws, xs)
    }
}

/// The float sums of `G` row groups (panels `w[g * kb..(g + 1) * kb]`) times `MR`
/// activation rows (`a[i * kb..(i + 1) * kb]`), written to
/// `out[i * ldo + 4 * g + r]`.
///
/// # Safety
/// The CPU must support the core's tier (this is inlined into [`Core::tile`]).
#[inline(always)]
pub(in crate::x86_64) unsafe fn tile<C: Core, const G: usize, const MR: usize>(
    w: &[Panel<C>],
    kb: usize,
    a: &[Act<C>],
    out: &mut [f32],
    ldo: usize,
) {
    const { assert!(G >= 1 && MR >= 1 && G * MR <= 2 * MAX_PAIRS) };
    let n = G * MR;
    let pairs = n.div_ceil(2);
    let panels: [&[Panel<C>]; G] = core::array::from_fn(|g| &w[g * kb..(g + 1) * kb]);
    let acts: [&[Act<C>]; MR] = core::array::from_fn(|i| &a[i * kb..(i + 1) * kb]);
    // SAFETY: the caller guarantees the tier's CPU features.
    let (perm, mut sumf) = unsafe {
        let p = C::PERM;
        (
            _mm256_setr_epi32(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]),
            [_mm256_setzero_ps(); MAX_PAIRS],
        )
    };
    // Decode (one activation row) streams every weight once from memory, so the GEMV tile
    // prefetches the next tile's panels (the `G` groups after these, contiguous in the
    // matrix: one stream) a block's worth per step, while this tile computes. Prefetches
    // never fault, and the address is only formed with `wrapping_add`, so running past
    // the matrix's end is harmless.
    let next_tile = w.as_ptr_range().end.cast::<u8>();
    let prefetch_step = G * size_of::<Panel<C>>();
    for b in 0..kb {
        if MR == 1 {
            let at = next_tile.wrapping_add(b * prefetch_step);
            for line in (0..prefetch_step).step_by(64) {
                // SAFETY: SSE is part of every x86-64 tier; a prefetch reads nothing
                // architecturally and cannot fault.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(at.wrapping_add(line).cast::<i8>()) };
            }
        }
        // One pair step per output pair, unrolled so that every index is a constant and
        // the accumulators stay in registers.
        unroll!((G * MR).div_ceil(2), |p| {
            // SAFETY: the caller guarantees the tier; `b < kb` and `p < pairs`, so the
            // step reads blocks borrowed above.
            sumf[p] = unsafe { pair_step::<C, G, MR>(p, b, &panels, &acts, perm, sumf[p]) };
        });
    }
    for (p, &s) in sumf.iter().enumerate().take(pairs) {
        // SAFETY: the caller guarantees the tier; the stores write 4 floats into
        // bounds-checked subslices.
        unsafe {
            let (g0, i0) = item::<MR>(2 * p);
            let at = i0 * ldo + g0 * PANEL_ROWS;
            _mm_storeu_ps(out[at..at + 4].as_mut_ptr(), _mm256_castps256_ps128(s));
            if 2 * p + 1 < n {
                let (g1, i1) = item::<MR>(2 * p + 1);
                let at = i1 * ldo + g1 * PANEL_ROWS;
                _mm_storeu_ps(out[at..at + 4].as_mut_ptr(), _mm256_extractf128_ps(s, 1));
            }
        }
    }
}

/// Tiles of `G` groups (then 2, then 1 for the tail) over `groups`, for the `MR`
/// activation rows starting at `i0`.
///
/// # Safety
/// The CPU must support the core's tier.
#[inline(always)]
unsafe fn sweep<C: Core, const G: usize, const MR: usize>(
    w: &[Panel<C>],
    kb: usize,
    a: &[Act<C>],
    i0: usize,
    groups: core::ops::Range<usize>,
    out: &mut [f32],
    ldo: usize,
) {
    let a = &a[i0 * kb..(i0 + MR) * kb];
    let out = &mut out[i0 * ldo..];
    let mut g = groups.start;
    while g < groups.end {
        let left = groups.end - g;
        let width = if left >= G {
            G
        } else if left >= 2 {
            2
        } else {
            1
        };
        let w = &w[g * kb..(g + width) * kb];
        let out = &mut out[g * PANEL_ROWS..];
        // SAFETY: the caller guarantees the tier; the tile indexes its slices with bounds
        // checks.
        unsafe {
            if width == G {
                C::tile::<G, MR>(w, kb, a, out, ldo);
            } else if G > 2 && width == 2 {
                C::tile::<2, MR>(w, kb, a, out, ldo);
            } else {
                C::tile::<1, MR>(w, kb, a, out, ldo);
            }
        }
        g += width;
    }
}

/// The kernel contract of [`crate::matmul::contract::GemmQ8_0Fn`] and friends for core `C`: GEMV
/// (`m == 1`) in tiles of [`GEMV_GROUPS`] groups, GEMM in tiles of `GT` groups x
/// [`TILE_M`] activation rows over cache blocks of row groups.
///
/// # Safety
/// The CPU must support the core's tier. Slices that are too short panic (bounds checks),
/// never read or write out of bounds.
#[inline(always)]
pub(in crate::x86_64) unsafe fn gemm<C: Core, const GT: usize>(
    w: &[Panel<C>],
    kb: usize,
    a: &[Act<C>],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    if kb == 0 || m == 0 {
        return;
    }
    let groups = w.len() / kb;
    if m == 1 {
        // SAFETY: the caller guarantees the tier.
        unsafe { sweep::<C, GEMV_GROUPS, 1>(w, kb, a, 0, 0..groups, out, ldo) };
        return;
    }
    let block = (GEMM_BLOCK_BYTES / (kb * core::mem::size_of::<Panel<C>>())).max(1);
    let block = block.div_ceil(GT) * GT;
    let mut g0 = 0;
    while g0 < groups {
        let g1 = (g0 + block).min(groups);
        let mut i0 = 0;
        while i0 < m {
            let r = g0..g1;
            // SAFETY: the caller guarantees the tier.
            unsafe {
                match m - i0 {
                    1 => sweep::<C, GEMV_GROUPS, 1>(w, kb, a, i0, r, out, ldo),
                    2 => sweep::<C, GT, 2>(w, kb, a, i0, r, out, ldo),
                    3 => sweep::<C, GT, 3>(w, kb, a, i0, r, out, ldo),
                    _ => sweep::<C, GT, TILE_M>(w, kb, a, i0, r, out, ldo),
                }
            }
            i0 += TILE_M;
        }
        g0 = g1;
    }
}

/// `core_tile!("features")`, inside an `impl Core`: its [`Core::tile`], i.e. [`tile`] for
/// this core compiled with the target features `features` (the tier's).
macro_rules! core_tile {
    ($features:literal) => {
        #[target_feature(enable = $features)]
        unsafe fn tile<const G: usize, const MR: usize>(
            w: &[$crate::x86_64::panel::Panel<Self>],
            kb: usize,
            a: &[$crate::x86_64::panel::Act<Self>],
            out: &mut [f32],
            ldo: usize,
        ) {
            // SAFETY: this function is compiled with (and its caller guarantees) the
            // tier's features, all that `tile` needs.
            unsafe { $crate::x86_64::panel::tile::<Self, G, MR>(w, kb, a, out, ldo) }
        }
    };
}
pub(in crate::x86_64) use core_tile;

/// `panel_kernel!(name, Core, GT)` defines the function `name`: the kernel contract
/// ([`crate::matmul::contract`]) with core `Core` in GEMM tiles of `GT` row groups, i.e.
/// [`gemm`] under the name logs and tests see.
macro_rules! panel_kernel {
    ($name:ident, $core:ty, $groups:expr) => {
        /// The kernel contract ([`crate::matmul::contract`]) for this core, tiled by
        /// [`crate::x86_64::panel::gemm`].
        ///
        /// # Safety
        /// The CPU must support the core's tier. Slices that do not fit the contract
        /// panic, never read or write out of bounds.
        pub(in crate::x86_64) unsafe fn $name(
            w: &[$crate::x86_64::panel::Panel<$core>],
            kb: usize,
            a: &[$crate::x86_64::panel::Act<$core>],
            m: usize,
            out: &mut [f32],
            ldo: usize,
        ) {
            // SAFETY: forwarded from the caller.
            unsafe { $crate::x86_64::panel::gemm::<$core, $groups>(w, kb, a, m, out, ldo) }
        }
    };
}
pub(in crate::x86_64) use panel_kernel;

#[cfg(test)]
mod tests {
    //! Shapes `tests/matmul_tiers.rs` does not reach: K long enough for several GEMM cache
    //! blocks, every activation tail, an output stride wider than the tile (K = 0: the
    //! tiers' own tests).
    use alloc::vec;
    use alloc::vec::Vec;

    use crate::dispatch::Isa;
    use crate::formats::{
        f32_to_f16, BlockQ4_0, BlockQ4_1, BlockQ6K, BlockQ8_0, BlockQ8_1, GgmlType,
    };
    use crate::matmul::{Activations, Kernels};
    use crate::pack::PackedMatrix;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// Mostly random bytes, one block in 8 all -128 (the saturation case).
        fn qs<const N: usize>(&mut self) -> [u8; N] {
            let min = self.next().is_multiple_of(8);
            core::array::from_fn(|_| if min { 0x80 } else { self.next() as u8 })
        }
        fn scale(&mut self) -> u16 {
            f32_to_f16((self.next() % 2000) as f32 / 1000.0 - 1.0)
        }
    }

    fn run(k: &Kernels, w: &PackedMatrix, a: Activations<'_>, m: usize, ldo: usize) -> Vec<u32> {
        let mut out = vec![f32::NAN; m * ldo];
        k.gemm(w, 0..w.groups(), a, m, &mut out, ldo).unwrap();
        out.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn long_k_many_blocks_and_tails_match_scalar() {
        let tiers: Vec<Kernels> = [Isa::Avx2, Isa::Avx512]
            .into_iter()
            .filter(|isa| isa.is_available())
            .map(|isa| Kernels::new(isa).unwrap())
            .collect();
        let scalar = Kernels::new(Isa::Scalar).unwrap();
        let mut rng = Rng(7);
        // 64 K blocks: a Q8_0 panel row group is 9 KiB, so 256 KiB cache blocks hold 28
        // groups and 75 groups take 3 blocks.
        let (rows, kb) = (4 * 75 - 2, 64);
        let q8: Vec<BlockQ8_0> = (0..rows * kb)
            .map(|_| BlockQ8_0 {
                d: rng.scale(),
                qs: rng.qs::<32>().map(|b| b as i8),
            })
            .collect();
        let q40: Vec<BlockQ4_0> = (0..rows * kb)
            .map(|_| BlockQ4_0 {
                d: rng.scale(),
                qs: rng.qs::<16>(),
            })
            .collect();
        let q41: Vec<BlockQ4_1> = (0..rows * kb)
            .map(|_| BlockQ4_1 {
                d: rng.scale(),
                m: rng.scale(),
                qs: rng.qs::<16>(),
            })
            .collect();
        let q6k: Vec<BlockQ6K> = (0..rows * kb / 8)
            .map(|_| BlockQ6K {
                ql: rng.qs::<128>(),
                qh: rng.qs::<64>(),
                scales: rng.qs::<16>().map(|b| b as i8),
                d: rng.scale(),
            })
            .collect();
        let cols = kb * 32;
        let w6k =
            PackedMatrix::pack(GgmlType::Q6K, bytemuck::cast_slice(&q6k), rows, cols).unwrap();
        let w8 = PackedMatrix::pack(GgmlType::Q8_0, bytemuck::cast_slice(&q8), rows, cols).unwrap();
        let w40 =
            PackedMatrix::pack(GgmlType::Q4_0, bytemuck::cast_slice(&q40), rows, cols).unwrap();
        let w41 =
            PackedMatrix::pack(GgmlType::Q4_1, bytemuck::cast_slice(&q41), rows, cols).unwrap();
        for m in [1, 2, 3, 4, 5, 6, 7, 9] {
            let a0: Vec<BlockQ8_0> = (0..m * kb)
                .map(|_| BlockQ8_0 {
                    d: rng.scale(),
                    qs: rng.qs::<32>().map(|b| b as i8),
                })
                .collect();
            let a1: Vec<BlockQ8_1> = (0..m * kb)
                .map(|_| BlockQ8_1 {
                    d: rng.scale(),
                    s: rng.scale(),
                    qs: rng.qs::<32>().map(|b| b as i8),
                })
                .collect();
            let ldo = w8.groups() * 4 + 3;
            for k in &tiers {
                for (w, a) in [
                    (&w8, Activations::Q8_0(&a0)),
                    (&w40, Activations::Q8_0(&a0)),
                    (&w41, Activations::Q8_1(&a1)),
                    (&w6k, Activations::Q8_0(&a0)),
                ] {
                    let (got, want) = (run(k, w, a, m, ldo), run(&scalar, w, a, m, ldo));
                    assert!(got == want, "{} m {m}", k.kernel_name(w.ty()));
                }
            }
        }
    }
}
