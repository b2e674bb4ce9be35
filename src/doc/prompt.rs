//! Prompts for the document tasks, as token ids.
//!
//! - `mpt` models (SlimLM) get the SlimLM DocAssist format: its system message, then the
//!   user message `<document>...</document>` / `<request>...</request>`, with no role
//!   markers and no separator (MLC's `mpt` conversation template, as the DocAssist app
//!   configures it; ../shared/slimlm/docassist-prompt.json). The answer comes back as
//!   `<intent>: ...` / `<response>...</response>` (see [`super::parse`]).
//! - Other models with a chat template get one user turn of their own template with a
//!   plain instruction and the document (no DocAssist system message or tags: SmolLM2,
//!   not trained on them, tends to copy the tagged document back instead of summarizing
//!   it; with a plain instruction first it summarizes).
//! - Models with neither get that plain instruction and document as plain text.
//!
//! The document and the request are user text: they are tokenized with special-token
//! parsing off, so a document containing `<|im_end|>` cannot end the turn early. Only the
//! template's own text may contain control tokens.

use crate::chat::{ChatMessage, ChatTemplate};
use crate::model::{Arch, Model};
use crate::tokenizer::Tokenizer;

use super::DocError;

/// The DocAssist system message (the app's `system_message`, verbatim).
pub const DOCASSIST_SYSTEM: &str = "You are an AI assistant for document analysis, performing summarization, question suggestion, and question answering. For each task:\n\n1. Analyze the given document\n2. Determine the task (summarization, question suggestion, or question answering)\n3. Perform the requested task\n\nRespond using this format:\n\n<intent>: [summarization|question_suggestion|question_answering]\n<response>\n[Task-specific response here]\n</response>\n\nNow, analyze the following document and respond to the request:";

/// What is asked about the document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Summarize,
    /// Suggest this many questions.
    Suggest(usize),
    /// Answer this question.
    Ask(&'a str),
}

impl Request<'_> {
    /// The request text of the DocAssist format (the app's example requests).
    fn docassist(&self) -> String {
        match self {
            Request::Summarize => "Summarize the given document.".to_string(),
            Request::Suggest(n) => {
                format!("Suggest {n} questions about the document to help me understand it better.")
            }
            Request::Ask(q) => q.to_string(),
        }
    }

    /// The user message of the plain-instruction style, with the marks in place of the
    /// document and of the request text it returns alongside.
    fn instruction(&self) -> (String, String) {
        match self {
            // The request comes after the document: small models follow the last
            // instruction they read, and lose one placed before a long document.
            Request::Summarize => (
                format!("{DOCUMENT_MARK}\n\n{REQUEST_MARK}"),
                "Summarize the document above in a few sentences.".to_string(),
            ),
            Request::Suggest(n) => (
                format!("{DOCUMENT_MARK}\n\n{REQUEST_MARK}"),
                format!("Write {n} questions a reader could ask about the document above, as a numbered list."),
            ),
            Request::Ask(q) => (
                format!("Answer the question using the following document.\n\n{DOCUMENT_MARK}\n\nQuestion: {REQUEST_MARK}"),
                q.to_string(),
            ),
        }
    }
}

/// Stand-ins for the user's text while the template renders; private-use characters no
/// template produces by itself. The rendered text is cut at them.
const DOCUMENT_MARK: &str = "\u{F8F0}slimlm-document\u{F8F0}";
const REQUEST_MARK: &str = "\u{F8F0}slimlm-request\u{F8F0}";

/// The DocAssist user message (the app's `user_template`) with the marks.
fn docassist_user_message() -> String {
    format!("<document>\n{DOCUMENT_MARK}\n</document>\n\n<request>\n{REQUEST_MARK}\n</request>\n")
}

/// How a model is prompted.
#[derive(Clone, Debug)]
pub enum PromptFormat {
    /// SlimLM DocAssist: system message then user message, no markers.
    DocAssist,
    /// A plain instruction and the document in one user turn of the model's template.
    Chat(Box<ChatTemplate>),
    /// A plain instruction and the document as plain text (no chat template).
    Plain,
}

impl PromptFormat {
    /// The format for `model`: DocAssist for `mpt`, else its chat template if it has one.
    pub fn for_model(model: &Model) -> Result<PromptFormat, DocError> {
        if model.config.arch == Arch::Mpt {
            return Ok(PromptFormat::DocAssist);
        }
        Ok(match ChatTemplate::for_model(model)? {
            Some(t) => PromptFormat::Chat(Box::new(t)),
            None => PromptFormat::Plain,
        })
    }

    /// Short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            PromptFormat::DocAssist => "docassist",
            PromptFormat::Chat(_) => "chat-template",
            PromptFormat::Plain => "plain",
        }
    }

    /// The prompt's text with the marks standing for the document and the request text,
    /// and the request text.
    fn skeleton(&self, request: Request) -> Result<(String, String), DocError> {
        let (text, request) = match self {
            PromptFormat::DocAssist => (
                format!("{DOCASSIST_SYSTEM}{}", docassist_user_message()),
                request.docassist(),
            ),
            PromptFormat::Chat(t) => {
                let (user, request) = request.instruction();
                (t.render(&[ChatMessage::new("user", user)], true)?, request)
            }
            PromptFormat::Plain => request.instruction(),
        };
        if !(text.contains(DOCUMENT_MARK) && text.contains(REQUEST_MARK)) {
            return Err(DocError::TemplateDropsContent);
        }
        Ok((text, request))
    }

    /// The token ids of the prompt for `document` and `request`: the template's text with
    /// special tokens parsed (and BOS if the model wants it), the document and the request
    /// text without.
    pub fn tokens(
        &self,
        tokenizer: &Tokenizer,
        document: &str,
        request: Request,
    ) -> Result<Vec<u32>, DocError> {
        let (skeleton, request) = self.skeleton(request)?;
        let request = request.as_str();
        let mut out = Vec::new();
        let mut rest = skeleton.as_str();
        let mut first = true;
        loop {
            let next = [(DOCUMENT_MARK, document), (REQUEST_MARK, request)]
                .into_iter()
                .filter_map(|(mark, text)| rest.find(mark).map(|at| (at, mark, text)))
                .min_by_key(|&(at, _, _)| at);
            let head = next.map_or(rest, |(at, _, _)| &rest[..at]);
            if !head.is_empty() || first {
                out.extend(tokenizer.encode(head, first, true));
                first = false;
            }
            let Some((at, mark, text)) = next else {
                break;
            };
            out.extend(tokenizer.encode(text, false, false));
            rest = &rest[at + mark.len()..];
        }
        Ok(out)
    }
}
