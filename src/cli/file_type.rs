//! Recognizes the common non-text files people hand to `slimlm doc` by their magic bytes
//! (PDF, ZIP containers such as docx/odt/epub, old Office files, UTF-16/UTF-32 text,
//! images, compressed files, RTF, executables), so each is refused for what it is, with
//! a hint on how to convert it to text, and never "summarized" when it happens to be
//! ASCII (an uncompressed PDF is). Only the first bytes are read.

use std::error::Error;
use std::io::Read;
use std::path::Path;

/// Bytes read from the start of the file: enough for every signature below.
const HEAD_BYTES: u64 = 16;

/// A non-text kind of file: what it is, and how to get text out of it.
struct Kind {
    what: &'static str,
    hint: &'static str,
}

/// The kind of file `head` (its first bytes) starts like, if it is not text.
fn sniff(head: &[u8]) -> Option<Kind> {
    let kind = |what, hint| Some(Kind { what, hint });
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        return kind(
            "a PDF document",
            "convert it with `pdftotext FILE OUT.txt` (poppler-utils)",
        );
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return kind(
            "a ZIP archive (docx, odt, epub, ...)",
            "convert it with `pandoc FILE -t plain -o OUT.txt`",
        );
    }
    if starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") {
        return kind(
            "an old Microsoft Office document (doc, xls, ppt)",
            "convert it with `libreoffice --headless --convert-to txt FILE`",
        );
    }
    if starts(b"\xff\xfe\x00\x00") || starts(b"\x00\x00\xfe\xff") {
        return kind(
            "UTF-32 text",
            "convert it with `iconv -f UTF-32 -t UTF-8 FILE > OUT.txt`",
        );
    }
    if starts(b"\xff\xfe") || starts(b"\xfe\xff") {
        return kind(
            "UTF-16 text",
            "convert it with `iconv -f UTF-16 -t UTF-8 FILE > OUT.txt`",
        );
    }
    if starts(b"{\\rtf") {
        return kind(
            "an RTF document",
            "convert it with `pandoc FILE -t plain -o OUT.txt`",
        );
    }
    let image = starts(b"\x89PNG\r\n\x1a\n")
        || starts(b"\xff\xd8\xff")
        || starts(b"GIF87a")
        || starts(b"GIF89a")
        || (starts(b"RIFF") && head.get(8..12) == Some(b"WEBP"))
        || starts(b"II*\x00")
        || starts(b"MM\x00*");
    if image {
        return kind(
            "an image",
            "slimlm reads text only; extract the text with OCR first, e.g. `tesseract FILE OUT`",
        );
    }
    if starts(b"\x1f\x8b")
        || starts(b"BZh")
        || starts(b"\xfd7zXZ\x00")
        || starts(b"\x28\xb5\x2f\xfd")
    {
        return kind(
            "a compressed file (gzip, bzip2, xz or zstd)",
            "decompress it first",
        );
    }
    if starts(b"\x7fELF") {
        return kind("an executable", "give slimlm a text file");
    }
    None
}

/// Refuses `path` when its first bytes say it is not a text file. A file that cannot be
/// opened passes: reading it later gives the error with its cause.
pub fn refuse_non_text(path: &Path) -> Result<(), Box<dyn Error>> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let mut head = Vec::new();
    if file.take(HEAD_BYTES).read_to_end(&mut head).is_err() {
        return Ok(());
    }
    match sniff(&head) {
        Some(kind) => Err(format!(
            "{} is {}, not a UTF-8 text file: {}",
            path.display(),
            kind.what,
            kind.hint
        )
        .into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let what = |head: &[u8]| sniff(head).map(|k| k.what);
        assert_eq!(what(b"%PDF-1.4\n%abc"), Some("a PDF document"));
        assert_eq!(
            what(b"PK\x03\x04\x14\x00\x06\x00"),
            Some("a ZIP archive (docx, odt, epub, ...)")
        );
        assert_eq!(what(b"\xff\xfeh\x00i\x00"), Some("UTF-16 text"));
        assert_eq!(what(b"\xfe\xff\x00h\x00i"), Some("UTF-16 text"));
        assert_eq!(what(b"\xff\xfe\x00\x00h\x00\x00\x00"), Some("UTF-32 text"));
        assert_eq!(what(b"\x89PNG\r\n\x1a\n\x00\x00"), Some("an image"));
        assert_eq!(what(b"RIFF\x10\x00\x00\x00WEBPVP8 "), Some("an image"));
        assert_eq!(what(b"\xff\xd8\xff\xe0"), Some("an image"));
        assert_eq!(what(b"{\\rtf1\\ansi"), Some("an RTF document"));
        // Text, including text with a UTF-8 byte order mark, is not sniffed.
        assert_eq!(what(b"# Solar power\n"), None);
        assert_eq!(what(b"\xef\xbb\xbfHello"), None);
        assert_eq!(what(b"PK is a name"), None);
        assert_eq!(what(b""), None);
    }
}
