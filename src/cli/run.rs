//! `slimlm run` (one prompt) and `slimlm chat` (an interactive conversation).

use std::error::Error;
use std::io::{self, BufRead, Write};

use clap::Args;
use slimlm::chat::ChatMessage;
use slimlm::runtime::generate::{generate, GenerateOptions, Generation};

use super::common::{chat_template, print_stdout, render, ModelArgs, SamplingArgs};

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// The prompt.
    #[arg(long)]
    pub prompt: String,
    /// System message for the chat template.
    #[arg(long)]
    pub system: Option<String>,
    /// Use the prompt as is, without the model's chat template.
    #[arg(long)]
    pub raw: bool,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Context size in tokens (prompt plus answer).
    #[arg(long, default_value_t = 2048)]
    pub ctx: usize,
    /// Stop when the output contains this text (repeatable).
    #[arg(long = "stop")]
    pub stop: Vec<String>,
    /// Print where the time goes, per kind of operation, for the prompt and for decode.
    #[arg(long)]
    pub profile: bool,
}

#[derive(Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// System message.
    #[arg(long)]
    pub system: Option<String>,
    /// Most tokens per answer.
    #[arg(long, default_value_t = 512)]
    pub max_tokens: usize,
    /// Context size in tokens for the whole conversation.
    #[arg(long, default_value_t = 2048)]
    pub ctx: usize,
}

/// `slimlm run`.
pub fn run(args: &RunArgs) -> Result<(), Box<dyn Error>> {
    if args.prompt.is_empty() {
        return Err("the prompt is empty (--prompt TEXT)".into());
    }
    let model = args.model.load()?;
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
            messages.push(ChatMessage::new("user", &args.prompt));
            render(Some(t), &messages)?
        }
        None => args.prompt.clone(),
    };
    let tokens = model.tokenizer.encode(&text, true, true);
    if tokens.len() >= args.ctx {
        return Err(format!(
            "the prompt has {} tokens, but the context holds {} (raise --ctx, up to the model's {})",
            tokens.len(),
            args.ctx,
            model.config.context_length
        )
        .into());
    }
    let mut session = args.model.session(&model, args.ctx)?;
    session.set_profiling(args.profile);
    let options = GenerateOptions {
        max_tokens: args.max_tokens,
        sampler: args.sampling.config(),
        stop_strings: args.stop.clone(),
    };
    let mut write_error = None;
    let generation = generate(&mut session, &tokens, &options, |piece| {
        if write_error.is_none() {
            write_error = print_stdout(piece).err();
        }
    })?;
    if let Some(e) = write_error {
        return Err(e);
    }
    print_stdout("\n")?;
    report(&generation);
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
    Ok(())
}

/// Timings on stderr, as llama.cpp prints them.
fn report(g: &Generation) {
    let s = &g.stats;
    eprintln!(
        "prompt: {} tokens in {:.3} s ({:.1} tokens/s); generation: {} tokens, {:.1} tokens/s; time to first token: {:.1} ms; stop: {}",
        s.prompt_tokens,
        s.prompt_time.as_secs_f64(),
        s.prompt_tps(),
        s.generated_tokens,
        s.generation_tps(),
        s.time_to_first_token.as_secs_f64() * 1e3,
        g.stop.name()
    );
}

/// `slimlm chat`: reads a message per line until end of input (Ctrl-D). The KV cache
/// keeps the conversation: each turn re-renders the whole conversation with the template
/// and evaluates only the tokens after the part the cache already holds.
pub fn chat(args: &ChatArgs) -> Result<(), Box<dyn Error>> {
    let model = args.model.load()?;
    let template = chat_template(&model)?;
    if template.is_none() {
        eprintln!("note: the model has no chat template; messages are joined by newlines");
    }
    let mut session = args.model.session(&model, args.ctx)?;
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(ChatMessage::new("system", system));
    }
    let mut cached: Vec<u32> = Vec::new();
    let options = GenerateOptions {
        max_tokens: args.max_tokens,
        sampler: args.sampling.config(),
        stop_strings: Vec::new(),
    };
    eprintln!(
        "chat with {} (Ctrl-D to quit, /reset to start over)",
        args.model.model.display()
    );
    let stdin = io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        eprint!("> ");
        io::stderr().flush()?;
        let Some(line) = lines.next() else {
            eprintln!();
            return Ok(());
        };
        let line = line?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/reset" {
            messages.retain(|m: &ChatMessage| m.role == "system");
            session.reset();
            cached.clear();
            eprintln!("(conversation reset)");
            continue;
        }
        messages.push(ChatMessage::new("user", line));
        let tokens = model
            .tokenizer
            .encode(&render(template.as_ref(), &messages)?, true, true);
        let common = cached
            .iter()
            .zip(&tokens)
            .take_while(|(a, b)| a == b)
            .count();
        // Always evaluate at least one token, so there are fresh logits to sample from.
        let keep = common.min(tokens.len() - 1);
        if tokens.len() >= args.ctx {
            messages.pop();
            eprintln!(
                "the conversation would need {} tokens but the context holds {}: /reset to start over, or raise --ctx",
                tokens.len(),
                args.ctx
            );
            continue;
        }
        // A model with sliding-window ring caches may no longer hold what the shared
        // prefix needs: then the whole conversation is evaluated again.
        if session.rewind(keep.min(session.position())).is_err() {
            session.reset();
        }
        let new = &tokens[session.position()..];
        let generation = generate(&mut session, new, &options, |piece| {
            print!("{piece}");
            let _ = io::stdout().flush();
        })?;
        println!();
        report(&generation);
        cached = tokens;
        cached.extend_from_slice(&generation.tokens);
        messages.push(ChatMessage::new("assistant", generation.text.trim()));
    }
}
