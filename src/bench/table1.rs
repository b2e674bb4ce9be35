//! The SlimLM paper's Table 1 protocol: one request per prompt, timed from the start of
//! prefill to the last generated token, repeated; reported as the paper's columns.
//!
//! - ITPS: prompt tokens / time to first token (prefill plus the first greedy pick);
//! - OTPS: generated tokens after the first / time from the first to the last token (the
//!   first token comes out of prefill, so counting it would mix the two phases);
//! - TTFT: time to first token; runtime: the whole request.
//!
//! Every request generates exactly the requested number of tokens greedily, ignoring
//! end-of-generation tokens, so every repetition and every runtime does the same work.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::stats::Stats;
use super::{argmax, document};
use crate::runtime::{Session, SessionError};
use crate::tokenizer::Tokenizer;

/// Prompt (a): a short fact question.
pub const FACT_QUESTION: &str = "What is the capital city of France?";

/// Document sizes of prompts (b)-(e), in tokens of the model's tokenizer.
pub const DOCUMENT_TOKENS: [usize; 4] = [200, 400, 600, 800];

/// The user message of a summarization request over `document`.
pub fn summarize_request(document: &str) -> String {
    format!("Summarize the following document in a few sentences.\n\n{document}")
}

/// One Table 1 prompt, before the chat template.
#[derive(Clone, Debug)]
pub struct Table1Prompt {
    /// "(a) fact question", "(b) summary, 200-token document", ...
    pub label: String,
    /// Tokens of the document part (0 for the question).
    pub document_tokens: usize,
    /// The user message.
    pub message: String,
}

/// Prompts (a)-(e), the documents cut with `tokenizer`; `sizes` limits (b)-(e) (the full
/// protocol passes [`DOCUMENT_TOKENS`]).
pub fn prompts(tokenizer: &Tokenizer, sizes: &[usize]) -> Vec<Table1Prompt> {
    let mut out = vec![Table1Prompt {
        label: "(a) fact question".into(),
        document_tokens: 0,
        message: FACT_QUESTION.into(),
    }];
    for (i, &size) in sizes.iter().enumerate() {
        let (text, n) = document::cut(tokenizer, size);
        out.push(Table1Prompt {
            label: format!(
                "({}) summary, {size}-token document",
                (b'b' + i as u8) as char
            ),
            document_tokens: n,
            message: summarize_request(text),
        });
    }
    out
}

/// Timings of one request.
#[derive(Clone, Copy, Debug)]
pub struct RequestTiming {
    pub ttft: Duration,
    pub total: Duration,
}

/// Runs one request on an emptied `session`: prefill `tokens`, then `generate` greedy
/// tokens (at least 1).
pub fn time_request(
    session: &mut Session<'_>,
    tokens: &[u32],
    generate: usize,
) -> Result<RequestTiming, SessionError> {
    session.reset();
    let start = Instant::now();
    let mut next = argmax(session.prefill(tokens)?);
    let ttft = start.elapsed();
    for _ in 1..generate {
        next = argmax(session.decode(next)?);
    }
    Ok(RequestTiming {
        ttft,
        total: start.elapsed(),
    })
}

/// One row of Table 1: the paper's columns over the repetitions.
#[derive(Clone, Debug, Serialize)]
pub struct Table1Row {
    pub prompt: String,
    pub document_tokens: usize,
    /// Tokens after the chat template, as prefilled.
    pub prompt_tokens: usize,
    pub output_tokens: usize,
    /// Input tokens per second.
    pub itps: Stats,
    /// Output tokens per second.
    pub otps: Stats,
    pub ttft_s: Stats,
    pub runtime_s: Stats,
}

/// Times `tokens` (one prompt, template applied) `reps` times, generating `generate`
/// tokens (at least 2, so OTPS is defined).
pub fn measure(
    session: &mut Session<'_>,
    prompt: &Table1Prompt,
    tokens: &[u32],
    generate: usize,
    reps: usize,
) -> Result<Table1Row, SessionError> {
    let generate = generate.max(2);
    let mut itps = Vec::new();
    let mut otps = Vec::new();
    let mut ttft = Vec::new();
    let mut runtime = Vec::new();
    for _ in 0..reps {
        let t = time_request(session, tokens, generate)?;
        let first = t.ttft.as_secs_f64();
        let total = t.total.as_secs_f64();
        itps.push(tokens.len() as f64 / first);
        otps.push((generate - 1) as f64 / (total - first).max(1e-9));
        ttft.push(first);
        runtime.push(total);
    }
    Ok(Table1Row {
        prompt: prompt.label.clone(),
        document_tokens: prompt.document_tokens,
        prompt_tokens: tokens.len(),
        output_tokens: generate,
        itps: Stats::of(&itps),
        otps: Stats::of(&otps),
        ttft_s: Stats::of(&ttft),
        runtime_s: Stats::of(&runtime),
    })
}

/// The rows as a markdown table in the paper's column order.
pub fn markdown(rows: &[Table1Row]) -> String {
    let mut s = String::from(
        "| prompt | prompt tokens | output tokens | ITPS (tok/s) | OTPS (tok/s) | TTFT (s) | runtime (s) |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            r.prompt,
            r.prompt_tokens,
            r.output_tokens,
            r.itps.show(1),
            r.otps.show(1),
            r.ttft_s.show(3),
            r.runtime_s.show(3)
        );
    }
    s
}
