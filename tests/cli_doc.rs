//! `slimlm doc summarize|suggest|ask` end to end on the real model, checking structure and
//! termination (never wording), and the bad inputs a new user meets: empty, blank, binary,
//! non-UTF-8 files, PDF / docx / UTF-16 files and images (known by their first bytes), a
//! directory, a file over the size limit, a 1 MB text file; and each task's help shows
//! only the options it uses.
//!
//! Kept cheap for qemu: small contexts (so chunks are ~100 tokens), answers of a few
//! tokens, and every file error is caught before the model loads. The model runs are the
//! same code on every kernel tier (the tiers are proven bit-identical elsewhere), so
//! under qemu they run for one CPU model only (`QEMU_CPU=max`), see [`runs_models_here`].

#[path = "common/cli.rs"]
mod cli;
#[path = "common/model.rs"]
mod model;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/solar-power.md");

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `slimlm doc ARGS... --model M` with small sizes.
fn doc(args: &[&str], file: &Path) -> Output {
    cli::slimlm()
        .arg("doc")
        .args(args)
        .arg(file)
        .arg("--model")
        .arg(model::real_model_path())
        .output()
        .unwrap()
}

/// Whether the real-model runs of this file happen in this test run: always on the host;
/// under qemu only for `QEMU_CPU=max`, since they cost ~35x there and the document code
/// does not depend on the tier.
fn runs_models_here() -> bool {
    let here = std::env::var("QEMU_CPU").map_or(true, |cpu| cpu == "max");
    if !here {
        eprintln!("cli_doc: real-model runs happen under QEMU_CPU=max only");
    }
    here
}

/// Asserts exit code 1 with one `error:` line containing every needle, and no panic.
fn assert_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "stderr: {err}");
    for n in needles {
        assert!(lines[0].contains(n), "expected {n:?} in {err}");
    }
}

/// The JSON object a successful `--json` run printed.
fn json(o: &Output) -> Value {
    let err = stderr(o);
    assert!(o.status.success(), "stderr: {err}");
    assert!(!err.contains("panicked"), "{err}");
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

/// Chunks used are in order, inside the document, non-empty, with tokens counted.
fn check_chunks(v: &Value, doc_len: usize) {
    let chunks = v["chunks_used"].as_array().unwrap();
    assert!(!chunks.is_empty(), "{v}");
    let mut at = 0;
    for c in chunks {
        let (start, end) = (c["start"].as_u64().unwrap(), c["end"].as_u64().unwrap());
        assert!(at <= start && start < end && end as usize <= doc_len, "{v}");
        assert!(c["tokens"].as_u64().unwrap() > 0, "{v}");
        at = end;
    }
    let steps = v["timings"]["steps"].as_array().unwrap();
    assert!(!steps.is_empty(), "{v}");
    for s in steps {
        assert!(s["prompt_tokens"].as_u64().unwrap() > 0, "{v}");
        let generated = s["generated_tokens"].as_u64().unwrap();
        assert!(generated <= 6, "more than --max-tokens: {v}");
    }
    assert!(v["timings"]["total_seconds"].as_f64().unwrap() > 0.0);
}

#[test]
fn bad_files_are_clear_errors_before_the_model_loads() {
    let o = doc(&["summarize"], &temp("empty.txt", b""));
    assert_error(&o, &["empty.txt", "is empty"]);
    let o = doc(&["summarize"], &temp("blank.md", b"  \n\n\t\n"));
    assert_error(&o, &["blank.md", "is empty"]);
    let o = doc(
        &["suggest"],
        &temp("image.txt", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
    );
    assert_error(&o, &["image.txt", "is an image", "OCR"]);
    // Other binary content is still refused at its first NUL byte.
    let o = doc(&["summarize"], &temp("binary.txt", b"abc\0def"));
    assert_error(&o, &["binary.txt", "NUL byte at byte 3"]);
    // Files known by their first bytes, even when ASCII throughout (an uncompressed PDF).
    let o = doc(
        &["summarize"],
        &temp("paper.pdf", b"%PDF-1.4\n1 0 obj << >>\n"),
    );
    assert_error(&o, &["paper.pdf", "is a PDF document", "pdftotext"]);
    let o = doc(
        &["ask", "--question", "Why?"],
        &temp("report.docx", b"PK\x03\x04\x14\0"),
    );
    assert_error(&o, &["report.docx", "ZIP archive (docx", "pandoc"]);
    let o = doc(&["summarize"], &temp("notes.txt", b"\xff\xfeh\0i\0"));
    assert_error(&o, &["notes.txt", "UTF-16 text", "iconv"]);
    let o = doc(&["summarize"], &temp("latin1.txt", b"Le caf\xe9 est noir."));
    assert_error(&o, &["latin1.txt", "not UTF-8", "at byte 6"]);
    let o = doc(&["summarize"], Path::new(env!("CARGO_TARGET_TMPDIR")));
    assert_error(&o, &["is a directory"]);
    let o = doc(&["summarize"], Path::new("no/such/file.md"));
    assert_error(&o, &["no/such/file.md"]);
    let o = doc(&["ask", "--question", "  "], Path::new(SAMPLE));
    assert_error(&o, &["question is empty"]);
    let o = doc(&["suggest", "--count", "0"], Path::new(SAMPLE));
    assert_error(&o, &["cannot suggest 0 questions"]);
    let o = doc(&["summarize", "--ctx", "64"], Path::new(SAMPLE));
    assert_error(&o, &["raise --ctx"]);

    // Over the 16 MiB limit: refused from its size alone (a sparse file, never read).
    let huge = temp("huge.txt", b"");
    std::fs::File::options()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let o = doc(&["summarize"], &huge);
    assert_error(&o, &["huge.txt", "more than the 16777216-byte limit"]);
}

#[test]
fn options_show_only_where_they_apply() {
    let help = |task: &str| {
        let o = cli::slimlm()
            .args(["doc", task, "--help"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (summarize, suggest, ask) = (help("summarize"), help("suggest"), help("ask"));
    assert!(summarize.contains("--max-chunks"), "{summarize}");
    assert!(
        suggest.contains("--max-chunks") && suggest.contains("--count"),
        "{suggest}"
    );
    assert!(
        !ask.contains("--max-chunks") && !ask.contains("--count"),
        "{ask}"
    );
    assert!(ask.contains("--question"), "{ask}");
    assert!(!summarize.contains("--question") && !summarize.contains("--count"));
    let o = doc(
        &["ask", "--max-chunks", "2", "--question", "Why?"],
        Path::new(SAMPLE),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn summarize_suggest_and_ask_on_the_sample() {
    if !runs_models_here() {
        return;
    }
    let sample = std::fs::read_to_string(SAMPLE).unwrap();
    // A 160-token context (about 110 for the document) makes the sample many chunks; one
    // is summarized and the cut is reported.
    let small = ["--ctx", "160", "--max-tokens", "6", "--json"];
    let o = doc(
        &[&["summarize", "--max-chunks", "1"][..], &small].concat(),
        Path::new(SAMPLE),
    );
    let v = json(&o);
    check_chunks(&v, sample.len());
    assert_eq!(v["task"], "summarize");
    assert!(v["answer"].is_string());
    assert!(v["document_chunks"].as_u64().unwrap() > 1, "{v}");
    assert_eq!(v["chunks_used"].as_array().unwrap().len(), 1);
    assert!(stderr(&o).contains("raise --max-chunks"), "{}", stderr(&o));

    // Questions from the summary of the first chunk: at most --count, each reported.
    let o = doc(
        &[
            &["suggest", "--count", "2", "--max-chunks", "1"][..],
            &small,
        ]
        .concat(),
        Path::new(SAMPLE),
    );
    let v = json(&o);
    check_chunks(&v, sample.len());
    assert_eq!(v["questions_requested"], 2);
    assert!(v["questions"].as_array().unwrap().len() <= 2, "{v}");
    assert_eq!(v["timings"]["steps"].as_array().unwrap().len(), 2, "{v}");

    // BM25 brings the battery section to the model, whatever its position.
    let o = doc(
        &[
            &["ask", "--question", "What chemistry do home batteries use?"][..],
            &small,
        ]
        .concat(),
        Path::new(SAMPLE),
    );
    let v = json(&o);
    check_chunks(&v, sample.len());
    let battery = sample.find("phosphate").unwrap();
    let covered = v["chunks_used"].as_array().unwrap().iter().any(|c| {
        c["start"].as_u64().unwrap() as usize <= battery
            && battery < c["end"].as_u64().unwrap() as usize
    });
    assert!(covered, "the battery passage was not used: {v}");
}

#[test]
fn multi_chunk_summary_reports_progress_and_text_output() {
    if !runs_models_here() {
        return;
    }
    // Four short paragraphs, about 35 tokens each: at a 160-token context (about 110 for
    // the document) they make two chunks.
    let text = "Tides rise and fall twice a day because the Moon pulls on the oceans. \
                The Sun adds a smaller pull, so the highest tides come at new and full moon.\n\n"
        .repeat(2)
        + &"Harbors publish tide tables a year ahead. Sailors use them to know when a \
            channel is deep enough, and fishers to know when the water will turn.\n\n"
            .repeat(2);
    let file = temp("tides.md", text.as_bytes());
    let o = doc(&["summarize", "--ctx", "160", "--max-tokens", "6"], &file);
    let err = stderr(&o);
    assert!(o.status.success(), "stderr: {err}");
    assert!(err.contains("chunk 1 of "), "no progress: {err}");
    assert!(err.contains("tokens/s"), "no speed: {err}");
    assert!(err.contains("combining"), "no combine step: {err}");
    assert!(!String::from_utf8_lossy(&o.stdout).trim().is_empty());
}

#[test]
fn one_megabyte_text_is_chunked_and_cut() {
    if !runs_models_here() {
        return;
    }
    // 1 MB of prose: read, chunked, and summarized from its first chunk only (--max-chunks
    // 1), with the cut named on stderr.
    let paragraph = "Wind turbines turn the energy of moving air into electricity. \
                     Larger blades sweep more air and make more power.\n\n";
    let text = paragraph.repeat((1 << 20) / paragraph.len() + 1);
    let file = temp("one-megabyte.txt", text.as_bytes());
    let o = doc(
        &[
            "summarize",
            "--ctx",
            "160",
            "--max-tokens",
            "4",
            "--max-chunks",
            "1",
        ],
        &file,
    );
    let err = stderr(&o);
    assert!(o.status.success(), "stderr: {err}");
    assert!(err.contains("skipping"), "cut not reported: {err}");
    assert!(err.contains("raise --max-chunks"), "{err}");
}
