//! Q4_1: 32 weights as 4-bit codes with an f16 scale and an f16 minimum,
//! `x = code * d + m`.
//!
//! Layout (20 bytes): `d`, `m` (f16 bits), then `qs[16]`; byte `j` holds element `j` in
//! its low nibble and element `j + 16` in its high nibble.

use bytemuck::{Pod, Zeroable};

use super::{f16_to_f32, f32_to_f16, BlockFormat, GgmlType, QuantizeBlock};

/// Elements per Q4_1 block.
pub const QK4_1: usize = 32;

/// One Q4_1 block, byte for byte ggml's `block_q4_1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ4_1 {
    /// Scale, f16 bits.
    pub d: u16,
    /// Minimum (the value of code 0), f16 bits.
    pub m: u16,
    /// Codes 0..=15, two per byte (see the module docs for the order).
    pub qs: [u8; QK4_1 / 2],
}

const _: () = assert!(core::mem::size_of::<BlockQ4_1>() == 20);
const _: () = assert!(core::mem::align_of::<BlockQ4_1>() == 2);

impl BlockQ4_1 {
    /// The 4-bit code (0..=15) of element `i` (0..32); its value is `code * d + m`.
    ///
    /// # Panics
    /// If `i >= 32`.
    pub fn code(&self, i: usize) -> u8 {
        assert!(i < QK4_1, "Q4_1 element {i} out of 0..32");
        let byte = self.qs[i % (QK4_1 / 2)];
        if i < QK4_1 / 2 {
            byte & 0x0f
        } else {
            byte >> 4
        }
    }
}

/// ggml's `MIN(15, (int8_t)(v + 0.5f))` for `v` in [0, 15]: round half up.
fn code_of(v: f32) -> u8 {
    ((v + 0.5) as i8).clamp(0, 15) as u8
}

impl BlockFormat for BlockQ4_1 {
    const TYPE: GgmlType = GgmlType::Q4_1;
    const ELEMS: usize = QK4_1;

    /// ggml's `dequantize_row_q4_1`: `code as f32 * d + m`, a product then a sum (never
    /// fused; a C compiler contracting this into an fma would differ in the last bit).
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK4_1, "Q4_1 block decodes to 32 values");
        let d = f16_to_f32(self.d);
        let m = f16_to_f32(self.m);
        let (lo, hi) = out.split_at_mut(QK4_1 / 2);
        for ((&q, o0), o1) in self.qs.iter().zip(lo).zip(hi) {
            *o0 = f32::from(q & 0x0f) * d + m;
            *o1 = f32::from(q >> 4) * d + m;
        }
    }
}

impl QuantizeBlock for BlockQ4_1 {
    /// ggml's `quantize_row_q4_1_ref`: `d = (max - min) / 15`, `m = min`, codes
    /// `(x - min) / d` rounded half up, computed with the f32 `d` and `min`.
    fn quantize(x: &[f32]) -> Self {
        assert_eq!(x.len(), QK4_1, "Q4_1 block encodes 32 values");
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
        let d = (max - min) / 15.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let mut qs = [0u8; QK4_1 / 2];
        let (lo, hi) = x.split_at(QK4_1 / 2);
        for ((q, &x0), &x1) in qs.iter_mut().zip(lo).zip(hi) {
            *q = code_of((x0 - min) * id) | (code_of((x1 - min) * id) << 4);
        }
        Self {
            d: f32_to_f16(d),
            m: f32_to_f16(min),
            qs,
        }
    }
}
