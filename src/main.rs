//! The `slimlm` command line: one subcommand per task, one function per subcommand.
//!
//! Every failure prints a single `error: ...` line on stderr and exits with code 1
//! (usage errors are clap's, exit code 2). `run` stopped by Ctrl-C exits with 130.

mod cli;

use std::error::Error;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use cli::common::print_stdout;
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
    /// Chat interactively, with line editing and history; /help lists the commands.
    Chat(cli::chat::ChatArgs),
    /// Perplexity of a text file, computed as llama.cpp's llama-perplexity does.
    Perplexity(cli::perplexity::PerplexityArgs),
    /// Document assistance: summarize a text file, suggest questions, answer a question.
    Doc(cli::doc::DocArgs),
    /// Measure speed: the SlimLM paper's Table 1, llama-bench rows, roofline, kernels.
    Bench(cli::bench::BenchArgs),
}

#[derive(Args)]
struct InfoArgs {
    /// Path of the GGUF model file (default: as for `run`).
    #[arg(short = 'm', long)]
    model: Option<PathBuf>,
}

fn main() -> ExitCode {
    // An empty SLIMLM_ISA means "not set", as convention has it for such variables.
    // Removed before any thread exists, so no other thread can be reading the environment.
    if std::env::var_os("SLIMLM_ISA").is_some_and(|v| v.is_empty()) {
        std::env::remove_var("SLIMLM_ISA");
    }
    env_logger::init();
    cli::sigbus::install();
    let cli = Cli::parse_from(llama_aliases(std::env::args_os()));
    let result = match cli.command {
        Command::Info(args) => info(&args).map(|()| ExitCode::SUCCESS),
        Command::Run(args) => cli::run::run(&args),
        Command::Chat(args) => cli::chat::chat(&args),
        Command::Perplexity(args) => cli::perplexity::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Doc(args) => cli::doc::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Bench(args) => cli::bench::run(&args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// llama.cpp's multi-letter short option `-sys` (which clap cannot declare) becomes
/// `--system`, unless it is the value of the option before it (`-p -sys`).
fn llama_aliases(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let takes_text = ["-p", "--prompt", "--system", "--system-prompt", "--stop"];
    let mut out: Vec<OsString> = Vec::new();
    for arg in args {
        let is_value = out
            .last()
            .and_then(|prev| prev.to_str())
            .is_some_and(|prev| takes_text.contains(&prev));
        if arg == "-sys" && !is_value {
            out.push("--system".into());
        } else {
            out.push(arg);
        }
    }
    out
}

/// `slimlm info`: open (and so fully validate) the model, print [`render_info`] and how
/// slimlm computes with each tensor type ([`render_support`]).
fn info(args: &InfoArgs) -> Result<(), Box<dyn Error>> {
    let path = match &args.model {
        Some(path) => path.clone(),
        None => cli::model_path::find_default()?,
    };
    let file = GgufFile::open(&path)?;
    let text = format!(
        "file: {}\n{}{}",
        path.display(),
        render_info(&file),
        render_support(&file)
    );
    print_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sys_becomes_system_unless_it_is_a_value() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            llama_aliases(args(&["slimlm", "chat", "-sys", "be brief"])),
            args(&["slimlm", "chat", "--system", "be brief"])
        );
        assert_eq!(
            llama_aliases(args(&["slimlm", "run", "-p", "-sys"])),
            args(&["slimlm", "run", "-p", "-sys"])
        );
    }
}
