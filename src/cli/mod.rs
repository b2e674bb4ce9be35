//! The subcommands of the `slimlm` binary that run a model.

pub mod common;
pub mod perplexity;
pub mod run;
pub mod sigbus;
