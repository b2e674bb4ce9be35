//! A tiny valid model (llama, qwen2 or mpt) kept as editable parts, so tests and the
//! `model_config` fuzz target can break one thing at a time (a head count, a tensor's
//! shape, a missing tensor) and check the error. Include with
//! `#[path = "common/tiny_model.rs"] mod tiny_model;`.
//!
//! Shape: d_model 32, 2 query heads, 1 KV head (head_dim 16), ffn 64, 1 layer, context
//! 512; a byte-level vocabulary of 261 tokens with a ChatML template; matrices Q4_1 (the
//! token embedding Q8_0), vectors F32, as in the real SmolLM2 file.

use slimlm::gguf::{GgufWriter, MetaArray, MetaValue};
use slimlm::kernels::formats::{quantize_row, GgmlType};

pub const D: u64 = 32;
pub const FF: u64 = 64;
pub const KV: u64 = 16;
pub const CTX: u64 = 512;
pub const VOCAB: u64 = 3 + 256 + 2;

/// The architectures the runtime supports, by their GGUF name.
pub const ARCHS: [&str; 3] = ["llama", "qwen2", "mpt"];

/// ChatML, as SmolLM2 ships it (shortened).
pub const CHATML: &str = "{% for message in messages %}<|im_start|>{{ message['role'] }}\n\
    {{ message['content'] }}<|im_end|>\n{% endfor %}\
    {% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/// One tensor: name, dims in ggml order (ne0 first), type.
#[derive(Clone, Debug)]
pub struct Tensor {
    pub name: String,
    pub dims: Vec<u64>,
    pub ty: GgmlType,
}

/// A model's metadata and tensor list; [`TinyModel::to_bytes`] writes it with data.
#[derive(Clone, Debug)]
pub struct TinyModel {
    pub metadata: Vec<(String, MetaValue)>,
    pub tensors: Vec<Tensor>,
}

/// GPT-2's byte-level alphabet: printable bytes stand for themselves, the others map to
/// U+0100 onwards in byte order.
pub fn byte_char(b: u8) -> char {
    let kept =
        |c: u32| (33..=126).contains(&c) || (161..=172).contains(&c) || (174..=255).contains(&c);
    if kept(u32::from(b)) {
        return char::from(b);
    }
    let index = (0..u32::from(b)).filter(|&c| !kept(c)).count() as u32;
    char::from_u32(256 + index).unwrap_or('?')
}

impl TinyModel {
    /// The valid tiny model of `arch` ("llama", "qwen2" or "mpt").
    pub fn new(arch: &str) -> TinyModel {
        let s = |v: &str| MetaValue::String(v.into());
        let key = |k: &str| format!("{arch}.{k}");
        let mut tokens: Vec<String> = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
            .map(String::from)
            .to_vec();
        tokens.extend((0..=255u8).map(|b| byte_char(b).to_string()));
        tokens.extend(["Ġt", "he"].map(String::from));
        let types: Vec<i32> = (0..tokens.len())
            .map(|i| if i < 3 { 3 } else { 1 })
            .collect();
        let eps_key = if arch == "mpt" {
            "attention.layer_norm_epsilon"
        } else {
            "attention.layer_norm_rms_epsilon"
        };
        let metadata = vec![
            ("general.architecture".into(), s(arch)),
            (key("context_length"), MetaValue::U32(CTX as u32)),
            (key("embedding_length"), MetaValue::U32(D as u32)),
            (key("block_count"), MetaValue::U32(1)),
            (key("feed_forward_length"), MetaValue::U32(FF as u32)),
            (key("attention.head_count"), MetaValue::U32(2)),
            (
                key("attention.head_count_kv"),
                MetaValue::U32(if arch == "mpt" { 2 } else { 1 }),
            ),
            (key(eps_key), MetaValue::F32(1e-5)),
            ("tokenizer.ggml.model".into(), s("gpt2")),
            ("tokenizer.ggml.pre".into(), s("smollm")),
            (
                "tokenizer.ggml.tokens".into(),
                MetaValue::Array(MetaArray::String(tokens)),
            ),
            (
                "tokenizer.ggml.token_type".into(),
                MetaValue::Array(MetaArray::I32(types)),
            ),
            (
                "tokenizer.ggml.merges".into(),
                MetaValue::Array(MetaArray::String(vec!["Ġ t".into(), "h e".into()])),
            ),
            ("tokenizer.ggml.bos_token_id".into(), MetaValue::U32(1)),
            ("tokenizer.ggml.eos_token_id".into(), MetaValue::U32(2)),
            ("tokenizer.chat_template".into(), s(CHATML)),
        ];
        let t = |name: &str, dims: &[u64], ty: GgmlType| Tensor {
            name: name.into(),
            dims: dims.to_vec(),
            ty,
        };
        let (f32, q4, q8) = (GgmlType::F32, GgmlType::Q4_1, GgmlType::Q8_0);
        let mut tensors = vec![t("token_embd.weight", &[D, VOCAB], q8)];
        if arch == "mpt" {
            tensors.push(t("position_embd.weight", &[D, CTX], f32));
            for (name, dims, ty) in [
                ("attn_norm.weight", vec![D], f32),
                ("attn_norm.bias", vec![D], f32),
                ("attn_qkv.weight", vec![D, 3 * D], q4),
                ("attn_qkv.bias", vec![3 * D], f32),
                ("attn_output.weight", vec![D, D], q4),
                ("attn_output.bias", vec![D], f32),
                ("ffn_norm.weight", vec![D], f32),
                ("ffn_norm.bias", vec![D], f32),
                ("ffn_up.weight", vec![D, FF], q4),
                ("ffn_up.bias", vec![FF], f32),
                ("ffn_down.weight", vec![FF, D], q4),
                ("ffn_down.bias", vec![D], f32),
            ] {
                tensors.push(t(&format!("blk.0.{name}"), &dims, ty));
            }
            tensors.push(t("output_norm.bias", &[D], f32));
        } else {
            for (name, dims, ty) in [
                ("attn_norm.weight", vec![D], f32),
                ("attn_q.weight", vec![D, D], q4),
                ("attn_k.weight", vec![D, KV], q4),
                ("attn_v.weight", vec![D, KV], q4),
                ("attn_output.weight", vec![D, D], q4),
                ("ffn_norm.weight", vec![D], f32),
                ("ffn_gate.weight", vec![D, FF], q4),
                ("ffn_up.weight", vec![D, FF], q4),
                ("ffn_down.weight", vec![FF, D], q4),
            ] {
                tensors.push(t(&format!("blk.0.{name}"), &dims, ty));
            }
            if arch == "qwen2" {
                for (name, len) in [("attn_q.bias", D), ("attn_k.bias", KV), ("attn_v.bias", KV)] {
                    tensors.push(t(&format!("blk.0.{name}"), &[len], f32));
                }
            }
        }
        tensors.push(t("output_norm.weight", &[D], f32));
        TinyModel { metadata, tensors }
    }

    /// Sets `key` to `value`, replacing an existing entry in place or appending.
    pub fn set(&mut self, key: &str, value: MetaValue) -> &mut Self {
        match self.metadata.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.metadata.push((key.into(), value)),
        }
        self
    }

    /// Removes `key` if present.
    pub fn remove_key(&mut self, key: &str) -> &mut Self {
        self.metadata.retain(|(k, _)| k != key);
        self
    }

    /// The tensor called `name`; panics if there is none (a test bug).
    pub fn tensor(&mut self, name: &str) -> &mut Tensor {
        self.tensors
            .iter_mut()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no tensor {name} in the tiny model"))
    }

    /// Removes the tensor called `name` if present.
    pub fn remove_tensor(&mut self, name: &str) -> &mut Self {
        self.tensors.retain(|t| t.name != name);
        self
    }

    /// Appends a tensor.
    pub fn add_tensor(&mut self, name: &str, dims: &[u64], ty: GgmlType) -> &mut Self {
        self.tensors.push(Tensor {
            name: name.into(),
            dims: dims.to_vec(),
            ty,
        });
        self
    }

    /// Bytes of data written for `t`: its size, or 0 when its element count is not a
    /// whole number of blocks (the parser then reports the shape).
    fn data_len(t: &Tensor) -> Option<u64> {
        let n = t.dims.iter().try_fold(1u64, |n, &d| n.checked_mul(d))?;
        Some(t.ty.row_bytes(n).unwrap_or(0))
    }

    /// The GGUF file: norm weights 1, other values small and varied, quantized with each
    /// tensor's type (types without a quantizer get zero bytes). `None` when the data would
    /// exceed `max_bytes` (fuzzed shapes can be huge).
    pub fn to_bytes(&self, max_bytes: u64) -> Option<Vec<u8>> {
        let total = self
            .tensors
            .iter()
            .try_fold(0u64, |sum, t| sum.checked_add(Self::data_len(t)?))?;
        if total > max_bytes {
            return None;
        }
        let mut w = GgufWriter::new();
        for (k, v) in &self.metadata {
            w = w.metadata(k.clone(), v.clone());
        }
        for t in &self.tensors {
            let n = t.dims.iter().product::<u64>();
            let mut data = vec![0u8; usize::try_from(Self::data_len(t)?).ok()?];
            let norm = t.name.ends_with("norm.weight");
            let x: Vec<f32> = (0..if data.is_empty() { 0 } else { n })
                .map(|i| {
                    if norm {
                        1.0
                    } else {
                        ((i % 17) as f32 - 8.0) / 64.0
                    }
                })
                .collect();
            if quantize_row(t.ty, &x, &mut data).is_err() {
                data.fill(0);
            }
            w = w.tensor(t.name.clone(), &t.dims, t.ty, data);
        }
        Some(w.to_bytes())
    }
}
