//! Text generation on a [`Session`]: prefill a prompt, then sample and decode token by
//! token, streaming text, until an end-of-generation token, a stop string, the token
//! limit, the end of the context, or the caller's callback asks to stop
//! ([`generate_with`]: Ctrl-C, a closed output pipe).

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use super::sampler::{Sampler, SamplerConfig, SamplerError};
use super::session::{Session, SessionError};
use crate::exec::profile::Profile;
use crate::tokenizer::{StreamDecoder, TokenizerError};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Most tokens to generate.
    pub max_tokens: usize,
    pub sampler: SamplerConfig,
    /// Generation stops when the text ends with one of these (the stop string itself is
    /// not part of the returned text).
    pub stop_strings: Vec<String>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            max_tokens: 256,
            sampler: SamplerConfig::default(),
            stop_strings: Vec::new(),
        }
    }
}

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The model produced an end-of-generation token (EOS, EOT, `<|im_end|>`...).
    EndToken,
    /// The text reached a stop string.
    StopString,
    /// `max_tokens` were generated.
    MaxTokens,
    /// The context is full.
    ContextFull,
    /// The callback of [`generate_with`] returned [`ControlFlow::Break`] (the user pressed
    /// Ctrl-C, the output was closed...).
    Cancelled,
}

impl StopReason {
    /// How reports name it: "end token", "stop string", "max tokens", "context full",
    /// "cancelled".
    pub fn name(self) -> &'static str {
        match self {
            StopReason::EndToken => "end token",
            StopReason::StopString => "stop string",
            StopReason::MaxTokens => "max tokens",
            StopReason::ContextFull => "context full",
            StopReason::Cancelled => "cancelled",
        }
    }
}

/// Timings of one generation.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenerationStats {
    pub prompt_tokens: usize,
    pub prompt_time: Duration,
    pub generated_tokens: usize,
    /// Time of the decode steps after the first token.
    pub generation_time: Duration,
    /// From the start of prefill to the first generated token being sampled.
    pub time_to_first_token: Duration,
}

impl GenerationStats {
    /// Prompt tokens per second.
    pub fn prompt_tps(&self) -> f64 {
        self.prompt_tokens as f64 / self.prompt_time.as_secs_f64().max(1e-9)
    }

    /// Generated tokens per second over the decode steps (the first token comes from
    /// prefill, so it is not counted).
    pub fn generation_tps(&self) -> f64 {
        self.generated_tokens.saturating_sub(1) as f64
            / self.generation_time.as_secs_f64().max(1e-9)
    }
}

/// The outcome of [`generate`].
#[derive(Clone, Debug)]
pub struct Generation {
    pub tokens: Vec<u32>,
    pub text: String,
    pub stop: StopReason,
    pub stats: GenerationStats,
    /// Per-op timing of the prompt's evaluation when the session profiles; the session's
    /// own profile then holds the decode steps only.
    pub prefill_profile: Option<Profile>,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Sampler(#[from] SamplerError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
}

/// Evaluates `prompt` on `session` (appended to what it already holds) and generates,
/// calling `on_text` with each piece of text as soon as it is complete UTF-8 and known
/// not to be the start of a stop string. It runs to the end; [`generate_with`] can stop.
pub fn generate(
    session: &mut Session<'_>,
    prompt: &[u32],
    options: &GenerateOptions,
    mut on_text: impl FnMut(&str),
) -> Result<Generation, GenerateError> {
    generate_with(session, prompt, options, |text| {
        if !text.is_empty() {
            on_text(text);
        }
        ControlFlow::Continue(())
    })
}

/// As [`generate`], but `on_token` is called once after every generated token, with the
/// text that token released (empty while a UTF-8 sequence or a possible stop string is
/// incomplete), and can stop generation: [`ControlFlow::Break`] ends it at once with
/// [`StopReason::Cancelled`], before the next decode step, so at most the one token
/// whose callback stopped is generated after the caller's reason to stop (a closed pipe,
/// a Ctrl-C flag). Text held back at that point stays in [`Generation::text`] but is
/// not passed to `on_token`; otherwise `on_token` is called once more at the end with the
/// text still held, if any. A break from the callback of the last token (the one that
/// ends generation for another reason) reports that other reason.
pub fn generate_with(
    session: &mut Session<'_>,
    prompt: &[u32],
    options: &GenerateOptions,
    mut on_token: impl FnMut(&str) -> ControlFlow<()>,
) -> Result<Generation, GenerateError> {
    let tokenizer = &session.model().tokenizer;
    let mut sampler = Sampler::new(options.sampler.clone())?;
    let mut stats = GenerationStats {
        prompt_tokens: prompt.len(),
        ..GenerationStats::default()
    };
    let start = Instant::now();
    let mut logits = session.prefill(prompt)?.to_vec();
    stats.prompt_time = start.elapsed();
    let prefill_profile = session.profile().is_enabled().then(|| {
        let p = session.profile().clone();
        session.clear_profile();
        p
    });

    let mut history: Vec<u32> = prompt.to_vec();
    let mut tokens = Vec::new();
    let mut decoder = StreamDecoder::new();
    let mut text = String::new();
    // Text not yet passed to `on_token` because it might begin a stop string.
    let mut held = 0usize;
    let max_stop = options
        .stop_strings
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(0);
    let mut first_token_at = Instant::now();
    let stop = loop {
        if tokens.len() >= options.max_tokens {
            break StopReason::MaxTokens;
        }
        let token = sampler.sample(&mut logits, &history);
        if tokens.is_empty() {
            first_token_at = Instant::now();
            stats.time_to_first_token = first_token_at - start;
        }
        if tokenizer.is_end_of_generation(token) {
            break StopReason::EndToken;
        }
        tokens.push(token);
        history.push(token);
        text.push_str(&decoder.push(tokenizer, token)?);
        if let Some(cut) = find_stop(&text, &options.stop_strings) {
            text.truncate(cut);
            break StopReason::StopString;
        }
        let safe = safe_prefix_len(&text, max_stop).max(held);
        let flow = on_token(&text[held..safe]);
        held = safe;
        if session.position() >= session.capacity() {
            break StopReason::ContextFull;
        }
        if tokens.len() >= options.max_tokens {
            break StopReason::MaxTokens;
        }
        if flow.is_break() {
            break StopReason::Cancelled;
        }
        logits.copy_from_slice(session.decode(token)?);
    };
    if stop != StopReason::StopString {
        text.push_str(&decoder.flush());
    }
    if text.len() > held && stop != StopReason::Cancelled {
        // The flow returned here does not matter: generation has ended.
        let _ = on_token(&text[held..]);
    }
    stats.generated_tokens = tokens.len();
    stats.generation_time = first_token_at.elapsed();
    Ok(Generation {
        tokens,
        text,
        stop,
        stats,
        prefill_profile,
    })
}

/// The byte index where the earliest stop string starts, if the text contains one.
fn find_stop(text: &str, stops: &[String]) -> Option<usize> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min()
}

/// Length of the prefix of `text` that cannot be part of a stop string completed later:
/// everything but the last `max_stop - 1` bytes, cut at a char boundary.
fn safe_prefix_len(text: &str, max_stop: usize) -> usize {
    let mut cut = text.len().saturating_sub(max_stop.saturating_sub(1));
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_strings_are_found_and_held_back() {
        let stops = vec!["</response>".to_string(), "\n\n".to_string()];
        assert_eq!(find_stop("abc</response>xyz", &stops), Some(3));
        assert_eq!(find_stop("a\n\nb</response>", &stops), Some(1));
        assert_eq!(find_stop("abc", &stops), None);
        assert_eq!(safe_prefix_len("hello</resp", 11), 1);
        assert_eq!(safe_prefix_len("héllo", 3), 4);
        assert_eq!(safe_prefix_len("hé", 2), 1);
        assert_eq!(safe_prefix_len("abc", 0), 3);
    }
}
