//! Options and helpers shared by the subcommands that run a model.
//!
//! Flags take llama.cpp's names beside ours (`-m`, `-t`, `-s`, `--temp`...), and their
//! errors name the flag or variable that is wrong, never the model file.

use std::error::Error;
use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;
use slimlm::chat::{ChatMessage, ChatTemplate};
use slimlm::exec::threads::parse_cpu_list;
use slimlm::kernels::dispatch::Isa;
use slimlm::model::{LoadOptions, Model, ModelError};
use slimlm::runtime::sampler::{random_seed, SamplerConfig};
use slimlm::runtime::session::KvType;
use slimlm::runtime::{Session, SessionError};

use super::model_path;

/// Which model to load and on which threads.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// Path of the GGUF model file (default: SmolLM2-135M-Instruct.Q4_1.gguf from
    /// ./models, $XDG_DATA_HOME/slimlm/models or the models/ folder of the checkout
    /// slimlm was built from).
    #[arg(short = 'm', long)]
    pub model: Option<PathBuf>,
    /// Threads of each parallel step, this one included (default: one per big core).
    #[arg(short = 't', long)]
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
    /// The model file: `--model`, or the default model where [`model_path`] finds it.
    pub fn path(&self) -> Result<PathBuf, Box<dyn Error>> {
        match &self.model {
            Some(path) if !path.exists() => {
                Err(format!("model file {} not found", path.display()).into())
            }
            Some(path) => Ok(path.clone()),
            None => model_path::find_default(),
        }
    }

    /// Loads the model. The kernel tier (`SLIMLM_ISA`), `--threads` and `--cpus` are
    /// checked first, and their errors name the flag or variable, not the model file.
    pub fn load(&self) -> Result<Model, Box<dyn Error>> {
        let isa = Isa::from_env()?;
        if let Some(list) = &self.cpus {
            check_cpus(list)?;
        }
        let path = self.path()?;
        let options = LoadOptions {
            isa: Some(isa),
            threads: self.threads,
            cpus: self.cpus.clone(),
        };
        let model = Model::load(&path, &options).map_err(|e| -> Box<dyn Error> {
            match e {
                ModelError::Threads(e) => e.into(),
                ModelError::Isa(e) => e.into(),
                e => format!("{}: {e}", path.display()).into(),
            }
        })?;
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

/// `--ctx N`, where 0 means the model's trained context (as llama.cpp's `-c 0`).
pub fn context_size(ctx: usize, model: &Model) -> usize {
    if ctx == 0 {
        model.config.context_length
    } else {
        ctx
    }
}

/// Refuses a `--cpus` list that names a CPU this process may not run on (offline, beyond
/// the machine, or outside its affinity mask): pinning there would fail at run time.
fn check_cpus(list: &str) -> Result<(), Box<dyn Error>> {
    let cpus = parse_cpu_list(list)?;
    let Some(allowed) = allowed_cpus() else {
        return Ok(());
    };
    match cpus.iter().find(|c| !allowed.contains(c)) {
        Some(cpu) => Err(format!(
            "--cpus {list:?}: CPU {cpu} is not one this process may run on (it may use CPUs {})",
            format_cpu_list(&allowed)
        )
        .into()),
        None => Ok(()),
    }
}

/// The CPUs of this process's affinity mask, or `None` if it cannot be read.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn allowed_cpus() -> Option<Vec<usize>> {
    // SAFETY: cpu_set_t is plain data, fully initialised by zeroing; sched_getaffinity
    // writes at most `size_of::<cpu_set_t>()` bytes into it, and CPU_ISSET only reads it
    // for CPU numbers below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        Some(
            (0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
                .collect(),
        )
    }
}

/// The CPUs of this process's affinity mask, or `None` if it cannot be read.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn allowed_cpus() -> Option<Vec<usize>> {
    None
}

/// "0-3,6" for [0, 1, 2, 3, 6] (sorted input).
fn format_cpu_list(cpus: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// The sampler's seed: `-1` (the default) draws one at random.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seed {
    Random,
    Fixed(u64),
}

fn parse_seed(s: &str) -> Result<Seed, String> {
    match s.trim() {
        "-1" => Ok(Seed::Random),
        t => t.parse().map(Seed::Fixed).map_err(|_| {
            format!("{s:?} is not a seed (expected -1 for a random one, or 0 to 2^64-1)")
        }),
    }
}

/// Sampling options.
#[derive(Args, Clone, Debug)]
pub struct SamplingArgs {
    /// Temperature; 0 picks the most likely token (greedy, the default).
    #[arg(long, visible_alias = "temp", default_value_t = 0.0)]
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
    /// Seed of the sampler's random numbers; -1 picks one at random and prints it on
    /// stderr, so that the run can be repeated.
    #[arg(short = 's', long, default_value = "-1", value_parser = parse_seed,
          allow_negative_numbers = true)]
    pub seed: Seed,
}

impl SamplingArgs {
    /// The sampler configuration. A random seed is drawn here, and printed on stderr
    /// when it matters (temperature above 0).
    pub fn config(&self) -> SamplerConfig {
        let seed = match self.seed {
            Seed::Fixed(seed) => seed,
            Seed::Random => {
                let seed = random_seed();
                if self.temperature > 0.0 {
                    eprintln!("seed: {seed} (--seed {seed} repeats this run)");
                }
                seed
            }
        };
        SamplerConfig {
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            min_p: self.min_p,
            repetition_penalty: self.repeat_penalty,
            seed,
            ..SamplerConfig::default()
        }
    }
}

/// `-n` / `--max-tokens`: a count, or -1 for "until the context is full" (llama.cpp's
/// `-n -1`).
pub fn parse_max_tokens(s: &str) -> Result<usize, String> {
    match s.trim() {
        "-1" => Ok(usize::MAX),
        t => t
            .parse()
            .map_err(|_| format!("{s:?} is not a token count (or -1 for no limit)")),
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
    match write_stdout(text) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes to stdout and flushes, reporting every error (a closed pipe included).
pub fn write_stdout(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_are_formatted_as_ranges() {
        assert_eq!(format_cpu_list(&[0, 1, 2, 3, 6]), "0-3,6");
        assert_eq!(format_cpu_list(&[1]), "1");
        assert_eq!(format_cpu_list(&[0, 2, 3]), "0,2-3");
        assert_eq!(format_cpu_list(&[]), "");
    }

    #[test]
    fn seeds_and_token_counts() {
        assert_eq!(parse_seed("-1"), Ok(Seed::Random));
        assert_eq!(parse_seed("42"), Ok(Seed::Fixed(42)));
        assert!(parse_seed("-2").is_err());
        assert_eq!(parse_max_tokens("-1"), Ok(usize::MAX));
        assert_eq!(parse_max_tokens("8"), Ok(8));
        assert!(parse_max_tokens("-3").is_err());
    }
}
