//! The forward graph of a loaded model: one variant per architecture, each built from the
//! shared steps of [`super::graph`]. Adding an architecture adds a variant here and its
//! own graph file.

use super::config::ModelConfig;
use super::graph::{LogitsFor, Step};
use super::weights::WeightLoader;
use super::{gemma3, llama, mpt, Arch, ModelError};

/// The forward graph of a loaded model.
pub(crate) enum Forward {
    Llama(llama::Llama),
    Mpt(mpt::Mpt),
    Gemma3(gemma3::Gemma3),
}

impl Forward {
    pub fn load(config: &ModelConfig, loader: &WeightLoader) -> Result<Forward, ModelError> {
        Ok(match config.arch {
            Arch::Llama | Arch::Qwen2 => Forward::Llama(llama::Llama::load(config, loader)?),
            Arch::Mpt => Forward::Mpt(mpt::Mpt::load(config, loader)?),
            Arch::Gemma3 => Forward::Gemma3(gemma3::Gemma3::load(config, loader)?),
        })
    }

    /// Runs `tokens` (ids already checked against the vocabulary) at positions
    /// `step.pos..` and writes the logits of the positions `which` asks for into `logits`.
    pub fn run(&self, step: Step<'_>, tokens: &[u32], which: LogitsFor, logits: &mut Vec<f32>) {
        match self {
            Forward::Llama(g) => g.run(step, tokens, which, logits),
            Forward::Mpt(g) => g.run(step, tokens, which, logits),
            Forward::Gemma3(g) => g.run(step, tokens, which, logits),
        }
    }
}
