//! Q8_0: 32 values as int8 times one f16 scale, `x = q * d`. The activation format of the
//! Q4_0 and Q8_0 dot products, and the format of llama.cpp's tied embeddings.
//!
//! Layout (34 bytes): `d` (f16 bits), then `qs[32]` in element order.

use bytemuck::{Pod, Zeroable};

use super::round::roundf;
use super::{f16_to_f32, f32_to_f16, BlockFormat, GgmlType, QuantizeBlock};

/// Elements per Q8_0 block.
pub const QK8_0: usize = 32;

/// One Q8_0 block, byte for byte ggml's `block_q8_0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ8_0 {
    /// Scale, f16 bits.
    pub d: u16,
    /// Quants in element order. ggml's quantizer only makes -127..=127; -128 is valid on
    /// disk and every decoder and dot product here handles it.
    pub qs: [i8; QK8_0],
}

const _: () = assert!(core::mem::size_of::<BlockQ8_0>() == 34);
const _: () = assert!(core::mem::align_of::<BlockQ8_0>() == 2);

/// The scale and inverse scale ggml's Q8_0 and Q8_1 quantizers derive from a block:
/// `d = amax / 127` and `id = 1 / d` (0 for an all-zero block).
pub(crate) fn q8_scale(x: &[f32]) -> (f32, f32) {
    let mut amax = 0.0f32;
    for &v in x {
        // ggml's MAX(amax, fabsf(v)), spelled out so NaN behaves as in C.
        amax = if amax > v.abs() { amax } else { v.abs() };
    }
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    (d, id)
}

impl BlockFormat for BlockQ8_0 {
    const TYPE: GgmlType = GgmlType::Q8_0;
    const ELEMS: usize = QK8_0;

    /// ggml's `dequantize_row_q8_0`: `q as f32 * d`.
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK8_0, "Q8_0 block decodes to 32 values");
        let d = f16_to_f32(self.d);
        for (o, &q) in out.iter_mut().zip(&self.qs) {
            *o = f32::from(q) * d;
        }
    }
}

impl QuantizeBlock for BlockQ8_0 {
    /// ggml's `quantize_row_q8_0_ref`: `d = amax / 127`, `q = roundf(x * (1 / d))`
    /// (halfway away from zero), with the f32 `d`; only `d` is stored rounded to f16.
    fn quantize(x: &[f32]) -> Self {
        assert_eq!(x.len(), QK8_0, "Q8_0 block encodes 32 values");
        let (d, id) = q8_scale(x);
        let mut qs = [0i8; QK8_0];
        for (q, &v) in qs.iter_mut().zip(x) {
            *q = roundf(v * id) as i8;
        }
        Self {
            d: f32_to_f16(d),
            qs,
        }
    }
}
