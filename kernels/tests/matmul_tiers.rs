//! Every tier's panel products against the scalar reference dot products, bit for bit:
//! random shapes (rows and activation counts including 1 and primes, K a multiple of 32),
//! random data and extremes (-128/127 activations, every nibble, tiny and huge scales).
//!
//! Each tier this CPU supports is tested; under qemu `SLIMLM_EXPECT_ISA` names the tier
//! the emulated CPU must run, and the test fails if that tier did not run.

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
    Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
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

fn cases() -> impl Strategy<Value = Case> {
    (
        prop_oneof![1usize..=13, Just(4), Just(8), Just(17), Just(31)],
        1usize..=6,
        prop_oneof![1usize..=9, Just(13)],
        any::<u64>(),
        prop_oneof![
            6 => Just(Fill::Random),
            1 => Just(Fill::AllMin),
            1 => Just(Fill::AllMax)
        ],
    )
        .prop_map(|(rows, kb, m, seed, fill)| Case {
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
    /// A finite f16 scale: mostly ordinary, sometimes the smallest normal or the largest.
    fn scale(&mut self) -> u16 {
        match self.next() % 16 {
            0 => 0x0400, // smallest normal
            1 => 0x7BFF, // largest finite
            2 => 0x0000,
            _ => f32_to_f16((self.next() % 1000) as f32 / 997.0 + 0.001),
        }
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
            prop_assert!(
                got.to_bits() == want.to_bits(),
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
    fn q4_k_panels_match_reference(c in cases(), super_blocks in 1usize..=2) {
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
    fn q6_k_panels_match_reference(c in cases(), super_blocks in 1usize..=2) {
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
