//! Tensor infos: parsing one entry, then checking that all tensors lie in the file.
//!
//! Shapes are checked when an info is read (dimension count, element count, whole blocks,
//! byte size); placement is checked once the data section's start is known (alignment,
//! bounds, overlap). Tensor bytes themselves are never read here.

use slimlm_kernels::formats::GgmlType;

use super::cursor::Cursor;
use super::error::{GgufError, Subject};

/// Most dimensions a ggml tensor may have (`GGML_MAX_DIMS`).
pub const MAX_DIMS: u32 = 4;

/// The smallest encoding of a tensor info: name length, n_dims, type, offset.
pub(crate) const MIN_INFO_SIZE: u64 = 8 + 4 + 4 + 8;

/// One tensor's name, shape, type and validated place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is ne0, the contiguous row length.
    pub dims: Vec<u64>,
    pub ggml_type: GgmlType,
    /// Absolute offset of the first byte in the file.
    pub offset: u64,
    /// Bytes taken: `row_bytes(ne0)` times the product of the other dims.
    pub n_bytes: u64,
}

impl TensorInfo {
    /// Number of elements: the product of the dims (1 for zero dims). Exact for a parsed
    /// tensor (parsing rejects counts above `i64::MAX`); saturates at `u64::MAX` for a
    /// hand-built info whose dims overflow.
    pub fn n_elements(&self) -> u64 {
        self.dims
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(*d))
            .unwrap_or(u64::MAX)
    }
}

/// A tensor info as read, before the data section's start is known.
#[derive(Debug)]
pub(crate) struct RawTensor {
    /// Where the info starts in the file, for error messages.
    pub(crate) info_offset: u64,
    pub(crate) name: String,
    pub(crate) dims: Vec<u64>,
    pub(crate) ggml_type: GgmlType,
    /// Offset relative to the data section, as stored.
    pub(crate) relative: u64,
    pub(crate) n_bytes: u64,
}

/// Reads tensor info number `index` and checks its shape and type.
pub(crate) fn parse_info(cursor: &mut Cursor<'_>, index: u64) -> Result<RawTensor, GgufError> {
    let info_offset = cursor.pos();
    let name = cursor.string(&Subject::TensorEntry(index))?;
    let subject = Subject::Tensor(name.clone());

    let n_dims_offset = cursor.pos();
    let n_dims = cursor.u32(&subject, "dimension count")?;
    if n_dims > MAX_DIMS {
        return Err(GgufError::TooManyDims {
            offset: n_dims_offset,
            name,
            n_dims,
            max: MAX_DIMS,
        });
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        dims.push(cursor.u64(&subject, "dimension")?);
    }

    let type_offset = cursor.pos();
    let type_id = cursor.u32(&subject, "type id")?;
    let relative = cursor.u64(&subject, "data offset")?;
    let Some(ggml_type) = GgmlType::from_id(type_id) else {
        return Err(GgufError::UnknownTensorType {
            offset: type_offset,
            name,
            id: type_id,
        });
    };
    let n_bytes = byte_size(&name, &dims, ggml_type, n_dims_offset)?;
    Ok(RawTensor {
        info_offset,
        name,
        dims,
        ggml_type,
        relative,
        n_bytes,
    })
}

/// Bytes of a tensor of `ggml_type` and `dims`, with every product checked.
fn byte_size(name: &str, dims: &[u64], ggml_type: GgmlType, offset: u64) -> Result<u64, GgufError> {
    let elements = dims
        .iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(*d))
        .filter(|n| *n <= i64::MAX as u64 && dims.iter().all(|d| *d <= i64::MAX as u64));
    if elements.is_none() {
        return Err(GgufError::ElementCountOverflow {
            offset,
            name: name.to_owned(),
            dims: dims.to_vec(),
        });
    }
    let ne0 = dims.first().copied().unwrap_or(1);
    let Some(row) = ggml_type.row_bytes(ne0) else {
        // row_bytes fails on a partial block or on overflow; ne0 <= i64::MAX cannot
        // overflow a byte count (at most 8 bytes per element), so it was a partial block.
        return Err(GgufError::RowNotWholeBlocks {
            offset,
            name: name.to_owned(),
            ne0,
            ggml_type,
            block: ggml_type.block_elems(),
        });
    };
    dims.iter()
        .skip(1)
        .try_fold(row, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| GgufError::SizeOverflow {
            offset,
            name: name.to_owned(),
            ggml_type,
            dims: dims.to_vec(),
        })
}

/// Places every tensor at `data_offset + relative` and checks that each is aligned,
/// inside a file of `file_len` bytes, and shares no byte with another.
pub(crate) fn place(
    raw: Vec<RawTensor>,
    data_offset: u64,
    alignment: u64,
    file_len: u64,
) -> Result<Vec<TensorInfo>, GgufError> {
    let mut spans = Vec::with_capacity(raw.len());
    let mut tensors = Vec::with_capacity(raw.len());
    for t in raw {
        if t.relative % alignment != 0 {
            return Err(GgufError::MisalignedTensor {
                offset: t.info_offset,
                name: t.name,
                relative: t.relative,
                alignment,
            });
        }
        let start = data_offset.checked_add(t.relative);
        let end = start.and_then(|s| s.checked_add(t.n_bytes));
        let (Some(start), Some(end)) = (start, end.filter(|e| *e <= file_len)) else {
            return Err(GgufError::TensorOutOfBounds {
                offset: t.info_offset,
                name: t.name,
                relative: t.relative,
                n_bytes: t.n_bytes,
                data_offset,
                file_len,
            });
        };
        spans.push((start, end, t.info_offset, tensors.len()));
        tensors.push(TensorInfo {
            name: t.name,
            dims: t.dims,
            ggml_type: t.ggml_type,
            offset: start,
            n_bytes: t.n_bytes,
        });
    }
    check_overlap(&mut spans, &tensors)?;
    Ok(tensors)
}

/// `spans` holds (start, end, info offset, index into `tensors`). Empty tensors share no
/// bytes with anything and are skipped.
fn check_overlap(
    spans: &mut Vec<(u64, u64, u64, usize)>,
    tensors: &[TensorInfo],
) -> Result<(), GgufError> {
    spans.retain(|(start, end, _, _)| start < end);
    spans.sort_unstable();
    for pair in spans.windows(2) {
        let [(a_start, a_end, _, a), (b_start, b_end, b_info, b)] = pair else {
            continue;
        };
        if b_start < a_end {
            let name = |i: usize| tensors.get(i).map(|t| t.name.clone()).unwrap_or_default();
            return Err(GgufError::TensorOverlap {
                offset: *b_info,
                name: name(*b),
                start: *b_start,
                end: *b_end,
                other: name(*a),
                other_start: *a_start,
                other_end: *a_end,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, dims: &[u64], type_id: u32, relative: u64) -> Vec<u8> {
        let mut b = (name.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(name.as_bytes());
        b.extend_from_slice(&(dims.len() as u32).to_le_bytes());
        dims.iter()
            .for_each(|d| b.extend_from_slice(&d.to_le_bytes()));
        b.extend_from_slice(&type_id.to_le_bytes());
        b.extend_from_slice(&relative.to_le_bytes());
        b
    }

    fn parse(bytes: &[u8]) -> Result<RawTensor, GgufError> {
        parse_info(&mut Cursor::new(bytes), 0)
    }

    #[test]
    fn sizes_follow_the_block_geometry() {
        let t = parse(&info("w", &[64, 3], GgmlType::Q4_1.id(), 32)).unwrap();
        assert_eq!(
            (t.n_bytes, t.relative, t.ggml_type),
            (2 * 20 * 3, 32, GgmlType::Q4_1)
        );
        let scalar = parse(&info("s", &[], 0, 0)).unwrap();
        assert_eq!(scalar.n_bytes, 4);
        let empty = parse(&info("e", &[0, 5], 0, 0)).unwrap();
        assert_eq!(empty.n_bytes, 0);
    }

    #[test]
    fn shape_errors_name_the_tensor() {
        let e = parse(&info("blk.0.attn_q.weight", &[32], 77, 0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "at byte 39: tensor 'blk.0.attn_q.weight': unknown ggml type id 77"
        );
        let e = parse(&info("x", &[1, 1, 1, 1, 1], 0, 0)).unwrap_err();
        assert!(
            matches!(e, GgufError::TooManyDims { n_dims: 5, .. }),
            "{e:?}"
        );
        let e = parse(&info("x", &[1 << 32, 1 << 32], 0, 0)).unwrap_err();
        assert!(matches!(e, GgufError::ElementCountOverflow { .. }), "{e:?}");
        let e = parse(&info("x", &[0, u64::MAX], 0, 0)).unwrap_err();
        assert!(matches!(e, GgufError::ElementCountOverflow { .. }), "{e:?}");
        let e = parse(&info("x", &[33], GgmlType::Q8_0.id(), 0)).unwrap_err();
        assert!(
            matches!(
                e,
                GgufError::RowNotWholeBlocks {
                    ne0: 33,
                    block: 32,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = parse(&info("x", &[1 << 61, 2], 0, 0)).unwrap_err();
        assert!(matches!(e, GgufError::SizeOverflow { .. }), "{e:?}");
    }

    fn raw(name: &str, relative: u64, n_bytes: u64) -> RawTensor {
        RawTensor {
            info_offset: 0,
            name: name.into(),
            dims: vec![n_bytes],
            ggml_type: GgmlType::I8,
            relative,
            n_bytes,
        }
    }

    #[test]
    fn placement_checks_alignment_bounds_and_overlap() {
        let ok = place(
            vec![raw("a", 32, 10), raw("b", 0, 32), raw("z", 64, 0)],
            64,
            32,
            128,
        );
        let ok = ok.unwrap();
        assert_eq!((ok[0].offset, ok[1].offset, ok[2].offset), (96, 64, 128));
        let e = place(vec![raw("z", 96, 0)], 64, 32, 128).unwrap_err();
        assert!(matches!(e, GgufError::TensorOutOfBounds { .. }), "{e:?}");
        let e = place(vec![raw("a", 16, 1)], 64, 32, 1000).unwrap_err();
        assert!(
            matches!(e, GgufError::MisalignedTensor { relative: 16, .. }),
            "{e:?}"
        );
        let e = place(vec![raw("a", 0, 37)], 64, 32, 100).unwrap_err();
        assert!(
            matches!(e, GgufError::TensorOutOfBounds { n_bytes: 37, .. }),
            "{e:?}"
        );
        let e = place(vec![raw("a", u64::MAX - 31, 1)], 64, 32, 100).unwrap_err();
        assert!(matches!(e, GgufError::TensorOutOfBounds { .. }), "{e:?}");
        let e = place(vec![raw("a", 0, 33), raw("b", 32, 1)], 0, 32, 100).unwrap_err();
        assert!(
            matches!(&e, GgufError::TensorOverlap { name, other, .. } if name == "b" && other == "a"),
            "{e:?}"
        );
    }
}
