//! slimlm: verified CPU inference for small language models on phones.
//!
//! - [`gguf`]: a zero-copy, validating GGUF reader over a memory map.
//! - [`model`]: configuration, weights and forward graphs (llama, qwen2, mpt).
//! - [`tokenizer`]: byte-level BPE built from a GGUF vocabulary.
//! - [`chat`]: chat templates rendered with limits.
//! - [`runtime`]: sessions, sampling, threads.
//! - [`doc`]: document assistance (summarize, suggest questions, answer from a document).
//!
//! The arithmetic lives in the embeddable [`slimlm_kernels`] crate.

pub mod chat;
pub mod doc;
pub mod gguf;
pub mod model;
pub mod runtime;
pub mod tokenizer;

pub use slimlm_kernels as kernels;
