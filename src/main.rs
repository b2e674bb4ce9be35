//! The `slimlm` command line: one subcommand per task, one function per subcommand.
//!
//! Every failure prints a single `error: ...` line on stderr and exits with code 1
//! (usage errors are clap's, exit code 2).

mod cli;

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use cli::common::{print_stdout, DEFAULT_MODEL};
use slimlm::gguf::GgufFile;
use slimlm::info::render_info;
use slimlm::model::weights::render_support;

#[derive(Parser)]
#[command(
    name = "slimlm",
    version,
    about = "Verified CPU inference for small language models"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a GGUF model and print its metadata, tokenizer summary and tensors.
    Info(InfoArgs),
    /// Generate text from one prompt (with the model's chat template unless --raw).
    Run(cli::run::RunArgs),
    /// Chat interactively; the KV cache keeps the conversation. Ctrl-D quits.
    Chat(cli::run::ChatArgs),
    /// Perplexity of a text file, computed as llama.cpp's llama-perplexity does.
    Perplexity(cli::perplexity::PerplexityArgs),
    /// Document assistance: summarize a text file, suggest questions, answer a question.
    Doc(cli::doc::DocArgs),
    /// Measure speed: the SlimLM paper's Table 1, llama-bench rows, roofline, kernels.
    Bench(cli::bench::BenchArgs),
}

#[derive(Args)]
struct InfoArgs {
    /// Path of the GGUF model file.
    #[arg(long, default_value = DEFAULT_MODEL)]
    model: PathBuf,
}

fn main() -> ExitCode {
    env_logger::init();
    cli::sigbus::install();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info(&args),
        Command::Run(args) => cli::run::run(&args),
        Command::Chat(args) => cli::run::chat(&args),
        Command::Perplexity(args) => cli::perplexity::run(&args),
        Command::Doc(args) => cli::doc::run(&args),
        Command::Bench(args) => cli::bench::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `slimlm info`: open (and so fully validate) the model, print [`render_info`] and how
/// slimlm computes with each tensor type ([`render_support`]).
fn info(args: &InfoArgs) -> Result<(), Box<dyn Error>> {
    let file = GgufFile::open(&args.model)?;
    let text = format!(
        "file: {}\n{}{}",
        args.model.display(),
        render_info(&file),
        render_support(&file)
    );
    print_stdout(&text)
}
