//! The GGUF layout, read front to back: header, metadata, tensor infos, data section.
//!
//! ```text
//! magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
//! n_kv x (string key, u32 value type, value)
//! n_tensors x (string name, u32 n_dims, n_dims x u64 dim, u32 type, u64 offset)
//! zero padding to `general.alignment` (default 32) | tensor data
//! ```
//!
//! Only little-endian v2 and v3 files are read (v2 differs from v3 only in that it could
//! not be big-endian). Everything is validated here; nothing is interpreted.

use std::collections::HashSet;

use super::cursor::Cursor;
use super::error::{GgufError, Subject};
use super::metadata::{parse_value, MetaValue};
use super::tensors::{parse_info, place, RawTensor, TensorInfo, MIN_INFO_SIZE};

/// Alignment of the data section and of every tensor when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// The metadata key that sets the alignment.
pub(crate) const ALIGNMENT_KEY: &str = "general.alignment";

/// The smallest encoding of a metadata entry: key length, value type, a 1-byte value.
const MIN_KV_SIZE: u64 = 8 + 4 + 1;

/// A fully validated file, minus its bytes.
pub(crate) struct Parsed {
    pub(crate) version: u32,
    pub(crate) alignment: u64,
    pub(crate) data_offset: u64,
    pub(crate) metadata: Vec<(String, MetaValue)>,
    pub(crate) tensors: Vec<TensorInfo>,
}

/// Parses and validates a whole GGUF file.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, GgufError> {
    let mut cursor = Cursor::new(bytes);
    let header = Subject::Header;
    let magic = cursor.array::<4>(&header, "magic")?;
    if &magic != b"GGUF" {
        return Err(GgufError::BadMagic { found: magic });
    }
    let version = cursor.u32(&header, "version")?;
    match version {
        2 | 3 => {}
        v if (2..=3).contains(&v.swap_bytes()) => {
            return Err(GgufError::BigEndian {
                version: v.swap_bytes(),
            })
        }
        _ => return Err(GgufError::UnsupportedVersion { version }),
    }
    let n_tensors = cursor.count(&header, MIN_INFO_SIZE, "count of", "tensor infos")?;
    let n_kv = cursor.count(&header, MIN_KV_SIZE, "count of", "metadata entries")?;

    let (metadata, alignment) = parse_metadata(&mut cursor, n_kv)?;
    let raw = parse_tensor_infos(&mut cursor, n_tensors)?;

    let header_end = cursor.pos();
    // Cannot overflow (header_end is at most the file length, alignment at most 2^31);
    // were it to, u64::MAX puts every tensor out of bounds.
    let data_offset = header_end
        .checked_next_multiple_of(alignment)
        .unwrap_or(u64::MAX);
    let tensors = place(raw, data_offset, alignment, bytes.len() as u64)?;
    Ok(Parsed {
        version,
        alignment,
        data_offset,
        metadata,
        tensors,
    })
}

/// Reads `n_kv` metadata entries, rejecting duplicate keys, and returns them with the
/// alignment they set.
fn parse_metadata(
    cursor: &mut Cursor<'_>,
    n_kv: usize,
) -> Result<(Vec<(String, MetaValue)>, u64), GgufError> {
    let mut metadata = Vec::with_capacity(n_kv);
    let mut seen = HashSet::with_capacity(n_kv);
    let mut alignment = DEFAULT_ALIGNMENT;
    for index in 0..n_kv as u64 {
        let offset = cursor.pos();
        let key = cursor.string(&Subject::MetadataEntry(index))?;
        let value_offset = cursor.pos();
        let value = parse_value(cursor, &Subject::MetadataKey(key.clone()))?;
        if !seen.insert(key.clone()) {
            return Err(GgufError::DuplicateKey { offset, key });
        }
        if key == ALIGNMENT_KEY {
            alignment = check_alignment(&value, value_offset)?;
        }
        metadata.push((key, value));
    }
    Ok((metadata, alignment))
}

/// `general.alignment` must be a u32 power of two (which excludes 0).
fn check_alignment(value: &MetaValue, offset: u64) -> Result<u64, GgufError> {
    match value {
        MetaValue::U32(a) if a.is_power_of_two() => Ok(u64::from(*a)),
        other => Err(GgufError::BadAlignment {
            offset,
            found: format!("{} {other}", other.type_name()),
        }),
    }
}

/// Reads `n_tensors` tensor infos, rejecting duplicate names.
fn parse_tensor_infos(
    cursor: &mut Cursor<'_>,
    n_tensors: usize,
) -> Result<Vec<RawTensor>, GgufError> {
    let mut raw = Vec::with_capacity(n_tensors);
    let mut seen = HashSet::with_capacity(n_tensors);
    for index in 0..n_tensors as u64 {
        let t = parse_info(cursor, index)?;
        if !seen.insert(t.name.clone()) {
            return Err(GgufError::DuplicateTensor {
                offset: t.info_offset,
                name: t.name,
            });
        }
        raw.push(t);
    }
    Ok(raw)
}
