//! The runtime: what changes while a model runs, above the graphs ([`crate::model`]) and
//! the execution layer they run on ([`crate::exec`]: threads, KV cache, profiler).
//! - [`session`]: a conversation's KV cache and position; prefill and decode.
//! - [`generate`]: prompt in, streamed text out, with stop tokens and strings.
//! - [`perplexity`]: llama.cpp-compatible perplexity.
//! - [`sampler`]: picks the next token from logits (greedy, top-k/top-p/min-p, seeded).

pub mod generate;
pub mod perplexity;
pub mod sampler;
pub mod session;

pub use session::{Session, SessionError};
