//! `slimlm chat`: an interactive conversation.
//!
//! The KV cache keeps the conversation: each turn re-renders the whole conversation with
//! the template and evaluates only the tokens after the part the cache already holds.
//! Ctrl-C stops an answer and returns to the prompt; at the prompt a second Ctrl-C (or
//! Ctrl-D, or /exit) quits. When the conversation no longer fits the context, the oldest
//! turns after the system message are dropped, and the user is told.

use std::error::Error;
use std::io;
use std::ops::ControlFlow;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;
use slimlm::chat::{ChatMessage, ChatTemplate};
use slimlm::model::Model;
use slimlm::runtime::generate::{generate_with, GenerateOptions, StopReason};
use slimlm::runtime::Session;

use super::chat_input::{Input, LineReader, MAX_LINE_BYTES};
use super::common::{
    chat_template, context_size, parse_max_tokens, render, write_stdout, ModelArgs, SamplingArgs,
};
use super::conversation;
use super::interrupt::Interrupt;
use super::run::{report, Cut};

#[derive(Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    /// System message (also -sys).
    #[arg(long, visible_alias = "system-prompt")]
    pub system: Option<String>,
    /// Most tokens per answer (-1: until an end token or a full context).
    #[arg(short = 'n', long, visible_alias = "n-predict", default_value = "512",
          value_parser = parse_max_tokens, allow_negative_numbers = true)]
    pub max_tokens: usize,
    /// Context size in tokens for the whole conversation; 0: the model's trained context.
    #[arg(short = 'c', long, visible_alias = "ctx-size", default_value_t = 2048)]
    pub ctx: usize,
}

const HELP: &str = "\
commands:
  /help          this list
  /exit, /quit   quit (as do Ctrl-D and a second Ctrl-C at the prompt)
  /reset         forget the conversation (the system message stays)
  /save FILE     write the conversation to FILE as JSON
  /load FILE     replace the conversation by the one saved in FILE
a line ending in \\ continues on the next line; start a message with // to send a
text that begins with /; Ctrl-C stops an answer";

/// The state of one chat.
struct Chat<'m> {
    model: &'m Model,
    template: Option<ChatTemplate>,
    session: Session<'m>,
    /// The system message (if any), then user and assistant turns.
    messages: Vec<ChatMessage>,
    /// The tokens the session's cache was filled from (a prefix of them is in it).
    cached: Vec<u32>,
    options: GenerateOptions,
    ctx: usize,
}

/// What a turn ended with.
enum TurnEnd {
    Done,
    /// Ctrl-C stopped the answer.
    Interrupted,
    /// stdout is closed: nobody reads the answers any more.
    OutputClosed,
}

/// `slimlm chat`.
pub fn chat(args: &ChatArgs) -> Result<ExitCode, Box<dyn Error>> {
    let model = args.model.load()?;
    let ctx = context_size(args.ctx, &model);
    let template = chat_template(&model)?;
    let session = args.model.session(&model, ctx)?;
    let model_path = args.model.path()?;
    eprintln!(
        "chat with {} (/help for commands, Ctrl-D to quit)",
        model_path.display()
    );
    if template.is_none() {
        eprintln!("note: the model has no chat template; messages are joined by newlines");
    }
    let mut chat = Chat {
        model: &model,
        template,
        session,
        messages: Vec::new(),
        cached: Vec::new(),
        options: GenerateOptions {
            max_tokens: args.max_tokens,
            sampler: args.sampling.config(),
            stop_strings: Vec::new(),
        },
        ctx,
    };
    if let Some(system) = &args.system {
        chat.messages.push(ChatMessage::new("system", system));
    }
    let interrupt = Interrupt::install()?;
    let mut reader = LineReader::new()?;
    // Set by a Ctrl-C (at the prompt or during an answer); a Ctrl-C at the prompt while
    // it is set quits.
    let mut interrupted = false;
    loop {
        let message = match read_message(&mut reader)? {
            Input::Line(message) => message,
            Input::Eof => {
                eprintln!();
                return Ok(ExitCode::SUCCESS);
            }
            Input::Interrupted if interrupted => return Ok(ExitCode::SUCCESS),
            Input::Interrupted => {
                eprintln!("(Ctrl-C again, Ctrl-D or /exit quits)");
                interrupted = true;
                continue;
            }
            Input::InvalidUtf8 => {
                eprintln!("that line is not valid UTF-8 text: it was ignored, type it again");
                continue;
            }
            Input::TooLong => {
                eprintln!(
                    "that line is longer than {} MiB: it was ignored",
                    MAX_LINE_BYTES >> 20
                );
                continue;
            }
        };
        interrupted = false;
        let text = message.trim();
        if text.is_empty() {
            continue;
        }
        reader.add_history(&message);
        if let Some(command) = text.strip_prefix('/').filter(|c| !c.starts_with('/')) {
            match chat.command(command) {
                Ok(true) => continue,
                Ok(false) => return Ok(ExitCode::SUCCESS),
                Err(e) => {
                    eprintln!("{e}");
                    continue;
                }
            }
        }
        let text = text.strip_prefix('/').unwrap_or(text);
        match chat.turn(text, &interrupt)? {
            TurnEnd::Done => {}
            TurnEnd::Interrupted => interrupted = true,
            TurnEnd::OutputClosed => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Reads one message: lines ending in a backslash continue on the next line. A Ctrl-C
/// or an end of input in the middle drops the lines read so far.
fn read_message(reader: &mut LineReader) -> io::Result<Input> {
    let mut message = String::new();
    loop {
        let prompt = if message.is_empty() { "> " } else { ". " };
        match reader.read(prompt)? {
            Input::Line(line) => match line.strip_suffix('\\') {
                Some(part) => {
                    message.push_str(part);
                    message.push('\n');
                }
                None => {
                    message.push_str(&line);
                    return Ok(Input::Line(message));
                }
            },
            Input::Eof if !message.is_empty() => return Ok(Input::Line(message)),
            other => return Ok(other),
        }
    }
}

impl Chat<'_> {
    /// Runs a `/command`; false means quit. Errors are messages for the user, after
    /// which the chat goes on.
    fn command(&mut self, command: &str) -> Result<bool, Box<dyn Error>> {
        let (name, arg) = command
            .split_once(char::is_whitespace)
            .map_or((command, ""), |(n, a)| (n, a.trim()));
        let need_file = |what: &str| -> Result<&Path, Box<dyn Error>> {
            if arg.is_empty() {
                Err(format!("/{what} needs a file name, e.g. /{what} chat.json").into())
            } else {
                Ok(Path::new(arg))
            }
        };
        match name {
            "help" | "?" => eprintln!("{HELP}"),
            "exit" | "quit" => return Ok(false),
            "reset" => {
                self.messages.retain(|m| m.role == "system");
                self.forget_cache();
                eprintln!("(conversation reset)");
            }
            "save" => {
                let path = need_file("save")?;
                conversation::save(path, &self.messages)?;
                eprintln!(
                    "(saved {} messages to {})",
                    self.messages.len(),
                    path.display()
                );
            }
            "load" => {
                let path = need_file("load")?;
                self.messages = conversation::load(path)?;
                self.forget_cache();
                eprintln!(
                    "(loaded {} messages from {})",
                    self.messages.len(),
                    path.display()
                );
            }
            _ => {
                return Err(format!(
                    "unknown command /{name} (/help lists them; start a message with // to send a text beginning with /)"
                )
                .into())
            }
        }
        Ok(true)
    }

    fn forget_cache(&mut self) {
        self.session.reset();
        self.cached.clear();
    }

    /// One user message and the streamed answer.
    fn turn(&mut self, text: &str, interrupt: &Interrupt) -> Result<TurnEnd, Box<dyn Error>> {
        self.messages.push(ChatMessage::new("user", text));
        let Some(tokens) = self.fit()? else {
            self.messages.pop();
            return Ok(TurnEnd::Done);
        };
        let common = self
            .cached
            .iter()
            .zip(&tokens)
            .take_while(|(a, b)| a == b)
            .count();
        // Always evaluate at least one token, so there are fresh logits to sample from.
        let keep = common.min(tokens.len() - 1).min(self.session.position());
        // A model with sliding-window ring caches may no longer hold what the shared
        // prefix needs: then the whole conversation is evaluated again.
        let keep = if self.session.rewind(keep).is_ok() {
            keep
        } else {
            self.session.reset();
            0
        };
        let mut cut = None;
        let session = &mut self.session;
        let options = &self.options;
        let generation = interrupt.during(|| {
            generate_with(session, &tokens[keep..], options, |piece| {
                if !piece.is_empty() && write_stdout(piece).is_err() {
                    cut = Some(Cut::OutputClosed);
                    return ControlFlow::Break(());
                }
                if interrupt.requested() {
                    cut = Some(Cut::Interrupted);
                    return ControlFlow::Break(());
                }
                ControlFlow::Continue(())
            })
        })?;
        if cut == Some(Cut::OutputClosed) {
            return Ok(TurnEnd::OutputClosed);
        }
        let _ = write_stdout("\n");
        if cut == Some(Cut::Interrupted) {
            eprintln!("(stopped)");
        }
        report(&generation, cut);
        if generation.stop == StopReason::ContextFull {
            eprintln!("(the context is full: the next message drops the oldest turns)");
        }
        self.cached = tokens;
        self.cached.extend_from_slice(&generation.tokens);
        self.messages
            .push(ChatMessage::new("assistant", generation.text.trim()));
        Ok(match cut {
            Some(_) => TurnEnd::Interrupted,
            None => TurnEnd::Done,
        })
    }

    /// The tokens of the conversation, after dropping the oldest turns (after the system
    /// message) until it leaves room for an answer: `max_tokens`, but at most half the
    /// context. `None` (and a message) when the last message alone does not fit.
    fn fit(&mut self) -> Result<Option<Vec<u32>>, Box<dyn Error>> {
        let room = self.options.max_tokens.min(self.ctx / 2);
        let before = self.messages.clone();
        let mut dropped = 0;
        loop {
            let text = render(self.template.as_ref(), &self.messages)?;
            let tokens = self.model.tokenizer.encode(&text, true, true);
            if tokens.len() + room <= self.ctx {
                report_dropped(dropped);
                return Ok(Some(tokens));
            }
            let first = self.messages.iter().position(|m| m.role != "system");
            match first {
                // The new message is not the only turn left: drop the oldest turn (a
                // user message and the answers to it).
                Some(i) if i + 1 < self.messages.len() => {
                    self.messages.remove(i);
                    while i + 1 < self.messages.len() && self.messages[i].role != "user" {
                        self.messages.remove(i);
                    }
                    dropped += 1;
                }
                _ if tokens.len() < self.ctx => {
                    report_dropped(dropped);
                    return Ok(Some(tokens));
                }
                _ => {
                    // Nothing is dropped for a message that cannot be answered anyway.
                    self.messages = before;
                    eprintln!(
                        "this message would need {} tokens but the context holds {}: /reset to start over, or raise --ctx",
                        tokens.len(),
                        self.ctx
                    );
                    return Ok(None);
                }
            }
        }
    }
}

fn report_dropped(turns: usize) {
    if turns > 0 {
        let s = if turns == 1 { "" } else { "s" };
        eprintln!("(context full: dropped the oldest {turns} turn{s} to make room)");
    }
}
