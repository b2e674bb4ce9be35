//! Document assistance, as the SlimLM app does it on a phone: summarize a document,
//! suggest questions about it, answer a question from it.
//!
//! - [`read`]: reading and validating a UTF-8 text file of bounded size;
//! - [`chunk`]: token-aware chunks at paragraph, then sentence, then word boundaries;
//! - [`bm25`]: lexical ranking of passages for `ask`;
//! - [`prompt`]: the DocAssist format (for `mpt`) or the model's chat template;
//! - [`parse`]: the `<intent>` / `<response>` answer format and lists of questions;
//! - [`pipeline`]: the three tasks on a [`crate::runtime::Session`] (map-reduce summaries
//!   of long documents, bounded by a chunk limit).
//!
//! Nothing here prints: progress goes to a callback, results come back as values.

pub mod bm25;
pub mod chunk;
pub mod parse;
pub mod pipeline;
pub mod prompt;
pub mod read;

use std::path::PathBuf;

pub use pipeline::{Assistant, ChunkUse, DocOptions, Outcome, Progress, StepTiming};
pub use read::{Document, MAX_DOCUMENT_BYTES};

use crate::chat::ChatError;
use crate::runtime::generate::GenerateError;
use crate::runtime::SessionError;

/// Why a document task failed. File errors name the file, and the byte offset where the
/// content goes wrong.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is a directory, not a text file", path.display())]
    IsDirectory { path: PathBuf },
    #[error("{} is {size} bytes, more than the {limit}-byte limit for documents", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{} is not a text file: NUL byte at byte {offset} (binary data or UTF-16; slimlm reads UTF-8 .txt and .md)", path.display())]
    Binary { path: PathBuf, offset: usize },
    #[error("{} is not UTF-8 text: invalid byte sequence at byte {offset} (convert it to UTF-8, e.g. with iconv)", path.display())]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{} is empty (or only whitespace): nothing to read", path.display())]
    Empty { path: PathBuf },
    #[error("the question is empty (--question TEXT)")]
    EmptyQuestion,
    #[error("cannot suggest {count} questions: ask for 1 to {max}")]
    BadCount { count: usize, max: usize },
    #[error("the prompt template and the answer budget take {overhead} of the {context} context tokens, leaving {left} for the document (at least {min} needed): raise --ctx or lower --max-tokens")]
    ContextTooSmall {
        context: usize,
        overhead: usize,
        left: usize,
        min: usize,
    },
    #[error("the model's chat template drops the message content")]
    TemplateDropsContent,
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Generate(#[from] GenerateError),
}
