//! slimlm: verified CPU inference for small language models on phones.
//!
//! - [`gguf`]: a zero-copy, validating GGUF reader over a memory map.
//! - [`model`]: configuration, weights and forward graphs (llama, qwen2, mpt).
//! - [`tokenizer`]: byte-level BPE built from a GGUF vocabulary.
//! - [`chat`]: chat templates rendered with limits.
//! - [`runtime`]: sessions, sampling, threads.
//! - [`bench`]: measurements for `slimlm bench` (Table 1, llama-bench rows, roofline).
//!
//! The arithmetic lives in the embeddable [`slimlm_kernels`] crate.

pub mod bench;
pub mod chat;
pub mod gguf;
pub mod model;
pub mod runtime;
pub mod tokenizer;

pub use slimlm_kernels as kernels;
