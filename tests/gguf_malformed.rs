//! Malformed GGUF files: each gives its typed error, none panics, none allocates much.
//!
//! A counting global allocator tracks, per thread, the peak of live heap bytes while a
//! file is parsed; every parse must stay under [`PEAK_LIMIT`].

#[path = "common/corpus.rs"]
mod corpus;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use corpus::{base, base_writer, malformed_corpus, KV_TOKENS};
use proptest::prelude::*;
use slimlm::gguf::{GgufError, GgufFile};

/// Most heap a parse of any file here may hold at once.
const PEAK_LIMIT: usize = 8 << 20;

/// Counts live heap bytes per thread, so parallel tests do not disturb each other.
struct CountingAlloc;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    // try_with: the counters may already be gone while a thread shuts down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to the system allocator with the caller's arguments
// unchanged and only updates thread-local counters (which never allocate) besides.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            track(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            track(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from System.
        unsafe { System.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Parses `bytes` (catching any panic) and returns the result with the peak of heap bytes
/// this thread held during the parse, above what it held before.
fn parse_measured(bytes: Vec<u8>) -> (std::thread::Result<Result<GgufFile, GgufError>>, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let result = catch_unwind(AssertUnwindSafe(|| GgufFile::from_bytes(bytes)));
    let peak = PEAK.with(Cell::get) - start;
    (result, usize::try_from(peak).unwrap_or(0))
}

#[test]
fn every_corpus_file_gives_its_typed_error() {
    let corpus = malformed_corpus();
    assert!(corpus.len() >= 30, "only {} cases", corpus.len());
    let mut failures = Vec::new();
    for case in corpus {
        let len = case.bytes.len();
        let (result, peak) = parse_measured(case.bytes);
        match result {
            Err(_) => failures.push(format!("{}: panicked", case.name)),
            Ok(Ok(_)) => failures.push(format!("{}: parsed without error", case.name)),
            Ok(Err(e)) if !(case.matches)(&e) => failures.push(format!(
                "{}: expected {}, got {e:?}",
                case.name, case.expected
            )),
            Ok(Err(e)) => {
                let text = e.to_string();
                if !text.starts_with("at byte ") || text.contains('\n') {
                    failures.push(format!("{}: message lacks an offset: {text}", case.name));
                }
            }
        }
        // The parse copies the file once; beyond that, a few KiB of metadata.
        if peak > PEAK_LIMIT || peak > 2 * len + 64 * 1024 {
            failures.push(format!(
                "{}: peak heap {peak} bytes for a {len}-byte file",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_base_file_and_its_v2_twin_parse() {
    let (bytes, layout) = base();
    let file = GgufFile::from_bytes(bytes.clone()).unwrap();
    assert_eq!((file.version(), file.tensors().len()), (3, 3));
    assert_eq!(file.data_offset(), layout.data_offset as u64);
    let mut v2 = bytes;
    v2[4..8].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(GgufFile::from_bytes(v2).unwrap().version(), 2);
}

#[test]
fn messages_name_the_offset_the_key_and_the_tensor() {
    let (mut bytes, layout) = base();
    let count_at = layout.metadata[KV_TOKENS].value_at + 4;
    bytes[count_at..count_at + 8].copy_from_slice(&0xffff_ffffu64.to_le_bytes());
    let remaining = bytes.len() - count_at - 8;
    let e = GgufFile::from_bytes(bytes).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "at byte {count_at}: metadata key 'tokenizer.ggml.tokens': array of 4294967295 \
             strings cannot fit in the {remaining} remaining bytes"
        )
    );

    let (mut bytes, layout) = base();
    let type_at = layout.tensors[corpus::T_ATTN_Q].type_at;
    bytes[type_at..type_at + 4].copy_from_slice(&77u32.to_le_bytes());
    let e = GgufFile::from_bytes(bytes).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("at byte {type_at}: tensor 'blk.0.attn_q.weight': unknown ggml type id 77")
    );
}

#[test]
fn opening_a_corpus_file_gives_the_same_error_as_from_bytes() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("gguf_malformed");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, case) in malformed_corpus().into_iter().enumerate() {
        let path = dir.join(format!("case{i:02}.gguf"));
        std::fs::write(&path, &case.bytes).unwrap();
        let opened = GgufFile::open(&path).unwrap_err().to_string();
        let in_memory = GgufFile::from_bytes(case.bytes).unwrap_err().to_string();
        assert_eq!(opened, in_memory, "{}", case.name);
    }
}

#[test]
fn every_prefix_of_a_valid_file_is_an_error_without_panic() {
    let (bytes, _) = base();
    for len in 0..bytes.len() {
        let (result, peak) = parse_measured(bytes[..len].to_vec());
        match result {
            Ok(Err(_)) => {}
            Ok(Ok(_)) => panic!("prefix of {len} bytes parsed"),
            Err(_) => panic!("prefix of {len} bytes panicked"),
        }
        assert!(peak < PEAK_LIMIT, "prefix of {len} bytes: peak {peak}");
    }
    assert!(GgufFile::from_bytes(bytes).is_ok());
}

#[test]
fn a_100_byte_file_cannot_ask_for_gigabytes() {
    // Header claiming 2^40 tensor infos and u64::MAX metadata entries, padded to 100 bytes.
    let mut bytes = b"GGUF".to_vec();
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&(1u64 << 40).to_le_bytes());
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    bytes.resize(100, 0xff);
    let (result, peak) = parse_measured(bytes);
    assert!(matches!(result, Ok(Err(GgufError::CountTooLarge { .. }))));
    // The copy into the aligned buffer (104 bytes) proves the counter counts.
    assert!((100..4096).contains(&peak), "peak {peak}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random byte edits anywhere in a valid file: an error or a file, never a panic or a
    /// big allocation.
    #[test]
    fn random_corruptions_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let mut bytes = base_writer().to_bytes();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let (result, peak) = parse_measured(bytes);
        prop_assert!(result.is_ok(), "panicked");
        prop_assert!(peak < PEAK_LIMIT, "peak {}", peak);
    }
}
