//! Model hyperparameters read from GGUF metadata and checked for consistency.

use super::ModelError;
use crate::gguf::GgufFile;
use slimlm_kernels::reference::rope::RopePairing;

/// The transformer families slimlm runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// Llama family (SmolLM, SmolLM2, Llama 3): RMSNorm, RoPE (adjacent pairs on the
    /// permuted Q/K rows), GQA, SwiGLU.
    Llama,
    /// Qwen2: Llama plus Q/K/V biases, RoPE in NeoX (half-split) pairing.
    Qwen2,
    /// MPT as SlimLM uses it: learned positions, LayerNorm with bias, fused QKV with bias,
    /// exact GELU MLP with biases, tied head. No ALiBi.
    Mpt,
    /// Gemma 3: scaled embeddings, RMSNorm before and after attention and MLP, per-head
    /// RMSNorm of Q and K, NeoX RoPE with a local and a global base, sliding-window
    /// attention on 5 of every 6 layers, GeGLU MLP, tied head.
    Gemma3,
}

impl Arch {
    /// The `general.architecture` value.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
            Arch::Mpt => "mpt",
            Arch::Gemma3 => "gemma3",
        }
    }

    fn parse(name: &str) -> Result<Arch, ModelError> {
        match name {
            "llama" => Ok(Arch::Llama),
            "qwen2" => Ok(Arch::Qwen2),
            "mpt" => Ok(Arch::Mpt),
            "gemma3" => Ok(Arch::Gemma3),
            other => Err(ModelError::UnsupportedArch(other.to_string())),
        }
    }
}

/// Hyperparameters of a loaded model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    pub arch: Arch,
    pub n_layers: usize,
    /// Width of the residual stream.
    pub d_model: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    /// Hidden width of the MLP.
    pub d_ff: usize,
    pub vocab_size: usize,
    /// Positions the model was trained for (the learned position table's size for MPT).
    pub context_length: usize,
    /// RMSNorm or LayerNorm epsilon.
    pub norm_eps: f32,
    /// RoPE frequency base and rotated dimensions (unused by MPT).
    pub rope_base: f32,
    pub rope_dims: usize,
    pub rope_pairing: RopePairing,
    /// MPT's optional clamp of Q, K and V to [-c, c].
    pub clamp_qkv: Option<f32>,
    /// Multiplies the attention scores (`1/sqrt(head_dim)` except where noted).
    pub attn_scale: f32,
    /// Sliding-window attention on some layers (Gemma 3's local layers).
    pub sliding: Option<SlidingWindow>,
    /// Gemma's final logit soft-capping `c tanh(logits / c)`, when the file asks for it.
    pub final_logit_softcap: Option<f32>,
}

/// Which layers attend through a sliding window, and how they differ from the others.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SlidingWindow {
    /// Keys visible to a query, its own included (`attention.sliding_window`).
    pub window: usize,
    /// Layer `i` is global when `i % period == period - 1`, else local (windowed).
    pub period: usize,
    /// RoPE frequency base of the local layers.
    pub rope_base: f32,
}

/// Gemma 3's defaults for what its GGUF files carry no key for, as llama.cpp 0c1e570
/// sets them (src/models/gemma3.cpp, `load_arch_hparams`, and src/llama-hparams.h).
pub mod gemma3_defaults {
    /// `load_swa_pattern(ml, 6)`: five local layers, then one global (layers 5, 11, 17
    /// of 18 are global), unless `gemma3.attention.sliding_window_pattern` says otherwise.
    pub const SLIDING_WINDOW_PERIOD: usize = 6;
    /// `rope_freq_base_train_swa = 10000.0f` (llama-hparams.h), unless
    /// `gemma3.rope.freq_base_swa` says otherwise.
    pub const LOCAL_ROPE_BASE: f32 = 10_000.0;
    /// Gemma 3's 27B (62 layers) scales attention by `1/sqrt(d_model / n_heads)`, the
    /// others by `1/sqrt(head_dim)` (llama.cpp's `f_attention_scale`, after
    /// gemma_pytorch's config: `query_pre_attn_scalar`).
    pub const LAYERS_OF_27B: usize = 62;
}

impl SlidingWindow {
    /// Whether layer `layer` attends through the window.
    pub fn is_local(&self, layer: usize) -> bool {
        layer % self.period != self.period - 1
    }
}

/// Upper bounds that keep a hostile file from asking for absurd buffers; every real
/// SlimLM-class (125M-1B) model is far inside them.
const MAX_LAYERS: usize = 1024;
const MAX_WIDTH: usize = 1 << 16;
const MAX_CONTEXT: usize = 1 << 20;

impl ModelConfig {
    /// Reads the hyperparameters of `file`'s architecture. The vocabulary size is taken from
    /// the token embedding's shape, which the weights loader checks again.
    pub fn from_gguf(file: &GgufFile) -> Result<ModelConfig, ModelError> {
        let arch = Arch::parse(file.architecture()?)?;
        let key = |suffix: &str| format!("{}.{suffix}", arch.name());
        let usize_key = |suffix: &str, max: usize| -> Result<usize, ModelError> {
            let k = key(suffix);
            let v = file.get_u64(&k)?;
            if v == 0 || v > max as u64 {
                return Err(ModelError::Config {
                    key: k,
                    reason: format!("{v} is outside 1..={max}"),
                });
            }
            Ok(v as usize)
        };

        let n_layers = usize_key("block_count", MAX_LAYERS)?;
        let d_model = usize_key("embedding_length", MAX_WIDTH)?;
        let d_ff = usize_key("feed_forward_length", 16 * MAX_WIDTH)?;
        let n_heads = usize_key("attention.head_count", MAX_WIDTH)?;
        let n_kv_heads = if file.get(&key("attention.head_count_kv")).is_some() {
            usize_key("attention.head_count_kv", MAX_WIDTH)?
        } else {
            n_heads
        };
        let context_length = usize_key("context_length", MAX_CONTEXT)?;

        if n_heads % n_kv_heads != 0 {
            return Err(ModelError::Config {
                key: key("attention.head_count_kv"),
                reason: format!(
                    "{n_heads} query heads are not a multiple of {n_kv_heads} KV heads"
                ),
            });
        }
        // Gemma's heads are wider than d_model / n_heads (256 vs 160 for 270M): its files
        // give the width as attention.key_length (and value_length, the same).
        let head_dim = match arch {
            Arch::Gemma3 => {
                let hd = usize_key("attention.key_length", MAX_WIDTH)?;
                let vk = key("attention.value_length");
                if file.get(&vk).is_some() && usize_key("attention.value_length", MAX_WIDTH)? != hd
                {
                    return Err(ModelError::Unsupported {
                        what: format!("{vk} differs from attention.key_length {hd}"),
                    });
                }
                hd
            }
            _ => {
                if d_model % n_heads != 0 {
                    return Err(ModelError::Config {
                        key: key("attention.head_count"),
                        reason: format!(
                            "embedding_length {d_model} is not a multiple of {n_heads} heads"
                        ),
                    });
                }
                let hd = d_model / n_heads;
                let kk = key("attention.key_length");
                if file.get(&kk).is_some() && usize_key("attention.key_length", MAX_WIDTH)? != hd {
                    return Err(ModelError::Unsupported {
                        what: format!(
                            "{kk} other than embedding_length / head_count ({hd}) in a {} model",
                            arch.name()
                        ),
                    });
                }
                hd
            }
        };

        let (norm_eps, rope_pairing, clamp_qkv) = match arch {
            Arch::Llama | Arch::Qwen2 | Arch::Gemma3 => (
                file.get_f32(&key("attention.layer_norm_rms_epsilon"))?,
                if arch == Arch::Llama {
                    RopePairing::Adjacent
                } else {
                    RopePairing::HalfSplit
                },
                None,
            ),
            Arch::Mpt => {
                let alibi_key = key("attention.max_alibi_bias");
                if file.get(&alibi_key).is_some() && file.get_f32(&alibi_key)? != 0.0 {
                    return Err(ModelError::Unsupported {
                        what: format!(
                            "{alibi_key} = {} (ALiBi attention)",
                            file.get_f32(&alibi_key)?
                        ),
                    });
                }
                let clamp_key = key("attention.clamp_kqv");
                let clamp = match file.get(&clamp_key) {
                    Some(_) => Some(file.get_f32(&clamp_key)?).filter(|c| *c > 0.0),
                    None => None,
                };
                (
                    file.get_f32(&key("attention.layer_norm_epsilon"))?,
                    RopePairing::Adjacent,
                    clamp,
                )
            }
        };
        if !(norm_eps.is_finite() && norm_eps >= 0.0) {
            return Err(ModelError::Config {
                key: key("attention.layer_norm_epsilon"),
                reason: format!("{norm_eps} is not a finite non-negative epsilon"),
            });
        }

        let (rope_base, rope_dims) = match arch {
            Arch::Mpt => (0.0, 0),
            Arch::Llama | Arch::Qwen2 | Arch::Gemma3 => {
                let base_key = key("rope.freq_base");
                let base = if file.get(&base_key).is_some() {
                    file.get_f32(&base_key)?
                } else {
                    10000.0
                };
                let dims_key = key("rope.dimension_count");
                let dims = if file.get(&dims_key).is_some() {
                    usize_key("rope.dimension_count", head_dim)?
                } else {
                    head_dim
                };
                if !(base.is_finite() && base > 1.0) || dims % 2 != 0 {
                    return Err(ModelError::Config {
                        key: base_key,
                        reason: format!("rope base {base} with {dims} rotated dimensions"),
                    });
                }
                (base, dims)
            }
        };

        let f32_key = |suffix: &str| -> Result<Option<f32>, ModelError> {
            let k = key(suffix);
            match file.get(&k) {
                None => Ok(None),
                Some(_) => {
                    let v = file.get_f32(&k)?;
                    if !(v.is_finite() && v > 0.0) {
                        return Err(ModelError::Config {
                            key: k,
                            reason: format!("{v} is not a finite positive number"),
                        });
                    }
                    Ok(Some(v))
                }
            }
        };
        let mut attn_scale = 1.0 / (head_dim as f32).sqrt();
        let (mut sliding, mut final_logit_softcap) = (None, None);
        if arch == Arch::Gemma3 {
            use gemma3_defaults::*;
            if n_layers == LAYERS_OF_27B {
                attn_scale = 1.0 / ((d_model / n_heads) as f32).sqrt();
            }
            final_logit_softcap = f32_key("final_logit_softcapping")?;
            // As llama.cpp: no sliding_window key (or 0) means every layer is global.
            let window_key = key("attention.sliding_window");
            let window = match file.get(&window_key) {
                Some(_) => file.get_u64(&window_key)?,
                None => 0,
            };
            if window > 0 {
                let period_key = key("attention.sliding_window_pattern");
                let period = match file.get(&period_key) {
                    Some(_) => usize_key("attention.sliding_window_pattern", MAX_LAYERS)?,
                    None => SLIDING_WINDOW_PERIOD,
                };
                let rope_base = f32_key("rope.freq_base_swa")?.unwrap_or(LOCAL_ROPE_BASE);
                if rope_base <= 1.0 {
                    return Err(ModelError::Config {
                        key: key("rope.freq_base_swa"),
                        reason: format!("rope base {rope_base}"),
                    });
                }
                sliding = Some(SlidingWindow {
                    window: usize_key("attention.sliding_window", MAX_CONTEXT)?,
                    period,
                    rope_base,
                });
            }
        }

        let vocab_size = file
            .tensor("token_embd.weight")
            .and_then(|t| t.dims.get(1).copied())
            .ok_or_else(|| ModelError::MissingTensor {
                name: "token_embd.weight".into(),
            })?;
        if vocab_size == 0 || vocab_size > 1 << 22 {
            return Err(ModelError::Config {
                key: "token_embd.weight".into(),
                reason: format!("vocabulary of {vocab_size} tokens"),
            });
        }

        Ok(ModelConfig {
            arch,
            n_layers,
            d_model,
            n_heads,
            n_kv_heads,
            head_dim,
            d_ff,
            vocab_size: vocab_size as usize,
            context_length,
            norm_eps,
            rope_base,
            rope_dims,
            rope_pairing,
            clamp_qkv,
            attn_scale,
            sliding,
            final_logit_softcap,
        })
    }

    /// Width of the queries of one position (`d_model` except in Gemma).
    pub fn q_width(&self) -> usize {
        self.n_heads * self.head_dim
    }

    /// The sliding window of layer `layer`, if it is a local one.
    pub fn window_of(&self, layer: usize) -> Option<usize> {
        self.sliding.filter(|s| s.is_local(layer)).map(|s| s.window)
    }

    /// Width of one position's K (or V) row in the cache.
    pub fn kv_width(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }
}
