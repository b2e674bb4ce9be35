//! Model configuration and weight loading from hostile metadata: a valid tiny model
//! (tests/common/tiny_model.rs) with fuzzer-chosen edits (metadata values of any type,
//! removed keys, tensors with other shapes or types, missing or extra tensors). Loading
//! must end in a clear error or a model that evaluates two tokens; never a panic, never
//! an allocation the file's size does not justify.
#![no_main]

#[path = "../../tests/common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::sync::Arc;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use slimlm::gguf::{GgufFile, MetaArray, MetaValue};
use slimlm::kernels::formats::GgmlType;
use slimlm::model::{LoadOptions, Model, ModelConfig};
use slimlm::runtime::Session;
use tiny_model::{TinyModel, ARCHS};

/// Most tensor data a fuzzed model may carry (keeps every case fast).
const MAX_DATA: u64 = 1 << 20;

/// Metadata keys the loader reads, after the `{arch}.` prefix unless they start with
/// `general.` or `tokenizer.`.
const KEYS: &[&str] = &[
    "block_count",
    "embedding_length",
    "feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "context_length",
    "attention.layer_norm_rms_epsilon",
    "attention.layer_norm_epsilon",
    "rope.freq_base",
    "rope.dimension_count",
    "attention.max_alibi_bias",
    "attention.clamp_kqv",
    "general.architecture",
    "tokenizer.ggml.model",
    "tokenizer.ggml.pre",
    "tokenizer.ggml.bos_token_id",
    "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.eot_token_id",
    "tokenizer.ggml.add_bos_token",
    "tokenizer.ggml.add_eos_token",
    "tokenizer.ggml.token_type",
    "tokenizer.ggml.merges",
    "tokenizer.chat_template",
];

/// Tensor name stems; `blk.{layer}.` is prepended to those that are per layer.
const TENSORS: &[&str] = &[
    "token_embd.weight",
    "position_embd.weight",
    "output.weight",
    "output_norm.weight",
    "output_norm.bias",
    "attn_norm.weight",
    "attn_norm.bias",
    "attn_q.weight",
    "attn_k.weight",
    "attn_v.weight",
    "attn_q.bias",
    "attn_k.bias",
    "attn_v.bias",
    "attn_qkv.weight",
    "attn_qkv.bias",
    "attn_output.weight",
    "attn_output.bias",
    "ffn_norm.weight",
    "ffn_norm.bias",
    "ffn_gate.weight",
    "ffn_up.weight",
    "ffn_up.bias",
    "ffn_down.weight",
    "ffn_down.bias",
];

#[derive(Arbitrary, Debug)]
enum Value {
    U32(u32),
    I32(i32),
    U64(u64),
    I64(i64),
    U8(u8),
    F32(f32),
    F64(f64),
    Bool(bool),
    Str(String),
    Ints(Vec<i32>),
    Strs(Vec<String>),
}

impl Value {
    fn meta(self) -> MetaValue {
        match self {
            Value::U32(v) => MetaValue::U32(v),
            Value::I32(v) => MetaValue::I32(v),
            Value::U64(v) => MetaValue::U64(v),
            Value::I64(v) => MetaValue::I64(v),
            Value::U8(v) => MetaValue::U8(v),
            Value::F32(v) => MetaValue::F32(v),
            Value::F64(v) => MetaValue::F64(v),
            Value::Bool(v) => MetaValue::Bool(v),
            Value::Str(v) => MetaValue::String(v),
            Value::Ints(v) => MetaValue::Array(MetaArray::I32(v)),
            Value::Strs(v) => MetaValue::Array(MetaArray::String(v)),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Edit {
    SetKey {
        key: u8,
        value: Value,
    },
    RemoveKey {
        key: u8,
    },
    SetDims {
        tensor: u8,
        dims: Vec<u16>,
    },
    SetType {
        tensor: u8,
        ty: u8,
    },
    RemoveTensor {
        tensor: u8,
    },
    AddTensor {
        stem: u8,
        layer: u8,
        dims: Vec<u16>,
        ty: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    arch: u8,
    edits: Vec<Edit>,
}

fn pick<T>(items: &[T], i: u8) -> &T {
    &items[usize::from(i) % items.len()]
}

fn key_name(arch: &str, i: u8) -> String {
    let k = pick(KEYS, i);
    if k.starts_with("general.") || k.starts_with("tokenizer.") {
        (*k).to_owned()
    } else {
        format!("{arch}.{k}")
    }
}

fn ggml_type(i: u8) -> GgmlType {
    *pick(&GgmlType::ALL, i)
}

fn apply(model: &mut TinyModel, arch: &str, edit: Edit) {
    let n = model.tensors.len();
    match edit {
        Edit::SetKey { key, value } => {
            model.set(&key_name(arch, key), value.meta());
        }
        Edit::RemoveKey { key } => {
            model.remove_key(&key_name(arch, key));
        }
        Edit::SetDims { tensor, dims } if n > 0 => {
            model.tensors[usize::from(tensor) % n].dims = dims.into_iter().map(u64::from).collect();
        }
        Edit::SetType { tensor, ty } if n > 0 => {
            model.tensors[usize::from(tensor) % n].ty = ggml_type(ty);
        }
        Edit::RemoveTensor { tensor } if n > 0 => {
            model.tensors.remove(usize::from(tensor) % n);
        }
        Edit::AddTensor {
            stem,
            layer,
            dims,
            ty,
        } => {
            let stem = pick(TENSORS, stem);
            let name = if stem.starts_with("attn") || stem.starts_with("ffn") {
                format!("blk.{}.{stem}", layer % 4)
            } else {
                (*stem).to_owned()
            };
            if model.tensors.iter().all(|t| t.name != name) {
                let dims: Vec<u64> = dims.into_iter().map(u64::from).collect();
                model.add_tensor(&name, &dims, ggml_type(ty));
            }
        }
        _ => {}
    }
}

fuzz_target!(|input: Input| {
    let arch = *pick(&ARCHS, input.arch);
    let mut model = TinyModel::new(arch);
    for edit in input.edits {
        apply(&mut model, arch, edit);
    }
    let Some(bytes) = model.to_bytes(MAX_DATA) else {
        return;
    };
    let Ok(file) = GgufFile::from_bytes(bytes) else {
        return;
    };
    if ModelConfig::from_gguf(&file).is_err() {
        return;
    }
    let options = LoadOptions {
        // The CPU's best tier (or SLIMLM_ISA): packing and SIMD kernels see the shapes.
        isa: None,
        threads: Some(1),
        cpus: None,
    };
    if let Ok(model) = Model::from_file(Arc::new(file), &options) {
        if let Ok(mut session) = Session::new(&model, 4) {
            let _ = session.prefill(&[0, 1]);
        }
    }
});
