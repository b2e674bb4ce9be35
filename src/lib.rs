//! slimlm: verified CPU inference for small language models on phones.
//!
//! - [`gguf`]: a zero-copy, validating GGUF reader over a memory map.
//! - [`model`]: configuration, weights and forward graphs (llama, qwen2, mpt).
//! - [`tokenizer`]: byte-level BPE built from a GGUF vocabulary.
//! - [`chat`]: chat templates rendered with limits.
//! - [`runtime`]: sessions, sampling, threads.
//! - [`ffi`]: the C ABI (`include/slimlm.h`), built into `libslimlm.so` and `libslimlm.a`.
//!
//! The arithmetic lives in the embeddable [`slimlm_kernels`] crate.

pub mod chat;
pub mod ffi;
pub mod gguf;
pub mod model;
pub mod runtime;
pub mod tokenizer;

pub use slimlm_kernels as kernels;
