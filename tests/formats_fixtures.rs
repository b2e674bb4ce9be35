//! The outside oracle for the block formats: every case in tests/fixtures/formats/
//! (written by `python3 scripts/make-fixtures.py formats` with gguf-py, see
//! tests/fixtures/README.md) must come out of our scalar code bit for bit.
//!
//! - `dequantize` cases: `dequantize_row(type, <name>.raw)` equals `<name>.f32`, compared
//!   as f32 bit patterns. NaN rule: where gguf-py's value is a NaN made by arithmetic
//!   (an infinite scale times a zero code), ours must be a NaN too, but its bits are not
//!   compared: the default NaN an `inf * 0` produces is the CPU's choice (x86 makes
//!   0xffc00000, AArch64 0x7fc00000). NaNs that are decoded, not computed (F16 / BF16
//!   NaN patterns), are compared bit for bit like everything else.
//! - `quantize` cases: `quantize_row(type, <name>.f32)` equals `<name>.raw` byte for byte
//!   (gguf-py's numpy quantizers mirror ggml's `quantize_row_*_ref`).
//!
//! Self-contained: needs no model file.

use std::fs;
use std::path::{Path, PathBuf};

use slimlm::kernels::formats::{dequantize_row, quantize_row, GgmlType};

struct Case {
    op: String,
    name: String,
    ty: GgmlType,
    n_elems: usize,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats")
}

fn cases() -> Vec<Case> {
    let index =
        fs::read_to_string(dir().join("index.txt")).expect("tests/fixtures/formats/index.txt");
    index
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 4, "index line {line:?}");
            let ty = GgmlType::ALL
                .into_iter()
                .find(|t| t.name() == f[2])
                .unwrap_or_else(|| panic!("unknown type in {line:?}"));
            Case {
                op: f[0].to_owned(),
                name: f[1].to_owned(),
                ty,
                n_elems: f[3].parse().expect("n_elems"),
            }
        })
        .collect()
}

fn read(case: &Case) -> (Vec<u8>, Vec<f32>) {
    let raw = fs::read(dir().join(format!("{}.raw", case.name))).expect("raw fixture");
    let f32_bytes = fs::read(dir().join(format!("{}.f32", case.name))).expect("f32 fixture");
    assert_eq!(
        f32_bytes.len(),
        case.n_elems * 4,
        "{}: .f32 length",
        case.name
    );
    let values = f32_bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (raw, values)
}

fn check_dequantize(case: &Case, raw: &[u8], want: &[f32]) -> usize {
    // Decode from an odd offset too: the entry point takes unaligned bytes.
    let mut shifted = vec![0u8; raw.len() + 1];
    shifted[1..].copy_from_slice(raw);
    let mut mismatches = 0;
    for bytes in [raw, &shifted[1..]] {
        let mut got = vec![0f32; case.n_elems];
        dequantize_row(case.ty, bytes, &mut got).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            let computed_nan = w.is_nan() && !matches!(case.ty, GgmlType::F16 | GgmlType::BF16);
            let ok = if computed_nan {
                g.is_nan()
            } else {
                g.to_bits() == w.to_bits()
            };
            if !ok {
                if mismatches < 8 {
                    eprintln!(
                        "{} [{}] element {i}: ours {g:e} ({:#010x}), gguf {w:e} ({:#010x})",
                        case.name,
                        case.ty,
                        g.to_bits(),
                        w.to_bits()
                    );
                }
                mismatches += 1;
            }
        }
    }
    mismatches
}

fn check_quantize(case: &Case, want: &[u8], x: &[f32]) -> usize {
    let mut got = vec![0u8; want.len()];
    quantize_row(case.ty, x, &mut got).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let block = case.ty.block_bytes();
    let mut mismatches = 0;
    for (b, (g, w)) in got.chunks(block).zip(want.chunks(block)).enumerate() {
        if g != w {
            if mismatches < 8 {
                let xs = &x[b * case.ty.block_elems()..][..case.ty.block_elems().min(8)];
                eprintln!(
                    "{} [{}] block {b} (x starts {xs:?}):\n  ours {g:02x?}\n  gguf {w:02x?}",
                    case.name, case.ty
                );
            }
            mismatches += 1;
        }
    }
    mismatches
}

#[test]
fn scalar_formats_equal_gguf_py_bit_for_bit() {
    let cases = cases();
    assert!(cases.len() >= 20, "only {} fixture cases", cases.len());
    let mut failed = Vec::new();
    for case in &cases {
        let (raw, values) = read(case);
        let expected_bytes = case
            .ty
            .row_bytes(case.n_elems as u64)
            .expect("whole blocks");
        assert_eq!(
            raw.len() as u64,
            expected_bytes,
            "{}: .raw length",
            case.name
        );
        let mismatches = match case.op.as_str() {
            "dequantize" => check_dequantize(case, &raw, &values),
            "quantize" => check_quantize(case, &raw, &values),
            op => panic!("{}: unknown op {op}", case.name),
        };
        if mismatches > 0 {
            failed.push(format!(
                "{} {} ({mismatches} mismatches)",
                case.op, case.name
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "fixtures differing from gguf-py: {failed:#?}"
    );
}

#[test]
fn fixtures_cover_every_decoder_and_quantizer() {
    let cases = cases();
    let has = |op: &str, ty: GgmlType| cases.iter().any(|c| c.op == op && c.ty == ty);
    for ty in [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
        GgmlType::Q4K,
        GgmlType::Q5K,
        GgmlType::Q6K,
    ] {
        assert!(has("dequantize", ty), "no dequantize fixture for {ty}");
    }
    for ty in [
        GgmlType::F16,
        GgmlType::BF16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
    ] {
        assert!(has("quantize", ty), "no quantize fixture for {ty}");
    }
}
