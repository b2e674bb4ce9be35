//! The three document tasks on one [`Session`]: `summarize` (map-reduce over chunks for
//! long documents), `suggest` (questions from the document, or from its summary when it
//! is longer than one chunk) and `ask` (the passages BM25 ranks best for the question,
//! as many as fit). Every generation starts from an empty context.
//!
//! Work is bounded: at most `max_chunks` chunks are summarized (the rest is skipped and
//! reported in [`Outcome::skipped_chunks`]), and partial summaries are combined in at
//! most [`MAX_COMBINE_ROUNDS`] rounds.

use std::ops::Range;
use std::time::{Duration, Instant};

use super::bm25;
use super::chunk::{chunk, Chunk};
use super::parse::{parse_questions, parse_response, Response};
use super::prompt::{PromptFormat, Request};
use super::DocError;
use crate::model::Model;
use crate::runtime::generate::{generate, GenerateOptions, GenerationStats, StopReason};
use crate::runtime::sampler::SamplerConfig;
use crate::runtime::session::KvType;
use crate::runtime::Session;

/// Fewest document tokens a prompt must leave room for.
pub const MIN_DOCUMENT_TOKENS: usize = 64;
/// Size of the passages `ask` ranks: small enough that several relevant ones fit, large
/// enough to hold a paragraph.
pub const ASK_PASSAGE_TOKENS: usize = 192;
/// Most questions `suggest` asks for.
pub const MAX_SUGGESTIONS: usize = 20;
/// Most rounds of combining partial summaries.
pub const MAX_COMBINE_ROUNDS: usize = 3;

/// Sizes and sampling of the document tasks.
#[derive(Clone, Debug)]
pub struct DocOptions {
    /// Context of the session in tokens: prompt template + document + answer.
    pub context: usize,
    /// Most tokens of each answer (each partial summary too).
    pub max_tokens: usize,
    /// Most chunks summarized; later chunks are skipped (and reported).
    pub max_chunks: usize,
    /// Sampling; the default is greedy, so results are reproducible.
    pub sampler: SamplerConfig,
    /// KV cache storage (Q8_0 halves the memory of long documents).
    pub kv_type: KvType,
}

impl Default for DocOptions {
    fn default() -> Self {
        DocOptions {
            context: 2048,
            max_tokens: 256,
            max_chunks: 8,
            sampler: SamplerConfig::default(),
            kv_type: KvType::F16,
        }
    }
}

/// A chunk of the document given to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkUse {
    /// Index among the chunks of this task's size.
    pub index: usize,
    /// Byte range in the document.
    pub range: Range<usize>,
    pub tokens: usize,
}

/// One generation of a task.
#[derive(Clone, Debug)]
pub struct StepTiming {
    /// What it did: "summary", "chunk 2 of 5", "combining 5 summaries", "questions", "answer".
    pub what: String,
    pub stats: GenerationStats,
    pub stop: StopReason,
}

/// Reported while a task runs, for progress displays.
pub enum Progress<'a> {
    /// The document is longer than one chunk: `used` of its `chunks` (of at most
    /// `chunk_tokens` tokens) will be summarized.
    Plan {
        chunks: usize,
        used: usize,
        chunk_tokens: usize,
    },
    /// A generation finished.
    Step {
        what: &'a str,
        stats: &'a GenerationStats,
    },
}

/// The result of a task.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The answer: the summary, the answer to the question, or the model's list of
    /// questions as it wrote it.
    pub text: String,
    /// The DocAssist intent, if the model wrote one.
    pub intent: Option<String>,
    /// `suggest` only: the cleaned questions (never more than asked, maybe fewer).
    pub questions: Vec<String>,
    /// The chunks given to the model, in document order.
    pub chunks: Vec<ChunkUse>,
    /// How many chunks the document has at this task's chunk size.
    pub document_chunks: usize,
    /// Chunks left out by `max_chunks`.
    pub skipped_chunks: usize,
    /// Every generation, in order.
    pub steps: Vec<StepTiming>,
    pub elapsed: Duration,
}

/// Runs the document tasks with one model and one session.
pub struct Assistant<'m> {
    model: &'m Model,
    session: Session<'m>,
    format: PromptFormat,
    options: DocOptions,
}

/// What a task accumulates while it runs.
struct Work<'p> {
    steps: Vec<StepTiming>,
    progress: &'p mut dyn FnMut(&Progress),
}

impl<'m> Assistant<'m> {
    /// An assistant for `model`, with the prompt format it calls for.
    pub fn new(model: &'m Model, options: DocOptions) -> Result<Assistant<'m>, DocError> {
        Ok(Assistant {
            model,
            session: Session::with_kv_type(model, options.context, options.kv_type)?,
            format: PromptFormat::for_model(model)?,
            options,
        })
    }

    /// The prompt format in use.
    pub fn format(&self) -> &PromptFormat {
        &self.format
    }

    /// Tokens of `text` as the document part of a prompt.
    pub fn count(&self, text: &str) -> usize {
        self.model.tokenizer.encode(text, false, false).len()
    }

    /// Document tokens a prompt with `request` leaves room for.
    pub fn budget(&self, request: Request) -> Result<usize, DocError> {
        let template = self
            .format
            .tokens(&self.model.tokenizer, "", request)?
            .len();
        let overhead = template + self.options.max_tokens;
        let left = self.options.context.saturating_sub(overhead);
        if left < MIN_DOCUMENT_TOKENS {
            return Err(DocError::ContextTooSmall {
                context: self.options.context,
                overhead,
                left,
                min: MIN_DOCUMENT_TOKENS,
            });
        }
        Ok(left)
    }

    fn chunks(&self, text: &str, max: usize) -> Vec<Chunk> {
        chunk(text, max, &|s| self.count(s))
    }

    /// Summarizes `text`: in one generation if it fits, else each of the first
    /// `max_chunks` chunks, then the partial summaries combined.
    pub fn summarize(
        &mut self,
        text: &str,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Outcome, DocError> {
        let start = Instant::now();
        let mut work = Work {
            steps: Vec::new(),
            progress,
        };
        let (response, chunks, total) = self.summarize_text(text, &mut work)?;
        Ok(Outcome {
            text: response.body,
            intent: response.intent,
            questions: Vec::new(),
            skipped_chunks: total - chunks.len(),
            chunks,
            document_chunks: total,
            steps: work.steps,
            elapsed: start.elapsed(),
        })
    }

    /// Suggests `count` questions about `text` (from its summary if it is longer than one
    /// chunk). [`Outcome::questions`] may hold fewer if the model wrote fewer.
    pub fn suggest(
        &mut self,
        text: &str,
        count: usize,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Outcome, DocError> {
        if count == 0 || count > MAX_SUGGESTIONS {
            return Err(DocError::BadCount {
                count,
                max: MAX_SUGGESTIONS,
            });
        }
        let start = Instant::now();
        let request = Request::Suggest(count);
        let budget = self.budget(request)?;
        let mut work = Work {
            steps: Vec::new(),
            progress,
        };
        let whole = self.chunks(text, budget);
        let (document, chunks, total) = if whole.len() == 1 {
            let used = uses(&whole);
            (text[whole[0].range.clone()].to_string(), used, 1)
        } else {
            let (summary, chunks, total) = self.summarize_text(text, &mut work)?;
            (self.fit(&summary.body, budget), chunks, total)
        };
        let response = self.run(&document, request, "questions".into(), &mut work)?;
        Ok(Outcome {
            questions: parse_questions(&response.body, count),
            text: response.body,
            intent: response.intent,
            skipped_chunks: total - chunks.len(),
            chunks,
            document_chunks: total,
            steps: work.steps,
            elapsed: start.elapsed(),
        })
    }

    /// Answers `question` from the passages of `text` most relevant to it (the whole
    /// text if it fits).
    pub fn ask(
        &mut self,
        text: &str,
        question: &str,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Outcome, DocError> {
        let question = question.trim();
        if question.is_empty() {
            return Err(DocError::EmptyQuestion);
        }
        let start = Instant::now();
        let budget = self.budget(Request::Ask(question))?;
        let passages = self.chunks(text, budget.min(ASK_PASSAGE_TOKENS));
        let picked = self.pick_passages(text, &passages, question, budget);
        let document = join(text, picked.iter().map(|c| &c.range));
        let mut work = Work {
            steps: Vec::new(),
            progress,
        };
        let response = self.run(
            &document,
            Request::Ask(question),
            "answer".into(),
            &mut work,
        )?;
        Ok(Outcome {
            text: response.body,
            intent: response.intent,
            questions: Vec::new(),
            chunks: picked,
            document_chunks: passages.len(),
            skipped_chunks: 0,
            steps: work.steps,
            elapsed: start.elapsed(),
        })
    }

    /// The passages for `question`, in document order: all of them if they fit in
    /// `budget`, else the best BM25 scores that fit (from the start of the document if no
    /// passage shares a word with the question).
    fn pick_passages(
        &self,
        text: &str,
        passages: &[Chunk],
        question: &str,
        budget: usize,
    ) -> Vec<ChunkUse> {
        let all = uses(passages);
        let sum: usize = passages.iter().map(|c| c.tokens + 1).sum();
        if sum <= budget + 1 && self.count(&join(text, all.iter().map(|c| &c.range))) <= budget {
            return all;
        }
        let texts: Vec<&str> = passages.iter().map(|c| &text[c.range.clone()]).collect();
        let scores = bm25::scores(&texts, question);
        let any_match = scores.iter().any(|&s| s > 0.0);
        let order: Vec<usize> = if any_match {
            bm25::rank(&texts, question)
                .into_iter()
                .filter(|&i| scores[i] > 0.0)
                .collect()
        } else {
            (0..passages.len()).collect()
        };
        // One token per join for the blank line between passages.
        let mut picked: Vec<usize> = Vec::new();
        let mut used = 0;
        for i in order {
            let cost = passages[i].tokens + usize::from(!picked.is_empty());
            if used + cost <= budget {
                picked.push(i);
                used += cost;
            }
        }
        // The exact count of the joined text decides; drop the lowest ranked until it fits.
        loop {
            let mut chosen: Vec<ChunkUse> = picked.iter().map(|&i| all[i].clone()).collect();
            chosen.sort_by_key(|c| c.index);
            let joined = join(text, chosen.iter().map(|c| &c.range));
            if picked.len() <= 1 || self.count(&joined) <= budget {
                return chosen;
            }
            picked.pop();
        }
    }

    /// The summary of `text` with the chunks used and the document's chunk count.
    fn summarize_text(
        &mut self,
        text: &str,
        work: &mut Work,
    ) -> Result<(Response, Vec<ChunkUse>, usize), DocError> {
        let budget = self.budget(Request::Summarize)?;
        let all = self.chunks(text, budget);
        let total = all.len();
        let used = &all[..total.min(self.options.max_chunks.max(1))];
        if total > 1 {
            (work.progress)(&Progress::Plan {
                chunks: total,
                used: used.len(),
                chunk_tokens: budget,
            });
        }
        if let [only] = used {
            let r = self.run(
                &text[only.range.clone()],
                Request::Summarize,
                "summary".into(),
                work,
            )?;
            return Ok((r, uses(used), total));
        }
        let mut parts = Vec::new();
        for (i, c) in used.iter().enumerate() {
            let what = format!("chunk {} of {}", i + 1, used.len());
            let r = self.run(&text[c.range.clone()], Request::Summarize, what, work)?;
            if !r.body.is_empty() {
                parts.push(r.body);
            }
        }
        let r = self.combine(parts, budget, work)?;
        Ok((r, uses(used), total))
    }

    /// Combines partial summaries: all at once if they fit, else in groups that fit,
    /// whose summaries are combined again, for at most [`MAX_COMBINE_ROUNDS`] rounds
    /// (then the first group that fits is kept).
    fn combine(
        &mut self,
        mut parts: Vec<String>,
        budget: usize,
        work: &mut Work,
    ) -> Result<Response, DocError> {
        for round in 1..=MAX_COMBINE_ROUNDS {
            if parts.is_empty() {
                break;
            }
            let joined = parts.join("\n\n");
            let groups = self.chunks(&joined, budget);
            if groups.len() == 1 || round == MAX_COMBINE_ROUNDS || groups.len() >= parts.len() {
                let what = format!("combining {} summaries", parts.len());
                return self.run(
                    &joined[groups[0].range.clone()],
                    Request::Summarize,
                    what,
                    work,
                );
            }
            let mut next = Vec::new();
            for (i, g) in groups.iter().enumerate() {
                let what = format!("combining: group {} of {}", i + 1, groups.len());
                let r = self.run(&joined[g.range.clone()], Request::Summarize, what, work)?;
                if !r.body.is_empty() {
                    next.push(r.body);
                }
            }
            parts = next;
        }
        Ok(Response {
            intent: None,
            body: String::new(),
        })
    }

    /// `text` cut to its first chunk of `budget` tokens.
    fn fit(&self, text: &str, budget: usize) -> String {
        match self.chunks(text, budget).first() {
            Some(c) => text[c.range.clone()].to_string(),
            None => String::new(),
        }
    }

    /// One generation from an empty context.
    fn run(
        &mut self,
        document: &str,
        request: Request,
        what: String,
        work: &mut Work,
    ) -> Result<Response, DocError> {
        let tokens = self
            .format
            .tokens(&self.model.tokenizer, document, request)?;
        let options = GenerateOptions {
            max_tokens: self.options.max_tokens,
            sampler: self.options.sampler.clone(),
            stop_strings: vec!["</response>".to_string()],
        };
        self.session.reset();
        let generation = generate(&mut self.session, &tokens, &options, |_| {})?;
        (work.progress)(&Progress::Step {
            what: &what,
            stats: &generation.stats,
        });
        work.steps.push(StepTiming {
            what,
            stats: generation.stats,
            stop: generation.stop,
        });
        Ok(parse_response(&generation.text))
    }
}

/// The chunks as reported, indexed in document order.
fn uses(chunks: &[Chunk]) -> Vec<ChunkUse> {
    chunks
        .iter()
        .enumerate()
        .map(|(index, c)| ChunkUse {
            index,
            range: c.range.clone(),
            tokens: c.tokens,
        })
        .collect()
}

/// The texts of `ranges` joined by blank lines.
fn join<'a>(text: &str, ranges: impl Iterator<Item = &'a Range<usize>>) -> String {
    ranges
        .map(|r| &text[r.clone()])
        .collect::<Vec<_>>()
        .join("\n\n")
}
