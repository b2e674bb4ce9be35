//! The loader on the real SmolLM2-135M-Instruct Q4_1 file, cross-checked against the
//! independent `gguf-rs` parser. Fails (never skips) when the model is missing.

#[path = "common/model.rs"]
mod model;

use model::real_model_path;
use slimlm::gguf::{GgufFile, MetaArray, MetaValue};
use slimlm::kernels::formats::GgmlType;

fn open() -> GgufFile {
    GgufFile::open(real_model_path()).expect("the real model parses")
}

#[test]
fn header_and_hyperparameters() {
    let f = open();
    assert_eq!((f.version(), f.alignment()), (3, 32));
    assert_eq!(f.file_bytes().len(), 98_362_432);
    assert_eq!(f.data_offset() % 32, 0);
    assert_eq!(f.architecture().unwrap(), "llama");
    assert_eq!(f.get_u32("llama.block_count").unwrap(), 30);
    assert_eq!(f.get_u64("llama.embedding_length").unwrap(), 576);
    assert_eq!(f.get_u32("llama.feed_forward_length").unwrap(), 1536);
    assert_eq!(f.get_u32("llama.attention.head_count").unwrap(), 9);
    assert_eq!(f.get_u32("llama.attention.head_count_kv").unwrap(), 3);
    assert_eq!(f.get_f32("llama.rope.freq_base").unwrap(), 100_000.0);
    assert!(f.get_f32("llama.attention.layer_norm_rms_epsilon").unwrap() > 0.0);
}

#[test]
fn tokenizer_metadata() {
    let f = open();
    let tokens = f.get_str_array("tokenizer.ggml.tokens").unwrap();
    assert_eq!(tokens.len(), 49152);
    assert_eq!(f.get_str("tokenizer.ggml.model").unwrap(), "gpt2");
    let bos = f.get_u32("tokenizer.ggml.bos_token_id").unwrap() as usize;
    let eos = f.get_u32("tokenizer.ggml.eos_token_id").unwrap() as usize;
    assert_eq!(
        (tokens[bos].as_str(), tokens[eos].as_str()),
        ("<|im_start|>", "<|im_end|>")
    );
    assert_eq!(
        f.get_i32_array("tokenizer.ggml.token_type").unwrap().len(),
        49152
    );
    assert!(f.get_str_array("tokenizer.ggml.merges").unwrap().len() > 40_000);
    assert!(f
        .get_str("tokenizer.chat_template")
        .unwrap()
        .contains("<|im_start|>"));
}

#[test]
fn tensors_types_and_views() {
    let f = open();
    let tensors = f.tensors();
    assert_eq!(tensors.len(), 272);
    let count = |ty| tensors.iter().filter(|t| t.ggml_type == ty).count();
    assert_eq!(
        (
            count(GgmlType::Q4_1),
            count(GgmlType::F32),
            count(GgmlType::Q8_0)
        ),
        (210, 61, 1)
    );
    let embd = f.tensor("token_embd.weight").unwrap();
    assert_eq!(
        (embd.ggml_type, &embd.dims[..]),
        (GgmlType::Q8_0, &[576, 49152][..])
    );
    // 34-byte Q8_0 blocks; bytemuck has Pod only for some array lengths, 34 not among them.
    let blocks = f.tensor_blocks::<[[u8; 17]; 2]>(embd).unwrap();
    assert_eq!(blocks.len(), 576 / 32 * 49152);

    let mut end_of_previous = f.data_offset();
    for t in tensors {
        assert_eq!(f.tensor_bytes(t).len() as u64, t.n_bytes, "{}", t.name);
        assert_eq!(f.tensor(&t.name), Some(t));
        assert!(
            t.offset >= end_of_previous,
            "{} is not after the previous tensor",
            t.name
        );
        end_of_previous = t.offset + t.n_bytes;
        match t.ggml_type {
            GgmlType::Q4_1 => {
                let blocks = f.tensor_blocks::<[u8; 20]>(t).unwrap();
                assert_eq!(blocks.len() as u64 * 32, t.n_elements());
            }
            GgmlType::F32 => {
                let values = f.tensor_blocks::<f32>(t).unwrap();
                assert_eq!(values.len() as u64, t.n_elements());
                assert!(values.iter().all(|v| v.is_finite()), "{}", t.name);
            }
            _ => {}
        }
    }
    let q = f.tensor("blk.0.attn_q.weight").unwrap();
    assert!(
        f.tensor_blocks::<[u8; 7]>(q).is_err(),
        "207360 bytes are not [u8; 7] blocks"
    );
    let params: u64 = tensors.iter().map(|t| t.n_elements()).sum();
    assert_eq!(params, 134_515_008);
}

/// A metadata value reduced to what both parsers can say about it.
#[derive(Debug, PartialEq)]
enum Canon {
    Int(i128),
    /// Ours only: gguf-rs widens an f32 through its shortest decimal (1e-5f32 becomes
    /// 1e-5f64, not 9.99999974e-6), so f32 values compare after rounding theirs back.
    F32(f32),
    Float(f64),
    Bool(bool),
    Str(String),
    Other(String),
}

fn canon_scalar(v: &MetaValue) -> Canon {
    match v {
        MetaValue::F32(x) => Canon::F32(*x),
        MetaValue::F64(x) => Canon::Float(*x),
        MetaValue::Bool(b) => Canon::Bool(*b),
        MetaValue::String(s) => Canon::Str(s.clone()),
        MetaValue::U8(x) => Canon::Int((*x).into()),
        MetaValue::I8(x) => Canon::Int((*x).into()),
        MetaValue::U16(x) => Canon::Int((*x).into()),
        MetaValue::I16(x) => Canon::Int((*x).into()),
        MetaValue::U32(x) => Canon::Int((*x).into()),
        MetaValue::I32(x) => Canon::Int((*x).into()),
        MetaValue::U64(x) => Canon::Int((*x).into()),
        MetaValue::I64(x) => Canon::Int((*x).into()),
        MetaValue::Array(a) => Canon::Other(a.type_name().into()),
    }
}

fn canon_array(a: &MetaArray) -> Vec<Canon> {
    fn all<T: Clone>(v: &[T], f: fn(T) -> MetaValue) -> Vec<Canon> {
        v.iter().map(|x| canon_scalar(&f(x.clone()))).collect()
    }
    match a {
        MetaArray::U8(v) => all(v, MetaValue::U8),
        MetaArray::I8(v) => all(v, MetaValue::I8),
        MetaArray::U16(v) => all(v, MetaValue::U16),
        MetaArray::I16(v) => all(v, MetaValue::I16),
        MetaArray::U32(v) => all(v, MetaValue::U32),
        MetaArray::I32(v) => all(v, MetaValue::I32),
        MetaArray::U64(v) => all(v, MetaValue::U64),
        MetaArray::I64(v) => all(v, MetaValue::I64),
        MetaArray::F32(v) => all(v, MetaValue::F32),
        MetaArray::F64(v) => all(v, MetaValue::F64),
        MetaArray::Bool(v) => all(v, MetaValue::Bool),
        MetaArray::String(v) => all(v, MetaValue::String),
        // gguf-rs cannot read nested arrays; the real model has none.
        MetaArray::Array(_) => vec![Canon::Other("nested".into())],
    }
}

/// Whether our value and gguf-rs's are the same.
fn same(ours: &Canon, theirs: &Canon) -> bool {
    match (ours, theirs) {
        (Canon::F32(x), Canon::Float(y)) => *x == *y as f32,
        _ => ours == theirs,
    }
}

/// gguf-rs hands out `serde_json::Value`s; this crate does not depend on serde_json, so
/// the conversion is a macro over the value's inherent methods rather than a function.
macro_rules! canon_json {
    ($v:expr) => {{
        let v = $v;
        if let Some(n) = v.as_u64() {
            Canon::Int(n.into())
        } else if let Some(n) = v.as_i64() {
            Canon::Int(n.into())
        } else if let Some(x) = v.as_f64() {
            Canon::Float(x)
        } else if let Some(b) = v.as_bool() {
            Canon::Bool(b)
        } else if let Some(s) = v.as_str() {
            Canon::Str(s.to_owned())
        } else {
            Canon::Other(v.to_string())
        }
    }};
}

#[test]
fn gguf_rs_reads_the_same_tensors_and_metadata() {
    let path = real_model_path();
    // The plain `get_gguf_container` truncates `tokenizer.*` arrays to 3 elements; asking
    // for an unlimited array size makes gguf-rs read every array in full.
    let theirs = gguf_rs::get_gguf_container_array_size(path.to_str().unwrap(), u64::MAX)
        .and_then(|mut c| c.decode())
        .expect("gguf-rs parses the real model");
    let ours = open();

    assert_eq!(theirs.get_version(), "v3");
    assert_eq!(theirs.alignment(), ours.alignment());
    assert_eq!(theirs.data_offset(), ours.data_offset());

    assert_eq!(theirs.tensors().len(), ours.tensors().len());
    for (t, o) in theirs.tensors().iter().zip(ours.tensors()) {
        assert_eq!(t.name, o.name);
        assert_eq!(t.kind, o.ggml_type.id(), "{}", o.name);
        assert_eq!(t.shape, o.dims, "{}", o.name);
        assert_eq!(t.offset + theirs.data_offset(), o.offset, "{}", o.name);
        // gguf-rs's sizes are right for the three types in this file.
        assert_eq!(t.size, o.n_bytes, "{}", o.name);
    }

    // gguf-rs keeps metadata in a map: equal counts plus every key found means equal keys.
    let their_kv = theirs.metadata();
    assert_eq!(their_kv.len(), ours.metadata().len());
    for (key, value) in ours.metadata() {
        let their = their_kv
            .get(key)
            .unwrap_or_else(|| panic!("gguf-rs lacks {key}"));
        match value {
            MetaValue::Array(a) => {
                let their_items: Vec<Canon> = their
                    .as_array()
                    .unwrap_or_else(|| panic!("{key} is not an array in gguf-rs"))
                    .iter()
                    .map(|v| canon_json!(v))
                    .collect();
                assert_eq!(their_items.len(), a.len(), "{key}: length");
                let differ = canon_array(a)
                    .iter()
                    .zip(&their_items)
                    .position(|(o, t)| !same(o, t));
                assert_eq!(differ, None, "{key}: first differing element");
            }
            scalar => {
                let (o, t) = (canon_scalar(scalar), canon_json!(their));
                assert!(same(&o, &t), "{key}: ours {o:?}, gguf-rs {t:?}");
            }
        }
    }
}
