//! `slimlm perplexity`: llama-perplexity's protocol on a text file.

use std::error::Error;
use std::path::PathBuf;

use clap::Args;
use slimlm::runtime::perplexity::perplexity;

use super::common::{context_size, print_stdout, ModelArgs};

#[derive(Args)]
pub struct PerplexityArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// UTF-8 text file to score.
    #[arg(short = 'f', long)]
    pub file: PathBuf,
    /// Tokens per chunk; 0: the model's trained context.
    #[arg(short = 'c', long, visible_alias = "ctx-size", default_value_t = 512)]
    pub ctx: usize,
}

pub fn run(args: &PerplexityArgs) -> Result<(), Box<dyn Error>> {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{} is not UTF-8 text (invalid byte at offset {})",
            args.file.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    let model = args.model.load()?;
    let ctx = context_size(args.ctx, &model);
    let tokens = model.tokenizer.encode(&text, true, false);
    eprintln!(
        "perplexity: {} tokens, {} chunks of {}",
        tokens.len(),
        tokens.len() / ctx.max(1),
        ctx
    );
    let start = std::time::Instant::now();
    let result = perplexity(&model, &tokens, ctx, args.model.kv_type, |i, running| {
        eprint!("[{}]{running:.4},", i + 1);
    })?;
    eprintln!();
    print_stdout(&format!(
        "Final estimate: PPL = {:.4} ({} chunks of {} tokens, {} scored, {:.1} s)\n",
        result.value,
        result.chunks,
        ctx,
        result.scored_tokens,
        start.elapsed().as_secs_f64()
    ))
}
