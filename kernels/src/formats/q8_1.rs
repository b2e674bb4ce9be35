//! Q8_1: Q8_0 plus the precomputed `s = d * sum(q)`, the activation format of the Q4_1
//! dot product (whose minimum term needs the sum of the activations).
//!
//! Layout (36 bytes): `d`, `s` (f16 bits), then `qs[32]` in element order. This is
//! ggml's current `block_q8_1`; gguf-py still lists an older 40-byte layout (f32 d, s).

use bytemuck::{Pod, Zeroable};

use super::q8_0::q8_scale;
use super::round::roundf;
use super::{f16_to_f32, f32_to_f16, BlockFormat, GgmlType, QuantizeBlock};

/// Elements per Q8_1 block.
pub const QK8_1: usize = 32;

/// One Q8_1 block, byte for byte ggml's `block_q8_1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ8_1 {
    /// Scale, f16 bits.
    pub d: u16,
    /// `d * sum(qs)` rounded to f16 (bits).
    pub s: u16,
    /// Quants in element order.
    pub qs: [i8; QK8_1],
}

const _: () = assert!(core::mem::size_of::<BlockQ8_1>() == 36);
const _: () = assert!(core::mem::align_of::<BlockQ8_1>() == 2);

impl BlockFormat for BlockQ8_1 {
    const TYPE: GgmlType = GgmlType::Q8_1;
    const ELEMS: usize = QK8_1;

    /// `q as f32 * d` (ggml has no Q8_1 decoder; this is the value the block stands for).
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK8_1, "Q8_1 block decodes to 32 values");
        let d = f16_to_f32(self.d);
        for (o, &q) in out.iter_mut().zip(&self.qs) {
            *o = f32::from(q) * d;
        }
    }
}

impl QuantizeBlock for BlockQ8_1 {
    /// ggml's `quantize_row_q8_1_ref`: the Q8_0 quants, and `s = f16(sum(q) as f32 * d)`
    /// with the f32 `d`.
    fn quantize(x: &[f32]) -> Self {
        assert_eq!(x.len(), QK8_1, "Q8_1 block encodes 32 values");
        let (d, id) = q8_scale(x);
        let mut qs = [0i8; QK8_1];
        let mut sum = 0i32;
        for (q, &v) in qs.iter_mut().zip(x) {
            *q = roundf(v * id) as i8;
            sum += i32::from(*q);
        }
        Self {
            d: f32_to_f16(d),
            s: f32_to_f16(sum as f32 * d),
            qs,
        }
    }
}
