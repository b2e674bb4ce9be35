//! Runtime (placeholder, being written).
//! - [`sampler`]: picks the next token from logits (greedy, top-k/top-p/min-p, seeded).

pub mod sampler;
