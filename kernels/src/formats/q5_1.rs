//! Q5_1: 32 weights as 5-bit codes with an f16 scale and an f16 minimum,
//! `x = code * d + m`.
//!
//! Layout (24 bytes): `d`, `m` (f16 bits), `qh[4]` and `qs[16]` holding the codes as in
//! Q5_0 (bit 4 in `qh`, the low nibbles in `qs`).
//!
//! No panel of slimlm holds these losslessly yet: Q4_1 panels keep 4-bit codes, and the
//! int8 panels (Q8_0, Q6_K) have no per-block minimum.

use bytemuck::{Pod, Zeroable};

use super::q5_0::{five_bit_codes, pack_five_bit_codes};
use super::{f16_to_f32, f32_to_f16, BlockFormat, GgmlType, QuantizeBlock};

/// Elements per Q5_1 block.
pub const QK5_1: usize = 32;

/// One Q5_1 block, byte for byte ggml's `block_q5_1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ5_1 {
    /// Scale, f16 bits.
    pub d: u16,
    /// Minimum (the value of code 0), f16 bits.
    pub m: u16,
    /// Bit 4 of each code, element `i` at bit `i % 8` of byte `i / 8`.
    pub qh: [u8; 4],
    /// Low 4 bits of each code, two per byte (element `j` low, `j + 16` high nibble).
    pub qs: [u8; QK5_1 / 2],
}

const _: () = assert!(core::mem::size_of::<BlockQ5_1>() == 24);
const _: () = assert!(core::mem::align_of::<BlockQ5_1>() == 2);

impl BlockQ5_1 {
    /// The 32 codes (0..=31) in element order; value `i` is `codes[i] * d + m`.
    pub fn codes(&self) -> [u8; QK5_1] {
        five_bit_codes(&self.qh, &self.qs)
    }
}

impl BlockFormat for BlockQ5_1 {
    const TYPE: GgmlType = GgmlType::Q5_1;
    const ELEMS: usize = QK5_1;

    /// ggml's `dequantize_row_q5_1`: `code as f32 * d + m`, a product then a sum (never
    /// fused).
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK5_1, "Q5_1 block decodes to 32 values");
        let d = f16_to_f32(self.d);
        let m = f16_to_f32(self.m);
        for (o, c) in out.iter_mut().zip(self.codes()) {
            *o = f32::from(c) * d + m;
        }
    }
}

impl QuantizeBlock for BlockQ5_1 {
    /// ggml's `quantize_row_q5_1_ref`: `d = (max - min) / 31`, `m = min`, codes
    /// `(x - min) / d` rounded half up by `(uint8_t)(v + 0.5f)`, computed with the f32 `d`
    /// and `min`. `v` never exceeds 31 for finite input; the clamp to 31 (gguf-py's
    /// `clip`) only guards non-finite input, where ggml's cast is UB.
    fn quantize(x: &[f32]) -> Self {
        assert_eq!(x.len(), QK5_1, "Q5_1 block encodes 32 values");
        let mut min = f32::MAX;
        let mut max = -f32::MAX;
        for &v in x {
            if v < min {
                min = v;
            }
            if v > max {
                max = v;
            }
        }
        let d = (max - min) / 31.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let codes: [u8; QK5_1] =
            core::array::from_fn(|i| (((x[i] - min) * id + 0.5) as u8).min(31));
        let (qh, qs) = pack_five_bit_codes(&codes);
        Self {
            d: f32_to_f16(d),
            m: f32_to_f16(min),
            qh,
            qs,
        }
    }
}
