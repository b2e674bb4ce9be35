//! The kernel microbenchmark set, shared by the criterion bench (`benches/matmul.rs`) and
//! `slimlm bench --kernels` (which runs it without cargo, on a phone): the weight shapes of
//! SmolLM2-135M and SlimLM-125M, the batch sizes of decode and prefill, and deterministic
//! synthetic operands. Inference never uses this module.

use alloc::vec::Vec;
use bytemuck::Zeroable;

use crate::formats::{
    f32_to_f16, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ6K, BlockQ8_0, BlockQ8_1, GgmlType,
};
use crate::formats::{quantize_blocks, FormatError};
use crate::matmul::{activation_type, Activations};
use crate::pack::PackedMatrix;

/// A weight matrix shape: `k` inputs (columns) by `n` outputs (rows), and where it occurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub k: usize,
    pub n: usize,
    pub role: &'static str,
}

/// Every distinct matrix shape of SmolLM2-135M (d 576, ffn 1536, vocab 49152) and
/// SlimLM-125M (d 768, fused QKV 2304, ffn 3072, vocab 50368), as `k x n`.
pub const SHAPES: [Shape; 8] = [
    Shape {
        k: 576,
        n: 576,
        role: "SmolLM2 attn q/o",
    },
    Shape {
        k: 576,
        n: 1536,
        role: "SmolLM2 ffn gate/up",
    },
    Shape {
        k: 1536,
        n: 576,
        role: "SmolLM2 ffn down",
    },
    Shape {
        k: 768,
        n: 2304,
        role: "SlimLM fused qkv",
    },
    Shape {
        k: 768,
        n: 3072,
        role: "SlimLM ffn up",
    },
    Shape {
        k: 3072,
        n: 768,
        role: "SlimLM ffn down",
    },
    Shape {
        k: 576,
        n: 49152,
        role: "SmolLM2 tied LM head",
    },
    Shape {
        k: 768,
        n: 50368,
        role: "SlimLM tied LM head",
    },
];

/// Activation rows per product: 1 (decode, GEMV) and 64 (a prefill tile, GEMM).
pub const BATCHES: [usize; 2] = [1, 64];

/// Weight formats that have panel kernels (Q4_K runs on the Q4_1 kernels, after its own
/// repacking).
pub const FORMATS: [GgmlType; 5] = [
    GgmlType::Q8_0,
    GgmlType::Q4_0,
    GgmlType::Q4_1,
    GgmlType::Q4K,
    GgmlType::Q6K,
];

/// The shapes of [`SHAPES`] a `ty` matrix can have: `k` a multiple of its block (256 for
/// the K-quants, so none of SmolLM2's k = 576; llama.cpp's K-quant files store those
/// tensors in other formats).
pub fn shapes_for(ty: GgmlType) -> impl Iterator<Item = Shape> {
    SHAPES
        .into_iter()
        .filter(move |s| s.k.is_multiple_of(ty.block_elems()))
}

/// Widths of the activation rows the models quantize (d_model and ffn of both models).
pub const ACTIVATION_WIDTHS: [usize; 4] = [576, 768, 1536, 3072];

/// A tiny linear congruential generator: the same operands on every machine.
struct Lcg(u32);

impl Lcg {
    fn byte(&mut self) -> u8 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (self.0 >> 24) as u8
    }
}

/// An `n x k` weight matrix of type `ty` (one of [`FORMATS`], `k` a multiple of its
/// block) with pseudo-random codes and sub-block scales, repacked into panels.
pub fn weights(ty: GgmlType, k: usize, n: usize) -> Result<PackedMatrix, FormatError> {
    let blocks = n * k / ty.block_elems();
    let mut rng = Lcg(0x1234_5678);
    let d = f32_to_f16(0.01);
    let bytes: Vec<u8> = match ty {
        GgmlType::Q8_0 => {
            let v: Vec<BlockQ8_0> = (0..blocks)
                .map(|_| BlockQ8_0 {
                    d,
                    qs: core::array::from_fn(|_| rng.byte() as i8),
                })
                .collect();
            bytemuck::cast_slice(&v).to_vec()
        }
        GgmlType::Q4_0 => {
            let v: Vec<BlockQ4_0> = (0..blocks)
                .map(|_| BlockQ4_0 {
                    d,
                    qs: core::array::from_fn(|_| rng.byte()),
                })
                .collect();
            bytemuck::cast_slice(&v).to_vec()
        }
        GgmlType::Q4K => {
            let v: Vec<BlockQ4K> = (0..blocks)
                .map(|_| BlockQ4K {
                    d,
                    dmin: d,
                    scales: core::array::from_fn(|_| rng.byte()),
                    qs: core::array::from_fn(|_| rng.byte()),
                })
                .collect();
            bytemuck::cast_slice(&v).to_vec()
        }
        GgmlType::Q6K => {
            let v: Vec<BlockQ6K> = (0..blocks)
                .map(|_| BlockQ6K {
                    ql: core::array::from_fn(|_| rng.byte()),
                    qh: core::array::from_fn(|_| rng.byte()),
                    scales: core::array::from_fn(|_| rng.byte() as i8),
                    d,
                })
                .collect();
            bytemuck::cast_slice(&v).to_vec()
        }
        _ => {
            let v: Vec<BlockQ4_1> = (0..blocks)
                .map(|_| BlockQ4_1 {
                    d,
                    m: d,
                    qs: core::array::from_fn(|_| rng.byte()),
                })
                .collect();
            bytemuck::cast_slice(&v).to_vec()
        }
    };
    PackedMatrix::pack(ty, &bytes, n, k)
}

/// `m` rows of `k` activation values in -127..=127 (k a multiple of 32).
pub fn activation_values(m: usize, k: usize) -> Vec<f32> {
    (0..m * k)
        .map(|i| ((i * 7919) % 255) as f32 - 127.0)
        .collect()
}

/// The same activation rows quantized to both formats the products take.
pub struct QuantizedRows {
    pub q8_0: Vec<BlockQ8_0>,
    pub q8_1: Vec<BlockQ8_1>,
}

impl QuantizedRows {
    /// Quantizes `m` rows of `k` values of [`activation_values`].
    pub fn new(m: usize, k: usize) -> Result<QuantizedRows, FormatError> {
        let x = activation_values(m, k);
        let mut q8_0 = alloc::vec![BlockQ8_0::zeroed(); m * k / 32];
        let mut q8_1 = alloc::vec![BlockQ8_1::zeroed(); m * k / 32];
        quantize_blocks(&x, &mut q8_0)?;
        quantize_blocks(&x, &mut q8_1)?;
        Ok(QuantizedRows { q8_0, q8_1 })
    }

    /// The rows in the format the product with `ty` weights takes.
    pub fn for_weights(&self, ty: GgmlType) -> Activations<'_> {
        match activation_type(ty) {
            GgmlType::Q8_1 => Activations::Q8_1(&self.q8_1),
            _ => Activations::Q8_0(&self.q8_0),
        }
    }
}

/// Multiply-accumulates of one product of an `n x k` matrix with `m` rows.
pub fn macs(shape: Shape, m: usize) -> u64 {
    (m * shape.k * shape.n) as u64
}
