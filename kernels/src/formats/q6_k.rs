//! Q6_K: a 256-value super-block of 16 sub-blocks of 16, each with an int8 scale,
//! `x = d * sc[i / 16] * (code - 32)`, codes 0..=63.
//!
//! Layout (210 bytes): `ql[128]` (low 4 bits), `qh[64]` (high 2 bits), `scales[16]`
//! (int8), `d` (f16 bits). For half `n` in 0..2 and `l` in 0..32, with
//! `ql = ql[64 n..]`, `qh = qh[32 n..]`, the elements `128 n + l + 32 k` are:
//! k=0: low nibble of `ql[l]`, bits 0-1 of `qh[l]`; k=1: low nibble of `ql[l + 32]`,
//! bits 2-3; k=2: high nibble of `ql[l]`, bits 4-5; k=3: high nibble of `ql[l + 32]`,
//! bits 6-7.

use bytemuck::{Pod, Zeroable};

use super::{f16_to_f32, BlockFormat, GgmlType, QK_K};

/// One Q6_K block, byte for byte ggml's `block_q6_K`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ6K {
    /// Low 4 bits of the codes.
    pub ql: [u8; QK_K / 2],
    /// High 2 bits of the codes.
    pub qh: [u8; QK_K / 4],
    /// Sub-block scales.
    pub scales: [i8; QK_K / 16],
    /// Super-block scale, f16 bits.
    pub d: u16,
}

const _: () = assert!(core::mem::size_of::<BlockQ6K>() == 210);
const _: () = assert!(core::mem::align_of::<BlockQ6K>() == 2);

impl BlockQ6K {
    /// The 256 signed quants `code - 32` (-32..=31) in element order.
    pub fn quants(&self) -> [i8; QK_K] {
        let mut out = [0i8; QK_K];
        let halves = out
            .chunks_exact_mut(128)
            .zip(self.ql.chunks_exact(64))
            .zip(self.qh.chunks_exact(32));
        for ((out, ql), qh) in halves {
            for l in 0..32 {
                let h = qh[l];
                out[l] = ((ql[l] & 0x0f) | ((h & 3) << 4)) as i8 - 32;
                out[l + 32] = ((ql[l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) as i8 - 32;
                out[l + 64] = ((ql[l] >> 4) | (((h >> 4) & 3) << 4)) as i8 - 32;
                out[l + 96] = ((ql[l + 32] >> 4) | (((h >> 6) & 3) << 4)) as i8 - 32;
            }
        }
        out
    }
}

impl BlockFormat for BlockQ6K {
    const TYPE: GgmlType = GgmlType::Q6K;
    const ELEMS: usize = QK_K;

    /// ggml's `dequantize_row_q6_K`: `d * sc as f32 * q as f32`, evaluated left to right
    /// (the product `d * sc` first).
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK_K, "Q6_K block decodes to 256 values");
        let d = f16_to_f32(self.d);
        let quants = self.quants();
        for (i, (o, &q)) in out.iter_mut().zip(&quants).enumerate() {
            *o = d * f32::from(self.scales[i / 16]) * f32::from(q);
        }
    }
}
