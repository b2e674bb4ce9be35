//! The `slimlm` command line: one subcommand per task, one function per subcommand.
//!
//! Every failure prints a single `error: ...` line on stderr and exits with code 1
//! (usage errors are clap's, exit code 2).

use std::error::Error;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use slimlm::gguf::{render_info, GgufFile};

/// Model used when `--model` is not given; scripts/fetch-model.sh puts it there.
const DEFAULT_MODEL: &str = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

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
}

#[derive(Args)]
struct InfoArgs {
    /// Path of the GGUF model file.
    #[arg(long, default_value = DEFAULT_MODEL)]
    model: PathBuf,
}

fn main() -> ExitCode {
    env_logger::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Info(args) => info(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `slimlm info`: open (and so fully validate) the model, print [`render_info`].
fn info(args: &InfoArgs) -> Result<(), Box<dyn Error>> {
    let file = GgufFile::open(&args.model)?;
    let text = format!("file: {}\n{}", args.model.display(), render_info(&file));
    print_stdout(&text)
}

/// Writes to stdout; a closed pipe (`slimlm info | head`) is not an error.
fn print_stdout(text: &str) -> Result<(), Box<dyn Error>> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
