//! What every architecture's forward pass shares: scratch buffers, token embedding,
//! RoPE tables, causal attention over the KV cache, and the dispatch to the graphs.

use rayon::prelude::*;

use super::config::ModelConfig;
use super::matmul::{matmul, Compute, MatmulScratch};
use super::weights::{Matrix, WeightLoader};
use super::{llama, mpt, Arch, ModelError};
use crate::runtime::kv_cache::KvCache;
use slimlm_kernels::formats;
use slimlm_kernels::reference::attention::{attention_head_f32, AttentionShape};
use slimlm_kernels::reference::rope::rope_f32;

/// The forward graph of a loaded model.
pub(crate) enum Forward {
    Llama(llama::Llama),
    Mpt(mpt::Mpt),
}

/// Which positions of a batch need logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogitsFor {
    /// Only the last position (generation).
    Last,
    /// Every position (perplexity, teacher forcing).
    All,
}

/// Everything a forward pass needs besides the weights.
pub(crate) struct Step<'a> {
    pub config: &'a ModelConfig,
    pub cx: Compute<'a>,
    pub kv: &'a mut KvCache,
    pub rope: &'a RopeTable,
    pub scratch: &'a mut Scratch,
    /// Position of the first token of the batch.
    pub pos: usize,
}

impl Forward {
    pub fn load(config: &ModelConfig, loader: &WeightLoader) -> Result<Forward, ModelError> {
        Ok(match config.arch {
            Arch::Llama | Arch::Qwen2 => Forward::Llama(llama::Llama::load(config, loader)?),
            Arch::Mpt => Forward::Mpt(mpt::Mpt::load(config, loader)?),
        })
    }

    /// Runs `tokens` (ids already checked against the vocabulary) at positions
    /// `step.pos..` and writes the logits of the positions `which` asks for into `logits`.
    pub fn run(&self, step: Step<'_>, tokens: &[u32], which: LogitsFor, logits: &mut Vec<f32>) {
        match self {
            Forward::Llama(g) => g.run(step, tokens, which, logits),
            Forward::Mpt(g) => g.run(step, tokens, which, logits),
        }
    }
}

/// Activation buffers of one batch, reused across steps.
#[derive(Default)]
pub(crate) struct Scratch {
    pub x: Vec<f32>,
    pub h: Vec<f32>,
    pub q: Vec<f32>,
    pub k: Vec<f32>,
    pub v: Vec<f32>,
    pub attn: Vec<f32>,
    pub ff_a: Vec<f32>,
    pub ff_b: Vec<f32>,
    pub matmul: MatmulScratch,
}

/// Resizes `buf` to `len` and returns it.
pub(crate) fn sized(buf: &mut Vec<f32>, len: usize) -> &mut [f32] {
    buf.resize(len, 0.0);
    &mut buf[..len]
}

/// Writes the embedding row of each token into `out` (`tokens.len()` rows of `width`).
pub(crate) fn embed(table: &Matrix, tokens: &[u32], out: &mut [f32]) {
    let row_bytes = table.row_bytes();
    let bytes = table.bytes();
    for (&t, row) in tokens.iter().zip(out.chunks_exact_mut(table.cols)) {
        let t = t as usize;
        let src = &bytes[t * row_bytes..(t + 1) * row_bytes];
        if let Err(e) = formats::dequantize_row(table.ty, src, row) {
            unreachable!("{}: row {t}: {e}", table.name);
        }
    }
}

/// `x += y`.
pub(crate) fn add_in_place(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// The logits of the requested positions: `h` holds the final-normed rows.
pub(crate) fn lm_head(
    head: &Matrix,
    h: &[f32],
    width: usize,
    which: LogitsFor,
    step: &mut Step<'_>,
    logits: &mut Vec<f32>,
) {
    let rows = match which {
        LogitsFor::All => h,
        LogitsFor::Last => &h[h.len() - width..],
    };
    let m = rows.len() / width;
    logits.resize(m * head.rows, 0.0);
    matmul(
        head,
        None,
        rows,
        m,
        logits,
        &mut step.scratch.matmul,
        step.cx,
    );
}

/// cos and sin of every (position, pair) for a session's context.
pub(crate) struct RopeTable {
    half: usize,
    cos: Vec<f32>,
    sin: Vec<f32>,
}

impl RopeTable {
    /// Tables for positions `0..positions` (empty for models without RoPE).
    pub fn new(config: &ModelConfig, positions: usize) -> RopeTable {
        let half = config.rope_dims / 2;
        let mut cos = Vec::with_capacity(positions * half);
        let mut sin = Vec::with_capacity(positions * half);
        for pos in 0..positions {
            for j in 0..half {
                let inv_freq =
                    f64::from(config.rope_base).powf(-2.0 * j as f64 / config.rope_dims as f64);
                let angle = pos as f64 * inv_freq;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        RopeTable { half, cos, sin }
    }

    /// Rotates the heads of each of the rows of `x` (row `t` is at position `pos + t`).
    pub fn apply(&self, config: &ModelConfig, x: &mut [f32], row_width: usize, pos: usize) {
        for (t, row) in x.chunks_exact_mut(row_width).enumerate() {
            let p = (pos + t) * self.half;
            rope_f32(
                row,
                config.head_dim,
                config.rope_dims,
                config.rope_pairing,
                &self.cos[p..p + self.half],
                &self.sin[p..p + self.half],
            );
        }
    }
}

/// Stores this batch's K/V rows for `layer` and computes causal attention for every query
/// row of `step.scratch.q` into `step.scratch.attn`, in parallel over (token, head).
pub(crate) fn attend(step: &mut Step<'_>, layer: usize, n: usize) {
    let c = step.config;
    let kv_width = c.kv_width();
    let s = &mut *step.scratch;
    step.kv
        .store(layer, step.pos, &s.k[..n * kv_width], &s.v[..n * kv_width]);
    let (k_cache, v_cache) = step.kv.layer(layer);
    let q = &s.q[..n * c.d_model];
    let attn = sized(&mut s.attn, n * c.n_heads * c.head_dim);
    let scale = 1.0 / (c.head_dim as f32).sqrt();
    let pos = step.pos;
    step.cx.pool.install(|| {
        attn.par_chunks_mut(c.head_dim).enumerate().for_each_init(
            Vec::new,
            |scores, (task, out)| {
                let (t, h) = (task / c.n_heads, task % c.n_heads);
                let shape = AttentionShape {
                    n_heads: c.n_heads,
                    n_kv_heads: c.n_kv_heads,
                    head_dim: c.head_dim,
                    n_keys: pos + t + 1,
                    scale,
                };
                scores.resize(shape.n_keys, 0.0);
                let qh = &q[(t * c.n_heads + h) * c.head_dim..][..c.head_dim];
                attention_head_f32(&shape, h, qh, k_cache, v_cache, scores, out);
            },
        )
    });
}
