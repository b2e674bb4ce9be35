//! `slimlm info` as a user runs it: the built binary on the real model and on bad paths.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/model.rs"]
mod model;
#[path = "common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::path::{Path, PathBuf};
use std::process::Output;

use model::real_model_path;

fn run_info(model: &Path) -> Output {
    cli::slimlm()
        .arg("info")
        .arg("--model")
        .arg(model)
        .output()
        .expect("the slimlm binary runs")
}

/// A scratch path for this test binary.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_info");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Asserts exit code 1, no stdout, and exactly one stderr line: "error: ..." containing
/// every `needle`.
fn assert_one_error_line(out: &Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {stderr}");
    assert!(lines[0].starts_with("error: "), "stderr: {stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{needle:?} not in: {stderr}");
    }
}

#[test]
fn describes_the_real_model() {
    let out = run_info(&real_model_path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    for want in [
        "GGUF v3, 98362432 bytes, alignment 32",
        "architecture: llama\n",
        "  block_count                       30\n",
        "  embedding_length                  576\n",
        "  attention.head_count_kv           3\n",
        "  rope.freq_base                    100000\n",
        "  vocab size      49152\n",
        "  bos             1 \"<|im_start|>\"\n",
        "  eos             2 \"<|im_end|>\"\n",
        "  chat template   present",
        "tensors: 272\n",
        "  Q4_1       210 tensors",
        "  F32         61 tensors",
        "  Q8_0         1 tensors",
        "134515008 parameters",
        "slimlm support:\n",
        "  F32     supported: float matrices and vectors\n",
        "  Q4_1    supported: matrices as Q4_1 panels\n",
        "  Q8_0    supported: matrices as Q8_0 panels\n",
    ] {
        assert!(stdout.contains(want), "{want:?} not in:\n{stdout}");
    }
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("token_embd.weight"));
    let row: Vec<&str> = row.expect("a token_embd row").split_whitespace().collect();
    assert_eq!(
        row,
        ["token_embd.weight", "Q8_0", "576", "x", "49152", "30081024"]
    );
}

#[test]
fn names_the_tokenizer_algorithm() {
    let gemma = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/gemma-3-270m-q4_k_m.gguf");
    assert!(
        gemma.is_file(),
        "{} is missing: run scripts/fetch-model.sh gemma3-270m",
        gemma.display()
    );
    let out = run_info(&gemma);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("  model           llama: SPM (SentencePiece)\n"),
        "{stdout}"
    );
    assert!(stdout.contains("  vocab size      262144\n"), "{stdout}");
    let out = run_info(&real_model_path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("  model           gpt2: BPE (byte-level)\n"),
        "{stdout}"
    );
}

#[test]
fn empty_file_is_one_error_line() {
    let path = scratch("empty.gguf");
    std::fs::write(&path, b"").unwrap();
    assert_one_error_line(&run_info(&path), &["at byte 0", "magic"]);
}

#[test]
fn directory_is_one_error_line() {
    let path = scratch("a_directory");
    std::fs::create_dir_all(&path).unwrap();
    assert_one_error_line(
        &run_info(&path),
        &["cannot open", "a_directory", "directory"],
    );
}

#[test]
fn missing_path_is_one_error_line() {
    let path = scratch("does_not_exist.gguf");
    assert_one_error_line(&run_info(&path), &["cannot open", "does_not_exist.gguf"]);
}

#[test]
fn truncated_copy_is_one_error_line() {
    let bytes = std::fs::read(real_model_path()).unwrap();
    let path = scratch("truncated.gguf");
    // Cut in the middle of the tensor data: the header parses, the tensors do not fit.
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_one_error_line(&run_info(&path), &["tensor '", "do not fit"]);
    // Cut inside the metadata (the vocabulary).
    std::fs::write(&path, &bytes[..100_000]).unwrap();
    assert_one_error_line(&run_info(&path), &["metadata key 'tokenizer.ggml."]);
}

/// Without --model, the default model is found from any directory: in
/// $XDG_DATA_HOME/slimlm/models if a copy is there, else in the checkout slimlm was built
/// from (src/cli/model_path.rs).
#[test]
fn the_default_model_is_found_from_any_directory() {
    let elsewhere = scratch("elsewhere");
    let empty_data = scratch("empty-data");
    for dir in [&elsewhere, &empty_data] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let info_from = |data_home: &Path| {
        cli::slimlm()
            .arg("info")
            .current_dir(&elsewhere)
            .env("XDG_DATA_HOME", data_home)
            .output()
            .unwrap()
    };
    let out = info_from(&empty_data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = format!("file: {}", real_model_path().display());
    assert!(stdout.starts_with(&want), "{want:?} not in {stdout}");

    let data = scratch("data");
    let copy = data.join("slimlm/models/SmolLM2-135M-Instruct.Q4_1.gguf");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let tiny = tiny_model::TinyModel::new("llama")
        .to_bytes(u64::MAX)
        .unwrap();
    std::fs::write(&copy, tiny).unwrap();
    let out = info_from(&data);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = format!("file: {}", copy.display());
    assert!(stdout.starts_with(&want), "{want:?} not in {stdout}");
}
