//! K-quant and Q5_0 weights end to end, the types of llama.cpp's Q4_K_M files:
//!
//! - SmolLM2-135M with its `ffn_down` matrices (1536 inputs, the only ones whose rows are
//!   whole 256-value super-blocks) requantized from Q4_1, even layers to Q4_K and odd
//!   layers to Q6_K. Q4_K runs on the Q4_1 panel kernels (a lossless repack), Q6_K on its
//!   own panels.
//! - SmolLM2-135M with every attention and feed-forward matrix requantized to Q5_0 (what
//!   llama.cpp's Q4_K_M stores where a row is not whole super-blocks), by ggml's reference
//!   quantizer (`BlockQ5_0::quantize`). Q5_0 runs on the Q8_0 panel kernels (a lossless
//!   repack).
//!
//! Every tier must reproduce the scalar tier's logits bit for bit, as for the original
//! file; under qemu this checks each ARM tier's paths.
//!
//! The K-quant quantizers here are plain min/max ones written for this test (not ggml's
//! iterative `make_qkx2_quants` / `make_qx_quants`): the test needs valid K-quant data,
//! not the best.

#[path = "common/model.rs"]
mod model;

use std::sync::Arc;

use slimlm::gguf::{GgufFile, GgufWriter, TensorInfo};
use slimlm::kernels::dispatch::Isa;
use slimlm::kernels::formats::{
    dequantize_row, f16_to_f32, f32_to_f16, pack_scale_min_k4, BlockQ4K, BlockQ5_0, BlockQ6K,
    GgmlType, QuantizeBlock,
};
use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::sampler::argmax;
use slimlm::runtime::Session;

/// 256 values as one Q4_K block: per sub-block of 32 the range `[min(0, lo), hi]` in 15
/// steps, scales and minimums quantized to 6 bits of the block's f16 `d` and `dmin`.
fn quantize_q4_k(x: &[f32]) -> BlockQ4K {
    let mut step = [0.0f32; 8];
    let mut offset = [0.0f32; 8];
    for (j, sub) in x.chunks_exact(32).enumerate() {
        let lo = sub.iter().copied().fold(0.0f32, f32::min);
        let hi = sub.iter().copied().fold(f32::MIN, f32::max);
        step[j] = (hi - lo) / 15.0;
        offset[j] = -lo;
    }
    let d = f32_to_f16(step.iter().copied().fold(0.0, f32::max) / 63.0);
    let dmin = f32_to_f16(offset.iter().copied().fold(0.0, f32::max) / 63.0);
    let six_bits = |v: f32, unit: f32| {
        if unit > 0.0 {
            (v / unit).round().clamp(0.0, 63.0) as u8
        } else {
            0
        }
    };
    let sc: [u8; 8] = core::array::from_fn(|j| six_bits(step[j], f16_to_f32(d)));
    let mn: [u8; 8] = core::array::from_fn(|j| six_bits(offset[j], f16_to_f32(dmin)));
    let mut codes = [0u8; 256];
    for (i, c) in codes.iter_mut().enumerate() {
        let j = i / 32;
        let scale = f16_to_f32(d) * f32::from(sc[j]);
        let min = f16_to_f32(dmin) * f32::from(mn[j]);
        if scale > 0.0 {
            *c = ((x[i] + min) / scale).round().clamp(0.0, 15.0) as u8;
        }
    }
    // Byte 32c + l: element 64c + l in the low nibble, 64c + 32 + l in the high.
    let qs = core::array::from_fn(|b| {
        let (c, l) = (b / 32, b % 32);
        codes[64 * c + l] | (codes[64 * c + 32 + l] << 4)
    });
    BlockQ4K {
        d,
        dmin,
        scales: pack_scale_min_k4(&sc, &mn),
        qs,
    }
}

/// 256 values as one Q6_K block: per sub-block of 16 the scale `amax / 31` (quants
/// -32..=31), the 16 scales as int8 steps of the block's f16 `d`.
fn quantize_q6_k(x: &[f32]) -> BlockQ6K {
    let sub_scale: [f32; 16] = core::array::from_fn(|j| {
        x[16 * j..16 * j + 16]
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()))
            / 31.0
    });
    let d = f32_to_f16(sub_scale.iter().copied().fold(0.0, f32::max) / 127.0);
    let scales: [i8; 16] = core::array::from_fn(|j| {
        if f16_to_f32(d) > 0.0 {
            (sub_scale[j] / f16_to_f32(d)).round().clamp(-128.0, 127.0) as i8
        } else {
            0
        }
    });
    let codes: [u8; 256] = core::array::from_fn(|i| {
        let step = f16_to_f32(d) * f32::from(scales[i / 16]);
        let q = if step > 0.0 {
            (x[i] / step).round().clamp(-32.0, 31.0)
        } else {
            0.0
        };
        (q as i32 + 32) as u8
    });
    // Element 128n + l + 32k: low 4 bits in ql[64n + l (+32 for odd k)] (high nibble for
    // k >= 2), high 2 bits in bits 2k..2k+2 of qh[32n + l].
    let mut ql = [0u8; 128];
    let mut qh = [0u8; 64];
    for n in 0..2 {
        for l in 0..32 {
            for k in 0..4 {
                let c = codes[128 * n + l + 32 * k];
                let at = 64 * n + l + 32 * (k % 2);
                ql[at] |= (c & 0x0f) << (4 * (k / 2));
                qh[32 * n + l] |= (c >> 4) << (2 * k);
            }
        }
    }
    BlockQ6K { ql, qh, scales, d }
}

/// The real model, in memory, with the tensors `requantize` picks replaced: it gets
/// each tensor and its values decoded to f32 and returns the new type and bytes, or
/// `None` to keep the tensor as it is. Returns the file and the number replaced.
fn requantized_model(
    requantize: impl Fn(&TensorInfo, &[f32]) -> Option<(GgmlType, Vec<u8>)>,
    wanted: impl Fn(&TensorInfo) -> bool,
) -> (Arc<GgufFile>, usize) {
    let src = GgufFile::open(model::real_model_path()).unwrap();
    let mut w = GgufWriter::new().alignment(src.alignment() as u32);
    for (key, value) in src.metadata() {
        if key != "general.alignment" {
            w = w.metadata(key.clone(), value.clone());
        }
    }
    let mut requantized = 0;
    for t in src.tensors() {
        let bytes = src.tensor_bytes(t);
        let new = wanted(t).then(|| {
            let mut values = vec![0.0f32; t.dims.iter().product::<u64>() as usize];
            dequantize_row(t.ggml_type, bytes, &mut values).unwrap();
            requantize(t, &values)
        });
        match new.flatten() {
            Some((ty, data)) => {
                w = w.tensor(t.name.clone(), &t.dims, ty, data);
                requantized += 1;
            }
            None => w = w.tensor(t.name.clone(), &t.dims, t.ggml_type, bytes.to_vec()),
        }
    }
    (
        Arc::new(GgufFile::from_bytes(w.to_bytes()).unwrap()),
        requantized,
    )
}

/// The real model with its `ffn_down` matrices as Q4_K (even layers) and Q6_K (odd), in
/// memory.
fn k_quant_model() -> Arc<GgufFile> {
    let (file, requantized) = requantized_model(
        |t, values| {
            assert_eq!(t.dims[0] % 256, 0, "{}", t.name);
            let layer: usize = t.name.split('.').nth(1).unwrap().parse().unwrap();
            Some(if layer.is_multiple_of(2) {
                let blocks: Vec<BlockQ4K> = values.chunks_exact(256).map(quantize_q4_k).collect();
                (GgmlType::Q4K, bytemuck::cast_slice(&blocks).to_vec())
            } else {
                let blocks: Vec<BlockQ6K> = values.chunks_exact(256).map(quantize_q6_k).collect();
                (GgmlType::Q6K, bytemuck::cast_slice(&blocks).to_vec())
            })
        },
        |t| t.name.ends_with("ffn_down.weight"),
    );
    assert_eq!(requantized, 30, "one ffn_down per layer");
    file
}

/// The real model with every attention and feed-forward matrix (7 per layer) as Q5_0,
/// quantized by ggml's reference quantizer, in memory.
fn q5_0_model() -> Arc<GgufFile> {
    let (file, requantized) = requantized_model(
        |_, values| {
            let blocks: Vec<BlockQ5_0> = values.chunks_exact(32).map(BlockQ5_0::quantize).collect();
            Some((GgmlType::Q5_0, bytemuck::cast_slice(&blocks).to_vec()))
        },
        |t| t.name.starts_with("blk.") && t.dims.len() == 2,
    );
    assert_eq!(
        requantized,
        30 * 7,
        "attn_q/k/v/output and ffn_gate/up/down per layer"
    );
    file
}

/// Greedy tokens and the last logits of `file` on the tier `isa`.
fn greedy(file: &Arc<GgufFile>, isa: Isa) -> (Vec<u32>, Vec<f32>, Model) {
    let options = LoadOptions {
        isa: Some(isa),
        threads: Some(2),
        ..LoadOptions::default()
    };
    let m = Model::from_file(Arc::clone(file), &options).unwrap();
    assert_eq!(m.isa(), isa);
    let ids = m.tokenizer.encode("The capital of France is", true, false);
    let mut s = Session::new(&m, 32).unwrap();
    let mut logits = s.prefill(&ids).unwrap().to_vec();
    let mut out = Vec::new();
    for _ in 0..6 {
        let t = argmax(&logits);
        out.push(t);
        logits = s.decode(t).unwrap().to_vec();
    }
    drop(s);
    (out, logits, m)
}

/// Which kernel serves each weight type ([`Model::kernel_report`]).
type Report = Vec<(GgmlType, &'static str)>;

/// The kernel `report` names for `ty`.
fn kernel_of(report: &[(GgmlType, &'static str)], ty: GgmlType) -> &'static str {
    report.iter().find(|(t, _)| *t == ty).unwrap().1
}

#[test]
fn k_quant_weights_run_on_the_panel_kernels_of_every_tier() {
    let file = k_quant_model();
    let (scalar_tokens, scalar_logits, m) = greedy(&file, Isa::Scalar);
    assert_eq!(
        kernel_of(m.kernel_report(), GgmlType::Q4K),
        kernel_of(m.kernel_report(), GgmlType::Q4_1),
        "Q4_K is served by the Q4_1 panel kernel"
    );
    assert_eq!(
        kernel_of(m.kernel_report(), GgmlType::Q6K),
        "gemm_q6_kx4x8_q8_0_4x1_scalar"
    );
    // Requantizing ffn_down costs some accuracy but not the answer.
    let text = m.tokenizer.decode(&scalar_tokens).unwrap();
    assert!(text.contains("Paris"), "{text:?}");

    for (isa, tokens, logits, report) in other_tiers(&file) {
        let (q4_k, q6_k) = (
            kernel_of(&report, GgmlType::Q4K),
            kernel_of(&report, GgmlType::Q6K),
        );
        eprintln!("{isa}: {tokens:?}, Q4_K -> {q4_k}, Q6_K -> {q6_k}");
        assert!(
            q6_k.ends_with(isa.name()),
            "{isa} runs Q6_K on {q6_k}, not on a kernel of its own tier"
        );
        assert_eq!(tokens, scalar_tokens, "{isa} greedy tokens");
        assert!(
            same_bits(&logits, &scalar_logits),
            "{isa}: logits differ from the scalar tier's"
        );
    }
}

#[test]
fn q5_0_weights_run_on_the_q8_0_panel_kernels_of_every_tier() {
    let file = q5_0_model();
    let (scalar_tokens, scalar_logits, m) = greedy(&file, Isa::Scalar);
    assert_eq!(
        kernel_of(m.kernel_report(), GgmlType::Q5_0),
        kernel_of(m.kernel_report(), GgmlType::Q8_0),
        "Q5_0 is served by the Q8_0 panel kernel"
    );
    let text = m.tokenizer.decode(&scalar_tokens).unwrap();
    assert!(text.contains("Paris"), "{text:?}");
    for (isa, tokens, logits, report) in other_tiers(&file) {
        let q5_0 = kernel_of(&report, GgmlType::Q5_0);
        eprintln!("{isa}: {tokens:?}, Q5_0 -> {q5_0}");
        assert!(
            q5_0.ends_with(isa.name()),
            "{isa} runs Q5_0 on {q5_0}, not on a kernel of its own tier"
        );
        assert_eq!(tokens, scalar_tokens, "{isa} greedy tokens");
        assert!(
            same_bits(&logits, &scalar_logits),
            "{isa}: logits differ from the scalar tier's"
        );
    }
}

/// [`greedy`] on every tier but the scalar one that this CPU runs (one model loaded at a
/// time); under qemu `SLIMLM_EXPECT_ISA` must be among them.
fn other_tiers(file: &Arc<GgufFile>) -> Vec<(Isa, Vec<u32>, Vec<f32>, Report)> {
    let tiers: Vec<Isa> = Isa::ALL
        .into_iter()
        .filter(|isa| *isa != Isa::Scalar && isa.is_available())
        .collect();
    if let Ok(expected) = std::env::var("SLIMLM_EXPECT_ISA") {
        assert!(
            tiers.iter().any(|isa| isa.name() == expected),
            "tier {expected} must be among the tested ones: {tiers:?}"
        );
    }
    tiers
        .into_iter()
        .map(|isa| {
            let (tokens, logits, m) = greedy(file, isa);
            (isa, tokens, logits, m.kernel_report().to_vec())
        })
        .collect()
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

/// The test quantizers decode back to their input within half a step (plus the rounding
/// of the 6-bit / int8 scales): their layouts are the ones the decoders read.
#[test]
fn test_quantizers_round_trip() {
    use slimlm::kernels::formats::dequantize_blocks;
    let x: Vec<f32> = (0..256)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
        .collect();
    let mut back = vec![0.0f32; 256];
    dequantize_blocks(&[quantize_q4_k(&x)], &mut back).unwrap();
    let q4_k_err = x
        .iter()
        .zip(&back)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    dequantize_blocks(&[quantize_q6_k(&x)], &mut back).unwrap();
    let q6_k_err = x
        .iter()
        .zip(&back)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    // Range 14.3: a Q4_K step is ~0.95, a Q6_K step (amax 7.1 / 32) ~0.22.
    assert!(q4_k_err < 0.6, "Q4_K max error {q4_k_err}");
    assert!(q6_k_err < 0.15, "Q6_K max error {q6_k_err}");
}
