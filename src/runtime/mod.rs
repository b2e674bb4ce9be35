//! The runtime: what changes while a model runs, and the threads it runs on.
//! - [`session`]: a conversation's KV cache and position; prefill and decode.
//! - [`generate`]: prompt in, streamed text out, with stop tokens and strings.
//! - [`kv_cache`]: the K/V rows of every layer.
//! - [`perplexity`]: llama.cpp-compatible perplexity.
//! - [`profile`]: per-op timing of forward passes (`--profile`).
//! - [`threads`]: the worker pool, big-core detection and pinning.
//! - [`sampler`]: picks the next token from logits (greedy, top-k/top-p/min-p, seeded).

pub mod generate;
pub mod kv_cache;
pub mod perplexity;
pub mod profile;
pub mod sampler;
pub mod session;
pub mod threads;

pub use session::{Session, SessionError};
