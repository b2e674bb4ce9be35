//! The subcommands of the `slimlm` binary that run a model.

pub mod bench;
pub mod chat;
pub mod chat_input;
pub mod common;
pub mod conversation;
pub mod doc;
pub mod file_type;
pub mod interrupt;
pub mod model_path;
pub mod perplexity;
pub mod prompt;
pub mod run;
pub mod sigbus;
