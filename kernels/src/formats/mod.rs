//! GGUF tensor element types and their block layouts.
//!
//! [`GgmlType`] names every type id a GGUF file may carry, with its block geometry
//! (elements per block, bytes per block), so that a loader can validate any file, even one
//! whose types slimlm cannot compute with. The block structs of the formats slimlm does
//! compute with live in the submodules, each with its scalar (de)quantizer:
//!
//! - [`BlockFormat`] / [`QuantizeBlock`]: the one face of every block struct;
//!   [`dequantize_row`] / [`quantize_row`]: the same, chosen by [`GgmlType`] over raw bytes.
//! - One file per format (`q4_0`, `q4_1`, `q5_0`, `q5_1`, `q8_0`, `q8_1`, `q4_k`, `q5_k`,
//!   `q6_k`, `q8_k`), and
//!   `f16` for the f16 / bf16 conversions and the F32 / F16 / BF16 rows.
//!
//! Every decoder and quantizer here is bit-exact with ggml's scalar reference
//! (`ggml-quants.c`), which `tests/formats_fixtures.rs` checks against gguf-py.

mod block;
mod error;
pub mod f16;
pub mod q4_0;
pub mod q4_1;
pub mod q4_k;
pub mod q5_0;
pub mod q5_1;
pub mod q5_k;
pub mod q6_k;
pub mod q8_0;
pub mod q8_1;
pub mod q8_k;
mod round;
mod row;

pub use block::{
    dequantize_blocks, dequantize_bytes, quantize_blocks, quantize_bytes, BlockFormat,
    QuantizeBlock, QK_K,
};
pub use error::FormatError;
pub use f16::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16};
pub use q4_0::{BlockQ4_0, QK4_0};
pub use q4_1::{BlockQ4_1, QK4_1};
pub use q4_k::{pack_scale_min_k4, scale_min_k4, BlockQ4K};
pub use q5_0::{BlockQ5_0, QK5_0};
pub use q5_1::{BlockQ5_1, QK5_1};
pub use q5_k::BlockQ5K;
pub use q6_k::BlockQ6K;
pub use q8_0::{BlockQ8_0, QK8_0};
pub use q8_1::{BlockQ8_1, QK8_1};
pub use q8_k::BlockQ8K;
pub use row::{dequantize_row, quantize_row};

/// A GGUF/ggml tensor element type, by its on-disk id.
///
/// Ids and block sizes follow ggml (`ggml.h`, `ggml.c` type traits). Ids 4, 5 and 31..=33
/// were retired upstream and are rejected as unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum GgmlType {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2K = 10,
    Q3K = 11,
    Q4K = 12,
    Q5K = 13,
    Q6K = 14,
    Q8K = 15,
    IQ2XXS = 16,
    IQ2XS = 17,
    IQ3XXS = 18,
    IQ1S = 19,
    IQ4NL = 20,
    IQ3S = 21,
    IQ2S = 22,
    IQ4XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
}

impl GgmlType {
    /// Every known type, in id order.
    pub const ALL: [GgmlType; 32] = [
        Self::F32,
        Self::F16,
        Self::Q4_0,
        Self::Q4_1,
        Self::Q5_0,
        Self::Q5_1,
        Self::Q8_0,
        Self::Q8_1,
        Self::Q2K,
        Self::Q3K,
        Self::Q4K,
        Self::Q5K,
        Self::Q6K,
        Self::Q8K,
        Self::IQ2XXS,
        Self::IQ2XS,
        Self::IQ3XXS,
        Self::IQ1S,
        Self::IQ4NL,
        Self::IQ3S,
        Self::IQ2S,
        Self::IQ4XS,
        Self::I8,
        Self::I16,
        Self::I32,
        Self::I64,
        Self::F64,
        Self::IQ1M,
        Self::BF16,
        Self::TQ1_0,
        Self::TQ2_0,
        Self::MXFP4,
    ];

    /// The type with on-disk id `id`, or `None` for an id ggml does not define.
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| *t as u32 == id)
    }

    /// The on-disk id.
    pub fn id(self) -> u32 {
        self as u32
    }

    /// The name ggml and llama.cpp print for this type.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::Q4_0 => "Q4_0",
            Self::Q4_1 => "Q4_1",
            Self::Q5_0 => "Q5_0",
            Self::Q5_1 => "Q5_1",
            Self::Q8_0 => "Q8_0",
            Self::Q8_1 => "Q8_1",
            Self::Q2K => "Q2_K",
            Self::Q3K => "Q3_K",
            Self::Q4K => "Q4_K",
            Self::Q5K => "Q5_K",
            Self::Q6K => "Q6_K",
            Self::Q8K => "Q8_K",
            Self::IQ2XXS => "IQ2_XXS",
            Self::IQ2XS => "IQ2_XS",
            Self::IQ3XXS => "IQ3_XXS",
            Self::IQ1S => "IQ1_S",
            Self::IQ4NL => "IQ4_NL",
            Self::IQ3S => "IQ3_S",
            Self::IQ2S => "IQ2_S",
            Self::IQ4XS => "IQ4_XS",
            Self::I8 => "I8",
            Self::I16 => "I16",
            Self::I32 => "I32",
            Self::I64 => "I64",
            Self::F64 => "F64",
            Self::IQ1M => "IQ1_M",
            Self::BF16 => "BF16",
            Self::TQ1_0 => "TQ1_0",
            Self::TQ2_0 => "TQ2_0",
            Self::MXFP4 => "MXFP4",
        }
    }

    /// Elements per block (1 for plain scalar types).
    pub fn block_elems(self) -> usize {
        self.geometry().0
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        self.geometry().1
    }

    /// (elements per block, bytes per block), as ggml's type traits define them.
    ///
    /// Q8_1 is 36 bytes (f16 d, f16 s, 32 x i8) as in ggml's `block_q8_1`; the Python
    /// `gguf` package still lists an older 40-byte layout. Q8_1 never appears in files.
    fn geometry(self) -> (usize, usize) {
        match self {
            Self::F32 | Self::I32 => (1, 4),
            Self::F16 | Self::BF16 | Self::I16 => (1, 2),
            Self::I8 => (1, 1),
            Self::I64 | Self::F64 => (1, 8),
            Self::Q4_0 | Self::IQ4NL => (32, 18),
            Self::Q4_1 => (32, 20),
            Self::Q5_0 => (32, 22),
            Self::Q5_1 => (32, 24),
            Self::Q8_0 => (32, 34),
            Self::Q8_1 => (32, 36),
            Self::MXFP4 => (32, 17),
            Self::Q2K => (256, 84),
            Self::Q3K | Self::IQ3S => (256, 110),
            Self::Q4K => (256, 144),
            Self::Q5K => (256, 176),
            Self::Q6K => (256, 210),
            Self::Q8K => (256, 292),
            Self::IQ2XXS | Self::TQ2_0 => (256, 66),
            Self::IQ2XS => (256, 74),
            Self::IQ3XXS => (256, 98),
            Self::IQ1S => (256, 50),
            Self::IQ2S => (256, 82),
            Self::IQ4XS => (256, 136),
            Self::IQ1M => (256, 56),
            Self::TQ1_0 => (256, 54),
        }
    }

    /// Bytes taken by a row of `elems` elements, or `None` when `elems` is not a whole
    /// number of blocks or the size overflows.
    pub fn row_bytes(self, elems: u64) -> Option<u64> {
        let block = self.block_elems() as u64;
        if !elems.is_multiple_of(block) {
            return None;
        }
        (elems / block).checked_mul(self.block_bytes() as u64)
    }
}

impl core::fmt::Display for GgmlType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_are_none() {
        for t in GgmlType::ALL {
            assert_eq!(GgmlType::from_id(t.id()), Some(t));
        }
        for id in [4, 5, 31, 32, 33, 36, 37, 38, 40, 1000, u32::MAX] {
            assert_eq!(GgmlType::from_id(id), None, "id {id}");
        }
    }

    #[test]
    fn row_bytes_needs_whole_blocks() {
        assert_eq!(GgmlType::Q4_1.row_bytes(576), Some(18 * 20));
        assert_eq!(GgmlType::Q4_1.row_bytes(577), None);
        assert_eq!(GgmlType::F32.row_bytes(3), Some(12));
        assert_eq!(GgmlType::Q8_0.row_bytes(u64::MAX / 32 * 32), None);
    }
}
