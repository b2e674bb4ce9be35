//! The loop nest shared by the dotprod and i8mm tiers: activation rows in tiles of
//! [`RowTile::ROWS`], K in chunks of [`CHUNK`] blocks repacked once into a stack buffer (in the
//! layout the tier's micro-kernel loads without any shuffle), then every panel of the
//! call against that buffer. A tier only says how to repack a block and how to run,
//! reload and store one tile ([`RowTile`]).
//!
//! K longer than a chunk: a chunk's float sums go to `out` and are reloaded for the next
//! one; a store and load of the same f32 values keeps the result bit-exact.

use core::mem::MaybeUninit;
use core::ops::Range;

use super::format::Format;
use crate::pack::PANEL_ROWS;

/// The most activation rows a tile has (the i8mm tile; dotprod tiles have 4).
pub(in crate::aarch64) const MAX_ROWS: usize = 8;

/// K blocks per repacked chunk (at most 32 x 384 bytes = 12 KiB of stack).
pub(in crate::aarch64) const CHUNK: usize = 32;

/// The activation rows of a tile, `kb` blocks each; `None` past `m` or the tile height.
pub(in crate::aarch64) type Rows<'a, A> = [Option<&'a [A]>; MAX_ROWS];

/// One tier's micro-kernel over a tile of `n` activation rows x 4 weight rows.
pub(in crate::aarch64) trait RowTile<F: Format> {
    /// Activation rows per full tile (at most [`MAX_ROWS`]).
    const ROWS: usize;
    /// One K block of the tile's activation rows, repacked.
    type Block;
    /// The tile's float sums, in the micro-kernel's lane layout.
    type Sums;

    /// Repacks K block `b` of `rows` (missing rows as zeros).
    ///
    /// # Safety
    /// The CPU must support the tier; every present row has more than `b` blocks.
    unsafe fn pack(rows: &Rows<'_, F::Act>, b: usize) -> Self::Block;

    /// All-zero sums.
    ///
    /// # Safety
    /// The CPU must support the tier.
    unsafe fn zero() -> Self::Sums;

    /// The partial sums of rows `i..i + n` and panel `g`, read back from `out`.
    ///
    /// # Safety
    /// The CPU must support the tier; `n <= ROWS`.
    unsafe fn load(out: &[f32], ldo: usize, i: usize, n: usize, g: usize) -> Self::Sums;

    /// Adds one panel's chunk (`panel.len()` blocks) times `acts` (as many) into `sums`,
    /// for the `n` real rows of the tile.
    ///
    /// # Safety
    /// The CPU must support the tier; `n` is a row count the tier accepts.
    unsafe fn run(panel: &[F::Panel], acts: &[Self::Block], n: usize, sums: &mut Self::Sums);

    /// Writes the sums of rows `i..i + n` and panel `g` into `out`.
    ///
    /// # Safety
    /// The CPU must support the tier; `n <= ROWS`.
    unsafe fn store(out: &mut [f32], ldo: usize, i: usize, n: usize, g: usize, sums: &Self::Sums);
}

/// Where output row `i`'s 4 floats of panel `g` are in `out`.
#[inline]
pub(in crate::aarch64) fn out_at(ldo: usize, i: usize, g: usize) -> Range<usize> {
    let at = i * ldo + g * PANEL_ROWS;
    at..at + PANEL_ROWS
}

/// The product of the kernel contract ([`crate::matmul`]) for `m` activation rows, tile
/// by tile with `T`. Plain Rust, always inlined into the tier's `#[target_feature]`
/// functions, so that `T`'s methods (which carry the tier's features) inline there too.
///
/// # Safety
/// The CPU must support `T`'s tier, and `T` must accept every tile height
/// `min(T::ROWS, m - i)` that occurs. (Shapes are checked: a slice too short panics.)
#[inline(always)]
pub(in crate::aarch64) unsafe fn gemm<F: Format, T: RowTile<F>>(
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
    let mut buf: [MaybeUninit<T::Block>; CHUNK] = [const { MaybeUninit::uninit() }; CHUNK];
    let mut i = 0;
    while i < m {
        let n = T::ROWS.min(m - i);
        let rows: Rows<'_, F::Act> =
            core::array::from_fn(|j| (j < n).then(|| &a[(i + j) * kb..(i + j + 1) * kb]));
        let mut c0 = 0;
        while c0 < kb {
            let len = CHUNK.min(kb - c0);
            for (b, slot) in buf[..len].iter_mut().enumerate() {
                // SAFETY: the caller guarantees the tier; every present row has `kb`
                // blocks and `c0 + b < kb`.
                slot.write(unsafe { T::pack(&rows, c0 + b) });
            }
            // SAFETY: the loop above initialized `buf[..len]`; `MaybeUninit<B>` has the
            // layout of `B`.
            let acts =
                unsafe { &*(&buf[..len] as *const [MaybeUninit<T::Block>] as *const [T::Block]) };
            for (g, panel) in w.chunks_exact(kb).enumerate() {
                // SAFETY: the caller guarantees the tier and that `T` takes `n` rows;
                // `acts` has `len` blocks like the panel slice; `out` is accessed through
                // bounds-checked slices.
                unsafe {
                    let mut s = if c0 == 0 {
                        T::zero()
                    } else {
                        T::load(out, ldo, i, n, g)
                    };
                    T::run(&panel[c0..c0 + len], acts, n, &mut s);
                    T::store(out, ldo, i, n, g, &s);
                }
            }
            c0 += len;
        }
        i += n;
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    //! K longer than one repacked chunk (the tier tests use at most 6 blocks) and every
    //! tile tail, for each tier that runs through this loop nest, against the scalar tier.

    use crate::dispatch::Isa;
    use crate::formats::{
        f32_to_f16, BlockQ4_0, BlockQ4_1, BlockQ6K, BlockQ8_0, BlockQ8_1, GgmlType,
    };
    use crate::matmul::{Activations, Kernels};
    use crate::pack::PackedMatrix;

    struct Xorshift(u64);
    impl Xorshift {
        fn byte(&mut self) -> u8 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 as u8
        }
        fn scale(&mut self) -> u16 {
            f32_to_f16(0.01 + f32::from(self.byte()) * 0.003)
        }
    }

    #[test]
    fn long_k_and_every_tail_match_the_scalar_tier() {
        let tiers: Vec<Kernels> = [Isa::Dotprod, Isa::I8mm]
            .into_iter()
            .filter(|isa| isa.is_available())
            .map(|isa| Kernels::new(isa).unwrap())
            .collect();
        // Under qemu (and on a device run of the suite) `SLIMLM_EXPECT_ISA` names the tier
        // the CPU must have: when that is dotprod or i8mm, a missing tier fails here
        // instead of skipping the test.
        if let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") {
            if let Some(isa @ (Isa::Dotprod | Isa::I8mm)) = Isa::parse(&expected) {
                assert!(
                    tiers.iter().any(|k| k.isa() == isa),
                    "SLIMLM_EXPECT_ISA={expected}, but {isa} does not run on this CPU"
                );
            }
        }
        if tiers.is_empty() {
            eprintln!("chunked-K test skipped: this CPU has neither dotprod nor i8mm");
            return;
        }
        let scalar = Kernels::new(Isa::Scalar).unwrap();
        let rows = 8;
        let mut rng = Xorshift(0x2545_F491_4F6C_DD1D);
        // Q6_K needs K in whole super-blocks of 8 blocks: 9 super-blocks, 2 chunks + 8.
        let (kb, kb_q6_k) = (2 * super::CHUNK + 3, 9 * 8);
        let q8_0: Vec<BlockQ8_0> = (0..rows * kb)
            .map(|_| BlockQ8_0 {
                d: rng.scale(),
                qs: core::array::from_fn(|_| rng.byte() as i8),
            })
            .collect();
        let q4_0: Vec<BlockQ4_0> = (0..rows * kb)
            .map(|_| BlockQ4_0 {
                d: rng.scale(),
                qs: core::array::from_fn(|_| rng.byte()),
            })
            .collect();
        let q4_1: Vec<BlockQ4_1> = (0..rows * kb)
            .map(|_| BlockQ4_1 {
                d: rng.scale(),
                m: rng.scale() | 0x8000,
                qs: core::array::from_fn(|_| rng.byte()),
            })
            .collect();
        let q6_k: Vec<BlockQ6K> = (0..rows * kb_q6_k / 8)
            .map(|_| BlockQ6K {
                ql: core::array::from_fn(|_| rng.byte()),
                qh: core::array::from_fn(|_| rng.byte()),
                scales: core::array::from_fn(|_| rng.byte() as i8),
                d: rng.scale(),
            })
            .collect();
        let weights = [
            (GgmlType::Q8_0, bytemuck::cast_slice(&q8_0), kb),
            (GgmlType::Q4_0, bytemuck::cast_slice(&q4_0), kb),
            (GgmlType::Q4_1, bytemuck::cast_slice(&q4_1), kb),
            (GgmlType::Q6K, bytemuck::cast_slice(&q6_k), kb_q6_k),
        ]
        .map(|(ty, bytes, kb)| (PackedMatrix::pack(ty, bytes, rows, kb * 32).unwrap(), kb));
        for m in 1..=9 {
            for (w, kb) in &weights {
                let a8: Vec<BlockQ8_0> = (0..m * kb)
                    .map(|_| BlockQ8_0 {
                        d: rng.scale(),
                        qs: core::array::from_fn(|_| rng.byte() as i8),
                    })
                    .collect();
                let a81: Vec<BlockQ8_1> = (0..m * kb)
                    .map(|_| BlockQ8_1 {
                        d: rng.scale(),
                        s: rng.scale(),
                        qs: core::array::from_fn(|_| rng.byte() as i8),
                    })
                    .collect();
                let acts = match w.ty() {
                    GgmlType::Q4_1 => Activations::Q8_1(&a81),
                    _ => Activations::Q8_0(&a8),
                };
                let ldo = rows + 3;
                let mut want = vec![f32::NAN; m * ldo];
                scalar.gemm(w, 0..2, acts, m, &mut want, ldo).unwrap();
                for k in &tiers {
                    let mut got = vec![f32::NAN; m * ldo];
                    k.gemm(w, 0..2, acts, m, &mut got, ldo).unwrap();
                    for (j, (g, e)) in got.iter().zip(&want).enumerate() {
                        let name = k.kernel_name(w.ty());
                        assert_eq!(
                            g.to_bits(),
                            e.to_bits(),
                            "{name} m {m} index {j}: {g} != {e}"
                        );
                    }
                }
            }
        }
    }
}
