//! Every tier's panel products against the scalar reference dot products, bit for bit:
//! random shapes (rows and activation counts including 1 and primes, K a multiple of 32),
//! random data and extremes (-128/127 activations, every nibble; scales of both signs,
//! zero, subnormal, the smallest normal and the largest finite f16, as ggml's quantizers
//! make negative `d` for about half of the Q4_0 blocks).
//!
//! K: 1..=6 blocks mostly; 29..=35 blocks (around the ARM loop's 32-block chunk, whose
//! partial sums are stored and reloaded); and on x86, 192..=256 blocks with enough rows
//! for two and more 256 KiB cache blocks of panels in the GEMM loop nest.
//!
//! 256 cases per format and tier by default, under qemu too (scripts/test-aarch64.sh runs
//! these tier tests again with `PROPTEST_CASES=256` after the whole suite at 48).
//!
//! Inf and NaN scales in a file are propagated, not refused: every tier gives what the
//! scalar reference gives (NaN for NaN, the same infinity, NaN for `inf * 0` and `inf -
//! inf`), tested in [`non_finite_scales_propagate_as_in_the_reference`].
//!
//! Each tier this CPU supports is tested; under qemu `SLIMLM_EXPECT_ISA` names the tier
//! the emulated CPU must run, and the test fails if that tier did not run.

mod common;

use proptest::prelude::*;
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::{
    dequantize_blocks, f32_to_f16, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ6K, BlockQ8_0,
    BlockQ8_1, GgmlType, QuantizeBlock,
};
use slimlm_kernels::matmul::{Activations, Kernels};
use slimlm_kernels::pack::{group_offset, PackedMatrix, PanelData};
use slimlm_kernels::reference::dot;

/// The tiers this CPU runs (the scalar tier included).
fn tiers() -> Vec<Kernels> {
    common::available_isas()
        .into_iter()
        .map(|isa| Kernels::new(isa).unwrap())
        .collect()
}

/// How activations are drawn.
#[derive(Clone, Copy, Debug)]
enum Fill {
    Random,
    AllMin,
    AllMax,
}

#[derive(Clone, Debug)]
struct Case {
    rows: usize,
    kb: usize,
    m: usize,
    seed: u64,
    fill: Fill,
}

/// Panel bytes per cache block of the x86 GEMM loop nest (kernels/src/x86_64/panel.rs).
const X86_CACHE_BLOCK: usize = 256 * 1024;

/// Rows for at least 2.5 cache blocks of the smallest panels (Q4_0: 80 bytes per 4 rows
/// and K block, four f32 scales and 64 bytes of nibbles) at `kb` K blocks, plus a partial
/// row group.
fn cache_block_rows(kb: usize, extra: usize) -> usize {
    let groups = (5 * X86_CACHE_BLOCK).div_ceil(2 * kb * 80);
    4 * groups + extra
}

/// (rows, kb, m) of the small and ARM-chunk shapes.
fn small_cases() -> impl Strategy<Value = (usize, usize, usize)> {
    (
        prop_oneof![1usize..=13, Just(4), Just(8), Just(17), Just(31)],
        prop_oneof![6 => 1usize..=6, 2 => 29usize..=35],
        prop_oneof![1usize..=9, Just(13)],
    )
}

fn cases() -> impl Strategy<Value = Case> {
    // The cache-block shapes matter (and are affordable) on x86 only; under qemu the
    // ARM chunk shapes take their place.
    let shape = if cfg!(target_arch = "x86_64") {
        prop_oneof![
            8 => small_cases(),
            1 => (192usize..=256, 0usize..4, 2usize..=5)
                .prop_map(|(kb, extra, m)| (cache_block_rows(kb, extra), kb, m)),
        ]
        .boxed()
    } else {
        small_cases().boxed()
    };
    (
        shape,
        any::<u64>(),
        prop_oneof![
            6 => Just(Fill::Random),
            1 => Just(Fill::AllMin),
            1 => Just(Fill::AllMax)
        ],
    )
        .prop_map(|((rows, kb, m), seed, fill)| Case {
            rows,
            kb,
            m,
            seed,
            fill,
        })
}

/// splitmix64 stream for the data of a case.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
    /// A finite f16 scale of either sign: mostly ordinary, sometimes zero, a subnormal,
    /// the smallest normal or the largest finite value.
    fn scale(&mut self) -> u16 {
        let magnitude = match self.next() % 16 {
            0 => 0x0400, // smallest normal
            1 => 0x7BFF, // largest finite
            2 => 0x0000,
            3 => 0x0001 + (self.next() % 0x03FF) as u16, // subnormal
            _ => f32_to_f16((self.next() % 1000) as f32 / 997.0 + 0.001),
        };
        magnitude | (0x8000 * (self.next() & 1) as u16)
    }
    fn act_byte(&mut self, fill: Fill) -> i8 {
        match fill {
            Fill::Random => self.byte() as i8,
            Fill::AllMin => -128,
            Fill::AllMax => 127,
        }
    }
}

fn q8_0_acts(c: &Case, rng: &mut Rng) -> Vec<BlockQ8_0> {
    (0..c.m * c.kb)
        .map(|_| BlockQ8_0 {
            d: rng.scale(),
            qs: core::array::from_fn(|_| rng.act_byte(c.fill)),
        })
        .collect()
}

fn q8_1_acts(c: &Case, rng: &mut Rng) -> Vec<BlockQ8_1> {
    (0..c.m * c.kb)
        .map(|_| {
            let x: Vec<f32> = (0..32).map(|_| (rng.byte() as i8) as f32 * 0.37).collect();
            let mut b = BlockQ8_1::quantize(&x);
            if !matches!(c.fill, Fill::Random) {
                b.qs = [rng.act_byte(c.fill); 32];
                b.d = rng.scale();
            }
            b
        })
        .collect()
}

/// Runs `kernels` on a case split into two row-group ranges (to exercise the tile API)
/// and checks every output against `reference(row, act_row)` bit for bit.
fn check<F: Fn(usize, usize) -> f32>(
    kernels: &Kernels,
    w: &PackedMatrix,
    acts: Activations<'_>,
    m: usize,
    reference: F,
) -> Result<(), TestCaseError> {
    let groups = w.groups();
    let split = groups / 2;
    let ldo = groups * 4;
    let mut out = vec![f32::NAN; m * ldo];
    for range in [0..split, split..groups] {
        let width = (range.end - range.start) * 4;
        let mut tile = vec![f32::NAN; m * width];
        kernels
            .gemm(w, range.clone(), acts, m, &mut tile, width)
            .unwrap();
        for i in 0..m {
            out[i * ldo + range.start * 4..i * ldo + range.end * 4]
                .copy_from_slice(&tile[i * width..(i + 1) * width]);
        }
    }
    for i in 0..m {
        for row in 0..w.rows {
            let (got, want) = (out[i * ldo + row], reference(row, i));
            // Bit for bit; a NaN (only from inf/NaN scales) equals any NaN: x86 and ARM
            // quiet NaN payloads differently.
            prop_assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{} {}: row {row} act {i}: {got} != {want}",
                kernels.kernel_name(w.ty()),
                w.ty()
            );
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn q8_0_panels_match_reference(c in cases()) {
        let mut rng = Rng(c.seed);
        let blocks: Vec<BlockQ8_0> = (0..c.rows * c.kb)
            .map(|_| BlockQ8_0 { d: rng.scale(), qs: core::array::from_fn(|_| rng.byte() as i8) })
            .collect();
        let w = PackedMatrix::pack(GgmlType::Q8_0, bytemuck::cast_slice(&blocks), c.rows, c.kb * 32).unwrap();
        let a = q8_0_acts(&c, &mut rng);
        for k in tiers() {
            check(&k, &w, Activations::Q8_0(&a), c.m, |row, i| {
                dot::dot_q8_0_q8_0(&blocks[row * c.kb..(row + 1) * c.kb], &a[i * c.kb..(i + 1) * c.kb])
            })?;
        }
    }

    #[test]
    fn q4_0_panels_match_reference(c in cases()) {
        let mut rng = Rng(c.seed);
        let blocks: Vec<BlockQ4_0> = (0..c.rows * c.kb)
            .map(|_| BlockQ4_0 { d: rng.scale(), qs: core::array::from_fn(|_| rng.byte()) })
            .collect();
        let w = PackedMatrix::pack(GgmlType::Q4_0, bytemuck::cast_slice(&blocks), c.rows, c.kb * 32).unwrap();
        // The cache-block shapes span two blocks even with these, the smallest panels.
        prop_assert!(c.kb < 192 || w.bytes() >= 2 * X86_CACHE_BLOCK, "{} bytes", w.bytes());
        let a = q8_0_acts(&c, &mut rng);
        for k in tiers() {
            check(&k, &w, Activations::Q8_0(&a), c.m, |row, i| {
                dot::dot_q4_0_q8_0(&blocks[row * c.kb..(row + 1) * c.kb], &a[i * c.kb..(i + 1) * c.kb])
            })?;
        }
    }

    #[test]
    fn q4_1_panels_match_reference(c in cases()) {
        let mut rng = Rng(c.seed);
        let blocks: Vec<BlockQ4_1> = (0..c.rows * c.kb)
            .map(|_| BlockQ4_1 { d: rng.scale(), m: rng.scale() ^ (0x8000 * (rng.byte() as u16 & 1)), qs: core::array::from_fn(|_| rng.byte()) })
            .collect();
        let w = PackedMatrix::pack(GgmlType::Q4_1, bytemuck::cast_slice(&blocks), c.rows, c.kb * 32).unwrap();
        let a = q8_1_acts(&c, &mut rng);
        for k in tiers() {
            check(&k, &w, Activations::Q8_1(&a), c.m, |row, i| {
                dot::dot_q4_1_q8_1(&blocks[row * c.kb..(row + 1) * c.kb], &a[i * c.kb..(i + 1) * c.kb])
            })?;
        }
    }
}

/// Random Q4_K blocks: any scale and minimum bytes, scales from [`Rng::scale`] (the sign
/// of `dmin` is random too: a negative one adds instead of subtracting).
fn q4_k_blocks(n: usize, rng: &mut Rng) -> Vec<BlockQ4K> {
    (0..n)
        .map(|_| BlockQ4K {
            d: rng.scale(),
            dmin: rng.scale() ^ (0x8000 * (rng.byte() as u16 & 1)),
            scales: core::array::from_fn(|_| rng.byte()),
            qs: core::array::from_fn(|_| rng.byte()),
        })
        .collect()
}

proptest! {
    /// Q4_K weights run as Q4_1 panels (kernels/src/pack.rs); the reference is
    /// `dot_q4_k_q8_1`, the same arithmetic on the unpacked blocks.
    #[test]
    fn q4_k_panels_match_reference(c in cases()) {
        let super_blocks = c.kb.div_ceil(8);
        let c = Case { kb: 8 * super_blocks, ..c };
        let mut rng = Rng(c.seed);
        let blocks = q4_k_blocks(c.rows * super_blocks, &mut rng);
        let w = PackedMatrix::pack(GgmlType::Q4K, bytemuck::cast_slice(&blocks), c.rows, c.kb * 32).unwrap();
        prop_assert_eq!((w.ty(), w.source), (GgmlType::Q4_1, GgmlType::Q4K));
        let a = q8_1_acts(&c, &mut rng);
        for k in tiers() {
            check(&k, &w, Activations::Q8_1(&a), c.m, |row, i| {
                let row_blocks = &blocks[row * super_blocks..(row + 1) * super_blocks];
                dot::dot_q4_k_q8_1(row_blocks, &a[i * c.kb..(i + 1) * c.kb])
            })?;
        }
    }

    /// Repacking Q4_K is lossless: `d * code + m` of every panel value is bit for bit the
    /// value ggml's Q4_K dequantization gives.
    #[test]
    fn q4_k_panels_dequantize_exactly(rows in 1usize..=9, super_blocks in 1usize..=2, seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let blocks = q4_k_blocks(rows * super_blocks, &mut rng);
        let cols = 256 * super_blocks;
        let w = PackedMatrix::pack(GgmlType::Q4K, bytemuck::cast_slice(&blocks), rows, cols).unwrap();
        let mut want = vec![0.0f32; rows * cols];
        dequantize_blocks(&blocks, &mut want).unwrap();
        let PanelData::Q4_1(panels) = &w.data else { panic!("Q4_K packs into Q4_1 panels") };
        let kb = cols / 32;
        for row in 0..rows {
            for col in 0..cols {
                let p = &panels[(row / 4) * kb + col / 32];
                let (r, i) = (row % 4, col % 32);
                // Values 0..16 are the low nibbles of the two groups, 16..32 the high.
                let byte = p.qs[group_offset(i % 16 / 8, r) + i % 8];
                let code = if i < 16 { byte & 0x0f } else { byte >> 4 };
                let got = p.d[r] * f32::from(code) + p.m[r];
                let w = want[row * cols + col];
                prop_assert!(got.to_bits() == w.to_bits() || (got.is_nan() && w.is_nan()), "row {row} col {col}: {got} != {w}");
            }
        }
    }
}

/// Random Q5_0 blocks: any codes, scales from [`Rng::scale`] with a random sign; one
/// block in 8 has every code 0 (quant -16, the largest magnitude).
fn q5_0_blocks(n: usize, rng: &mut Rng) -> Vec<BlockQ5_0> {
    (0..n)
        .map(|_| {
            let d = rng.scale() ^ (0x8000 * (rng.byte() as u16 & 1));
            if rng.next().is_multiple_of(8) {
                BlockQ5_0 {
                    d,
                    qh: [0; 4],
                    qs: [0; 16],
                }
            } else {
                BlockQ5_0 {
                    d,
                    qh: core::array::from_fn(|_| rng.byte()),
                    qs: core::array::from_fn(|_| rng.byte()),
                }
            }
        })
        .collect()
}

proptest! {
    /// Q5_0 weights run as Q8_0 panels (kernels/src/pack.rs) on every tier's Q8_0 kernel;
    /// the reference is `dot_q5_0_q8_0` on the unpacked blocks.
    #[test]
    fn q5_0_panels_match_reference(c in cases()) {
        let mut rng = Rng(c.seed);
        let blocks = q5_0_blocks(c.rows * c.kb, &mut rng);
        let w = PackedMatrix::pack(GgmlType::Q5_0, bytemuck::cast_slice(&blocks), c.rows, c.kb * 32).unwrap();
        prop_assert_eq!((w.ty(), w.source), (GgmlType::Q8_0, GgmlType::Q5_0));
        let a = q8_0_acts(&c, &mut rng);
        for k in tiers() {
            check(&k, &w, Activations::Q8_0(&a), c.m, |row, i| {
                dot::dot_q5_0_q8_0(&blocks[row * c.kb..(row + 1) * c.kb], &a[i * c.kb..(i + 1) * c.kb])
            })?;
        }
    }

    /// Repacking Q5_0 is lossless: `q * d` of every panel value is bit for bit the value
    /// ggml's Q5_0 dequantization gives.
    #[test]
    fn q5_0_panels_dequantize_exactly(rows in 1usize..=9, kb in 1usize..=3, seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let blocks = q5_0_blocks(rows * kb, &mut rng);
        let cols = 32 * kb;
        let w = PackedMatrix::pack(GgmlType::Q5_0, bytemuck::cast_slice(&blocks), rows, cols).unwrap();
        let mut want = vec![0.0f32; rows * cols];
        dequantize_blocks(&blocks, &mut want).unwrap();
        let PanelData::Q8_0(panels) = &w.data else { panic!("Q5_0 packs into Q8_0 panels") };
        for row in 0..rows {
            for col in 0..cols {
                let p = &panels[(row / 4) * kb + col / 32];
                let (r, i) = (row % 4, col % 32);
                let q = p.qs[group_offset(i / 8, r) + i % 8];
                prop_assert!((-16..=15).contains(&q));
                let got = f32::from(q) * p.d[r];
                let w = want[row * cols + col];
                prop_assert!(got.to_bits() == w.to_bits(), "row {row} col {col}: {got} != {w}");
            }
        }
    }
}

/// Random Q6_K blocks: any code and int8 scale (one block in 8 with every code 0, i.e.
/// quant -32, and every scale -128: the largest products), scales from [`Rng::scale`].
fn q6_k_blocks(n: usize, rng: &mut Rng) -> Vec<BlockQ6K> {
    (0..n)
        .map(|_| {
            if rng.next().is_multiple_of(8) {
                BlockQ6K {
                    ql: [0; 128],
                    qh: [0; 64],
                    scales: [-128; 16],
                    d: rng.scale(),
                }
            } else {
                BlockQ6K {
                    ql: core::array::from_fn(|_| rng.byte()),
                    qh: core::array::from_fn(|_| rng.byte()),
                    scales: core::array::from_fn(|_| rng.byte() as i8),
                    d: rng.scale(),
                }
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn q6_k_panels_match_reference(c in cases()) {
        let super_blocks = c.kb.div_ceil(8);
        let c = Case { kb: 8 * super_blocks, ..c };
        let mut rng = Rng(c.seed);
        let blocks = q6_k_blocks(c.rows * super_blocks, &mut rng);
        let w = PackedMatrix::pack(GgmlType::Q6K, bytemuck::cast_slice(&blocks), c.rows, c.kb * 32).unwrap();
        let a = q8_0_acts(&c, &mut rng);
        for k in tiers() {
            check(&k, &w, Activations::Q8_0(&a), c.m, |row, i| {
                let row_blocks = &blocks[row * super_blocks..(row + 1) * super_blocks];
                dot::dot_q6_k_q8_0(row_blocks, &a[i * c.kb..(i + 1) * c.kb])
            })?;
        }
    }

    /// Q6_K panels hold the quants and scales unchanged: `d * sc * q` of every panel value
    /// is bit for bit ggml's Q6_K dequantization.
    #[test]
    fn q6_k_panels_dequantize_exactly(rows in 1usize..=9, super_blocks in 1usize..=2, seed in any::<u64>()) {
        let mut rng = Rng(seed);
        let blocks = q6_k_blocks(rows * super_blocks, &mut rng);
        let cols = 256 * super_blocks;
        let w = PackedMatrix::pack(GgmlType::Q6K, bytemuck::cast_slice(&blocks), rows, cols).unwrap();
        let mut want = vec![0.0f32; rows * cols];
        dequantize_blocks(&blocks, &mut want).unwrap();
        let PanelData::Q6K(panels) = &w.data else { panic!("Q6_K packs into Q6_K panels") };
        let kb = cols / 32;
        for row in 0..rows {
            for col in 0..cols {
                let p = &panels[(row / 4) * kb + col / 32];
                let (r, i) = (row % 4, col % 32);
                let q = p.qs[group_offset(i / 8, r) + i % 8];
                let got = p.d[r] * f32::from(p.sc[4 * (i / 16) + r]) * f32::from(q);
                let w = want[row * cols + col];
                prop_assert!(got.to_bits() == w.to_bits() || (got.is_nan() && w.is_nan()), "row {row} col {col}: {got} != {w}");
            }
        }
    }
}

/// Every nibble value against every extreme activation, in one deterministic case.
#[test]
fn every_nibble_against_extreme_activations() {
    for fill in [-128i8, 127, -1, 1] {
        let blocks: Vec<BlockQ4_0> = (0..16u8)
            .map(|v| BlockQ4_0 {
                d: f32_to_f16(1.0),
                qs: [v | (v << 4); 16],
            })
            .collect();
        let w = PackedMatrix::pack(GgmlType::Q4_0, bytemuck::cast_slice(&blocks), 16, 32).unwrap();
        let a = vec![BlockQ8_0 {
            d: f32_to_f16(1.0),
            qs: [fill; 32],
        }];
        for k in tiers() {
            let mut out = vec![0.0; 16];
            k.gemm(&w, 0..4, Activations::Q8_0(&a), 1, &mut out, 16)
                .unwrap();
            for (v, o) in out.iter().enumerate() {
                let want = (v as f32 - 8.0) * 32.0 * f32::from(fill);
                assert_eq!(
                    *o,
                    want,
                    "{} nibble {v} act {fill}",
                    k.kernel_name(GgmlType::Q4_0)
                );
            }
        }
    }
}

/// The tier the emulated CPU must run really ran: its table exists and serves every
/// packed format with a kernel of that tier (not the scalar fallback).
#[test]
fn expected_tier_runs() {
    let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") else {
        return;
    };
    let isa = Isa::parse(&expected).expect("SLIMLM_EXPECT_ISA names a tier");
    let kernels = Kernels::new(isa).expect("the expected tier is available on this CPU");
    for ty in [
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q4K,
        GgmlType::Q5_0,
        GgmlType::Q6K,
    ] {
        // Weights that pack into another format's panels run that format's kernel.
        let panel = PackedMatrix::panel_type(ty).expect("every listed type packs");
        let name = kernels.kernel_name(panel);
        eprintln!("{isa}: {ty} -> {name}");
        assert!(
            name.ends_with(isa.name()),
            "{isa} serves {ty} with {name}, not with a kernel of its own tier"
        );
    }
}

/// The policy for inf and NaN scales in a file: they are not refused at load (a file's
/// scales are never scanned); every tier propagates them exactly as the scalar reference
/// does, i.e. IEEE arithmetic on the block's float stage: a NaN scale gives NaN, an
/// infinite one an infinity of the product's sign, or NaN where it meets a zero integer
/// sum or a zero scale (`inf * 0`) or an infinity of the other sign (`inf - inf`). NaN
/// payloads may differ (x86 and ARM quiet them differently). Q8_0, Q4_0 and Q4_1 (`d` and
/// `m`) weights, Q8_0 and Q8_1 (`d` and `s`) activations.
#[test]
fn non_finite_scales_propagate_as_in_the_reference() {
    const SPECIAL: [u16; 6] = [0x7C00, 0xFC00, 0x7E00, 0xFE01, 0x0000, 0x3C00]; // +-inf, NaNs, 0, 1
    let mut rng = Rng(0x5EED);
    let special = |rng: &mut Rng| -> u16 {
        if rng.next().is_multiple_of(3) {
            SPECIAL[(rng.next() % SPECIAL.len() as u64) as usize]
        } else {
            rng.scale()
        }
    };
    let mut non_finite_outputs = 0;
    for kb in [1, 3, 33] {
        for (rows, m) in [(5, 1), (8, 3), (9, 9)] {
            let a8: Vec<BlockQ8_0> = (0..m * kb)
                .map(|_| BlockQ8_0 {
                    d: special(&mut rng),
                    qs: core::array::from_fn(|_| rng.byte() as i8),
                })
                .collect();
            let a81: Vec<BlockQ8_1> = (0..m * kb)
                .map(|_| BlockQ8_1 {
                    d: special(&mut rng),
                    s: special(&mut rng),
                    qs: core::array::from_fn(|_| rng.byte() as i8),
                })
                .collect();
            let q8: Vec<BlockQ8_0> = (0..rows * kb)
                .map(|_| BlockQ8_0 {
                    d: special(&mut rng),
                    qs: core::array::from_fn(|_| rng.byte() as i8),
                })
                .collect();
            let q40: Vec<BlockQ4_0> = (0..rows * kb)
                .map(|_| BlockQ4_0 {
                    d: special(&mut rng),
                    qs: core::array::from_fn(|_| rng.byte()),
                })
                .collect();
            let q41: Vec<BlockQ4_1> = (0..rows * kb)
                .map(|_| BlockQ4_1 {
                    d: special(&mut rng),
                    m: special(&mut rng),
                    qs: core::array::from_fn(|_| rng.byte()),
                })
                .collect();
            let cols = kb * 32;
            let pack = |ty, bytes: &[u8]| PackedMatrix::pack(ty, bytes, rows, cols).unwrap();
            let w8 = pack(GgmlType::Q8_0, bytemuck::cast_slice(&q8));
            let w40 = pack(GgmlType::Q4_0, bytemuck::cast_slice(&q40));
            let w41 = pack(GgmlType::Q4_1, bytemuck::cast_slice(&q41));
            let row = |i: usize| i * kb..(i + 1) * kb;
            for k in tiers() {
                check(&k, &w8, Activations::Q8_0(&a8), m, |r, i| {
                    dot::dot_q8_0_q8_0(&q8[row(r)], &a8[row(i)])
                })
                .unwrap();
                check(&k, &w40, Activations::Q8_0(&a8), m, |r, i| {
                    dot::dot_q4_0_q8_0(&q40[row(r)], &a8[row(i)])
                })
                .unwrap();
                check(&k, &w41, Activations::Q8_1(&a81), m, |r, i| {
                    dot::dot_q4_1_q8_1(&q41[row(r)], &a81[row(i)])
                })
                .unwrap();
            }
            non_finite_outputs += (0..rows)
                .flat_map(|r| (0..m).map(move |i| (r, i)))
                .filter(|&(r, i)| !dot::dot_q8_0_q8_0(&q8[row(r)], &a8[row(i)]).is_finite())
                .count();
        }
    }
    // The data did exercise the policy: most outputs meet a non-finite scale.
    assert!(
        non_finite_outputs > 20,
        "{non_finite_outputs} non-finite outputs"
    );
}
