//! Q5_K: a 256-value super-block of 8 sub-blocks of 32, each with a 6-bit scale and a
//! 6-bit minimum, `x = d * sc[j] * code - dmin * m[j]`, codes 0..=31.
//!
//! Layout (176 bytes): `d`, `dmin` (f16 bits), `scales[12]` (8 scales and 8 mins, 6 bits
//! each, packed as Q4_K's, see [`scale_min_k4`]), `qh[32]`, `qs[128]`: for chunk `c` in
//! 0..4 and `l` in 0..32, element `64 c + l` has its low 4 bits in the low nibble of
//! `qs[32 c + l]` and its bit 4 in bit `2 c` of `qh[l]`; element `64 c + 32 + l` has the
//! high nibble and bit `2 c + 1`.
//!
//! No slimlm panel holds these losslessly yet: each sub-block is a Q5_1-like block
//! ([`BlockQ5K::sub_block_as_q5_1`]), and no panel keeps 5-bit codes with a minimum.
//! slimlm decodes Q5_K but has no quantizer for it (ggml's `quantize_row_q5_K_ref` is an
//! iterative search with no gguf-py counterpart to check a port against).

use bytemuck::{Pod, Zeroable};

use super::q4_k::scale_min_k4;
use super::{f16_to_f32, BlockFormat, GgmlType, QK_K};

/// One Q5_K block, byte for byte ggml's `block_q5_K`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ5K {
    /// Super-block scale of the sub-block scales, f16 bits.
    pub d: u16,
    /// Super-block scale of the sub-block minimums, f16 bits.
    pub dmin: u16,
    /// 8 scales and 8 mins, 6 bits each (see [`scale_min_k4`]).
    pub scales: [u8; 12],
    /// Bit 4 of the codes (see the module docs for the order).
    pub qh: [u8; QK_K / 8],
    /// Low 4 bits of the codes, two per byte (see the module docs for the order).
    pub qs: [u8; QK_K / 2],
}

const _: () = assert!(core::mem::size_of::<BlockQ5K>() == 176);
const _: () = assert!(core::mem::align_of::<BlockQ5K>() == 2);

impl BlockQ5K {
    /// The 8 sub-block scales and the 8 sub-block mins, 0..=63 each.
    pub fn scales_mins(&self) -> ([u8; 8], [u8; 8]) {
        let mut sc = [0u8; 8];
        let mut m = [0u8; 8];
        for j in 0..8 {
            (sc[j], m[j]) = scale_min_k4(j, &self.scales);
        }
        (sc, m)
    }

    /// The 32 codes (0..=31) of sub-block `j` (0..8), values `32 j..32 j + 32`.
    ///
    /// # Panics
    /// If `j >= 8`.
    pub fn sub_block_codes(&self, j: usize) -> [u8; 32] {
        assert!(j < 8, "Q5_K sub-block {j} out of 0..8");
        // Sub-blocks 2c and 2c + 1 are the low and high nibbles of bytes 32c..32c + 32,
        // with their 5th bits in bits 2c and 2c + 1 of qh.
        let bytes = &self.qs[32 * (j / 2)..32 * (j / 2) + 32];
        core::array::from_fn(|l| {
            let nibble = if j.is_multiple_of(2) {
                bytes[l] & 0x0f
            } else {
                bytes[l] >> 4
            };
            nibble | (((self.qh[l] >> j) & 1) << 4)
        })
    }

    /// The 256 codes (0..=31) in element order.
    pub fn codes(&self) -> [u8; QK_K] {
        let mut codes = [0u8; QK_K];
        for (j, out) in codes.chunks_exact_mut(32).enumerate() {
            out.copy_from_slice(&self.sub_block_codes(j));
        }
        codes
    }

    /// Sub-block `j` (0..8) as a Q5_1-style block with f32 scales, `x = d * code + m` for
    /// the values `32 j..32 j + 32`: `d = d * sc[j]` and `m = -(dmin * m[j])`, both exact
    /// in f32 (an 11-bit f16 significand times a 6-bit integer), so `d * code + m` is bit
    /// for bit the `d1 * code - m1` of [`BlockFormat::dequantize`]. Codes in element order.
    ///
    /// # Panics
    /// If `j >= 8`.
    pub fn sub_block_as_q5_1(&self, j: usize) -> (f32, f32, [u8; 32]) {
        let (sc, m) = scale_min_k4(j, &self.scales);
        let d = f16_to_f32(self.d) * f32::from(sc);
        let m = -(f16_to_f32(self.dmin) * f32::from(m));
        (d, m, self.sub_block_codes(j))
    }
}

impl BlockFormat for BlockQ5K {
    const TYPE: GgmlType = GgmlType::Q5K;
    const ELEMS: usize = QK_K;

    /// ggml's `dequantize_row_q5_K`: per sub-block `d1 = d * sc`, `m1 = dmin * m` (f32),
    /// then `d1 * code - m1`.
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK_K, "Q5_K block decodes to 256 values");
        let d = f16_to_f32(self.d);
        let min = f16_to_f32(self.dmin);
        for (j, out) in out.chunks_exact_mut(32).enumerate() {
            let (sc, m) = scale_min_k4(j, &self.scales);
            let (d1, m1) = (d * f32::from(sc), min * f32::from(m));
            for (o, c) in out.iter_mut().zip(self.sub_block_codes(j)) {
                *o = d1 * f32::from(c) - m1;
            }
        }
    }
}
