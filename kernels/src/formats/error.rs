//! The one error type of the format layer: a value saying which type and which lengths.

use super::GgmlType;

/// Why a row could not be (de)quantized. Returned, never panicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// slimlm has no scalar (de)quantizer for this type (it may still be loaded and skipped).
    Unsupported {
        /// The type asked for.
        ty: GgmlType,
        /// `"dequantize"` or `"quantize"`.
        op: &'static str,
    },
    /// The byte slice is not a whole number of blocks of `ty`.
    PartialBlock {
        /// The block type.
        ty: GgmlType,
        /// Length of the byte slice.
        bytes: usize,
    },
    /// The number of elements the blocks hold differs from the length of the f32 slice.
    LengthMismatch {
        /// The block type.
        ty: GgmlType,
        /// Elements held by the blocks (or needed to fill them).
        block_elems: usize,
        /// Length of the f32 slice.
        f32_elems: usize,
    },
}

impl core::fmt::Display for FormatError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::Unsupported { ty, op } => write!(f, "no scalar {op} for tensor type {ty}"),
            Self::PartialBlock { ty, bytes } => write!(
                f,
                "{bytes} bytes is not a whole number of {ty} blocks ({} bytes each)",
                ty.block_bytes()
            ),
            Self::LengthMismatch {
                ty,
                block_elems,
                f32_elems,
            } => write!(
                f,
                "{ty} blocks hold {block_elems} elements but the f32 slice has {f32_elems}"
            ),
        }
    }
}

impl core::error::Error for FormatError {}
