//! The subcommands of the `slimlm` binary that run a model.

pub mod bench;
pub mod common;
pub mod doc;
pub mod perplexity;
pub mod run;
pub mod sigbus;
