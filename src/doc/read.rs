//! Reading a document: a UTF-8 text file (.txt, .md) of bounded size, checked before any
//! model work. Binary content (a NUL byte), other encodings (invalid UTF-8), directories
//! and empty or whitespace-only files are errors that name the file and, where it
//! applies, the byte offset. The file is never read past [`MAX_DOCUMENT_BYTES`] + 1 bytes,
//! so a huge file (or an endless one such as /dev/zero) is refused without reading it all.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::DocError;

/// Largest document accepted: 16 MiB, about 4 million tokens of English, far more than a
/// phone summarizes in reasonable time (chunks beyond `--max-chunks` are skipped anyway)
/// while small enough to hold in memory next to the model.
pub const MAX_DOCUMENT_BYTES: u64 = 16 << 20;

/// A validated document: its path (for messages) and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub path: PathBuf,
    pub text: String,
}

impl Document {
    /// Reads and validates `path` with the default size limit.
    pub fn read(path: impl AsRef<Path>) -> Result<Document, DocError> {
        Document::read_limited(path, MAX_DOCUMENT_BYTES)
    }

    /// Reads and validates `path`, refusing files larger than `limit` bytes.
    pub fn read_limited(path: impl AsRef<Path>, limit: u64) -> Result<Document, DocError> {
        let path = path.as_ref().to_path_buf();
        let io = |source| DocError::Io {
            path: path.clone(),
            source,
        };
        let meta = std::fs::metadata(&path).map_err(io)?;
        if meta.is_dir() {
            return Err(DocError::IsDirectory { path });
        }
        if meta.len() > limit {
            return Err(DocError::TooLarge {
                path,
                size: meta.len(),
                limit,
            });
        }
        let mut bytes = Vec::new();
        File::open(&path)
            .and_then(|f| f.take(limit.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(io)?;
        if bytes.len() as u64 > limit {
            // A file that grew, or a device whose metadata says nothing about its size.
            return Err(DocError::TooLarge {
                path,
                size: bytes.len() as u64,
                limit,
            });
        }
        Document::from_bytes(path, bytes)
    }

    /// Validates bytes already in memory; `path` only names them in errors.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<Document, DocError> {
        let path = path.into();
        if let Some(offset) = bytes.iter().position(|&b| b == 0) {
            return Err(DocError::Binary { path, offset });
        }
        let text = String::from_utf8(bytes).map_err(|e| DocError::NotUtf8 {
            path: path.clone(),
            offset: e.utf8_error().valid_up_to(),
        })?;
        if text.trim().is_empty() {
            return Err(DocError::Empty { path });
        }
        Ok(Document { path, text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("slimlm-doc-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_utf8_text() {
        let path = temp("ok.md", "# Title\n\nCafé au lait.\n".as_bytes());
        let doc = Document::read(&path).unwrap();
        assert_eq!(doc.text, "# Title\n\nCafé au lait.\n");
    }

    #[test]
    fn binary_names_file_and_offset() {
        let path = temp("bin.txt", b"abc\0def");
        let e = Document::read(&path).unwrap_err();
        assert!(matches!(e, DocError::Binary { offset: 3, .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("bin.txt") && msg.contains("byte 3"), "{msg}");
    }

    #[test]
    fn invalid_utf8_names_offset() {
        let path = temp("latin1.txt", b"caf\xe9 noir");
        let e = Document::read(&path).unwrap_err();
        assert!(matches!(e, DocError::NotUtf8 { offset: 3, .. }), "{e:?}");
        assert!(e.to_string().contains("latin1.txt"));
        // A character cut at the end of the file is invalid too.
        let e = Document::from_bytes("cut.txt", b"ok \xc3".to_vec()).unwrap_err();
        assert!(matches!(e, DocError::NotUtf8 { offset: 3, .. }), "{e:?}");
    }

    #[test]
    fn empty_whitespace_directory_missing_and_too_large() {
        let e = Document::read(temp("empty.txt", b"")).unwrap_err();
        assert!(matches!(e, DocError::Empty { .. }), "{e:?}");
        let e = Document::read(temp("blank.txt", b" \n\t\r\n ")).unwrap_err();
        assert!(matches!(e, DocError::Empty { .. }), "{e:?}");
        let e = Document::read(std::env::temp_dir()).unwrap_err();
        assert!(matches!(e, DocError::IsDirectory { .. }), "{e:?}");
        let e = Document::read("/nonexistent/slimlm/doc.txt").unwrap_err();
        assert!(matches!(e, DocError::Io { .. }), "{e:?}");
        assert!(e.to_string().contains("/nonexistent/slimlm/doc.txt"));
        let e = Document::read_limited(temp("big.txt", &[b'a'; 100]), 99).unwrap_err();
        assert!(
            matches!(
                e,
                DocError::TooLarge {
                    size: 100,
                    limit: 99,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn endless_device_is_refused_after_the_limit() {
        let e = Document::read_limited("/dev/zero", 1000).unwrap_err();
        assert!(matches!(e, DocError::TooLarge { size: 1001, .. }), "{e:?}");
    }
}
