//! Options and helpers shared by the subcommands that run a model.

use std::error::Error;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use slimlm::chat::{ChatMessage, ChatTemplate};
use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::sampler::SamplerConfig;
use slimlm::runtime::session::KvType;
use slimlm::runtime::{Session, SessionError};

/// Model used when `--model` is not given; scripts/fetch-model.sh puts it there.
pub const DEFAULT_MODEL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

/// Which model to load and on which threads.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// Path of the GGUF model file.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: PathBuf,
    /// Threads of each parallel step, this one included (default: one per big core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Cores to run on, e.g. "4-7" or "0,2" (default: the big cores).
    #[arg(long)]
    pub cpus: Option<String>,
    /// KV cache storage: f16 (default), q8_0 (half the memory, for long documents) or f32
    /// (exact).
    #[arg(long, default_value = "f16", value_parser = parse_kv_type)]
    pub kv_type: KvType,
}

fn parse_kv_type(s: &str) -> Result<KvType, String> {
    [KvType::F16, KvType::Q8_0, KvType::F32]
        .into_iter()
        .find(|t| t.name() == s)
        .ok_or_else(|| format!("unknown KV cache type {s:?} (expected f16, q8_0 or f32)"))
}

impl ModelArgs {
    /// Loads the model, with a message that says how to get the default model if it is
    /// missing.
    pub fn load(&self) -> Result<Model, Box<dyn Error>> {
        if !self.model.exists() {
            let hint = if self.model == Path::new(DEFAULT_MODEL) {
                " (run scripts/fetch-model.sh to download it, or pass --model PATH)"
            } else {
                ""
            };
            return Err(format!("model file {} not found{hint}", self.model.display()).into());
        }
        let options = LoadOptions {
            threads: self.threads,
            cpus: self.cpus.clone(),
            ..LoadOptions::default()
        };
        let model = Model::load(&self.model, &options)
            .map_err(|e| format!("{}: {e}", self.model.display()))?;
        // This thread takes part in every parallel step (the pool's participant 0), so
        // it runs on the first of the pool's cores, like the workers on the others.
        if let Some(&cpu) = model.cpus().first() {
            slimlm::exec::threads::pin_current_thread(cpu);
        }
        Ok(model)
    }

    /// A session of `ctx` positions with the requested KV cache type.
    pub fn session<'m>(&self, model: &'m Model, ctx: usize) -> Result<Session<'m>, SessionError> {
        Session::with_kv_type(model, ctx, self.kv_type)
    }
}

/// Sampling options.
#[derive(Args, Clone, Debug)]
pub struct SamplingArgs {
    /// Temperature; 0 picks the most likely token (greedy, the default).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// Keep only the K most likely tokens (0: off).
    #[arg(long, default_value_t = 0)]
    pub top_k: usize,
    /// Keep the smallest set of tokens whose probability reaches P (1: off).
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// Drop tokens less likely than P times the most likely one (0: off).
    #[arg(long, default_value_t = 0.0)]
    pub min_p: f32,
    /// Penalty for tokens of the last 64 (1: off).
    #[arg(long, default_value_t = 1.0)]
    pub repeat_penalty: f32,
    /// Seed of the sampler's random numbers.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl SamplingArgs {
    pub fn config(&self) -> SamplerConfig {
        SamplerConfig {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            min_p: self.min_p,
            repetition_penalty: self.repeat_penalty,
            seed: self.seed,
            ..SamplerConfig::default()
        }
    }
}

/// The model's chat template, or `None` for base models without one.
pub fn chat_template(model: &Model) -> Result<Option<ChatTemplate>, Box<dyn Error>> {
    ChatTemplate::for_model(model).map_err(|e| format!("chat template of the model: {e}").into())
}

/// Renders `messages` with the template (generation prompt added), or joins their
/// contents when the model has none.
pub fn render(
    template: Option<&ChatTemplate>,
    messages: &[ChatMessage],
) -> Result<String, Box<dyn Error>> {
    match template {
        Some(t) => Ok(t.render(messages, true)?),
        None => Ok(messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

/// Writes to stdout and flushes; a closed pipe (`slimlm ... | head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), Box<dyn Error>> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
