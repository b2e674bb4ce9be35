//! Perplexity exactly as llama.cpp's `llama-perplexity` computes it, so numbers compare:
//! the text is tokenized once (with BOS when the model adds it), cut into non-overlapping
//! chunks of `ctx` tokens (the remainder is dropped), each chunk is evaluated from an empty
//! context with its first token replaced by BOS when the model adds BOS, and only the
//! second half of each chunk is scored: the negative log-likelihood of token `j + 1` given
//! the logits at `j`, for `j` in `ctx/2 .. ctx-1`.

use super::session::{KvType, Session, SessionError};
use crate::model::Model;

/// The result of [`perplexity`].
#[derive(Clone, Debug)]
pub struct Perplexity {
    /// exp(mean NLL) over every scored token.
    pub value: f64,
    /// Running perplexity after each chunk (llama.cpp prints these as `[i]value`).
    pub per_chunk: Vec<f64>,
    pub scored_tokens: usize,
    pub chunks: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum PerplexityError {
    #[error("the text has {tokens} tokens: perplexity needs at least 2 * ctx = {needed}")]
    TooShort { tokens: usize, needed: usize },
    #[error("ctx must be at least 4 (got {0})")]
    BadContext(usize),
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// Perplexity of `tokens` (already tokenized, BOS included when the model adds it) with
/// chunks of `ctx`. `on_chunk(i, running)` reports progress.
pub fn perplexity(
    model: &Model,
    tokens: &[u32],
    ctx: usize,
    kv_type: KvType,
    mut on_chunk: impl FnMut(usize, f64),
) -> Result<Perplexity, PerplexityError> {
    if ctx < 4 {
        return Err(PerplexityError::BadContext(ctx));
    }
    // llama-perplexity refuses texts shorter than two chunks.
    if tokens.len() < 2 * ctx {
        return Err(PerplexityError::TooShort {
            tokens: tokens.len(),
            needed: 2 * ctx,
        });
    }
    let bos = model.tokenizer.bos().filter(|_| model.tokenizer.add_bos());
    let vocab = model.config.vocab_size;
    let first = ctx / 2;
    let mut session = Session::with_kv_type(model, ctx, kv_type)?;
    let mut nll = 0.0f64;
    let mut count = 0usize;
    let mut per_chunk = Vec::new();
    for (i, chunk) in tokens.chunks_exact(ctx).enumerate() {
        let mut batch = chunk.to_vec();
        if let Some(bos) = bos {
            batch[0] = bos;
        }
        session.reset();
        let logits = session.eval_all(&batch)?;
        for j in first..ctx - 1 {
            let row = &logits[j * vocab..(j + 1) * vocab];
            nll -= log_softmax_at(row, chunk[j + 1] as usize);
            count += 1;
        }
        let running = (nll / count as f64).exp();
        per_chunk.push(running);
        on_chunk(i, running);
    }
    Ok(Perplexity {
        value: (nll / count as f64).exp(),
        chunks: per_chunk.len(),
        per_chunk,
        scored_tokens: count,
    })
}

/// `log(softmax(logits)[index])`, accumulated in f64 as llama.cpp does.
pub fn log_softmax_at(logits: &[f32], index: usize) -> f64 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f64 = logits.iter().map(|&l| f64::from((l - max).exp())).sum();
    f64::from(logits[index] - max) - sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_of_uniform_logits() {
        let l = [0.5f32; 4];
        assert!((log_softmax_at(&l, 2) - (0.25f64).ln()).abs() < 1e-12);
    }
}
