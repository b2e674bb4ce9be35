//! The input lines of `slimlm chat`: from a terminal through rustyline (line editing,
//! history on the arrow keys, Ctrl-C and Ctrl-D as keys), otherwise from the stdin
//! stream as is (pipes, files, tests). Either way an invalid UTF-8 line is reported as
//! [`Input::InvalidUtf8`] and skipped, never an end of the session, and no line is held
//! in memory beyond [`MAX_LINE_BYTES`].

use std::io::{self, BufRead, IsTerminal, Write};

use rustyline::error::ReadlineError;
use rustyline::{Config, DefaultEditor};

/// Longest line kept from a stream; the rest of a longer line is skipped.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Lines kept in the history of the arrow keys.
const HISTORY_LINES: usize = 1000;

/// One event of the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Input {
    /// A line, without its line ending.
    Line(String),
    /// Ctrl-C at the prompt (terminals only: elsewhere SIGINT ends the process).
    Interrupted,
    /// End of input (Ctrl-D on an empty line).
    Eof,
    /// The line was not UTF-8; it was skipped.
    InvalidUtf8,
    /// The line was longer than [`MAX_LINE_BYTES`]; it was skipped.
    TooLong,
}

/// Where lines come from.
pub enum LineReader {
    Terminal(Box<DefaultEditor>),
    Stream(io::StdinLock<'static>),
}

impl LineReader {
    /// rustyline when stdin is a terminal, the plain stream otherwise.
    pub fn new() -> io::Result<LineReader> {
        if !io::stdin().is_terminal() {
            return Ok(LineReader::Stream(io::stdin().lock()));
        }
        let config = Config::builder()
            .max_history_size(HISTORY_LINES)
            .map_err(io::Error::other)?
            .auto_add_history(false)
            .build();
        let editor = DefaultEditor::with_config(config).map_err(io::Error::other)?;
        Ok(LineReader::Terminal(Box::new(editor)))
    }

    /// Shows `prompt` and reads one line.
    pub fn read(&mut self, prompt: &str) -> io::Result<Input> {
        match self {
            LineReader::Terminal(editor) => match editor.readline(prompt) {
                Ok(line) => Ok(Input::Line(line)),
                Err(ReadlineError::Interrupted) => Ok(Input::Interrupted),
                Err(ReadlineError::Eof) => Ok(Input::Eof),
                Err(ReadlineError::Io(e)) if e.kind() == io::ErrorKind::InvalidData => {
                    // rustyline stops at the first invalid byte: drop the rest of what
                    // was typed, so it does not come back as a line of its own.
                    discard_typed_input();
                    Ok(Input::InvalidUtf8)
                }
                Err(e) => Err(io::Error::other(e)),
            },
            LineReader::Stream(stdin) => {
                eprint!("{prompt}");
                io::stderr().flush()?;
                read_stream_line(stdin)
            }
        }
    }

    /// Adds a line to the history of the arrow keys (terminals only).
    pub fn add_history(&mut self, line: &str) {
        if let LineReader::Terminal(editor) = self {
            // A history that cannot grow only costs the recall of this line.
            let _ = editor.add_history_entry(line);
        }
    }
}

/// Reads one line of at most [`MAX_LINE_BYTES`] from a stream.
fn read_stream_line(input: &mut impl BufRead) -> io::Result<Input> {
    let mut bytes = Vec::new();
    let n = io::Read::take(&mut *input, MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut bytes)?;
    if n == 0 {
        return Ok(Input::Eof);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    } else if bytes.len() > MAX_LINE_BYTES {
        skip_line(input)?;
        return Ok(Input::TooLong);
    }
    Ok(String::from_utf8(bytes).map_or(Input::InvalidUtf8, Input::Line))
}

/// Consumes input up to and including the next newline (or the end).
fn skip_line(input: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let len = buf.len();
                input.consume(len);
            }
        }
    }
}

/// Drops the bytes typed on the terminal but not read yet.
fn discard_typed_input() {
    // SAFETY: tcflush takes a file descriptor and a queue selector, and touches no memory
    // of this process; on a descriptor that is not a terminal it fails and does nothing.
    unsafe {
        libc::tcflush(libc::STDIN_FILENO, libc::TCIFLUSH);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_lines_are_checked_and_bounded() {
        let mut input = io::Cursor::new(b"hi\r\nbad\xff\nok\nlast".to_vec());
        assert_eq!(
            read_stream_line(&mut input).unwrap(),
            Input::Line("hi".into())
        );
        assert_eq!(read_stream_line(&mut input).unwrap(), Input::InvalidUtf8);
        assert_eq!(
            read_stream_line(&mut input).unwrap(),
            Input::Line("ok".into())
        );
        assert_eq!(
            read_stream_line(&mut input).unwrap(),
            Input::Line("last".into())
        );
        assert_eq!(read_stream_line(&mut input).unwrap(), Input::Eof);

        let mut long = vec![b'a'; MAX_LINE_BYTES + 10];
        long.extend_from_slice(b"\nnext\n");
        let mut input = io::Cursor::new(long);
        assert_eq!(read_stream_line(&mut input).unwrap(), Input::TooLong);
        assert_eq!(
            read_stream_line(&mut input).unwrap(),
            Input::Line("next".into())
        );
    }
}
