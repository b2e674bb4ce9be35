//! Where a [`super::GgufFile`]'s bytes live: a read-only memory map, or an owned buffer.

use std::fs::File;
use std::path::Path;

use memmap2::{Mmap, UncheckedAdvice};

use super::error::GgufError;

/// The bytes of a GGUF file. Both forms start at an address aligned to at least 8, so
/// that tensors at aligned offsets can be viewed as any ggml element type.
pub(crate) enum Source {
    /// Page-aligned read-only map of a whole file.
    Mapped(Mmap),
    /// Bytes owned in memory, held in u64 words for alignment; `len` bytes are valid.
    Owned { words: Vec<u64>, len: usize },
}

impl Source {
    /// Maps the file at `path` read-only. Opening a directory or any other non-regular
    /// file is an error (mapping one would fail with a less clear message).
    pub(crate) fn map(path: &Path) -> Result<Source, GgufError> {
        let open_error = |source| GgufError::Open {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let meta = file.metadata().map_err(open_error)?;
        if !meta.is_file() {
            let kind = if meta.is_dir() {
                "is a directory"
            } else {
                "not a regular file"
            };
            return Err(open_error(std::io::Error::other(kind)));
        }
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes belong to the file, not to
        // us: if another process modifies or truncates the file while it is mapped, the
        // bytes behind our `&[u8]` change, which Rust's memory model does not allow for. We
        // map read-only and never write, and we require (as every mmap-based model loader
        // does) that model files are not modified while in use. If that is broken anyway:
        // a changed byte can only change values; every offset was validated against the
        // slice length and is re-checked by slice bounds, so we never read outside the map.
        // If the file is truncated while mapped, touching a page past the new end raises
        // SIGBUS and the process dies; we accept that as documented behaviour, since
        // recovering would need a signal handler around every tensor read. The CLI makes
        // the death one clear error line (src/cli/sigbus.rs, tests/cli_errors.rs).
        let map = unsafe { Mmap::map(&file) }.map_err(open_error)?;
        Ok(Source::Mapped(map))
    }

    /// Copies `bytes` into an 8-byte-aligned buffer so typed views behave as with a map.
    pub(crate) fn owned(bytes: Vec<u8>) -> Source {
        let len = bytes.len();
        let mut words = vec![0u64; len.div_ceil(8)];
        if let Some(dst) = bytemuck::cast_slice_mut::<u64, u8>(&mut words).get_mut(..len) {
            dst.copy_from_slice(&bytes);
        }
        Source::Owned { words, len }
    }

    /// The file's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(map) => map,
            Source::Owned { words, len } => bytemuck::cast_slice::<u64, u8>(words)
                .get(..*len)
                .unwrap_or(&[]),
        }
    }

    /// Drops the mapped pages of `offset..offset + len` from resident memory (see
    /// [`super::GgufFile::release`]). Failure only means the pages stay resident.
    pub(crate) fn release(&self, offset: usize, len: usize) {
        let Source::Mapped(map) = self else {
            return;
        };
        if offset.checked_add(len).is_none_or(|end| end > map.len()) {
            return;
        }
        // SAFETY: MADV_DONTNEED on a read-only, file-backed private mapping that we never
        // wrote to only drops the pages from this process: later reads fault them back in
        // from the file with the same contents, so every `&[u8]` into the map stays valid
        // and unchanged. (It is `unchecked` in memmap2 because on written private pages it
        // would discard the writes; there are none here.) The range lies inside the map.
        let advised = unsafe { map.unchecked_advise_range(UncheckedAdvice::DontNeed, offset, len) };
        if let Err(e) = advised {
            log::debug!("madvise(DONTNEED) of {len} bytes at {offset} failed: {e}");
        }
    }

    /// "mmap" or "owned", for Debug output.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Source::Mapped(_) => "mmap",
            Source::Owned { .. } => "owned",
        }
    }
}
