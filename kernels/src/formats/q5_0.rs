//! Q5_0: 32 weights as 5-bit codes around 16 times one f16 scale, `x = (code - 16) * d`.
//!
//! Layout (22 bytes): `d` (f16 bits), `qh[4]` (the 5th bits: bit `i` of the little-endian
//! u32 is bit 4 of element `i`'s code), `qs[16]` (the low 4 bits: byte `j` holds element
//! `j` in its low nibble and element `j + 16` in its high nibble, as Q4_0).
//!
//! `code - 16` lies in -16..=15, so a Q5_0 block is exactly a Q8_0 block with the same
//! `d` ([`BlockQ5_0::quants`]): that is how Q5_0 weights load today (Q8_0 panels, see
//! `crate::pack`).

use bytemuck::{Pod, Zeroable};

use super::{f16_to_f32, f32_to_f16, BlockFormat, GgmlType, QuantizeBlock};

/// Elements per Q5_0 block.
pub const QK5_0: usize = 32;

/// One Q5_0 block, byte for byte ggml's `block_q5_0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ5_0 {
    /// Scale, f16 bits.
    pub d: u16,
    /// Bit 4 of each code, element `i` at bit `i % 8` of byte `i / 8` (a little-endian u32;
    /// bytes, not a `u32`, because ggml's block is only 2-byte aligned).
    pub qh: [u8; 4],
    /// Low 4 bits of each code, two per byte (see the module docs for the order).
    pub qs: [u8; QK5_0 / 2],
}

const _: () = assert!(core::mem::size_of::<BlockQ5_0>() == 22);
const _: () = assert!(core::mem::align_of::<BlockQ5_0>() == 2);

/// The 32 five-bit codes (0..=31) of a Q5_0 / Q5_1 block in element order: low nibbles
/// from `qs` (elements `j` and `j + 16` share byte `j`), bit 4 from bit `i` of `qh`.
pub(crate) fn five_bit_codes(qh: &[u8; 4], qs: &[u8; 16]) -> [u8; 32] {
    let high = u32::from_le_bytes(*qh);
    core::array::from_fn(|i| {
        let nibble = if i < 16 {
            qs[i] & 0x0f
        } else {
            qs[i - 16] >> 4
        };
        nibble | ((((high >> i) & 1) as u8) << 4)
    })
}

/// The inverse of [`five_bit_codes`], as ggml's Q5 quantizers pack: codes must be
/// 0..=31 (higher bits are dropped).
pub(crate) fn pack_five_bit_codes(codes: &[u8; 32]) -> ([u8; 4], [u8; 16]) {
    let mut high = 0u32;
    for (i, &c) in codes.iter().enumerate() {
        high |= u32::from((c >> 4) & 1) << i;
    }
    let qs = core::array::from_fn(|j| (codes[j] & 0x0f) | ((codes[j + 16] & 0x0f) << 4));
    (high.to_le_bytes(), qs)
}

impl BlockQ5_0 {
    /// The 32 codes (0..=31) in element order; value `i` is `(codes[i] - 16) * d`.
    pub fn codes(&self) -> [u8; QK5_0] {
        five_bit_codes(&self.qh, &self.qs)
    }

    /// The signed quants `code - 16` (-16..=15) in element order: with the same `d`, the
    /// quants of a Q8_0 block holding exactly this block's values.
    pub fn quants(&self) -> [i8; QK5_0] {
        self.codes().map(|c| c as i8 - 16)
    }

    /// The scale `d` widened to f32.
    pub fn scale(&self) -> f32 {
        f16_to_f32(self.d)
    }
}

/// ggml's `MIN(31, (int8_t)(v + 16.5f))`: `v` lies in [-16, 16] (up to rounding), so the
/// truncation rounds `v` to the nearest integer with ties up, offset by 16. Only the top
/// code 32 (reached by `v == 16`, the opposite sign of the block's extreme) needs the
/// clamp; the lower one only matters for NaN-poisoned input (ggml: UB).
fn code_of(v: f32) -> u8 {
    ((v + 16.5) as i8).clamp(0, 31) as u8
}

impl BlockFormat for BlockQ5_0 {
    const TYPE: GgmlType = GgmlType::Q5_0;
    const ELEMS: usize = QK5_0;

    /// ggml's `dequantize_row_q5_0`: `(code - 16) as f32 * d`.
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK5_0, "Q5_0 block decodes to 32 values");
        let d = f16_to_f32(self.d);
        for (o, q) in out.iter_mut().zip(self.quants()) {
            *o = f32::from(q) * d;
        }
    }
}

impl QuantizeBlock for BlockQ5_0 {
    /// ggml's `quantize_row_q5_0_ref`: `d = max / -16` where `max` is the first value of
    /// largest magnitude (with its sign), so that value maps exactly to code 0; the others
    /// map to the nearest code, ties up, computed with the f32 `d` (only the stored `d` is
    /// rounded to f16).
    fn quantize(x: &[f32]) -> Self {
        assert_eq!(x.len(), QK5_0, "Q5_0 block encodes 32 values");
        let mut amax = 0.0f32;
        let mut max = 0.0f32;
        for &v in x {
            if amax < v.abs() {
                amax = v.abs();
                max = v;
            }
        }
        let d = max / -16.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let codes: [u8; QK5_0] = core::array::from_fn(|i| code_of(x[i] * id));
        let (qh, qs) = pack_five_bit_codes(&codes);
        Self {
            d: f32_to_f16(d),
            qh,
            qs,
        }
    }
}
