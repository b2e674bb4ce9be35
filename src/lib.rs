//! slimlm: verified CPU inference for small language models on phones.
//!
//! - [`gguf`]: a zero-copy, validating GGUF reader over a memory map.
//! - [`model`]: configuration, weights and forward graphs (llama, qwen2, mpt).
//! - [`tokenizer`]: byte-level BPE built from a GGUF vocabulary.
//! - [`chat`]: chat templates rendered with limits.
//! - [`runtime`]: sessions, sampling, threads.
//! - [`ffi`]: the C ABI (`include/slimlm.h`), built into `libslimlm.so` and `libslimlm.a`.
//! - [`doc`]: document assistance (summarize, suggest questions, answer from a document).
//! - [`bench`]: measurements for `slimlm bench` (Table 1, llama-bench rows, roofline).
//!
//! The arithmetic lives in the embeddable [`slimlm_kernels`] crate.
//!
//! # Example: load a model and generate
//!
//! A [`model::Model`] is immutable and shared; a [`runtime::Session`] holds one
//! conversation's KV cache; [`runtime::generate::generate`] prefills the prompt, then
//! samples and decodes token by token, streaming text.
//!
//! ```no_run
//! use slimlm::model::{LoadOptions, Model};
//! use slimlm::runtime::generate::{generate, GenerateOptions};
//! use slimlm::runtime::sampler::SamplerConfig;
//! use slimlm::runtime::Session;
//!
//! // Kernel tier from SLIMLM_ISA or the CPU; one worker thread per big core.
//! let model = Model::load("models/SmolLM2-135M-Instruct.Q4_1.gguf", &LoadOptions::default())?;
//! let prompt = model.tokenizer.encode("The three primary colors are", true, true);
//!
//! let mut session = Session::new(&model, 512)?;
//! let options = GenerateOptions {
//!     max_tokens: 32,
//!     sampler: SamplerConfig { temperature: 0.7, top_p: 0.9, seed: 42, ..SamplerConfig::default() },
//!     ..GenerateOptions::default()
//! };
//! let out = generate(&mut session, &prompt, &options, |text| print!("{text}"))?;
//! println!("\n{} tokens, {:.1} tokens/s ({:?})", out.tokens.len(), out.stats.generation_tps(), out.stop);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bench;
pub mod chat;
pub mod doc;
pub mod exec;
pub mod ffi;
pub mod gguf;
pub mod info;
pub mod model;
pub mod runtime;
pub mod tokenizer;

pub use slimlm_kernels as kernels;
