//! Rebuilds the SlimLM-125M-shaped random `mpt` GGUF of recipe v1
//! (tests/fixtures/README-models.md) so the reference logits made by transformers can be
//! checked without committing hundreds of MB of weights. Include with
//! `#[path = "common/slimlm_random.rs"] mod slimlm_random;`.

use slimlm::gguf::{GgufWriter, MetaArray, MetaValue};
use slimlm::kernels::formats::{quantize_row, GgmlType};

pub const D: usize = 768;
pub const FF: usize = 3072;
pub const VOCAB: usize = 50368;
pub const CTX: usize = 2048;
const SEED: u64 = 0x736C_696D_6C6D_2D31; // "slimlm-1"

/// splitmix64, one stream per tensor seeded from its name.
struct SplitMix(u64);

impl SplitMix {
    fn for_tensor(name: &str) -> SplitMix {
        let mut h: u64 = 0xCBF2_9CE4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        SplitMix(SEED ^ h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The values of tensor `name` with `n` elements, by the recipe's kind rules.
pub fn values(name: &str, n: usize) -> Vec<f32> {
    let mut rng = SplitMix::for_tensor(name);
    let gain = name.ends_with("_norm.weight");
    let bias = name.ends_with(".bias");
    (0..n)
        .map(|_| {
            let z = rng.next();
            if gain {
                1.0 + ((z >> 48) as i64 - (1 << 15)) as f32 * (1.0 / (1u64 << 20) as f32)
            } else {
                let k = ((z >> 40) as i64 - (1 << 23)) as f32;
                k * if bias {
                    1.0 / (1u64 << 28) as f32
                } else {
                    1.0 / (1u64 << 27) as f32
                }
            }
        })
        .collect()
}

/// GPT-2's byte-level alphabet: printable bytes stand for themselves, the others map to
/// U+0100 onwards in byte order.
fn byte_char(b: u8) -> char {
    let kept =
        |c: u32| (33..=126).contains(&c) || (161..=172).contains(&c) || (174..=255).contains(&c);
    if kept(u32::from(b)) {
        return char::from(b);
    }
    let index = (0..u32::from(b)).filter(|&c| !kept(c)).count() as u32;
    char::from_u32(256 + index).unwrap()
}

/// The tensors of the model, numpy shape `[out, in]` (`[n]` for vectors), in file order.
fn tensor_list(layers: usize) -> Vec<(String, Vec<usize>)> {
    let mut t = vec![
        ("token_embd.weight".to_string(), vec![VOCAB, D]),
        ("position_embd.weight".to_string(), vec![CTX, D]),
    ];
    for n in 0..layers {
        for (suffix, shape) in [
            ("attn_norm.weight", vec![D]),
            ("attn_norm.bias", vec![D]),
            ("attn_qkv.weight", vec![3 * D, D]),
            ("attn_qkv.bias", vec![3 * D]),
            ("attn_output.weight", vec![D, D]),
            ("attn_output.bias", vec![D]),
            ("ffn_norm.weight", vec![D]),
            ("ffn_norm.bias", vec![D]),
            ("ffn_up.weight", vec![FF, D]),
            ("ffn_up.bias", vec![FF]),
            ("ffn_down.weight", vec![D, FF]),
            ("ffn_down.bias", vec![D]),
        ] {
            t.push((format!("blk.{n}.{suffix}"), shape));
        }
    }
    t.push(("output_norm.weight".into(), vec![D]));
    t.push(("output_norm.bias".into(), vec![D]));
    t
}

/// Whether the recipe quantizes this tensor in the Q8_0/Q4_0 variants.
fn quantized(name: &str) -> bool {
    [
        "token_embd.weight",
        "attn_qkv.weight",
        "attn_output.weight",
        "ffn_up.weight",
        "ffn_down.weight",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}

/// The GGUF of recipe v1 with `layers` blocks and big matrices in `ty` (F32, Q8_0 or
/// Q4_0), and the sha256 of each tensor's stored bytes.
pub fn build(layers: usize, ty: GgmlType) -> (Vec<u8>, Vec<(String, [u8; 32])>) {
    use sha2::Digest;
    let mut tokens: Vec<String> = vec!["<|endoftext|>".into(), "<|padding|>".into()];
    tokens.extend((0..=255u8).map(|b| byte_char(b).to_string()));
    tokens.extend(["Ġt", "he", "Ġthe", "in"].map(String::from));
    let first_filler = tokens.len();
    tokens.extend((first_filler..VOCAB).map(|i| format!("<|filler_{i}|>")));
    let types: Vec<i32> = (0..VOCAB).map(|i| if i < 2 { 3 } else { 1 }).collect();
    let merges = ["Ġ t", "h e", "Ġt he", "i n"].map(String::from).to_vec();

    let s = |v: &str| MetaValue::String(v.into());
    let mut w = GgufWriter::new()
        .metadata("general.architecture", s("mpt"))
        .metadata("general.name", s("slimlm-random-v1"))
        .metadata("mpt.context_length", MetaValue::U32(CTX as u32))
        .metadata("mpt.embedding_length", MetaValue::U32(D as u32))
        .metadata("mpt.block_count", MetaValue::U32(layers as u32))
        .metadata("mpt.feed_forward_length", MetaValue::U32(FF as u32))
        .metadata("mpt.attention.head_count", MetaValue::U32(12))
        .metadata("mpt.attention.head_count_kv", MetaValue::U32(12))
        .metadata("mpt.attention.layer_norm_epsilon", MetaValue::F32(1e-5))
        .metadata("mpt.attention.max_alibi_bias", MetaValue::F32(0.0))
        .metadata("tokenizer.ggml.model", s("gpt2"))
        .metadata("tokenizer.ggml.pre", s("gpt-neox"))
        .metadata(
            "tokenizer.ggml.tokens",
            MetaValue::Array(MetaArray::String(tokens)),
        )
        .metadata(
            "tokenizer.ggml.token_type",
            MetaValue::Array(MetaArray::I32(types)),
        )
        .metadata(
            "tokenizer.ggml.merges",
            MetaValue::Array(MetaArray::String(merges)),
        )
        .metadata("tokenizer.ggml.bos_token_id", MetaValue::U32(0))
        .metadata("tokenizer.ggml.eos_token_id", MetaValue::U32(0))
        .metadata("tokenizer.ggml.add_bos_token", MetaValue::Bool(false));
    let mut hashes = Vec::new();
    for (name, shape) in tensor_list(layers) {
        let n: usize = shape.iter().product();
        let x = values(&name, n);
        let t = if quantized(&name) { ty } else { GgmlType::F32 };
        let mut bytes = vec![0u8; t.row_bytes(n as u64).unwrap() as usize];
        quantize_row(t, &x, &mut bytes).unwrap();
        hashes.push((name.clone(), sha2::Sha256::digest(&bytes).into()));
        let dims: Vec<u64> = shape.iter().rev().map(|&d| d as u64).collect();
        w = w.tensor(name, &dims, t, bytes);
    }
    (w.to_bytes(), hashes)
}
