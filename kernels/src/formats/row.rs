//! Byte-level entry points chosen by [`GgmlType`] at run time: what a loader holding a
//! tensor's raw bytes and its type id calls. Any alignment; errors, never panics.

use super::block::{dequantize_bytes, quantize_bytes};
use super::f16::{
    dequantize_row_bf16, dequantize_row_f16, dequantize_row_f32, quantize_row_bf16,
    quantize_row_f16, quantize_row_f32,
};
use super::{
    BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K, BlockQ8K, BlockQ8_0,
    BlockQ8_1, FormatError, GgmlType,
};

/// Decodes one row of `ty` from its raw little-endian bytes into `out`, bit-exact with
/// ggml's decoder (`to_float`) of that type.
///
/// Supports F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q4_K, Q5_K, Q6_K and
/// Q8_K; any other type
/// is [`FormatError::Unsupported`]. `bytes` must be whole blocks holding exactly
/// `out.len()` values.
pub fn dequantize_row(ty: GgmlType, bytes: &[u8], out: &mut [f32]) -> Result<(), FormatError> {
    match ty {
        GgmlType::F32 => dequantize_row_f32(bytes, out),
        GgmlType::F16 => dequantize_row_f16(bytes, out),
        GgmlType::BF16 => dequantize_row_bf16(bytes, out),
        GgmlType::Q4_0 => dequantize_bytes::<BlockQ4_0>(bytes, out),
        GgmlType::Q4_1 => dequantize_bytes::<BlockQ4_1>(bytes, out),
        GgmlType::Q5_0 => dequantize_bytes::<BlockQ5_0>(bytes, out),
        GgmlType::Q5_1 => dequantize_bytes::<BlockQ5_1>(bytes, out),
        GgmlType::Q8_0 => dequantize_bytes::<BlockQ8_0>(bytes, out),
        GgmlType::Q8_1 => dequantize_bytes::<BlockQ8_1>(bytes, out),
        GgmlType::Q4K => dequantize_bytes::<BlockQ4K>(bytes, out),
        GgmlType::Q5K => dequantize_bytes::<BlockQ5K>(bytes, out),
        GgmlType::Q6K => dequantize_bytes::<BlockQ6K>(bytes, out),
        GgmlType::Q8K => dequantize_bytes::<BlockQ8K>(bytes, out),
        _ => Err(FormatError::Unsupported {
            ty,
            op: "dequantize",
        }),
    }
}

/// Encodes `x` as one row of `ty` into the raw bytes `out`, bit-exact with ggml's
/// reference quantizer (`quantize_row_*_ref`) of that type.
///
/// Supports F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1 and Q8_K; any other type is
/// [`FormatError::Unsupported`]. `out` must be whole blocks holding exactly `x.len()`
/// values.
pub fn quantize_row(ty: GgmlType, x: &[f32], out: &mut [u8]) -> Result<(), FormatError> {
    match ty {
        GgmlType::F32 => quantize_row_f32(x, out),
        GgmlType::F16 => quantize_row_f16(x, out),
        GgmlType::BF16 => quantize_row_bf16(x, out),
        GgmlType::Q4_0 => quantize_bytes::<BlockQ4_0>(x, out),
        GgmlType::Q4_1 => quantize_bytes::<BlockQ4_1>(x, out),
        GgmlType::Q5_0 => quantize_bytes::<BlockQ5_0>(x, out),
        GgmlType::Q5_1 => quantize_bytes::<BlockQ5_1>(x, out),
        GgmlType::Q8_0 => quantize_bytes::<BlockQ8_0>(x, out),
        GgmlType::Q8_1 => quantize_bytes::<BlockQ8_1>(x, out),
        GgmlType::Q8K => quantize_bytes::<BlockQ8K>(x, out),
        _ => Err(FormatError::Unsupported { ty, op: "quantize" }),
    }
}
