//! The execution layer below the graphs: what a forward pass runs on, with no knowledge of
//! any model architecture. [`crate::model`] builds on it, [`crate::runtime`] above both.
//! - [`threads`]: the worker pool, big-core detection and pinning.
//! - [`kv_cache`]: the K/V rows of every layer.
//! - [`profile`]: per-op timing of forward passes (`--profile`).

pub mod kv_cache;
pub mod profile;
pub mod threads;
