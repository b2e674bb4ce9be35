//! Models: configuration from GGUF metadata, weights, and the forward graphs of the
//! supported architectures (Llama family and Qwen2 in [`llama`], SlimLM's MPT in [`mpt`],
//! Gemma 3 in [`gemma3`]).
//!
//! A [`Model`] is immutable after [`Model::load`]; all per-conversation state (KV cache,
//! position, scratch buffers) lives in a [`crate::runtime::Session`].

pub mod config;
mod forward;
mod gemma3;
pub(crate) mod graph;
mod llama;
pub mod matmul;
mod mpt;
pub mod weights;

use std::path::Path;
use std::sync::Arc;

pub use config::{Arch, ModelConfig};

use crate::exec::threads::{Pool, ThreadError};
use crate::gguf::{GgufError, GgufFile};
use crate::tokenizer::{Tokenizer, TokenizerError};
use slimlm_kernels::dispatch::{Isa, IsaError};
use slimlm_kernels::formats::{FormatError, GgmlType};
use slimlm_kernels::matmul::Kernels;
use slimlm_kernels::ops::Ops;
use slimlm_kernels::pack::PackedMatrix;
use weights::WeightLoader;

/// Why a model cannot be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Threads(#[from] ThreadError),
    #[error(transparent)]
    Isa(#[from] IsaError),
    #[error("unsupported architecture '{0}' (slimlm runs llama, qwen2, mpt and gemma3)")]
    UnsupportedArch(String),
    #[error("unsupported model feature: {what}")]
    Unsupported { what: String },
    #[error("metadata '{key}': {reason}")]
    Config { key: String, reason: String },
    #[error("missing tensor '{name}'")]
    MissingTensor { name: String },
    #[error("tensor '{name}' has shape {found:?}, expected {expected:?} (ggml order)")]
    TensorShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("tensor '{name}' has type {ty}, which slimlm cannot multiply")]
    TensorType { name: String, ty: GgmlType },
    #[error("tensor '{name}' at byte {offset} is not 4-byte aligned")]
    Misaligned { name: String, offset: u64 },
    #[error("tensor '{name}': {source}")]
    TensorData { name: String, source: FormatError },
    #[error("tensor '{name}' is in the file but not used by the {arch} graph")]
    UnusedTensor { name: String, arch: &'static str },
}

/// Options for [`Model::load`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Kernel tier (default: `SLIMLM_ISA` if set, else the best this CPU supports).
    pub isa: Option<Isa>,
    /// Threads of each parallel step, the calling one included (default: one per big core).
    pub threads: Option<usize>,
    /// Cores to run on, e.g. "4-7" (default: the big cores).
    pub cpus: Option<String>,
}

/// A loaded model: configuration, tokenizer, weights and worker threads.
pub struct Model {
    pub config: ModelConfig,
    pub tokenizer: Tokenizer,
    /// The Jinja chat template from `tokenizer.chat_template`, if the model has one.
    pub chat_template: Option<String>,
    pub(crate) graph: forward::Forward,
    pub(crate) pool: Pool,
    pub(crate) kernels: Kernels,
    pub(crate) ops: Ops,
    /// Which kernel serves each weight type of the model's matrices.
    kernel_report: Vec<(GgmlType, &'static str)>,
    file: Arc<GgufFile>,
}

impl Model {
    /// Maps `path`, validates it and prepares the weights.
    pub fn load(path: impl AsRef<Path>, options: &LoadOptions) -> Result<Model, ModelError> {
        let file = Arc::new(GgufFile::open(path)?);
        Model::from_file(file, options)
    }

    /// As [`Model::load`], from an already opened file.
    pub fn from_file(file: Arc<GgufFile>, options: &LoadOptions) -> Result<Model, ModelError> {
        let config = ModelConfig::from_gguf(&file)?;
        let tokenizer = Tokenizer::from_gguf(&file)?;
        if tokenizer.vocab_size() > config.vocab_size {
            return Err(ModelError::Config {
                key: "tokenizer.ggml.tokens".into(),
                reason: format!(
                    "{} tokens but token_embd.weight has only {} rows",
                    tokenizer.vocab_size(),
                    config.vocab_size
                ),
            });
        }
        let chat_template = file
            .get("tokenizer.chat_template")
            .map(|_| file.get_str("tokenizer.chat_template").map(str::to_owned))
            .transpose()?;
        let isa = match options.isa {
            Some(isa) => Isa::select(isa.name())?,
            None => Isa::from_env()?,
        };
        let kernels = Kernels::new(isa)?;
        let ops = Ops::new(isa)?;
        let loader = WeightLoader::new(Arc::clone(&file), true);
        let graph = forward::Forward::load(&config, &loader)?;
        if let Some(name) = loader.first_unused() {
            return Err(ModelError::UnusedTensor {
                name,
                arch: config.arch.name(),
            });
        }
        let pool = Pool::new(options.threads, options.cpus.as_deref())?;
        let kernel_report = kernel_report(&file, &kernels);
        for (ty, name) in &kernel_report {
            log::info!("{ty} matrices: {name}");
        }
        log::info!(
            "loaded {} model: {} layers, d_model {}, {} heads ({} KV), vocab {}; {} threads on CPUs {:?}",
            config.arch.name(),
            config.n_layers,
            config.d_model,
            config.n_heads,
            config.n_kv_heads,
            config.vocab_size,
            pool.threads(),
            pool.cpus()
        );
        Ok(Model {
            config,
            tokenizer,
            chat_template,
            graph,
            pool,
            kernels,
            ops,
            kernel_report,
            file,
        })
    }

    /// The kernel tier in use.
    pub fn isa(&self) -> Isa {
        self.kernels.isa()
    }

    /// Which kernel serves each weight type of the model's matrices.
    pub fn kernel_report(&self) -> &[(GgmlType, &'static str)] {
        &self.kernel_report
    }

    /// The underlying GGUF file.
    pub fn file(&self) -> &GgufFile {
        &self.file
    }

    /// The worker threads (benchmarks run their own loops on them).
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Threads of each parallel step, the calling one included.
    pub fn threads(&self) -> usize {
        self.pool.threads()
    }

    /// The cores the workers are pinned to (empty: not pinned).
    pub fn cpus(&self) -> &[usize] {
        self.pool.cpus()
    }
}

/// The kernel of every weight type among the model's 2-D tensors (in first-seen order).
fn kernel_report(file: &GgufFile, kernels: &Kernels) -> Vec<(GgmlType, &'static str)> {
    let mut report: Vec<(GgmlType, &'static str)> = Vec::new();
    for t in file.tensors().iter().filter(|t| t.dims.len() == 2) {
        if report.iter().all(|(ty, _)| *ty != t.ggml_type) {
            // Types that pack run on the kernel of their panel format (Q4_K on Q4_1's,
            // Q5_0 on Q8_0's).
            let panel = PackedMatrix::panel_type(t.ggml_type).unwrap_or(t.ggml_type);
            let name = match kernels.kernel_name(panel) {
                "none" => "scalar reference dot products (no panel kernels for this type)",
                name => name,
            };
            report.push((t.ggml_type, name));
        }
    }
    report
}
