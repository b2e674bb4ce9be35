//! Q4_0: 32 weights as 4-bit codes around 8 times one f16 scale, `x = (code - 8) * d`.
//!
//! Layout (18 bytes): `d` (f16 bits), then `qs[16]`; byte `j` holds element `j` in its low
//! nibble and element `j + 16` in its high nibble.

use bytemuck::{Pod, Zeroable};

use super::{f16_to_f32, f32_to_f16, BlockFormat, GgmlType, QuantizeBlock};

/// Elements per Q4_0 block.
pub const QK4_0: usize = 32;

/// One Q4_0 block, byte for byte ggml's `block_q4_0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ4_0 {
    /// Scale, f16 bits.
    pub d: u16,
    /// Codes 0..=15, two per byte (see the module docs for the order).
    pub qs: [u8; QK4_0 / 2],
}

const _: () = assert!(core::mem::size_of::<BlockQ4_0>() == 18);
const _: () = assert!(core::mem::align_of::<BlockQ4_0>() == 2);

impl BlockQ4_0 {
    /// The 4-bit code (0..=15) of element `i` (0..32); its value is `(code - 8) * d`.
    ///
    /// # Panics
    /// If `i >= 32`.
    pub fn code(&self, i: usize) -> u8 {
        assert!(i < QK4_0, "Q4_0 element {i} out of 0..32");
        let byte = self.qs[i % (QK4_0 / 2)];
        if i < QK4_0 / 2 {
            byte & 0x0f
        } else {
            byte >> 4
        }
    }

    /// The scale `d` widened to f32.
    pub fn scale(&self) -> f32 {
        f16_to_f32(self.d)
    }
}

/// ggml's `MIN(15, (int8_t)(v + 8.5f))`: `v` lies in [-8, 8] (up to rounding), so the
/// truncation of `v + 8.5` rounds `v` to the nearest integer with ties up, offset by 8.
/// Only the top code 16 (reached by `v == 8`, the opposite sign of the block's extreme)
/// needs the clamp. The lower clamp only matters for NaN-poisoned input (ggml: UB).
fn code_of(v: f32) -> u8 {
    ((v + 8.5) as i8).clamp(0, 15) as u8
}

impl BlockFormat for BlockQ4_0 {
    const TYPE: GgmlType = GgmlType::Q4_0;
    const ELEMS: usize = QK4_0;

    /// ggml's `dequantize_row_q4_0`: `(code - 8) as f32 * d`.
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK4_0, "Q4_0 block decodes to 32 values");
        let d = f16_to_f32(self.d);
        let (lo, hi) = out.split_at_mut(QK4_0 / 2);
        for ((&q, o0), o1) in self.qs.iter().zip(lo).zip(hi) {
            *o0 = (i32::from(q & 0x0f) - 8) as f32 * d;
            *o1 = (i32::from(q >> 4) - 8) as f32 * d;
        }
    }
}

impl QuantizeBlock for BlockQ4_0 {
    /// ggml's `quantize_row_q4_0_ref`: `d = max / -8` where `max` is the first value of
    /// largest magnitude (with its sign), so that value maps exactly to code 0; the other
    /// values map to the nearest code, ties up. The f32 `d` (not its f16 rounding) is used
    /// for the codes, as in ggml.
    fn quantize(x: &[f32]) -> Self {
        assert_eq!(x.len(), QK4_0, "Q4_0 block encodes 32 values");
        let mut amax = 0.0f32;
        let mut max = 0.0f32;
        for &v in x {
            if amax < v.abs() {
                amax = v.abs();
                max = v;
            }
        }
        let d = max / -8.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let mut qs = [0u8; QK4_0 / 2];
        let (lo, hi) = x.split_at(QK4_0 / 2);
        for ((q, &x0), &x1) in qs.iter_mut().zip(lo).zip(hi) {
            *q = code_of(x0 * id) | (code_of(x1 * id) << 4);
        }
        Self {
            d: f32_to_f16(d),
            qs,
        }
    }
}
