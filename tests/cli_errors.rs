//! The `slimlm` binary on the error paths a new user hits, with the tiny model of
//! tests/common/tiny_model.rs (fast, also under qemu): bad thread counts and CPU lists, a
//! directory or truncated copy given as the model, contexts of 0 or beyond the model's,
//! a chat message longer than the context, and a model file truncated while mapped.
//! Each is one `error:` line with exit code 1 (chat reports an overlong message and goes
//! on), never a panic, and an error of a flag or variable names it, not the model file.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// A scratch path of this test binary.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_errors");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The tiny llama written to a file of its own (tests run in parallel).
fn tiny_model_file(name: &str) -> PathBuf {
    let path = scratch(name);
    let bytes = tiny_model::TinyModel::new("llama")
        .to_bytes(u64::MAX)
        .unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run(args: &[&str], model: &Path) -> Output {
    cli::slimlm()
        .args(args)
        .arg("--model")
        .arg(model)
        .output()
        .unwrap()
}

/// Asserts exit code 1 and one `error:` line on stderr containing every needle.
fn assert_error(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "stderr: {err}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{needle:?} not in: {err}");
    }
}

#[test]
fn the_tiny_model_runs() {
    let model = tiny_model_file("runs.gguf");
    let o = run(
        &[
            "run",
            "--threads",
            "1",
            "--max-tokens",
            "3",
            "--prompt",
            "the",
        ],
        &model,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn zero_and_too_many_threads_and_bad_cpu_lists() {
    let model = tiny_model_file("threads.gguf");
    let o = run(&["run", "--threads", "0", "--prompt", "hi"], &model);
    assert_error(&o, &["--threads must be at least 1"]);
    let o = run(&["run", "--threads", "100000", "--prompt", "hi"], &model);
    assert_error(
        &o,
        &[
            "--threads 100000 is more than the",
            "CPUs this process may use",
        ],
    );
    let o = run(&["chat", "--threads", "0"], &model);
    assert_error(&o, &["--threads must be at least 1"]);
    assert_not_about_the_model(&o, "threads.gguf");
    let o = run(&["run", "--cpus", "7-3", "--prompt", "hi"], &model);
    assert_error(&o, &["--cpus \"7-3\""]);
    let o = run(&["run", "--cpus", "banana", "--prompt", "hi"], &model);
    assert_error(&o, &["--cpus \"banana\""]);
    assert_not_about_the_model(&o, "threads.gguf");
}

/// CPUs that exist in no affinity mask (a 4000-CPU machine is not a test machine) are
/// refused before anything runs, naming the CPU.
#[test]
fn cpus_this_process_cannot_use() {
    let model = tiny_model_file("cpus.gguf");
    let o = run(&["run", "--cpus", "4000", "--prompt", "hi"], &model);
    assert_error(
        &o,
        &[
            "--cpus \"4000\"",
            "CPU 4000 is not one this process may run on",
        ],
    );
    let o = run(&["run", "--cpus", "0-4095", "--prompt", "hi"], &model);
    assert_error(
        &o,
        &["--cpus \"0-4095\"", "is not one this process may run on"],
    );
    assert_not_about_the_model(&o, "cpus.gguf");
}

#[test]
fn kernel_tier_variable() {
    let model = tiny_model_file("isa.gguf");
    let with_isa = |value: &str| {
        cli::slimlm()
            .env("SLIMLM_ISA", value)
            .args(["run", "-t", "1", "-n", "2", "-p", "hi", "-m"])
            .arg(&model)
            .output()
            .unwrap()
    };
    let o = with_isa("bogus");
    assert_error(&o, &["SLIMLM_ISA=\"bogus\" is not a kernel tier"]);
    assert_not_about_the_model(&o, "isa.gguf");
    // Empty is the same as unset.
    let o = with_isa("");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The error line of `o` does not mention the model file `name`.
fn assert_not_about_the_model(o: &Output, name: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains(name), "the model is blamed: {err}");
}

#[test]
fn a_directory_or_a_truncated_copy_as_the_model() {
    let dir = scratch("a_directory.gguf");
    std::fs::create_dir_all(&dir).unwrap();
    let o = run(&["run", "--prompt", "hi"], &dir);
    assert_error(&o, &["a_directory.gguf", "is a directory"]);

    let bytes = std::fs::read(tiny_model_file("whole.gguf")).unwrap();
    let cut = scratch("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let o = run(&["run", "--prompt", "hi"], &cut);
    assert_error(
        &o,
        &["cut.gguf", "tensor 'output_norm.weight'", "do not fit"],
    );
}

#[test]
fn contexts_of_zero_or_beyond_the_model() {
    let model = tiny_model_file("ctx.gguf");
    // 0 is the model's trained context, as llama.cpp's -c 0.
    let o = run(&["run", "--ctx", "0", "-n", "2", "--prompt", "hi"], &model);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let long = "the ".repeat(600);
    let o = run(&["run", "-c", "0", "--prompt", &long], &model);
    assert_error(&o, &["but the context holds 512"]);
    let o = run(&["chat", "--ctx", "100000"], &model);
    assert_error(
        &o,
        &["context of 100000 tokens: must be between 1 and 4096"],
    );
    let long = "the ".repeat(100);
    let o = run(&["run", "--ctx", "16", "--prompt", &long], &model);
    assert_error(&o, &["but the context holds 16"]);
}

#[test]
fn chat_reports_a_message_longer_than_the_context_and_goes_on() {
    let model = tiny_model_file("chat.gguf");
    let mut child = cli::slimlm()
        .args([
            "chat",
            "--threads",
            "1",
            "--ctx",
            "24",
            "--max-tokens",
            "2",
            "--model",
        ])
        .arg(&model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!("{}\nhi\n", "the ".repeat(40));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "stderr: {err}");
    assert!(err.contains("but the context holds 24"), "{err}");
    // The short message after it is answered.
    assert!(err.contains("generation:"), "{err}");
}

/// The model file truncated while `slimlm chat` has it mapped: the next read of the map
/// raises SIGBUS; the CLI's handler (src/cli/sigbus.rs) turns it into one error line and
/// exit code 1. Truncating before the open is an ordinary parse error (above).
#[test]
fn a_model_truncated_while_mapped_is_one_error_line() {
    let model = tiny_model_file("shrinks.gguf");
    let mut child = cli::slimlm()
        .args(["chat", "--threads", "1", "--max-tokens", "2", "--model"])
        .arg(&model)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the model is loaded (chat greets on stderr), then cut the file.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut greeting = String::new();
    stderr.read_line(&mut greeting).unwrap();
    assert!(greeting.starts_with("chat with"), "{greeting}");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&model)
        .unwrap()
        .set_len(0)
        .unwrap();
    child.stdin.take().unwrap().write_all(b"the\n").unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "stderr: {rest}");
    let error = rest
        .lines()
        .find(|l| l.contains("error:"))
        .unwrap_or_default();
    assert!(
        error.contains("SIGBUS") && error.contains("truncated"),
        "{rest}"
    );
}
