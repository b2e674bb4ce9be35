//! Q4_K: a 256-value super-block of 8 sub-blocks of 32, each with a 6-bit scale and a
//! 6-bit minimum, `x = d * sc[j] * code - dmin * m[j]`, codes 0..=15.
//!
//! Layout (144 bytes): `d`, `dmin` (f16 bits), `scales[12]` (8 scales and 8 mins, 6 bits
//! each, packed as [`scale_min_k4`] reads them), `qs[128]`: for chunk `c` in 0..4, byte
//! `32 c + l` holds element `64 c + l` in its low nibble and `64 c + 32 + l` in its high.

use bytemuck::{Pod, Zeroable};

use super::{f16_to_f32, BlockFormat, GgmlType, QK_K};

/// One Q4_K block, byte for byte ggml's `block_q4_K`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ4K {
    /// Super-block scale of the sub-block scales, f16 bits.
    pub d: u16,
    /// Super-block scale of the sub-block minimums, f16 bits.
    pub dmin: u16,
    /// 8 scales and 8 mins, 6 bits each (see [`scale_min_k4`]).
    pub scales: [u8; 12],
    /// Codes 0..=15, two per byte (see the module docs for the order).
    pub qs: [u8; QK_K / 2],
}

const _: () = assert!(core::mem::size_of::<BlockQ4K>() == 144);
const _: () = assert!(core::mem::align_of::<BlockQ4K>() == 2);

/// ggml's `get_scale_min_k4`: the 6-bit (scale, min) of sub-block `j` (0..8).
///
/// Bytes 0..4 hold scales 0..4 in their low 6 bits, bytes 4..8 mins 0..4; bytes 8..12
/// hold the low 4 bits of scale/min 4..8 (scale low nibble, min high nibble), whose top
/// 2 bits sit in the spare top 2 bits of bytes 0..4 (scales) and 4..8 (mins).
///
/// # Panics
/// If `j >= 8`.
pub fn scale_min_k4(j: usize, q: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// The inverse of [`scale_min_k4`], as ggml's Q4_K quantizer packs: scales and mins must
/// be 0..=63 (higher bits are dropped).
pub fn pack_scale_min_k4(sc: &[u8; 8], m: &[u8; 8]) -> [u8; 12] {
    let mut q = [0u8; 12];
    for j in 0..8 {
        let (ls, lm) = (sc[j] & 63, m[j] & 63);
        if j < 4 {
            q[j] = ls;
            q[j + 4] = lm;
        } else {
            q[j + 4] = (ls & 0x0f) | ((lm & 0x0f) << 4);
            q[j - 4] |= (ls >> 4) << 6;
            q[j] |= (lm >> 4) << 6;
        }
    }
    q
}

impl BlockQ4K {
    /// The 8 sub-block scales and the 8 sub-block mins, 0..=63 each.
    pub fn scales_mins(&self) -> ([u8; 8], [u8; 8]) {
        let mut sc = [0u8; 8];
        let mut m = [0u8; 8];
        for j in 0..8 {
            (sc[j], m[j]) = scale_min_k4(j, &self.scales);
        }
        (sc, m)
    }

    /// Sub-block `j` (0..8) as a Q4_1 block with f32 scales, `x = d * code + m` for the
    /// values `32 j..32 j + 32`: `d = d * sc[j]` and `m = -(dmin * m[j])`, both exact in f32
    /// (an 11-bit f16 significand times a 6-bit integer), so `d * code + m` is bit for bit
    /// the `d1 * code - m1` of [`BlockFormat::dequantize`]. `qs` is in Q4_1 order: byte `i`
    /// holds value `i` in its low nibble and value `16 + i` in its high nibble.
    ///
    /// # Panics
    /// If `j >= 8`.
    pub fn sub_block_as_q4_1(&self, j: usize) -> (f32, f32, [u8; 16]) {
        let (sc, m) = scale_min_k4(j, &self.scales);
        let d = f16_to_f32(self.d) * f32::from(sc);
        let m = -(f16_to_f32(self.dmin) * f32::from(m));
        // Sub-blocks 2c and 2c + 1 are the low and high nibbles of bytes 32c..32c + 32.
        let bytes = &self.qs[32 * (j / 2)..32 * (j / 2) + 32];
        let code = |i: usize| {
            if j.is_multiple_of(2) {
                bytes[i] & 0x0f
            } else {
                bytes[i] >> 4
            }
        };
        let qs = core::array::from_fn(|i| code(i) | (code(16 + i) << 4));
        (d, m, qs)
    }

    /// The 256 codes (0..=15) in element order.
    pub fn codes(&self) -> [u8; QK_K] {
        let mut codes = [0u8; QK_K];
        for (out, q) in codes.chunks_exact_mut(64).zip(self.qs.chunks_exact(32)) {
            let (lo, hi) = out.split_at_mut(32);
            for ((&b, l), h) in q.iter().zip(lo).zip(hi) {
                *l = b & 0x0f;
                *h = b >> 4;
            }
        }
        codes
    }
}

impl BlockFormat for BlockQ4K {
    const TYPE: GgmlType = GgmlType::Q4K;
    const ELEMS: usize = QK_K;

    /// ggml's `dequantize_row_q4_K`: per sub-block `d1 = d * sc`, `m1 = dmin * m` (f32),
    /// then `d1 * code - m1`.
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK_K, "Q4_K block decodes to 256 values");
        let d = f16_to_f32(self.d);
        let min = f16_to_f32(self.dmin);
        for (c, (out, q)) in out
            .chunks_exact_mut(64)
            .zip(self.qs.chunks_exact(32))
            .enumerate()
        {
            let (sc1, m1) = scale_min_k4(2 * c, &self.scales);
            let (sc2, m2) = scale_min_k4(2 * c + 1, &self.scales);
            let (d1, m1) = (d * f32::from(sc1), min * f32::from(m1));
            let (d2, m2) = (d * f32::from(sc2), min * f32::from(m2));
            let (lo, hi) = out.split_at_mut(32);
            for ((&b, l), h) in q.iter().zip(lo).zip(hi) {
                *l = d1 * f32::from(b & 0x0f) - m1;
                *h = d2 * f32::from(b >> 4) - m2;
            }
        }
    }
}
