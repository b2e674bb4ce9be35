//! Chat templates: renders a conversation into the prompt text a model was trained on,
//! from the Jinja template stored in its GGUF (`tokenizer.chat_template`).
//!
//! The environment mirrors the one Hugging Face `transformers` renders with: `trim_blocks`
//! and `lstrip_blocks` on, no auto-escaping, `{% break %}`/`{% continue %}`, `tojson`,
//! Python string/list/dict methods (`.strip()`, `.startswith()`, `.split()`, ... from
//! minijinja-contrib's pycompat), and the globals `messages`, `add_generation_prompt`,
//! `bos_token`, `eos_token`, `raise_exception(msg)` and `strftime_now(format)`.
//!
//! Templates come from model files, so they are untrusted. A render never runs unbounded:
//! it has a fuel budget (instructions and bytes produced, scaled with the conversation), a
//! recursion limit and a cap on the output size; each limit is an error, never silent
//! truncation. Templates cannot read files, include other templates or reach the network.
//!
//! minijinja 3.1 does not meter everything: repeating a sequence (`seq * n`) or
//! concatenating two (`a + b`) builds a lazy sequence in one step, and turning a value into
//! a string (`~`, `| string`, `| tojson`, `{{ }}`, any string argument) walks it before any
//! fuel is charged. [`guard`] closes what it can when the template compiles: `*` must have
//! a string literal beside it (string repetition is charged before it allocates) and `+` a
//! string or number literal or an unbound `bos_token`/`eos_token` (so no `+` joins two
//! sequences); when it renders, printing, `string` and `tojson` refuse values of more than
//! [`guard::MAX_STRINGIFIED_ITEMS`] items. What else makes large values is charged:
//! `| list` and `.split()` of a long string, `in`, comparisons of distinct lists and
//! joins all run out of fuel within tens of milliseconds (tests/chat_template.rs).

use std::error::Error as _;
use std::io;

mod guard;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, ErrorKind};

/// Fuel every render gets regardless of the conversation: about a million instructions,
/// or 64 MiB of produced data (minijinja charges one fuel per 64 bytes).
pub const FUEL_BASE: u64 = 1_000_000;
/// Extra fuel per message.
pub const FUEL_PER_MESSAGE: u64 = 10_000;
/// Extra fuel per byte of message content (the template may copy each byte ~64 times).
pub const FUEL_PER_CONTENT_BYTE: u64 = 1;
/// Output cap for any conversation; the cap grows by [`OUTPUT_PER_CONTENT_BYTE`].
pub const OUTPUT_BASE: usize = 4 << 20;
/// Extra output allowed per byte of message content.
pub const OUTPUT_PER_CONTENT_BYTE: usize = 2;
/// Recursion limit in minijinja's units: a macro call costs 4, a loop or `if` 1. Low
/// enough for the 1 MiB stacks of mobile threads; real chat templates nest a few levels.
pub const RECURSION_LIMIT: usize = 200;

/// The name the template is compiled under; error messages show it.
const TEMPLATE_NAME: &str = "chat_template";

/// Why a template did not compile or render. Lines are 1-based lines of the template.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The template source is not valid Jinja (for minijinja).
    #[error("chat template does not compile{}: {detail}", at_line(*line))]
    Compile {
        /// Line of the template where the error was found.
        line: Option<usize>,
        /// What is wrong.
        detail: String,
    },
    /// The template called `raise_exception(message)`, e.g. on an unsupported role.
    #[error("chat template raised an exception{}: {message}", at_line(*line))]
    Raised {
        /// Line of the template where it was raised.
        line: Option<usize>,
        /// The template's own message.
        message: String,
    },
    /// The render spent its whole fuel budget (too much work or data).
    #[error("chat template ran out of fuel{} (budget {fuel} for this conversation)", at_line(*line))]
    OutOfFuel {
        /// Line of the template running when the fuel ran out.
        line: Option<usize>,
        /// The budget of this render.
        fuel: u64,
    },
    /// The rendered text grew past the cap.
    #[error("chat template output exceeds the cap of {limit} bytes for this conversation")]
    OutputTooLarge {
        /// The cap of this render, in bytes.
        limit: usize,
    },
    /// Any other render failure (undefined operation, recursion limit, bad argument...).
    #[error("chat template failed to render{}: {detail}", at_line(*line))]
    Render {
        /// Line of the template where it failed.
        line: Option<usize>,
        /// What went wrong.
        detail: String,
    },
}

/// `" at line N"`, or nothing when the line is unknown.
fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

/// One turn of a conversation, as the template sees it: `message['role']`,
/// `message['content']`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, ... (the template decides what it accepts).
    pub role: String,
    /// The text of the turn.
    pub content: String,
}

impl ChatMessage {
    /// A message with the given role and content.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> ChatMessage {
        ChatMessage {
            role: role.into(),
            content: content.into(),
        }
    }
}

/// A compiled chat template with its special tokens. Cheap to render many times.
#[derive(Debug, Clone)]
pub struct ChatTemplate {
    env: Environment<'static>,
}

impl ChatTemplate {
    /// Compiles `source` (a Jinja chat template) with the model's BOS and EOS token texts,
    /// which the template sees as `bos_token` and `eos_token`.
    ///
    /// Syntax errors are [`ChatError::Compile`] with the line of the template.
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<ChatTemplate, ChatError> {
        let mut env = Environment::new();
        let syntax = SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|err| compile_error(&err))?;
        env.set_syntax(syntax);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_recursion_limit(RECURSION_LIMIT);
        env.set_unknown_method_callback(guard::python_method);
        env.set_formatter(guard::print_value);
        env.add_filter("string", guard::string);
        env.add_filter("tojson", guard::tojson);
        env.add_filter("list", guard::list);
        env.add_filter("split", guard::split);
        env.add_filter("lines", guard::lines);
        env.add_global("bos_token", bos_token);
        env.add_global("eos_token", eos_token);
        env.add_function("raise_exception", raise_exception);
        env.add_function("strftime_now", strftime_now);
        guard::check_unmetered_operators(source)?;
        env.add_template_owned(TEMPLATE_NAME, source.to_owned())
            .map_err(|err| compile_error(&err))?;
        Ok(ChatTemplate { env })
    }

    /// The chat template stored in `model`'s GGUF, compiled with its BOS and EOS texts, or
    /// `None` for base models without one.
    pub fn for_model(model: &crate::model::Model) -> Result<Option<ChatTemplate>, ChatError> {
        let Some(source) = &model.chat_template else {
            return Ok(None);
        };
        let tok = &model.tokenizer;
        let text = |id: Option<u32>| {
            id.and_then(|i| tok.token_bytes(i))
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default()
        };
        ChatTemplate::new(source, &text(tok.bos()), &text(tok.eos())).map(Some)
    }

    /// Renders `messages`; with `add_generation_prompt` the text ends with the opening of
    /// an assistant turn (as the template defines it), ready for generation.
    ///
    /// Limits, each an error: fuel [`FUEL_BASE`] + [`FUEL_PER_MESSAGE`] per message +
    /// [`FUEL_PER_CONTENT_BYTE`] per content byte; output [`OUTPUT_BASE`] +
    /// [`OUTPUT_PER_CONTENT_BYTE`] per content byte; recursion [`RECURSION_LIMIT`].
    pub fn render(
        &self,
        messages: &[ChatMessage],
        add_generation_prompt: bool,
    ) -> Result<String, ChatError> {
        let content_bytes: usize = messages
            .iter()
            .map(|m| m.role.len() + m.content.len())
            .sum();
        let message_count = u64::try_from(messages.len()).unwrap_or(u64::MAX);
        let content_bytes_u64 = u64::try_from(content_bytes).unwrap_or(u64::MAX);
        let fuel = FUEL_BASE
            .saturating_add(FUEL_PER_MESSAGE.saturating_mul(message_count))
            .saturating_add(FUEL_PER_CONTENT_BYTE.saturating_mul(content_bytes_u64));
        let limit =
            OUTPUT_BASE.saturating_add(OUTPUT_PER_CONTENT_BYTE.saturating_mul(content_bytes));

        // Fuel is a setting of the environment; cloning it shares the compiled template.
        let mut env = self.env.clone();
        env.set_fuel(Some(fuel));
        let template = env
            .get_template(TEMPLATE_NAME)
            .map_err(|err| render_error(&err, fuel))?;

        let messages: Vec<Value> = messages
            .iter()
            .map(|m| {
                minijinja::context! {
                    role => m.role.as_str(),
                    content => m.content.as_str(),
                }
            })
            .collect();
        let ctx = minijinja::context! {
            messages => messages,
            add_generation_prompt => add_generation_prompt,
        };
        let mut out = CappedWriter {
            text: String::new(),
            limit,
            exceeded: false,
        };
        let rendered = template.render_captured_to(ctx, &mut out);
        if out.exceeded {
            return Err(ChatError::OutputTooLarge { limit });
        }
        rendered.map_err(|err| render_error(&err, fuel))?;
        Ok(out.text)
    }
}

/// A [`ChatError::Compile`] from minijinja's syntax error.
fn compile_error(err: &minijinja::Error) -> ChatError {
    ChatError::Compile {
        line: err.line(),
        detail: describe(err),
    }
}

/// Classifies a render failure: raised by the template, out of fuel, or anything else.
fn render_error(err: &minijinja::Error, fuel: u64) -> ChatError {
    let line = err.line();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(raised) = e.downcast_ref::<TemplateException>() {
            return ChatError::Raised {
                line,
                message: raised.0.clone(),
            };
        }
        if let Some(inner) = e.downcast_ref::<minijinja::Error>() {
            if inner.kind() == ErrorKind::OutOfFuel {
                return ChatError::OutOfFuel { line, fuel };
            }
        }
        source = e.source();
    }
    ChatError::Render {
        line,
        detail: describe(err),
    }
}

/// The kind and detail of a minijinja error and of its causes, without its location
/// (the [`ChatError`] carries the line).
fn describe(err: &minijinja::Error) -> String {
    let mut text = match err.detail() {
        Some(detail) => format!("{}: {detail}", err.kind()),
        None => err.kind().to_string(),
    };
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(&format!("; caused by: {e}"));
        source = e.source();
    }
    text
}

/// The message of `raise_exception(msg)`, carried as the source of minijinja's error so
/// that [`render_error`] can tell it from engine errors.
#[derive(Debug)]
struct TemplateException(String);

impl std::fmt::Display for TemplateException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TemplateException {}

/// The `raise_exception(msg)` global of Hugging Face templates: fails the render.
fn raise_exception(message: String) -> Result<Value, minijinja::Error> {
    Err(
        minijinja::Error::new(ErrorKind::InvalidOperation, "raise_exception called")
            .with_source(TemplateException(message)),
    )
}

/// The `strftime_now(format)` global: the current time in UTC (no time zone database is
/// consulted), formatted with [`format_utc`].
fn strftime_now(format: &str) -> Result<String, minijinja::Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    format_utc(now, format)
        .map_err(|detail| minijinja::Error::new(ErrorKind::InvalidOperation, detail))
}

/// Formats a Unix time (seconds, UTC) like C's `strftime` for the directives chat
/// templates use: `%Y %y %m %d %H %I %M %S %p %j %a %A %b %B %%`. Any other directive is
/// an error, never passed through.
fn format_utc(unix_secs: i64, format: &str) -> Result<String, String> {
    const DAYS: [&str; 7] = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS[(days + 4).rem_euclid(7) as usize]; // 1970-01-01 was a Thursday
    let month_name = MONTHS[(month - 1) as usize];
    let day_of_year = days - days_from_civil(year, 1, 1) + 1;

    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let directive = chars.next().ok_or("strftime_now: format ends with '%'")?;
        let piece = match directive {
            'Y' => year.to_string(),
            'y' => format!("{:02}", year.rem_euclid(100)),
            'm' => format!("{month:02}"),
            'd' => format!("{day:02}"),
            'H' => format!("{hour:02}"),
            'I' => format!("{:02}", (hour + 11) % 12 + 1),
            'M' => format!("{minute:02}"),
            'S' => format!("{second:02}"),
            'p' => (if hour < 12 { "AM" } else { "PM" }).to_owned(),
            'j' => format!("{day_of_year:03}"),
            'a' => weekday[..3].to_owned(),
            'A' => weekday.to_owned(),
            'b' => month_name[..3].to_owned(),
            'B' => month_name.to_owned(),
            '%' => "%".to_owned(),
            other => return Err(format!("strftime_now: unsupported directive %{other}")),
        };
        out.push_str(&piece);
    }
    Ok(out)
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (proleptic Gregorian),
/// after Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Days since 1970-01-01 of a proleptic Gregorian date, the inverse of
/// [`civil_from_days`].
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Collects the rendered text and refuses any write that would pass `limit` bytes,
/// remembering that it did so (minijinja reports only a generic write failure).
struct CappedWriter {
    text: String,
    limit: usize,
    exceeded: bool,
}

impl io::Write for CappedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.text.len().saturating_add(buf.len()) > self.limit {
            self.exceeded = true;
            return Err(io::Error::other("chat template output cap reached"));
        }
        // minijinja writes whole `str`s, so every chunk is valid UTF-8.
        let chunk =
            std::str::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.text.push_str(chunk);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_utc_known_instants() {
        // 2024-07-23 14:05:09 UTC, a Tuesday, day 205 of a leap year.
        let t = 1_721_743_509;
        assert_eq!(
            format_utc(t, "%d %b %Y").unwrap(),
            "23 Jul 2024",
            "Llama 3.1's date format"
        );
        assert_eq!(
            format_utc(t, "%A %B %y-%m-%d %H:%M:%S %I%p %j %a 100%%").unwrap(),
            "Tuesday July 24-07-23 14:05:09 02PM 205 Tue 100%"
        );
        assert_eq!(format_utc(0, "%Y-%m-%d %A").unwrap(), "1970-01-01 Thursday");
        assert_eq!(
            format_utc(951_782_400, "%Y-%m-%d %j").unwrap(),
            "2000-02-29 060"
        );
        assert_eq!(
            format_utc(-1, "%Y-%m-%d %H:%M:%S").unwrap(),
            "1969-12-31 23:59:59"
        );
        assert!(format_utc(0, "%Q").unwrap_err().contains("%Q"));
        assert!(format_utc(0, "abc%").is_err());
    }

    #[test]
    fn civil_round_trips() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
