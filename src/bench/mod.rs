//! Benchmarks of slimlm on the machine it runs on, for `slimlm bench`:
//! - [`table1`]: the SlimLM paper's Table 1 protocol (a fact question and summaries of a
//!   200/400/600/800-token document, 64 generated tokens each: ITPS, OTPS, TTFT, runtime);
//! - [`llama_bench`]: llama-bench's pp/tg rows (prompt processing and token generation,
//!   at an empty context and at a depth), and a sustained run that shows throttling;
//! - [`roofline`] and [`peak`]: this CPU's read bandwidth and int8 peak, and how close
//!   decode and prefill come to them;
//! - [`kernel_set`]: the kernel microbenchmarks, without cargo (for phones);
//! - [`system`]: CPU model, peak resident memory;
//! - [`stats`]: mean and standard deviation over repetitions.
//!
//! Measurements only: nothing here changes how a model runs. Every number is measured
//! on the calling machine; under an emulator they mean nothing.

pub mod document;
pub mod kernel_set;
pub mod llama_bench;
pub mod peak;
pub mod roofline;
pub mod stats;
pub mod system;
pub mod table1;

/// Greedy choice: the index of the largest logit (the first on ties). Benchmarks decode
/// greedily so every repetition does the same work.
pub(crate) fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &x) in logits.iter().enumerate() {
        if x > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Deterministic pseudo-random token ids below `vocab` (llama-bench also times random
/// tokens: the speed of a forward pass does not depend on which tokens it sees).
pub(crate) fn random_tokens(n: usize, vocab: usize, seed: u32) -> Vec<u32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) % vocab.max(1) as u32
        })
        .collect()
}
