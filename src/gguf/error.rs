//! [`GgufError`]: everything that can be wrong with a GGUF file or a question asked of it.
//!
//! Each variant carries its context as values (which key or tensor, which byte offset), so
//! the Display text is assembled here and nowhere else. Display is always a single line.

use std::fmt;
use std::path::PathBuf;

use slimlm_kernels::formats::GgmlType;

/// What part of the file a parse error is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subject {
    /// The fixed header: magic, version and the two counts.
    Header,
    /// A metadata entry whose key could not be read; 0-based index in file order.
    MetadataEntry(u64),
    /// The metadata entry with this key.
    MetadataKey(String),
    /// A tensor info whose name could not be read; 0-based index in file order.
    TensorEntry(u64),
    /// The tensor with this name.
    Tensor(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header => f.write_str("header"),
            Self::MetadataEntry(i) => write!(f, "metadata entry #{i}"),
            Self::MetadataKey(key) => write!(f, "metadata key '{key}'"),
            Self::TensorEntry(i) => write!(f, "tensor info #{i}"),
            Self::Tensor(name) => write!(f, "tensor '{name}'"),
        }
    }
}

/// An error from opening, parsing or querying a GGUF file.
///
/// Parse errors name the byte offset (from the start of the file) where the offending
/// field begins and the key or tensor they concern.
#[derive(Debug, thiserror::Error)]
pub enum GgufError {
    /// The file could not be opened, inspected or mapped.
    #[error("cannot open {}: {source}", .path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file ends inside a fixed-size field.
    #[error(
        "at byte {offset}: {subject}: file ends inside the {field} \
         ({size} bytes needed, {remaining} remain)"
    )]
    Truncated {
        offset: u64,
        subject: Subject,
        field: &'static str,
        size: u64,
        remaining: u64,
    },

    /// A length or count announces more items than the rest of the file could hold, even
    /// at their smallest encoding. Checked before anything is allocated.
    #[error(
        "at byte {offset}: {subject}: {what} {count} {unit} cannot fit in the \
         {remaining} remaining bytes"
    )]
    CountTooLarge {
        offset: u64,
        subject: Subject,
        /// What is counted, e.g. "array of", "string of", "count of".
        what: &'static str,
        count: u64,
        /// The counted items, e.g. "strings", "bytes", "tensor infos".
        unit: &'static str,
        remaining: u64,
    },

    /// The file does not start with the bytes `GGUF`.
    #[error("at byte 0: not a GGUF file (magic {found:02x?}, expected \"GGUF\")")]
    BadMagic { found: [u8; 4] },

    /// The version field reads as a known version only when byte-swapped.
    #[error(
        "at byte 4: big-endian GGUF (version {version} stored big-endian) is not \
         supported; only little-endian files are"
    )]
    BigEndian { version: u32 },

    /// A version other than 2 or 3.
    #[error("at byte 4: GGUF version {version} is not supported (slimlm reads versions 2 and 3){}",
        if *.version == 1 { "; version 1 used 32-bit counts and is obsolete" } else { "" })]
    UnsupportedVersion { version: u32 },

    /// A metadata value type id (or array element type id) that GGUF does not define.
    #[error("at byte {offset}: {subject}: unknown metadata value type id {id}")]
    UnknownValueType {
        offset: u64,
        subject: Subject,
        id: u32,
    },

    /// Arrays of arrays nested deeper than the parser allows.
    #[error("at byte {offset}: {subject}: arrays nested deeper than {max} levels")]
    NestingTooDeep {
        offset: u64,
        subject: Subject,
        max: usize,
    },

    /// A bool byte other than 0 or 1.
    #[error("at byte {offset}: {subject}: bool byte {byte} is neither 0 nor 1")]
    InvalidBool {
        offset: u64,
        subject: Subject,
        byte: u8,
    },

    /// A key, name or string value that is not UTF-8.
    #[error(
        "at byte {offset}: {subject}: string is not valid UTF-8 (first bad byte at string \
         offset {valid_up_to})"
    )]
    InvalidUtf8 {
        offset: u64,
        subject: Subject,
        valid_up_to: usize,
    },

    /// A metadata key that appears twice.
    #[error("at byte {offset}: metadata key '{key}' appears twice")]
    DuplicateKey { offset: u64, key: String },

    /// `general.alignment` that is not a nonzero power-of-two u32.
    #[error(
        "at byte {offset}: metadata key 'general.alignment': must be a nonzero power-of-two \
         u32, found {found}"
    )]
    BadAlignment { offset: u64, found: String },

    /// A tensor name that appears twice.
    #[error("at byte {offset}: tensor '{name}' appears twice")]
    DuplicateTensor { offset: u64, name: String },

    /// More dimensions than ggml supports.
    #[error("at byte {offset}: tensor '{name}': {n_dims} dimensions, at most {max} allowed")]
    TooManyDims {
        offset: u64,
        name: String,
        n_dims: u32,
        max: u32,
    },

    /// A tensor type id that ggml does not define.
    #[error("at byte {offset}: tensor '{name}': unknown ggml type id {id}")]
    UnknownTensorType { offset: u64, name: String, id: u32 },

    /// The element count overflows ggml's signed 64-bit element counts.
    #[error("at byte {offset}: tensor '{name}': dims {dims:?} give more than 2^63-1 elements")]
    ElementCountOverflow {
        offset: u64,
        name: String,
        dims: Vec<u64>,
    },

    /// The row length is not a whole number of the type's blocks.
    #[error(
        "at byte {offset}: tensor '{name}': first dimension {ne0} is not a multiple of \
         {ggml_type}'s block of {block} elements"
    )]
    RowNotWholeBlocks {
        offset: u64,
        name: String,
        ne0: u64,
        ggml_type: GgmlType,
        block: usize,
    },

    /// The byte size of a tensor overflows u64.
    #[error("at byte {offset}: tensor '{name}': byte size of {ggml_type} {dims:?} overflows")]
    SizeOverflow {
        offset: u64,
        name: String,
        ggml_type: GgmlType,
        dims: Vec<u64>,
    },

    /// A tensor offset that is not a multiple of the file's alignment.
    #[error(
        "at byte {offset}: tensor '{name}': data offset {relative} is not a multiple of the \
         alignment {alignment}"
    )]
    MisalignedTensor {
        offset: u64,
        name: String,
        relative: u64,
        alignment: u64,
    },

    /// A tensor whose bytes do not lie inside the file.
    #[error(
        "at byte {offset}: tensor '{name}': {n_bytes} bytes at data offset {relative} \
         (data section starts at {data_offset}) do not fit in the {file_len}-byte file"
    )]
    TensorOutOfBounds {
        offset: u64,
        name: String,
        relative: u64,
        n_bytes: u64,
        data_offset: u64,
        file_len: u64,
    },

    /// Two tensors share bytes.
    #[error(
        "at byte {offset}: tensor '{name}' (bytes {start}..{end}) overlaps tensor '{other}' \
         (bytes {other_start}..{other_end})"
    )]
    TensorOverlap {
        offset: u64,
        name: String,
        start: u64,
        end: u64,
        other: String,
        other_start: u64,
        other_end: u64,
    },

    /// A metadata key that a caller asked for is absent.
    #[error("metadata key '{key}' is missing")]
    MissingKey { key: String },

    /// A metadata value that has another type than the caller asked for.
    #[error("metadata key '{key}': expected {expected}, found {found}")]
    WrongType {
        key: String,
        expected: &'static str,
        found: &'static str,
    },

    /// An integer metadata value outside the range the caller asked for.
    #[error("metadata key '{key}': {}value {value} does not fit in {target}",
        .index.map(|i| format!("element {i}: ")).unwrap_or_default())]
    OutOfRange {
        key: String,
        /// Element index for array values.
        index: Option<usize>,
        /// The value as the file has it, printed.
        value: String,
        target: &'static str,
    },

    /// A tensor's bytes cannot be viewed as the requested element type.
    #[error("tensor '{name}': cannot view {n_bytes} bytes as [{target}]: {error}")]
    BlockView {
        name: String,
        n_bytes: u64,
        target: &'static str,
        error: bytemuck::PodCastError,
    },
}
