//! `slimlm doc summarize|suggest|ask FILE`: the document tasks of [`slimlm::doc`] on the
//! command line. The file is read and checked before the model loads, so a bad file fails
//! at once (a PDF, docx, UTF-16 file or image is named as such, with a hint on converting
//! it: [`file_type`]). Results go to stdout (text, or one JSON object with `--json`); progress of
//! multi-chunk documents and timings go to stderr.

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use slimlm::doc::pipeline::MAX_SUGGESTIONS;
use slimlm::doc::{Assistant, DocError, DocOptions, Document, Outcome, Progress};

use super::common::{context_size, print_stdout, ModelArgs, SamplingArgs};
use super::file_type;

#[derive(Args)]
pub struct DocArgs {
    #[command(subcommand)]
    pub task: DocTask,
}

#[derive(Subcommand)]
pub enum DocTask {
    /// Summarize a document (chunk by chunk, then combined, when it is long).
    Summarize(SummarizeArgs),
    /// Suggest questions about a document.
    Suggest(SuggestArgs),
    /// Answer a question from the passages of a document most relevant to it.
    Ask(AskArgs),
}

/// Options every task takes.
#[derive(Args)]
pub struct TaskArgs {
    /// The document: a UTF-8 text file (.txt, .md), at most 16 MiB.
    pub file: PathBuf,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// Most tokens of each answer (and of each partial summary).
    #[arg(long, default_value_t = 256)]
    pub max_tokens: usize,
    /// Context size in tokens: prompt template + document chunk + answer; 0: the model's
    /// trained context.
    #[arg(short = 'c', long, visible_alias = "ctx-size", default_value_t = 2048)]
    pub ctx: usize,
    /// Print one JSON object: the answer, the chunks used and the timings.
    #[arg(long)]
    pub json: bool,
}

/// The options of the tasks that go through a long document chunk by chunk (`ask`
/// picks its passages by relevance instead, so it does not show them).
#[derive(Args)]
pub struct ChunkArgs {
    /// Most chunks of a long document to summarize; the rest is skipped (and reported).
    #[arg(long, default_value_t = DocOptions::default().max_chunks)]
    pub max_chunks: usize,
}

#[derive(Args)]
pub struct SummarizeArgs {
    #[command(flatten)]
    pub task: TaskArgs,
    #[command(flatten)]
    pub chunks: ChunkArgs,
}

#[derive(Args)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub task: TaskArgs,
    #[command(flatten)]
    pub chunks: ChunkArgs,
    /// How many questions (1 to 20).
    #[arg(long, default_value_t = 3)]
    pub count: usize,
}

#[derive(Args)]
pub struct AskArgs {
    #[command(flatten)]
    pub task: TaskArgs,
    /// The question.
    #[arg(long)]
    pub question: String,
}

/// `slimlm doc ...`.
pub fn run(args: &DocArgs) -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let (task, name, max_chunks) = match &args.task {
        DocTask::Summarize(s) => (&s.task, "summarize", Some(s.chunks.max_chunks)),
        DocTask::Suggest(s) => (&s.task, "suggest", Some(s.chunks.max_chunks)),
        DocTask::Ask(a) => (&a.task, "ask", None),
    };
    // Arguments and the file are checked before the model loads, so mistakes fail fast.
    match &args.task {
        DocTask::Ask(a) if a.question.trim().is_empty() => {
            return Err(DocError::EmptyQuestion.into());
        }
        DocTask::Suggest(s) if s.count == 0 || s.count > MAX_SUGGESTIONS => {
            return Err(DocError::BadCount {
                count: s.count,
                max: MAX_SUGGESTIONS,
            }
            .into());
        }
        _ => {}
    }
    if max_chunks == Some(0) {
        return Err("--max-chunks must be at least 1".into());
    }
    file_type::refuse_non_text(&task.file)?;
    let doc = Document::read(&task.file)?;
    let model = task.model.load()?;
    let load_seconds = start.elapsed().as_secs_f64();
    let options = DocOptions {
        context: context_size(task.ctx, &model),
        max_tokens: task.max_tokens,
        max_chunks: max_chunks.unwrap_or(DocOptions::default().max_chunks),
        sampler: task.sampling.config(),
        kv_type: task.model.kv_type,
    };
    let mut assistant = Assistant::new(&model, options)?;
    let file = task.file.display().to_string();
    let mut steps = 0usize;
    let mut progress = |p: &Progress| match p {
        Progress::Plan {
            chunks,
            used,
            chunk_tokens,
        } => {
            eprint!("{file}: {chunks} chunks of up to {chunk_tokens} tokens");
            if used < chunks {
                eprintln!(
                    "; summarizing the first {used}, skipping {} (raise --max-chunks to cover more)",
                    chunks - used
                );
            } else {
                eprintln!("; summarizing each, then combining");
            }
        }
        Progress::Step { what, stats } => {
            // A single generation needs no progress line; the closing report covers it.
            if steps > 0 || what.starts_with("chunk") {
                eprintln!(
                    "{what}: {} prompt tokens, {} generated, {:.1} tokens/s",
                    stats.prompt_tokens,
                    stats.generated_tokens,
                    stats.generation_tps()
                );
            }
            steps += 1;
        }
    };
    let outcome = match &args.task {
        DocTask::Summarize(_) => assistant.summarize(&doc.text, &mut progress)?,
        DocTask::Suggest(s) => assistant.suggest(&doc.text, s.count, &mut progress)?,
        DocTask::Ask(a) => assistant.ask(&doc.text, &a.question, &mut progress)?,
    };
    let requested = match &args.task {
        DocTask::Suggest(s) => Some(s.count),
        _ => None,
    };
    if let Some(n) = requested {
        if outcome.questions.len() < n {
            // Show what it wrote instead, so the user still sees the model's answer.
            eprintln!(
                "note: the model wrote {} question(s), fewer than the {n} asked; its answer was:\n{}",
                outcome.questions.len(),
                outcome.text
            );
        }
    }
    if outcome.skipped_chunks > 0 {
        let covered = outcome.chunks.last().map_or(0, |c| c.range.end);
        eprintln!(
            "note: only the first {} of {} chunks (bytes 0..{covered} of {}) were used; raise --max-chunks to cover more",
            outcome.chunks.len(),
            outcome.document_chunks,
            doc.text.len()
        );
    }
    let total_seconds = start.elapsed().as_secs_f64();
    report(&outcome, load_seconds, total_seconds);
    if task.json {
        let value = to_json(
            name,
            &file,
            assistant.format().name(),
            &outcome,
            requested,
            load_seconds,
            total_seconds,
        );
        print_stdout(&format!("{}\n", serde_json::to_string_pretty(&value)?))
    } else if requested.is_some() {
        let list: String = outcome
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| format!("{}. {q}\n", i + 1))
            .collect();
        print_stdout(&list)
    } else {
        print_stdout(&format!("{}\n", outcome.text))
    }
}

/// One line of totals on stderr.
fn report(o: &Outcome, load_seconds: f64, total_seconds: f64) {
    let prompt: usize = o.steps.iter().map(|s| s.stats.prompt_tokens).sum();
    let generated: usize = o.steps.iter().map(|s| s.stats.generated_tokens).sum();
    eprintln!(
        "{} chunk(s) used of {}; {} generation(s): {prompt} prompt tokens, {generated} generated; model load {load_seconds:.2} s, total {total_seconds:.2} s",
        o.chunks.len(),
        o.document_chunks,
        o.steps.len()
    );
}

fn to_json(
    task: &str,
    file: &str,
    format: &str,
    o: &Outcome,
    requested: Option<usize>,
    load_seconds: f64,
    total_seconds: f64,
) -> Value {
    let chunks: Vec<Value> = o
        .chunks
        .iter()
        .map(|c| json!({"index": c.index, "start": c.range.start, "end": c.range.end, "tokens": c.tokens}))
        .collect();
    let steps: Vec<Value> = o
        .steps
        .iter()
        .map(|s| {
            json!({
                "what": s.what,
                "prompt_tokens": s.stats.prompt_tokens,
                "prompt_seconds": s.stats.prompt_time.as_secs_f64(),
                "prompt_tokens_per_second": s.stats.prompt_tps(),
                "generated_tokens": s.stats.generated_tokens,
                "generation_seconds": s.stats.generation_time.as_secs_f64(),
                "generation_tokens_per_second": s.stats.generation_tps(),
                "time_to_first_token_seconds": s.stats.time_to_first_token.as_secs_f64(),
                "stop": s.stop.name(),
            })
        })
        .collect();
    let mut v = json!({
        "task": task,
        "file": file,
        "prompt_format": format,
        "answer": o.text,
        "intent": o.intent,
        "chunks_used": chunks,
        "document_chunks": o.document_chunks,
        "skipped_chunks": o.skipped_chunks,
        "timings": {
            "model_load_seconds": load_seconds,
            "tasks_seconds": o.elapsed.as_secs_f64(),
            "total_seconds": total_seconds,
            "steps": steps,
        },
    });
    if let Some(n) = requested {
        v["questions"] = json!(o.questions);
        v["questions_requested"] = json!(n);
    }
    v
}
