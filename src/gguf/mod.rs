//! A zero-copy, validating GGUF reader over a memory map, and a small writer for tests.
//!
//! [`GgufFile::open`] maps a file and validates all of it up front: header, every metadata
//! value, every tensor info, and the placement of every tensor (aligned, inside the file,
//! not overlapping). Counts and lengths are bounded by the bytes that remain before
//! anything is allocated, arrays nest at most [`MAX_NESTING`] deep, and all arithmetic is
//! checked, so a hostile file yields a [`GgufError`] naming the byte offset and the key or
//! tensor, never a panic or a huge allocation. Tensor data is never copied or read here:
//! [`GgufFile::tensor_bytes`] and [`GgufFile::tensor_blocks`] borrow from the map.
//!
//! Little-endian GGUF v2 and v3 only. Keys are not interpreted beyond
//! `general.alignment`; the model config reads the rest.

mod cursor;
mod error;
mod file;
mod metadata;
mod parse;
mod source;
mod tensors;
pub mod writer;

pub use error::{GgufError, Subject};
pub use file::GgufFile;
pub use metadata::{MetaArray, MetaValue, MAX_NESTING};
pub use parse::DEFAULT_ALIGNMENT;
pub use tensors::{TensorInfo, MAX_DIMS};
pub use writer::{GgufWriter, Layout};
