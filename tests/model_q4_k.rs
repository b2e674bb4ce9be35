//! Q4_K weights end to end: SmolLM2-135M with every `ffn_down` matrix (1536 inputs, the
//! only ones whose rows are whole 256-value super-blocks) requantized from Q4_1 to Q4_K.
//! The model serves them with the Q4_1 panel kernels (Q4_K repacks losslessly into Q4_1
//! panels), so every tier must reproduce the scalar tier's logits bit for bit, as for the
//! original file; under qemu this checks each ARM tier's Q4_K path.
//!
//! The Q4_K quantizer here is a plain min/max one written for this test (not ggml's
//! iterative `make_qkx2_quants`): the test needs valid Q4_K data, not the best Q4_K.

#[path = "common/model.rs"]
mod model;

use std::sync::Arc;

use slimlm::gguf::{GgufFile, GgufWriter};
use slimlm::kernels::dispatch::Isa;
use slimlm::kernels::formats::{
    dequantize_row, f16_to_f32, f32_to_f16, pack_scale_min_k4, BlockQ4K, GgmlType,
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

/// The real model with its `ffn_down` matrices as Q4_K, in memory.
fn q4_k_model() -> Arc<GgufFile> {
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
        if t.name.ends_with("ffn_down.weight") {
            let cols = t.dims[0] as usize;
            assert_eq!(cols % 256, 0, "{}", t.name);
            let mut values = vec![0.0f32; t.dims.iter().product::<u64>() as usize];
            dequantize_row(t.ggml_type, bytes, &mut values).unwrap();
            let blocks: Vec<BlockQ4K> = values.chunks_exact(256).map(quantize_q4_k).collect();
            let data = bytemuck::cast_slice(&blocks).to_vec();
            w = w.tensor(t.name.clone(), &t.dims, GgmlType::Q4K, data);
            requantized += 1;
        } else {
            w = w.tensor(t.name.clone(), &t.dims, t.ggml_type, bytes.to_vec());
        }
    }
    assert_eq!(requantized, 30, "one ffn_down per layer");
    Arc::new(GgufFile::from_bytes(w.to_bytes()).unwrap())
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

#[test]
fn q4_k_weights_run_on_the_panel_kernels_of_every_tier() {
    let file = q4_k_model();
    let (scalar_tokens, scalar_logits, m) = greedy(&file, Isa::Scalar);
    let report = m.kernel_report();
    let q4_k = report
        .iter()
        .find(|(ty, _)| *ty == GgmlType::Q4K)
        .unwrap()
        .1;
    let q4_1 = report
        .iter()
        .find(|(ty, _)| *ty == GgmlType::Q4_1)
        .unwrap()
        .1;
    assert_eq!(q4_k, q4_1, "Q4_K is served by the Q4_1 panel kernel");
    // Requantizing ffn_down costs some accuracy but not the answer.
    let text = m.tokenizer.decode(&scalar_tokens).unwrap();
    assert!(text.contains("Paris"), "{text:?}");

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
    for isa in tiers {
        let (tokens, logits, m) = greedy(&file, isa);
        let name = m
            .kernel_report()
            .iter()
            .find(|(ty, _)| *ty == GgmlType::Q4K);
        eprintln!("{isa}: {tokens:?}, Q4_K -> {name:?}");
        assert_eq!(tokens, scalar_tokens, "{isa} greedy tokens");
        assert!(
            logits
                .iter()
                .zip(&scalar_logits)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{isa}: logits differ from the scalar tier's"
        );
    }
}
