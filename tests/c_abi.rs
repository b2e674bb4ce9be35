//! The C ABI from C: compiles tests/c_abi/main.c with the system C compiler against
//! libslimlm.a and runs it with what the Rust API computes for the same inputs (the
//! prompt's ids and its first 8 greedy tokens on the real model, and a Q8_0 GEMM by the
//! scalar reference), with RMSNorm, LayerNorm and attention decode judged against the
//! independent f64 oracles (`slimlm_kernels::oracle`: exact values and derived error
//! bounds), plus error paths (NULL and bad arguments, missing and bad files).
//!
//! The compiler is `$SLIMLM_TEST_CC` (scripts/test-aarch64.sh sets the cross compiler)
//! or `cc`; the program runs through `$SLIMLM_TEST_RUNNER` (qemu) when set.

#[path = "common/model.rs"]
mod model;

use std::path::{Path, PathBuf};
use std::process::Command;

use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::generate::{generate, GenerateOptions, StopReason};
use slimlm::runtime::Session;
use slimlm_kernels::attention::KV_BLOCK;
use slimlm_kernels::formats::{quantize_blocks, BlockQ8_0};
use slimlm_kernels::oracle::{self, AttentionDecode, Expected};
use slimlm_kernels::reference::dot::dot_q8_0_q8_0;

const PROMPT: &str = "The three primary colors are";
const GREEDY_TOKENS: usize = 8;

/// libslimlm.a of this build. Cargo writes it, unhashed, into the `deps` folder this test
/// runs from (it uplifts it to target/<profile>/ only when the library itself is a build
/// target, which under `cargo test` it is not).
fn static_library() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let lib = exe.with_file_name("libslimlm.a");
    assert!(lib.is_file(), "{} is missing", lib.display());
    lib
}

fn compile(out: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cc = std::env::var("SLIMLM_TEST_CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args([
            "-std=c99",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-O1",
            "-I",
        ])
        .arg(root.join("include"))
        .arg(root.join("tests/c_abi/main.c"))
        .arg(static_library())
        // What `rustc --print native-static-libs` lists for a staticlib on Linux.
        .args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
            "-o",
        ])
        .arg(out)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cc}: {e}"));
    assert!(status.success(), "{cc} failed: {status}");
}

/// The prompt's ids and its greedy continuation, by the Rust API.
fn rust_tokens(path: &Path) -> (Vec<u32>, Vec<u32>) {
    let model = Model::load(path, &LoadOptions::default()).unwrap();
    let prompt = model.tokenizer.encode(PROMPT, true, true);
    let mut session = Session::new(&model, 64).unwrap();
    let options = GenerateOptions {
        max_tokens: GREEDY_TOKENS,
        ..GenerateOptions::default()
    };
    let generation = generate(&mut session, &prompt, &options, |_| {}).unwrap();
    assert_eq!(generation.stop, StopReason::MaxTokens, "{generation:?}");
    (prompt, generation.tokens)
}

/// Small deterministic values in [-1, 1).
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

/// Writes the kernel check's data: Q8_0 weights (10 rows, so a partial panel), f32
/// activations (3 rows) and the scalar reference's products.
fn kernel_data(path: &Path) {
    let (rows, cols, m) = (10usize, 96usize, 3usize);
    let kb = cols / 32;
    let mut w = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; rows * kb];
    quantize_blocks(&values(rows * cols, 1), &mut w).unwrap();
    let x = values(m * cols, 2);
    let mut a = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; m * kb];
    quantize_blocks(&x, &mut a).unwrap();
    let mut file = Vec::new();
    for v in [rows, cols, m] {
        file.extend_from_slice(&(v as u32).to_le_bytes());
    }
    file.extend_from_slice(bytemuck::cast_slice(&w));
    for v in &x {
        file.extend_from_slice(&v.to_le_bytes());
    }
    for i in 0..m {
        for j in 0..rows {
            let dot = dot_q8_0_q8_0(&w[j * kb..(j + 1) * kb], &a[i * kb..(i + 1) * kb]);
            file.extend_from_slice(&dot.to_le_bytes());
        }
    }
    std::fs::write(path, file).unwrap();
}

/// Appends the oracle's exact values and bounds, as f64.
fn push_expected(file: &mut Vec<u8>, e: &Expected) {
    for v in e.value.iter().chain(&e.bound) {
        file.extend_from_slice(&v.to_le_bytes());
    }
}

fn push_f32s(file: &mut Vec<u8>, x: &[f32]) {
    for v in x {
        file.extend_from_slice(&v.to_le_bytes());
    }
}

/// Writes the norm and attention check's data: u32 rows, cols; x, weight, bias, eps (f32);
/// RMSNorm's and LayerNorm's oracle values and bounds (f64); u32 n_heads, n_kv_heads,
/// head_dim, n_keys; f32 scale, q, k, v; attention's oracle values and bounds (f64).
fn ops_data(path: &Path) {
    let (rows, cols, eps) = (2usize, 576usize, 1e-5f32);
    let x: Vec<f32> = values(rows * cols, 3).iter().map(|v| v * 3.0).collect();
    let w: Vec<f32> = values(cols, 4).iter().map(|v| 1.0 + 0.5 * v).collect();
    let b = values(cols, 5);
    let mut file = Vec::new();
    for v in [rows, cols] {
        file.extend_from_slice(&(v as u32).to_le_bytes());
    }
    push_f32s(&mut file, &x);
    push_f32s(&mut file, &w);
    push_f32s(&mut file, &b);
    push_f32s(&mut file, &[eps]);
    push_expected(&mut file, &oracle::rms_norm(&x, &w, eps));
    push_expected(&mut file, &oracle::layer_norm(&x, &w, &b, eps));
    // SmolLM2-135M's heads: 9 query heads on 3 KV heads of 64, 40 cached positions.
    let s = AttentionDecode {
        n_heads: 9,
        n_kv_heads: 3,
        head_dim: 64,
        n_keys: 40,
        scale: 0.125,
        key_block: KV_BLOCK,
    };
    let row = s.n_kv_heads * s.head_dim;
    let q: Vec<f32> = values(s.n_heads * s.head_dim, 6)
        .iter()
        .map(|v| v * 4.0)
        .collect();
    let k: Vec<f32> = values(s.n_keys * row, 7).iter().map(|v| v * 4.0).collect();
    let v = values(s.n_keys * row, 8);
    for n in [s.n_heads, s.n_kv_heads, s.head_dim, s.n_keys] {
        file.extend_from_slice(&(n as u32).to_le_bytes());
    }
    push_f32s(&mut file, &[s.scale]);
    push_f32s(&mut file, &q);
    push_f32s(&mut file, &k);
    push_f32s(&mut file, &v);
    push_expected(&mut file, &oracle::attention_decode(&s, &q, &k, &v));
    std::fs::write(path, file).unwrap();
}

#[test]
fn c_program_matches_the_rust_api() {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let exe = tmp.join("c_abi_test");
    compile(&exe);
    let model_path = model::real_model_path();
    let (prompt_ids, greedy) = rust_tokens(&model_path);
    let data = tmp.join("c_abi_kernel.bin");
    kernel_data(&data);
    let ops = tmp.join("c_abi_ops.bin");
    ops_data(&ops);

    let csv = |ids: &[u32]| ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    let mut cmd = match std::env::var_os("SLIMLM_TEST_RUNNER") {
        Some(runner) => {
            let mut c = Command::new(runner);
            c.arg(&exe);
            c
        }
        None => Command::new(&exe),
    };
    let output = cmd
        .arg(&model_path)
        .arg(PROMPT)
        .arg(csv(&prompt_ids))
        .arg(csv(&greedy))
        .arg(&data)
        .arg(&ops)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        output.status.success(),
        "C program failed: {}",
        output.status
    );
    assert!(stdout.contains("c_abi: all checks passed"));
}
