//! `slimlm run` and `slimlm chat` tried as a new user would: a missing model, a 0-byte
//! file, an empty prompt, a prompt longer than the context, a bad tier, end of input in
//! chat. Each gives one clear `error:` line (or a clean exit), never a panic.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/model.rs"]
mod model;

use std::io::Write;
use std::process::{Output, Stdio};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts a failure with exit code 1 whose stderr has one `error:` line containing
/// `needle`, and no panic.
fn assert_error(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "stderr: {err}");
    assert!(lines[0].contains(needle), "expected {needle:?} in {err}");
}

#[test]
fn missing_and_empty_model_files() {
    let o = cli::slimlm()
        .args([
            "run",
            "--prompt",
            "hi",
            "--model",
            "models/does-not-exist.gguf",
        ])
        .output()
        .unwrap();
    assert_error(&o, "not found");

    let empty = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty.gguf");
    std::fs::write(&empty, b"").unwrap();
    let o = cli::slimlm()
        .args(["run", "--prompt", "hi", "--model"])
        .arg(&empty)
        .output()
        .unwrap();
    assert_error(&o, "file ends inside the magic");
}

#[test]
fn empty_and_too_long_prompts() {
    let path = model::real_model_path();
    let o = cli::slimlm()
        .args(["run", "--prompt", "", "--model"])
        .arg(&path)
        .output()
        .unwrap();
    assert_error(&o, "prompt is empty");

    let long = "word ".repeat(300);
    let o = cli::slimlm()
        .args(["run", "--ctx", "64", "--prompt", &long, "--model"])
        .arg(&path)
        .output()
        .unwrap();
    assert_error(&o, "but the context holds 64");
}

#[test]
fn unsupported_tier_is_an_error() {
    let path = model::real_model_path();
    let wrong = if cfg!(target_arch = "aarch64") {
        "avx2"
    } else {
        "i8mm"
    };
    let o = cli::slimlm()
        .env("SLIMLM_ISA", wrong)
        .args(["run", "--prompt", "hi", "--model"])
        .arg(&path)
        .output()
        .unwrap();
    assert_error(&o, "this CPU does not support it");
    let o = cli::slimlm()
        .env("SLIMLM_ISA", "turbo")
        .args(["run", "--prompt", "hi", "--model"])
        .arg(&path)
        .output()
        .unwrap();
    assert_error(&o, "is not a kernel tier");
}

#[test]
fn chat_answers_and_ends_cleanly_at_end_of_input() {
    let path = model::real_model_path();
    let mut child = cli::slimlm()
        .args(["chat", "--max-tokens", "4", "--model"])
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Hello!\n").unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "stderr: {err}");
    assert!(err.contains("generation:"), "no answer: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn run_generates_and_reports_speed() {
    let path = model::real_model_path();
    let o = cli::slimlm()
        .args([
            "run",
            "--max-tokens",
            "4",
            "--prompt",
            "The capital of France is",
            "--raw",
            "--model",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "stderr: {err}");
    assert!(String::from_utf8_lossy(&o.stdout).contains("Paris"));
    for field in ["tokens/s", "time to first token"] {
        assert!(err.contains(field), "{field} missing: {err}");
    }
}

#[test]
fn profile_and_kv_type_flags() {
    let path = model::real_model_path();
    // One run (each costs a model load under qemu): the Q8_0 cache, profiled.
    for kv in ["q8_0"] {
        let o = cli::slimlm()
            .args(["run", "--prompt", "Hi", "--max-tokens", "3", "--profile"])
            .args(["--kv-type", kv, "--model"])
            .arg(&path)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert!(o.status.success(), "--kv-type {kv}: {err}");
        for want in [
            "profile of the prompt",
            "profile of decode",
            "lm head",
            "total",
        ] {
            assert!(err.contains(want), "--kv-type {kv}: no {want:?} in {err}");
        }
    }
    let o = cli::slimlm()
        .args(["run", "--prompt", "Hi", "--kv-type", "q4", "--model"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown KV cache type"),
        "{}",
        stderr(&o)
    );
}
