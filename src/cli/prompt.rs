//! The prompt of `slimlm run`: `-p TEXT`, `-p -` (standard input) or `-f FILE`, as
//! llama.cpp takes them. Text read from a file or stdin must be UTF-8, is read up to
//! [`MAX_PROMPT_BYTES`] (never more, whatever the input), and loses one trailing newline
//! (as llama.cpp's `-f` does), so `echo hi | slimlm run -p -` sends "hi".

use std::error::Error;
use std::io::{self, Read};
use std::path::Path;

/// Largest prompt read from a file or stdin: far beyond any context, small enough to
/// hold in memory on a phone.
pub const MAX_PROMPT_BYTES: u64 = 16 << 20;

/// The prompt from `-p TEXT`, `-p -` or `-f FILE` (exactly one of them).
pub fn read_prompt(text: Option<&str>, file: Option<&Path>) -> Result<String, Box<dyn Error>> {
    let prompt = match (text, file) {
        (Some("-"), None) => read_bounded(io::stdin().lock(), "standard input (-p -)")?,
        (Some(text), None) => text.to_owned(),
        (None, Some(path)) => {
            let what = format!("prompt file {}", path.display());
            let file = std::fs::File::open(path).map_err(|e| format!("{what}: {e}"))?;
            if file.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(format!("{what}: is a directory").into());
            }
            read_bounded(file, &what)?
        }
        (None, None) => {
            return Err("no prompt: give -p TEXT, -p - (read standard input) or -f FILE".into())
        }
        (Some(_), Some(_)) => return Err("give either -p or -f, not both".into()),
    };
    if prompt.trim().is_empty() {
        return Err("the prompt is empty (--prompt TEXT)".into());
    }
    Ok(prompt)
}

/// Reads at most [`MAX_PROMPT_BYTES`] of UTF-8 text and drops one trailing newline.
fn read_bounded(reader: impl Read, what: &str) -> Result<String, Box<dyn Error>> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_PROMPT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{what}: {e}"))?;
    if bytes.len() as u64 > MAX_PROMPT_BYTES {
        return Err(format!("{what}: longer than {} MiB", MAX_PROMPT_BYTES >> 20).into());
    }
    let mut text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "{what}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_style_text_is_checked_and_trimmed() {
        assert_eq!(read_bounded(&b"hi\n"[..], "x").unwrap(), "hi");
        assert_eq!(read_bounded(&b"hi\r\n"[..], "x").unwrap(), "hi");
        assert_eq!(read_bounded(&b"a\n\n"[..], "x").unwrap(), "a\n");
        let err = read_bounded(&b"ok\xffno"[..], "prompt file p.txt").unwrap_err();
        assert!(
            err.to_string().contains("invalid byte at offset 2"),
            "{err}"
        );
        assert!(read_prompt(None, None).is_err());
        assert_eq!(read_prompt(Some("x"), None).unwrap(), "x");
    }
}
