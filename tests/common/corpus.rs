//! A corpus of malformed GGUF files, each with the typed error it must produce.
//!
//! Every file starts as a small valid file from [`base_writer`] (or a variant of it)
//! written with [`GgufWriter`], then is corrupted at a field that [`Layout`] locates.
//! Shared so that fuzzing can seed from it: include with
//! `#[path = "common/corpus.rs"] mod corpus;`.

use slimlm::gguf::{GgufError, GgufWriter, Layout, MetaArray, MetaValue, MAX_NESTING};
use slimlm::kernels::formats::GgmlType;

/// One malformed file.
pub struct Case {
    /// What was done to the base file.
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// The name of the `GgufError` variant it must produce.
    pub expected: &'static str,
    /// Whether an error is that variant.
    pub matches: fn(&GgufError) -> bool,
}

/// Metadata entry indices in the base file.
pub const KV_ARCH: usize = 0;
pub const KV_BLOCKS: usize = 1;
pub const KV_TOKENS: usize = 2;
pub const KV_TOKEN_TYPE: usize = 3;
pub const KV_ADD_BOS: usize = 5;
/// Tensor indices in the base file.
pub const T_EMBD: usize = 0;
pub const T_ATTN_Q: usize = 1;
pub const T_NORM: usize = 2;

/// A small valid file: a few metadata types and three tensors (Q8_0, Q4_1, F32).
pub fn base_writer() -> GgufWriter {
    GgufWriter::new()
        .metadata("general.architecture", MetaValue::String("llama".into()))
        .metadata("llama.block_count", MetaValue::U32(1))
        .metadata(
            "tokenizer.ggml.tokens",
            MetaValue::Array(MetaArray::String(vec![
                "<s>".into(),
                "</s>".into(),
                "a".into(),
            ])),
        )
        .metadata(
            "tokenizer.ggml.token_type",
            MetaValue::Array(MetaArray::I32(vec![3, 3, 1])),
        )
        .metadata("llama.rope.freq_base", MetaValue::F32(10000.0))
        .metadata("tokenizer.ggml.add_bos_token", MetaValue::Bool(true))
        .tensor(
            "token_embd.weight",
            &[32, 3],
            GgmlType::Q8_0,
            vec![1; 3 * 34],
        )
        .tensor(
            "blk.0.attn_q.weight",
            &[32, 2],
            GgmlType::Q4_1,
            vec![2; 2 * 20],
        )
        .tensor("output_norm.weight", &[32], GgmlType::F32, vec![3; 32 * 4])
}

/// The base file and its layout.
pub fn base() -> (Vec<u8>, Layout) {
    base_writer().to_bytes_with_layout()
}

fn put_u32(bytes: &mut [u8], at: usize, v: u32) {
    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// The base file changed by `f`.
fn patched(f: impl FnOnce(&mut Vec<u8>, &Layout)) -> Vec<u8> {
    let (mut bytes, layout) = base();
    f(&mut bytes, &layout);
    bytes
}

/// The base file cut to `len(layout)` bytes.
fn truncated(len: impl FnOnce(&Layout) -> usize) -> Vec<u8> {
    patched(|b, l| b.truncate(len(l)))
}

/// The base file with one extra metadata entry appended.
fn with_kv(key: &str, value: MetaValue) -> Vec<u8> {
    base_writer().metadata(key, value).to_bytes()
}

/// The base file with one extra tensor (no data) appended.
fn with_tensor(name: &str, dims: &[u64], ggml_type: GgmlType) -> Vec<u8> {
    base_writer()
        .tensor(name, dims, ggml_type, Vec::new())
        .to_bytes()
}

/// An array of arrays nested `levels` deep.
fn nested(levels: usize) -> MetaValue {
    let mut a = MetaArray::U32(vec![7]);
    for _ in 1..levels {
        a = MetaArray::Array(vec![a]);
    }
    MetaValue::Array(a)
}

macro_rules! case {
    ($name:expr, $bytes:expr, $variant:ident) => {
        Case {
            name: $name,
            bytes: $bytes,
            expected: stringify!($variant),
            matches: |e| matches!(e, GgufError::$variant { .. }),
        }
    };
}

/// Every malformed file, in file order of the part they break.
pub fn malformed_corpus() -> Vec<Case> {
    vec![
        // Header.
        case!("empty file", Vec::new(), Truncated),
        case!("cut inside the magic", truncated(|_| 2), Truncated),
        case!("wrong magic", patched(|b, _| b[3] = b'G'), BadMagic),
        case!(
            "version 1",
            patched(|b, _| put_u32(b, 4, 1)),
            UnsupportedVersion
        ),
        case!(
            "version 4",
            patched(|b, _| put_u32(b, 4, 4)),
            UnsupportedVersion
        ),
        case!(
            "big-endian version",
            patched(|b, _| put_u32(b, 4, 3u32.swap_bytes())),
            BigEndian
        ),
        case!("cut inside the version", truncated(|_| 6), Truncated),
        case!("cut inside the tensor count", truncated(|_| 12), Truncated),
        // The tensor count is checked against the bytes left, before the metadata count.
        case!(
            "cut inside the metadata count",
            truncated(|_| 20),
            CountTooLarge
        ),
        case!(
            "cut at the end of the header",
            truncated(|_| 24),
            CountTooLarge
        ),
        case!(
            "huge tensor count",
            patched(|b, _| put_u64(b, 8, 1 << 40)),
            CountTooLarge
        ),
        case!(
            "huge metadata count",
            patched(|b, _| put_u64(b, 16, u64::MAX)),
            CountTooLarge
        ),
        // Metadata.
        case!(
            "cut inside a metadata key",
            truncated(|l| l.metadata[KV_ARCH].start + 8 + 3),
            CountTooLarge
        ),
        // Cut inside the base file's metadata, the header's counts no longer fit.
        case!(
            "cut inside a u32 value",
            truncated(|l| l.metadata[KV_BLOCKS].value_at + 2),
            CountTooLarge
        ),
        case!(
            "cut inside the u32 value of the last entry",
            {
                let (mut bytes, l) = GgufWriter::new()
                    .metadata("general.architecture", MetaValue::String("llama".into()))
                    .metadata("llama.block_count", MetaValue::U32(1))
                    .to_bytes_with_layout();
                bytes.truncate(l.metadata[1].value_at + 2);
                bytes
            },
            Truncated
        ),
        case!(
            "cut inside an i32 array",
            truncated(|l| l.metadata[KV_TOKEN_TYPE].value_at + 4 + 8 + 5),
            CountTooLarge
        ),
        case!(
            "cut between metadata entries",
            truncated(|l| l.metadata[KV_TOKENS].end),
            Truncated
        ),
        case!(
            "huge key length",
            patched(|b, l| put_u64(b, l.metadata[KV_BLOCKS].start, u64::MAX)),
            CountTooLarge
        ),
        case!(
            "huge string value length",
            patched(|b, l| put_u64(b, l.metadata[KV_ARCH].value_at, 1 << 33)),
            CountTooLarge
        ),
        case!(
            "huge string array count",
            patched(|b, l| put_u64(b, l.metadata[KV_TOKENS].value_at + 4, 0xffff_ffff)),
            CountTooLarge
        ),
        case!(
            "huge i32 array count",
            patched(|b, l| put_u64(b, l.metadata[KV_TOKEN_TYPE].value_at + 4, u64::MAX / 2)),
            CountTooLarge
        ),
        case!(
            "huge string inside an array",
            patched(|b, l| put_u64(b, l.metadata[KV_TOKENS].value_at + 12, u64::MAX)),
            CountTooLarge
        ),
        case!(
            "arrays nested too deep",
            with_kv("test.nested", nested(MAX_NESTING + 1)),
            NestingTooDeep
        ),
        case!(
            "unknown metadata value type",
            patched(|b, l| put_u32(b, l.metadata[KV_BLOCKS].type_at, 13)),
            UnknownValueType
        ),
        case!(
            "unknown array element type",
            patched(|b, l| put_u32(b, l.metadata[KV_TOKENS].value_at, 99)),
            UnknownValueType
        ),
        case!(
            "bool byte 2",
            patched(|b, l| b[l.metadata[KV_ADD_BOS].value_at] = 2),
            InvalidBool
        ),
        case!(
            "invalid UTF-8 in a key",
            patched(|b, l| b[l.metadata[KV_ARCH].start + 8] = 0xff),
            InvalidUtf8
        ),
        case!(
            "invalid UTF-8 in a string value",
            patched(|b, l| b[l.metadata[KV_ARCH].value_at + 8 + 1] = 0xc3),
            InvalidUtf8
        ),
        case!(
            "invalid UTF-8 in an array string",
            patched(|b, l| b[l.metadata[KV_TOKENS].value_at + 12 + 8] = 0x80),
            InvalidUtf8
        ),
        case!(
            "duplicate metadata key",
            with_kv("llama.block_count", MetaValue::U32(2)),
            DuplicateKey
        ),
        case!(
            "alignment 0",
            with_kv("general.alignment", MetaValue::U32(0)),
            BadAlignment
        ),
        case!(
            "alignment 3",
            with_kv("general.alignment", MetaValue::U32(3)),
            BadAlignment
        ),
        case!(
            "alignment of the wrong type",
            with_kv("general.alignment", MetaValue::U64(32)),
            BadAlignment
        ),
        // Tensor infos.
        case!(
            "cut at the start of the tensor infos",
            truncated(|l| l.tensors[T_EMBD].start),
            Truncated
        ),
        case!(
            "cut inside a tensor's dims",
            truncated(|l| l.tensors[T_ATTN_Q].n_dims_at + 4 + 6),
            Truncated
        ),
        case!(
            "huge tensor name length",
            patched(|b, l| put_u64(b, l.tensors[T_NORM].start, 1 << 62)),
            CountTooLarge
        ),
        case!(
            "invalid UTF-8 in a tensor name",
            patched(|b, l| b[l.tensors[T_NORM].start + 8] = 0xfe),
            InvalidUtf8
        ),
        case!(
            "5 dimensions",
            patched(|b, l| put_u32(b, l.tensors[T_ATTN_Q].n_dims_at, 5)),
            TooManyDims
        ),
        case!(
            "unknown tensor type",
            patched(|b, l| put_u32(b, l.tensors[T_ATTN_Q].type_at, 77)),
            UnknownTensorType
        ),
        case!(
            "retired tensor type 4",
            patched(|b, l| put_u32(b, l.tensors[T_NORM].type_at, 4)),
            UnknownTensorType
        ),
        case!(
            "element count overflows",
            with_tensor("big", &[1 << 32, 1 << 32], GgmlType::F32),
            ElementCountOverflow
        ),
        case!(
            "dimension above i64::MAX",
            with_tensor("big", &[1 << 63], GgmlType::I8),
            ElementCountOverflow
        ),
        case!(
            "byte size overflows",
            with_tensor("big", &[1 << 61, 2], GgmlType::F32),
            SizeOverflow
        ),
        case!(
            "ne0 not a whole number of blocks",
            with_tensor("odd", &[48, 2], GgmlType::Q4_1),
            RowNotWholeBlocks
        ),
        case!(
            "duplicate tensor name",
            with_tensor("token_embd.weight", &[1], GgmlType::F32),
            DuplicateTensor
        ),
        // Placement and data.
        case!(
            "cut at the end of the tensor infos",
            truncated(|l| l.infos_end),
            TensorOutOfBounds
        ),
        case!(
            "cut inside the last tensor's data",
            truncated(|l| l.tensors[T_NORM].data_at + 5),
            TensorOutOfBounds
        ),
        case!(
            "last byte missing",
            patched(|b, _| _ = b.pop()),
            TensorOutOfBounds
        ),
        case!(
            "tensor offset past the end",
            patched(|b, l| put_u64(b, l.tensors[T_EMBD].offset_at, 1 << 20)),
            TensorOutOfBounds
        ),
        case!(
            "tensor offset overflows",
            patched(|b, l| put_u64(b, l.tensors[T_EMBD].offset_at, u64::MAX - 31)),
            TensorOutOfBounds
        ),
        case!(
            "misaligned tensor",
            patched(|b, l| {
                let relative = (l.tensors[T_NORM].data_at - l.data_offset) as u64;
                put_u64(b, l.tensors[T_NORM].offset_at, relative - 16)
            }),
            MisalignedTensor
        ),
        case!(
            "overlapping tensors",
            patched(|b, l| {
                let relative = (l.tensors[T_ATTN_Q].data_at - l.data_offset) as u64;
                put_u64(b, l.tensors[T_NORM].offset_at, relative)
            }),
            TensorOverlap
        ),
    ]
}
