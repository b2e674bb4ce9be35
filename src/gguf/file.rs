//! [`GgufFile`]: a validated GGUF file and typed questions about it.
//!
//! Construction validates everything ([`super::parse`]); afterwards every accessor is
//! infallible except for questions whose answer may be "absent" or "other type". Tensor
//! bytes are never copied: [`GgufFile::tensor_bytes`] borrows from the map.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use super::error::GgufError;
use super::metadata::{MetaArray, MetaValue};
use super::parse::{parse, Parsed};
use super::source::Source;
use super::tensors::TensorInfo;

/// A parsed, validated GGUF file (v2 or v3, little-endian) and its bytes.
///
/// Metadata is decoded into owned values at open time (a vocabulary of 50k tokens is a
/// few MB); tensor data stays in the file and is only ever borrowed.
pub struct GgufFile {
    source: Source,
    version: u32,
    alignment: u64,
    data_offset: u64,
    metadata: Vec<(String, MetaValue)>,
    metadata_index: HashMap<String, usize>,
    tensors: Vec<TensorInfo>,
    tensor_index: HashMap<String, usize>,
}

impl GgufFile {
    /// Maps the file at `path` and validates it. Errors on open name the path.
    pub fn open(path: impl AsRef<Path>) -> Result<GgufFile, GgufError> {
        let path = path.as_ref();
        let file = Self::new(Source::map(path)?)?;
        log::debug!(
            "gguf: mapped {} (v{}, {} metadata keys, {} tensors)",
            path.display(),
            file.version,
            file.metadata.len(),
            file.tensors.len()
        );
        Ok(file)
    }

    /// Validates a file held in memory, exactly as [`GgufFile::open`] does. The bytes are
    /// copied once into an 8-byte-aligned buffer so typed tensor views work as with a map.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GgufFile, GgufError> {
        Self::new(Source::owned(bytes))
    }

    fn new(source: Source) -> Result<GgufFile, GgufError> {
        let Parsed {
            version,
            alignment,
            data_offset,
            metadata,
            tensors,
        } = parse(source.bytes())?;
        // Parsing rejected duplicates, so each index maps one name to one entry.
        let metadata_index = metadata
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.clone(), i))
            .collect();
        let tensor_index = tensors
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.clone(), i))
            .collect();
        Ok(GgufFile {
            source,
            version,
            alignment,
            data_offset,
            metadata,
            metadata_index,
            tensors,
            tensor_index,
        })
    }

    /// The GGUF version: 2 or 3.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of the data section and of each tensor: `general.alignment` or 32.
    pub fn alignment(&self) -> u64 {
        self.alignment
    }

    /// Absolute file offset where the data section starts.
    pub fn data_offset(&self) -> u64 {
        self.data_offset
    }

    /// Every metadata entry, in file order.
    pub fn metadata(&self) -> &[(String, MetaValue)] {
        &self.metadata
    }

    /// The value of metadata key `key`, if present.
    pub fn get(&self, key: &str) -> Option<&MetaValue> {
        let i = *self.metadata_index.get(key)?;
        self.metadata.get(i).map(|(_, v)| v)
    }

    fn require(&self, key: &str) -> Result<&MetaValue, GgufError> {
        self.get(key).ok_or_else(|| GgufError::MissingKey {
            key: key.to_owned(),
        })
    }

    fn wrong_type(key: &str, expected: &'static str, found: &MetaValue) -> GgufError {
        GgufError::WrongType {
            key: key.to_owned(),
            expected,
            found: found.type_name(),
        }
    }

    /// A string value.
    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        match self.require(key)? {
            MetaValue::String(s) => Ok(s),
            other => Err(Self::wrong_type(key, "string", other)),
        }
    }

    /// Any integer value that is non-negative, as u64.
    pub fn get_u64(&self, key: &str) -> Result<u64, GgufError> {
        let value = self.require(key)?;
        let n = value
            .as_integer()
            .ok_or_else(|| Self::wrong_type(key, "integer", value))?;
        u64::try_from(n).map_err(|_| out_of_range(key, None, n, "u64"))
    }

    /// Any integer value that fits in u32.
    pub fn get_u32(&self, key: &str) -> Result<u32, GgufError> {
        let n = self.get_u64(key)?;
        u32::try_from(n).map_err(|_| out_of_range(key, None, n.into(), "u32"))
    }

    /// An f32 value, or an f64 value rounded to f32 (finite values that overflow f32 are
    /// an error rather than infinity).
    pub fn get_f32(&self, key: &str) -> Result<f32, GgufError> {
        match self.require(key)? {
            MetaValue::F32(v) => Ok(*v),
            MetaValue::F64(v) => {
                let narrow = *v as f32;
                if v.is_finite() && !narrow.is_finite() {
                    return Err(GgufError::OutOfRange {
                        key: key.to_owned(),
                        index: None,
                        value: v.to_string(),
                        target: "f32",
                    });
                }
                Ok(narrow)
            }
            other => Err(Self::wrong_type(key, "f32 or f64", other)),
        }
    }

    /// A bool value.
    pub fn get_bool(&self, key: &str) -> Result<bool, GgufError> {
        match self.require(key)? {
            MetaValue::Bool(b) => Ok(*b),
            other => Err(Self::wrong_type(key, "bool", other)),
        }
    }

    /// An array of strings, borrowed.
    pub fn get_str_array(&self, key: &str) -> Result<&[String], GgufError> {
        match self.require(key)? {
            MetaValue::Array(MetaArray::String(v)) => Ok(v),
            other => Err(Self::wrong_type(key, "array of string", other)),
        }
    }

    /// An array of any integer type whose elements all fit in i32.
    pub fn get_i32_array(&self, key: &str) -> Result<Vec<i32>, GgufError> {
        let value = self.require(key)?;
        let ints = match value {
            MetaValue::Array(a) => a.integers(),
            _ => None,
        }
        .ok_or_else(|| Self::wrong_type(key, "array of integers", value))?;
        ints.into_iter()
            .enumerate()
            .map(|(i, n)| i32::try_from(n).map_err(|_| out_of_range(key, Some(i), n, "i32")))
            .collect()
    }

    /// `general.architecture`, e.g. "llama".
    pub fn architecture(&self) -> Result<&str, GgufError> {
        self.get_str("general.architecture")
    }

    /// Every tensor, in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The tensor named `name`, if present.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.get(*self.tensor_index.get(name)?)
    }

    /// The bytes of tensor `t`, borrowed from the file without copying.
    ///
    /// # Panics
    /// If `t` lies outside this file, i.e. it came from another `GgufFile` or was built
    /// by hand. Infos from [`GgufFile::tensors`] were validated and never panic.
    pub fn tensor_bytes(&self, t: &TensorInfo) -> &[u8] {
        let range = usize::try_from(t.offset).ok().and_then(|start| {
            let end = start.checked_add(usize::try_from(t.n_bytes).ok()?)?;
            self.file_bytes().get(start..end)
        });
        match range {
            Some(bytes) => bytes,
            None => panic!(
                "tensor '{}' (bytes {}+{}) is not inside this {}-byte file",
                t.name,
                t.offset,
                t.n_bytes,
                self.file_bytes().len()
            ),
        }
    }

    /// The bytes of tensor `t` viewed as a slice of `T` (a block struct, `f32`,
    /// `[u8; 20]`, ...), without copying. Errors if the byte count is not a multiple of
    /// `size_of::<T>()` or the tensor's address is not aligned for `T`.
    ///
    /// # Panics
    /// As [`GgufFile::tensor_bytes`].
    pub fn tensor_blocks<T: bytemuck::Pod>(&self, t: &TensorInfo) -> Result<&[T], GgufError> {
        bytemuck::try_cast_slice(self.tensor_bytes(t)).map_err(|error| GgufError::BlockView {
            name: t.name.clone(),
            n_bytes: t.n_bytes,
            target: std::any::type_name::<T>(),
            error,
        })
    }

    /// The whole file.
    pub fn file_bytes(&self) -> &[u8] {
        self.source.bytes()
    }

    /// Tells the OS that the pages of `t` are not needed now (e.g. after repacking them),
    /// so they leave this process's resident memory. Reading them again still works: the
    /// pages are then read back from the file. No effect on owned (in-memory) files.
    pub fn release(&self, t: &TensorInfo) {
        self.source.release(t.offset as usize, t.n_bytes as usize);
    }
}

fn out_of_range(key: &str, index: Option<usize>, value: i128, target: &'static str) -> GgufError {
    GgufError::OutOfRange {
        key: key.to_owned(),
        index,
        value: value.to_string(),
        target,
    }
}

/// Summary only: never prints metadata values or bytes.
impl fmt::Debug for GgufFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GgufFile")
            .field("source", &self.source.kind())
            .field("len", &self.file_bytes().len())
            .field("version", &self.version)
            .field("alignment", &self.alignment)
            .field("data_offset", &self.data_offset)
            .field("metadata_keys", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::super::GgufWriter;
    use super::*;

    fn file() -> GgufFile {
        let bytes = GgufWriter::new()
            .metadata("s", MetaValue::String("text".into()))
            .metadata("u8", MetaValue::U8(7))
            .metadata("neg", MetaValue::I64(-1))
            .metadata("big", MetaValue::U64(1 << 40))
            .metadata("f64", MetaValue::F64(0.5))
            .metadata("huge", MetaValue::F64(1e300))
            .metadata("b", MetaValue::Bool(true))
            .metadata(
                "strs",
                MetaValue::Array(MetaArray::String(vec!["a".into()])),
            )
            .metadata("u16s", MetaValue::Array(MetaArray::U16(vec![1, 65535])))
            .metadata("u64s", MetaValue::Array(MetaArray::U64(vec![1, 1 << 31])))
            .to_bytes();
        GgufFile::from_bytes(bytes).unwrap()
    }

    #[test]
    fn typed_getters_convert_what_is_safe() {
        let f = file();
        assert_eq!(f.get_str("s").unwrap(), "text");
        assert_eq!(f.get_u64("u8").unwrap(), 7);
        assert_eq!(f.get_u32("u8").unwrap(), 7);
        assert_eq!(f.get_u64("big").unwrap(), 1 << 40);
        assert_eq!(f.get_f32("f64").unwrap(), 0.5);
        assert!(f.get_bool("b").unwrap());
        assert_eq!(f.get_str_array("strs").unwrap(), ["a"]);
        assert_eq!(f.get_i32_array("u16s").unwrap(), [1, 65535]);
        assert_eq!(f.get("u8"), Some(&MetaValue::U8(7)));
        assert_eq!(f.metadata().len(), 10);
        assert_eq!(f.metadata()[0].0, "s");
    }

    #[test]
    fn getter_errors_name_the_key() {
        let f = file();
        let msg = |e: GgufError| e.to_string();
        assert_eq!(
            msg(f.get_str("nope").unwrap_err()),
            "metadata key 'nope' is missing"
        );
        assert_eq!(
            msg(f.get_str("u8").unwrap_err()),
            "metadata key 'u8': expected string, found u8"
        );
        assert_eq!(
            msg(f.get_u64("neg").unwrap_err()),
            "metadata key 'neg': value -1 does not fit in u64"
        );
        assert_eq!(
            msg(f.get_u32("big").unwrap_err()),
            "metadata key 'big': value 1099511627776 does not fit in u32"
        );
        assert!(matches!(f.get_u64("s"), Err(GgufError::WrongType { .. })));
        assert!(matches!(
            f.get_f32("huge"),
            Err(GgufError::OutOfRange { .. })
        ));
        assert!(matches!(f.get_f32("b"), Err(GgufError::WrongType { .. })));
        assert!(matches!(f.get_bool("u8"), Err(GgufError::WrongType { .. })));
        assert_eq!(
            msg(f.get_str_array("u16s").unwrap_err()),
            "metadata key 'u16s': expected array of string, found array of u16"
        );
        assert_eq!(
            msg(f.get_i32_array("u64s").unwrap_err()),
            "metadata key 'u64s': element 1: value 2147483648 does not fit in i32"
        );
        assert!(matches!(
            f.get_i32_array("strs"),
            Err(GgufError::WrongType { .. })
        ));
        assert!(matches!(
            f.architecture(),
            Err(GgufError::MissingKey { .. })
        ));
    }

    #[test]
    fn typed_views_check_size() {
        let f = GgufFile::from_bytes(
            GgufWriter::new()
                .tensor(
                    "t",
                    &[6],
                    slimlm_kernels::formats::GgmlType::I8,
                    vec![1, 2, 3, 4, 5, 6],
                )
                .to_bytes(),
        )
        .unwrap();
        let t = f.tensor("t").unwrap();
        assert_eq!(
            f.tensor_blocks::<[u8; 3]>(t).unwrap(),
            [[1, 2, 3], [4, 5, 6]]
        );
        let e = f.tensor_blocks::<[u8; 4]>(t).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("tensor 't': cannot view 6 bytes as [[u8; 4]]"),
            "{e}"
        );
        assert!(f.tensor("other").is_none());
    }

    #[test]
    fn open_errors_name_the_path() {
        let e = GgufFile::open("/no/such/dir/model.gguf").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot open /no/such/dir/model.gguf: "),
            "{e}"
        );
    }
}
