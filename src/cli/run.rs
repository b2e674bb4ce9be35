//! `slimlm run`: one prompt, one streamed answer.
//!
//! The answer stops early, within one token, when stdout is closed (`slimlm run ... |
//! head -c 20`: quietly, exit code 0) or on Ctrl-C (exit code 130, as a shell reports a
//! process ended by SIGINT); the timings line on stderr says which.

use std::error::Error;
use std::io;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use slimlm::chat::ChatMessage;
use slimlm::runtime::generate::{generate_with, GenerateOptions, Generation, StopReason};

use super::common::{
    chat_template, context_size, parse_max_tokens, render, write_stdout, ModelArgs, SamplingArgs,
};
use super::interrupt::Interrupt;
use super::prompt::read_prompt;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// The prompt; "-" reads it from standard input.
    #[arg(short = 'p', long, allow_hyphen_values = true)]
    pub prompt: Option<String>,
    /// Read the prompt from this UTF-8 text file.
    #[arg(short = 'f', long, conflicts_with = "prompt")]
    pub file: Option<PathBuf>,
    /// System message for the chat template (also -sys).
    #[arg(long, visible_alias = "system-prompt")]
    pub system: Option<String>,
    /// Use the prompt as is, without the model's chat template.
    #[arg(long)]
    pub raw: bool,
    /// Most tokens to generate (-1: until an end token or a full context).
    #[arg(short = 'n', long, visible_alias = "n-predict", default_value = "256",
          value_parser = parse_max_tokens, allow_negative_numbers = true)]
    pub max_tokens: usize,
    /// Context size in tokens (prompt plus answer); 0: the model's trained context.
    #[arg(short = 'c', long, visible_alias = "ctx-size", default_value_t = 2048)]
    pub ctx: usize,
    /// Stop when the output contains this text (repeatable).
    #[arg(long = "stop")]
    pub stop: Vec<String>,
    /// Print where the time goes, per kind of operation, for the prompt and for decode.
    #[arg(long)]
    pub profile: bool,
}

/// Why `run` stopped writing before the generation's own end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// Ctrl-C.
    Interrupted,
    /// stdout was closed (a broken pipe).
    OutputClosed,
}

/// `slimlm run`.
pub fn run(args: &RunArgs) -> Result<ExitCode, Box<dyn Error>> {
    let prompt = read_prompt(args.prompt.as_deref(), args.file.as_deref())?;
    let model = args.model.load()?;
    let ctx = context_size(args.ctx, &model);
    let template = if args.raw {
        None
    } else {
        chat_template(&model)?
    };
    let text = match &template {
        Some(t) => {
            let mut messages = Vec::new();
            if let Some(system) = &args.system {
                messages.push(ChatMessage::new("system", system));
            }
            messages.push(ChatMessage::new("user", &prompt));
            render(Some(t), &messages)?
        }
        None => prompt,
    };
    let tokens = model.tokenizer.encode(&text, true, true);
    if tokens.len() >= ctx {
        return Err(format!(
            "the prompt has {} tokens, but the context holds {ctx} (raise --ctx, up to the model's {})",
            tokens.len(),
            model.config.context_length
        )
        .into());
    }
    let mut session = args.model.session(&model, ctx)?;
    session.set_profiling(args.profile);
    let options = GenerateOptions {
        max_tokens: args.max_tokens,
        sampler: args.sampling.config(),
        stop_strings: args.stop.clone(),
    };
    let interrupt = Interrupt::install()?;
    let mut cut = None;
    let mut write_error = None;
    let generation = interrupt.during(|| {
        generate_with(&mut session, &tokens, &options, |piece| {
            if !piece.is_empty() {
                match write_stdout(piece) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                        cut = Some(Cut::OutputClosed);
                        return ControlFlow::Break(());
                    }
                    Err(e) => {
                        write_error = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
            if interrupt.requested() {
                cut = Some(Cut::Interrupted);
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })
    })?;
    if let Some(e) = write_error {
        return Err(format!("writing the answer to stdout: {e}").into());
    }
    if cut != Some(Cut::OutputClosed) {
        // A pipe closed here, after the last token, is no error either.
        let _ = write_stdout("\n");
    }
    report(&generation, cut);
    if let Some(prefill) = &generation.prefill_profile {
        eprintln!(
            "\nprofile of the prompt ({} tokens):",
            generation.stats.prompt_tokens
        );
        eprint!("{}", prefill.render());
        eprintln!(
            "\nprofile of decode ({} steps):",
            generation.stats.generated_tokens.saturating_sub(1)
        );
        eprint!("{}", session.profile().render());
    }
    Ok(match cut {
        Some(Cut::Interrupted) => ExitCode::from(130),
        _ => ExitCode::SUCCESS,
    })
}

/// Timings on stderr, as llama.cpp prints them. A cancelled generation says why.
pub fn report(g: &Generation, cut: Option<Cut>) {
    let s = &g.stats;
    let stop = match (g.stop, cut) {
        (StopReason::Cancelled, Some(Cut::OutputClosed)) => "output closed",
        (StopReason::Cancelled, Some(Cut::Interrupted)) => "interrupted (Ctrl-C)",
        (stop, _) => stop.name(),
    };
    eprintln!(
        "prompt: {} tokens in {:.3} s ({:.1} tokens/s); generation: {} tokens, {:.1} tokens/s; time to first token: {:.1} ms; stop: {stop}",
        s.prompt_tokens,
        s.prompt_time.as_secs_f64(),
        s.prompt_tps(),
        s.generated_tokens,
        s.generation_tps(),
        s.time_to_first_token.as_secs_f64() * 1e3,
    );
}
