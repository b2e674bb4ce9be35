//! The common face of every block format: [`BlockFormat`] (decode) and [`QuantizeBlock`]
//! (encode), plus checked helpers that run them over whole rows, typed or as raw bytes.
//!
//! Block structs are `#[repr(C)]` plain old data whose bytes are exactly ggml's on-disk
//! layout (little-endian), so a row of a GGUF tensor can be viewed as `&[Block]` when it
//! is aligned, or decoded block by block from `&[u8]` when it is not.

use bytemuck::Pod;

use super::{FormatError, GgmlType};

/// A ggml block format: `ELEMS` values stored in `size_of::<Self>()` bytes.
pub trait BlockFormat: Pod {
    /// The GGUF type id this block layout belongs to.
    const TYPE: GgmlType;
    /// Values per block.
    const ELEMS: usize;

    /// Writes the block's values into `out`, bit for bit what ggml's `dequantize_row_*`
    /// writes (same f32 operations in the same order, never fused).
    ///
    /// # Panics
    /// If `out.len() != Self::ELEMS`.
    fn dequantize(&self, out: &mut [f32]);
}

/// A block format slimlm can also produce from f32 values.
pub trait QuantizeBlock: BlockFormat {
    /// The block ggml's `quantize_row_*_ref` makes from `x`.
    ///
    /// Non-finite inputs give an unspecified block, never a panic or UB.
    ///
    /// # Panics
    /// If `x.len() != Self::ELEMS`.
    fn quantize(x: &[f32]) -> Self;
}

/// Checks that `blocks` blocks of `B` hold exactly `f32_elems` values.
fn check_elems<B: BlockFormat>(blocks: usize, f32_elems: usize) -> Result<(), FormatError> {
    let block_elems = blocks.saturating_mul(B::ELEMS);
    if block_elems != f32_elems {
        return Err(FormatError::LengthMismatch {
            ty: B::TYPE,
            block_elems,
            f32_elems,
        });
    }
    Ok(())
}

/// Checks that `bytes` is a whole number of `B` blocks and returns how many.
fn whole_blocks<B: BlockFormat>(bytes: usize) -> Result<usize, FormatError> {
    let size = core::mem::size_of::<B>();
    if !bytes.is_multiple_of(size) {
        return Err(FormatError::PartialBlock { ty: B::TYPE, bytes });
    }
    Ok(bytes / size)
}

/// Decodes `blocks` into `out`, which must hold `blocks.len() * B::ELEMS` values.
pub fn dequantize_blocks<B: BlockFormat>(blocks: &[B], out: &mut [f32]) -> Result<(), FormatError> {
    check_elems::<B>(blocks.len(), out.len())?;
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(B::ELEMS)) {
        b.dequantize(o);
    }
    Ok(())
}

/// Decodes the raw block bytes `bytes` (any alignment) into `out`.
pub fn dequantize_bytes<B: BlockFormat>(bytes: &[u8], out: &mut [f32]) -> Result<(), FormatError> {
    let n = whole_blocks::<B>(bytes.len())?;
    check_elems::<B>(n, out.len())?;
    let size = core::mem::size_of::<B>();
    for (raw, o) in bytes.chunks_exact(size).zip(out.chunks_exact_mut(B::ELEMS)) {
        bytemuck::pod_read_unaligned::<B>(raw).dequantize(o);
    }
    Ok(())
}

/// Encodes `x` into `out`, which must have `x.len() / B::ELEMS` blocks.
pub fn quantize_blocks<B: QuantizeBlock>(x: &[f32], out: &mut [B]) -> Result<(), FormatError> {
    check_elems::<B>(out.len(), x.len())?;
    for (v, o) in x.chunks_exact(B::ELEMS).zip(out.iter_mut()) {
        *o = B::quantize(v);
    }
    Ok(())
}

/// Encodes `x` as raw block bytes into `out` (any alignment).
pub fn quantize_bytes<B: QuantizeBlock>(x: &[f32], out: &mut [u8]) -> Result<(), FormatError> {
    let n = whole_blocks::<B>(out.len())?;
    check_elems::<B>(n, x.len())?;
    let size = core::mem::size_of::<B>();
    for (v, raw) in x.chunks_exact(B::ELEMS).zip(out.chunks_exact_mut(size)) {
        raw.copy_from_slice(bytemuck::bytes_of(&B::quantize(v)));
    }
    Ok(())
}

/// Elements per K-quant super-block (Q4_K, Q5_K, Q6_K, Q8_K).
pub const QK_K: usize = 256;
