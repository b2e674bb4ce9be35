//! `slimlm bench` in its smallest configurations (`--quick`): the markdown tables print,
//! the JSON parses and holds what the tables say, and bad settings are clear errors. Kept
//! tiny because it runs under qemu in CI too; the numbers themselves mean nothing here.

#[path = "common/cli.rs"]
mod cli;
#[path = "common/model.rs"]
mod model;

use std::path::PathBuf;

use serde_json::Value;

fn json_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn read_json(path: &PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).expect("valid JSON")
}

#[test]
fn quick_model_bench_prints_tables_and_json() {
    let json = json_path("bench-quick.json");
    let o = cli::slimlm()
        .args(["bench", "--quick", "--threads", "2", "--model"])
        .arg(model::real_model_path())
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(stdout.contains("| (a) fact question |"), "{stdout}");
    assert!(
        stdout.contains("| pp16 |") && stdout.contains("| tg4 |"),
        "{stdout}"
    );

    let v = read_json(&json);
    let t1 = &v["table1"][0];
    assert_eq!(t1["output_tokens"], 2);
    assert!(t1["prompt_tokens"].as_u64().unwrap() > 5);
    for col in ["itps", "otps", "ttft_s", "runtime_s"] {
        assert!(t1[col]["mean"].as_f64().unwrap() > 0.0, "{col}: {t1}");
    }
    let rows = v["llama_bench"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["test"], "pp");
    assert!(rows[1]["tokens_per_s"]["mean"].as_f64().unwrap() > 0.0);
    let m = &v["model"];
    assert_eq!(m["threads"], 2);
    assert_eq!(m["kernels"].as_array().unwrap().len(), 2, "{m}");
    assert!(m["load_s"].as_f64().unwrap() > 0.0);
    assert!(v["peak_rss_bytes"].as_u64().unwrap() > 50_000_000);
}

#[test]
fn quick_kernel_set_covers_every_format_and_tier() {
    let json = json_path("bench-kernels-quick.json");
    let o = cli::slimlm()
        .args(["bench", "--kernels", "--quick", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v = read_json(&json);
    let results = v["kernels"].as_array().unwrap();
    let tiers: Vec<&str> = results
        .iter()
        .filter(|r| r["op"] == "matmul" && r["format"] == "q4_0")
        .map(|r| r["tier"].as_str().unwrap())
        .collect();
    assert!(tiers.contains(&"scalar"), "{tiers:?}");
    assert!(tiers.len() >= 2, "no SIMD tier measured: {tiers:?}");
    for format in ["q8_0", "q4_1", "q4_k", "q6_k"] {
        assert!(results.iter().any(|r| r["format"] == format));
    }
    assert!(results.iter().any(|r| r["op"] == "quantize"));
    assert!(results
        .iter()
        .all(|r| r["us_per_call"].as_f64().unwrap() > 0.0));
}

#[test]
fn bad_settings_are_clear_errors() {
    for (args, needle) in [
        (vec!["--reps", "0"], "--reps 0"),
        (vec!["--gen-tokens", "1"], "--gen-tokens 1"),
        (vec!["--sustained", "1"], "--sustained 1"),
    ] {
        let o = cli::slimlm().arg("bench").args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains(needle), "{needle:?} not in {err}");
    }
}
