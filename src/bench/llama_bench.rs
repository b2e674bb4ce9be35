//! llama-bench's rows: `ppN` (prefill N tokens as one prompt) and `tgN` (decode N tokens one
//! at a time), at an empty context or after `depth` tokens already in the context
//! (`pp512 @ d512`), in tokens per second over repetitions; and a sustained decode run that
//! compares the first and the last minute (phones throttle when they heat up).
//!
//! Like llama-bench, the tokens are pseudo-random ids: a forward pass costs the same
//! whatever the tokens are. The context before a timed part is filled untimed.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::stats::Stats;
use super::{argmax, random_tokens};
use crate::runtime::{Session, SessionError};

/// Which llama-bench test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Test {
    /// Prompt processing: one prefill of `n` tokens.
    Pp,
    /// Text generation: `n` single-token decodes.
    Tg,
}

/// One row: the test, its size, the context depth, and tokens/s over the repetitions.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub test: Test,
    pub n: usize,
    pub depth: usize,
    pub tokens_per_s: Stats,
}

impl Row {
    /// llama-bench's name of the row: "pp512", "tg128 @ d512".
    pub fn name(&self) -> String {
        let t = match self.test {
            Test::Pp => "pp",
            Test::Tg => "tg",
        };
        match self.depth {
            0 => format!("{t}{}", self.n),
            d => format!("{t}{} @ d{d}", self.n),
        }
    }
}

/// Times one `test` of `n` tokens at `depth`, `reps` times (after one untimed warm-up).
/// The session needs room for `depth + n` tokens.
pub fn measure(
    session: &mut Session<'_>,
    test: Test,
    n: usize,
    depth: usize,
    reps: usize,
) -> Result<Row, SessionError> {
    let vocab = session.model().tokenizer.vocab_size();
    let context = random_tokens(depth, vocab, 1);
    let prompt = random_tokens(n.max(1), vocab, 2);
    let once = |session: &mut Session<'_>| -> Result<f64, SessionError> {
        session.reset();
        if depth > 0 {
            session.prefill(&context)?;
        }
        let start = Instant::now();
        match test {
            Test::Pp => {
                session.prefill(&prompt)?;
            }
            Test::Tg => {
                let mut next = prompt[0];
                for _ in 0..n {
                    next = argmax(session.decode(next)?);
                }
            }
        }
        Ok(n as f64 / start.elapsed().as_secs_f64().max(1e-9))
    };
    once(session)?;
    let samples = (0..reps)
        .map(|_| once(session))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Row {
        test,
        n,
        depth,
        tokens_per_s: Stats::of(&samples),
    })
}

/// The rows as a markdown table (llama-bench's columns that matter here).
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from("| test | t/s |\n|---|---:|\n");
    for r in rows {
        s += &format!("| {} | {} |\n", r.name(), r.tokens_per_s.show(2));
    }
    s
}

/// A sustained decode run: tokens/s over the first and the last window of the run, and
/// every 10 seconds.
#[derive(Clone, Debug, Serialize)]
pub struct Sustained {
    pub seconds: u64,
    /// Length of the first and last windows (60 s, or half the run if shorter).
    pub window_s: u64,
    pub first_window_tokens_per_s: f64,
    pub last_window_tokens_per_s: f64,
    /// last / first: below 1 means the device slowed down (throttling).
    pub ratio: f64,
    /// Tokens/s of each 10-second slice, in order.
    pub every_10s: Vec<f64>,
}

/// Decodes greedily for `seconds` (at least 2), restarting the context every `context`
/// tokens (capped at the session's capacity), counting the tokens finished in each second.
pub fn sustained(
    session: &mut Session<'_>,
    seconds: u64,
    context: usize,
) -> Result<Sustained, SessionError> {
    let seconds = seconds.max(2);
    let mut per_second = vec![0u64; seconds as usize];
    let run = Duration::from_secs(seconds);
    let start = Instant::now();
    let mut next = 0;
    session.reset();
    loop {
        if session.position() + 1 >= context.min(session.capacity()) {
            session.reset();
        }
        next = argmax(session.decode(next)?);
        let t = start.elapsed();
        if t >= run {
            break;
        }
        per_second[t.as_secs() as usize] += 1;
    }
    let window = (seconds / 2).min(60) as usize;
    let rate = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len() as f64;
    let first = rate(&per_second[..window]);
    let last = rate(&per_second[per_second.len() - window..]);
    Ok(Sustained {
        seconds,
        window_s: window as u64,
        first_window_tokens_per_s: first,
        last_window_tokens_per_s: last,
        ratio: last / first.max(1e-9),
        every_10s: per_second.chunks_exact(10).map(rate).collect(),
    })
}
