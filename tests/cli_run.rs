//! `slimlm run` and `slimlm chat` tried as a new user would: a missing model, a 0-byte
//! file, an empty prompt, a prompt longer than the context, a bad tier, end of input in
//! chat. Each gives one clear `error:` line (or a clean exit), never a panic. Then
//! llama.cpp's flags, random and repeated seeds, prompts from stdin and files, and a
//! closed stdout (`| head -c 20`), which stops generation quietly at the next write.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/model.rs"]
mod model;
#[path = "common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::io::{Read, Write};
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

/// The tiny model of tests/common/tiny_model.rs in a file of its own.
fn tiny_model_file(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_run");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let bytes = tiny_model::TinyModel::new("llama")
        .to_bytes(u64::MAX)
        .unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// The `N` of "generation: N tokens" in a timings line.
fn generated_tokens(err: &str) -> usize {
    let rest = err
        .split("generation: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no timings line: {err}"));
    rest.split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn llama_cpp_flags() {
    let path = model::real_model_path();
    let o = cli::slimlm()
        .args(["run", "-m"])
        .arg(&path)
        .args(["-p", "Hi", "-n", "8", "-t", "2", "-c", "512", "--temp", "0"])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "stderr: {err}");
    assert!(!o.stdout.is_empty());
    assert!(generated_tokens(&err) <= 8, "{err}");
    // Greedy: no seed to print.
    assert!(!err.contains("seed:"), "{err}");
}

#[test]
fn random_seeds_differ_and_the_printed_seed_repeats_a_run() {
    let model = tiny_model_file("seed.gguf");
    let sample = |seed: Option<&str>| {
        let mut c = cli::slimlm();
        c.args([
            "run", "--raw", "-t", "1", "-n", "24", "--temp", "1", "-p", "the",
        ])
        .arg("-m")
        .arg(&model);
        if let Some(seed) = seed {
            c.args(["-s", seed]);
        }
        let o = c.output().unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        (String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o))
    };
    let (a, err_a) = sample(None);
    let (b, _) = sample(None);
    assert_ne!(a, b, "two random seeds gave the same text");
    let seed = err_a
        .lines()
        .find_map(|l| l.strip_prefix("seed: "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or_else(|| panic!("no seed printed: {err_a}"));
    let (again, err) = sample(Some(seed));
    assert_eq!(again, a, "--seed {seed} did not repeat the run");
    assert!(!err.contains("seed:"), "a given seed is not printed: {err}");
    let (minus_one, err) = sample(Some("-1"));
    assert!(err.contains("seed: "), "-1 is a random seed: {err}");
    assert_ne!(minus_one, a);
}

#[test]
fn prompts_from_stdin_and_files() {
    let model = tiny_model_file("prompt.gguf");
    let run = |args: &[&str], stdin: &[u8]| {
        let mut child = cli::slimlm()
            .args(["run", "--raw", "-t", "1", "-n", "6", "-m"])
            .arg(&model)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    };
    let direct = run(&["-p", "the he"], b"");
    assert!(direct.status.success(), "{}", stderr(&direct));
    let piped = run(&["-p", "-"], b"the he\n");
    assert!(piped.status.success(), "{}", stderr(&piped));
    assert_eq!(piped.stdout, direct.stdout);
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_run/prompt.txt");
    std::fs::write(&file, "the he\n").unwrap();
    let from_file = run(&["-f", file.to_str().unwrap()], b"");
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    assert_eq!(from_file.stdout, direct.stdout);

    std::fs::write(&file, b"the \xff").unwrap();
    let o = run(&["-f", file.to_str().unwrap()], b"");
    assert_error(&o, "not UTF-8 text (invalid byte at offset 4)");
    let o = run(&[], b"");
    assert_error(
        &o,
        "no prompt: give -p TEXT, -p - (read standard input) or -f FILE",
    );
    // -sys, llama.cpp's system prompt flag.
    let o = run(&["-sys", "be brief", "-p", "hi"], b"");
    assert!(o.status.success(), "{}", stderr(&o));
}

/// stdout closed before the first token: generation stops at the first write, quietly.
/// SmolLM2's first token of an answer to "Hi" is whole ASCII text, written at once, so
/// exactly one token is generated.
#[test]
fn a_closed_stdout_stops_generation_at_the_first_token() {
    let path = model::real_model_path();
    // The read end is closed before slimlm starts: no race with its first write.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = cli::slimlm()
        .args(["run", "-n", "400", "-p", "Hi", "-m"])
        .arg(&path)
        .stdout(writer)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("error"), "{err}");
    assert!(err.contains("stop: output closed"), "{err}");
    assert_eq!(generated_tokens(&err), 1, "{err}");
}

/// `slimlm run ... | head -c 20`: the reader takes 20 bytes and closes the pipe; the
/// next write fails and generation stops there, far before its 2000 tokens.
#[test]
fn head_c_20_stops_generation() {
    let path = model::real_model_path();
    let mut child = cli::slimlm()
        .args([
            "run",
            "-n",
            "2000",
            "-p",
            "Count from one to one thousand.",
            "-m",
        ])
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 20];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("error"), "{err}");
    assert!(err.contains("stop: output closed"), "{err}");
    assert!(generated_tokens(&err) < 2000, "{err}");
}
