//! [`GgufWriter`]: builds small GGUF v3 files in memory, for tests and synthetic models.
//!
//! It writes what it is given: metadata in insertion order, tensor infos, zero padding to
//! the alignment, and each tensor's bytes at the next aligned offset. It never checks
//! that data lengths match shapes or that keys are unique, so tests can also build
//! inconsistent files; [`Layout`] says where every field landed so tests can corrupt them.

use slimlm_kernels::formats::GgmlType;

use super::metadata::{encode_string, encode_value, MetaValue};
use super::parse::{ALIGNMENT_KEY, DEFAULT_ALIGNMENT};

/// A GGUF v3 file under construction.
#[derive(Clone, Debug)]
pub struct GgufWriter {
    alignment: u64,
    metadata: Vec<(String, MetaValue)>,
    tensors: Vec<WriterTensor>,
}

#[derive(Clone, Debug)]
struct WriterTensor {
    name: String,
    dims: Vec<u64>,
    ggml_type: GgmlType,
    data: Vec<u8>,
}

/// Byte offsets of one metadata entry in a written file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvLayout {
    /// The key's u64 length.
    pub start: usize,
    /// The u32 value type id.
    pub type_at: usize,
    /// The value's encoding (for an array, its element type id).
    pub value_at: usize,
    /// One past the entry.
    pub end: usize,
}

/// Byte offsets of one tensor in a written file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorLayout {
    /// The name's u64 length.
    pub start: usize,
    /// The u32 dimension count.
    pub n_dims_at: usize,
    /// The u32 ggml type id.
    pub type_at: usize,
    /// The u64 data offset (relative to the data section).
    pub offset_at: usize,
    /// One past the info.
    pub end: usize,
    /// The tensor's first data byte (absolute).
    pub data_at: usize,
}

/// Where everything landed in a written file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Each metadata entry, in order; the first starts at byte 24, after the header.
    pub metadata: Vec<KvLayout>,
    /// Each tensor, in order.
    pub tensors: Vec<TensorLayout>,
    /// One past the last tensor info (where the padding starts).
    pub infos_end: usize,
    /// Start of the data section.
    pub data_offset: usize,
}

impl Default for GgufWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl GgufWriter {
    /// An empty file with the default alignment of 32 and no `general.alignment` key.
    pub fn new() -> Self {
        Self {
            alignment: DEFAULT_ALIGNMENT,
            metadata: Vec::new(),
            tensors: Vec::new(),
        }
    }

    /// Adds `general.alignment = alignment` (u32) and pads to it (to 1 if it is 0). To
    /// write an alignment key without padding to it, use [`GgufWriter::metadata`].
    pub fn alignment(mut self, alignment: u32) -> Self {
        self.alignment = u64::from(alignment.max(1));
        self.metadata(ALIGNMENT_KEY, MetaValue::U32(alignment))
    }

    /// Appends a metadata entry.
    pub fn metadata(mut self, key: impl Into<String>, value: MetaValue) -> Self {
        self.metadata.push((key.into(), value));
        self
    }

    /// Appends a tensor; `dims` in ggml order (ne0 first), `data` written as given.
    pub fn tensor(
        mut self,
        name: impl Into<String>,
        dims: &[u64],
        ggml_type: GgmlType,
        data: Vec<u8>,
    ) -> Self {
        self.tensors.push(WriterTensor {
            name: name.into(),
            dims: dims.to_vec(),
            ggml_type,
            data,
        });
        self
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_with_layout().0
    }

    /// The file's bytes and where each field landed.
    pub fn to_bytes_with_layout(&self) -> (Vec<u8>, Layout) {
        let mut out = Vec::new();
        out.extend_from_slice(b"GGUF");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&(self.tensors.len() as u64).to_le_bytes());
        out.extend_from_slice(&(self.metadata.len() as u64).to_le_bytes());

        let mut metadata = Vec::with_capacity(self.metadata.len());
        for (key, value) in &self.metadata {
            let start = out.len();
            encode_string(&mut out, key);
            let type_at = out.len();
            encode_value(&mut out, value);
            metadata.push(KvLayout {
                start,
                type_at,
                value_at: type_at + 4,
                end: out.len(),
            });
        }

        let align = |n: usize| n.next_multiple_of(self.alignment as usize);
        let mut relative = 0usize;
        let mut tensors = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            let start = out.len();
            encode_string(&mut out, &t.name);
            let n_dims_at = out.len();
            out.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            t.dims
                .iter()
                .for_each(|d| out.extend_from_slice(&d.to_le_bytes()));
            let type_at = out.len();
            out.extend_from_slice(&t.ggml_type.id().to_le_bytes());
            let offset_at = out.len();
            out.extend_from_slice(&(relative as u64).to_le_bytes());
            tensors.push(TensorLayout {
                start,
                n_dims_at,
                type_at,
                offset_at,
                end: out.len(),
                data_at: relative,
            });
            relative = align(relative + t.data.len());
        }

        let infos_end = out.len();
        let data_offset = align(infos_end);
        out.resize(data_offset, 0);
        for (t, layout) in self.tensors.iter().zip(&mut tensors) {
            layout.data_at += data_offset;
            out.resize(layout.data_at, 0);
            out.extend_from_slice(&t.data);
        }
        let layout = Layout {
            metadata,
            tensors,
            infos_end,
            data_offset,
        };
        (out, layout)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{GgufFile, MetaArray};
    use super::*;

    #[test]
    fn written_files_parse_back_with_their_layout() {
        let f32s: Vec<u8> = [1.0f32, 2.0, 3.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let (bytes, layout) = GgufWriter::new()
            .alignment(64)
            .metadata("general.architecture", MetaValue::String("llama".into()))
            .metadata("a.list", MetaValue::Array(MetaArray::I32(vec![1, -2])))
            .tensor("t.f32", &[3], GgmlType::F32, f32s.clone())
            .tensor("t.q8", &[32, 2], GgmlType::Q8_0, vec![7; 68])
            .to_bytes_with_layout();
        let file = GgufFile::from_bytes(bytes).unwrap();
        assert_eq!((file.version(), file.alignment()), (3, 64));
        assert_eq!(file.data_offset(), layout.data_offset as u64);
        assert_eq!(layout.data_offset % 64, 0);
        assert_eq!(layout.metadata[0].start, 24);
        assert_eq!(layout.tensors[1].data_at, layout.data_offset + 64);
        assert_eq!(file.architecture().unwrap(), "llama");
        assert_eq!(file.get_i32_array("a.list").unwrap(), vec![1, -2]);
        let t = file.tensor("t.f32").unwrap();
        assert_eq!(file.tensor_bytes(t), &f32s[..]);
        assert_eq!(file.tensor_blocks::<f32>(t).unwrap(), &[1.0, 2.0, 3.0]);
        let q = file.tensor("t.q8").unwrap();
        assert_eq!(
            (q.offset, q.n_bytes, q.n_elements()),
            (layout.tensors[1].data_at as u64, 68, 64)
        );
    }
}
