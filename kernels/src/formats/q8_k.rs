//! Q8_K: 256 values as int8 times one f32 scale, plus the sums of each 16 quants. The
//! activation format of the K-quant dot products (the sums fold the K-quant minimums
//! into 16 multiplies per block).
//!
//! Layout (292 bytes, align 4): `d` (f32), `qs[256]` in element order, `bsums[16]` where
//! `bsums[j] = sum(qs[16 j .. 16 j + 16])`.

use bytemuck::{Pod, Zeroable};

use super::round::nearest_int;
use super::{BlockFormat, GgmlType, QuantizeBlock, QK_K};

/// One Q8_K block, byte for byte ggml's `block_q8_K`.
#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
pub struct BlockQ8K {
    /// Scale (f32, not f16: activations are never stored).
    pub d: f32,
    /// Quants in element order, -127..=127 from the quantizer.
    pub qs: [i8; QK_K],
    /// Sum of each group of 16 quants.
    pub bsums: [i16; QK_K / 16],
}

const _: () = assert!(core::mem::size_of::<BlockQ8K>() == 292);
const _: () = assert!(core::mem::align_of::<BlockQ8K>() == 4);

impl BlockQ8K {
    /// Recomputes `bsums` from `qs` (for blocks built by hand).
    pub fn with_bsums(mut self) -> Self {
        for (s, group) in self.bsums.iter_mut().zip(self.qs.chunks_exact(16)) {
            // 16 * 128 fits easily in i16.
            *s = group.iter().map(|&q| i16::from(q)).sum();
        }
        self
    }
}

impl BlockFormat for BlockQ8K {
    const TYPE: GgmlType = GgmlType::Q8K;
    const ELEMS: usize = QK_K;

    /// ggml's `dequantize_row_q8_K`: `d * q as f32`.
    fn dequantize(&self, out: &mut [f32]) {
        assert_eq!(out.len(), QK_K, "Q8_K block decodes to 256 values");
        for (o, &q) in out.iter_mut().zip(&self.qs) {
            *o = self.d * f32::from(q);
        }
    }
}

impl QuantizeBlock for BlockQ8K {
    /// ggml's `quantize_row_q8_K_ref`: `max` is the first value of largest magnitude,
    /// with its sign; `iscale = -127 / max`, `q = min(127, nearest_int(iscale * x))`
    /// (ties to even), `d = 1 / iscale` (this f32 division, not `max / -127`: the two
    /// can differ in the last bit). An all-zero block gets `d = 0` and zero quants; ggml
    /// leaves its `bsums` unwritten there, we write zeros. Below |max| ~ 1.5e-36 the
    /// `iscale` overflows to infinity and the quants are garbage, as in ggml (no panic).
    fn quantize(x: &[f32]) -> Self {
        assert_eq!(x.len(), QK_K, "Q8_K block encodes 256 values");
        let mut max = 0.0f32;
        let mut amax = 0.0f32;
        for &v in x {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        let mut block = Self::zeroed();
        if amax == 0.0 {
            return block;
        }
        let iscale = -127.0 / max;
        for (q, &v) in block.qs.iter_mut().zip(x) {
            *q = nearest_int(iscale * v).clamp(-128, 127) as i8;
        }
        block.d = 1.0 / iscale;
        block.with_bsums()
    }
}
