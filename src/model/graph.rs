//! What every architecture's forward pass shares: scratch buffers, token embedding,
//! RoPE tables, causal attention over the KV cache. The per-architecture dispatch is
//! [`super::forward`].

use super::config::ModelConfig;
use super::matmul::{matmul, Compute, MatmulScratch};
use super::weights::Matrix;
use crate::exec::kv_cache::KvCache;
use crate::exec::profile::Profile;
use std::sync::Mutex;

use crate::exec::threads::Pool;

use slimlm_kernels::attention::{attend_tile, AttentionScratch, AttentionShape, QUERY_TILE};
use slimlm_kernels::formats;
use slimlm_kernels::ops::Ops;

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
    pub profile: &'a mut Profile,
    /// Position of the first token of the batch.
    pub pos: usize,
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
    /// Queries and attention outputs regrouped head-major ([head][token][head_dim]).
    pub q_heads: Vec<f32>,
    pub attn_heads: Vec<f32>,
    pub ff_a: Vec<f32>,
    pub ff_b: Vec<f32>,
    pub matmul: MatmulScratch,
    /// One attention scratch per pool participant (each locks only its own).
    pub attention: Vec<Mutex<AttentionScratch>>,
}

/// Calls `f(first row, rows)` on batches of the `width`-value rows of `x`, in parallel
/// (one batch, on this thread, when there are few rows): for elementwise ops of a prompt.
pub(crate) fn in_row_batches(
    pool: &Pool,
    x: &mut [f32],
    width: usize,
    f: impl Fn(usize, &mut [f32]) + Sync,
) {
    let rows = x.len() / width;
    let per_task = rows.div_ceil(4 * pool.threads()).max(4);
    pool.for_each_chunk_mut(x, per_task * width, |task, chunk, _| {
        f(task * per_task, chunk)
    });
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
    pub fn apply(
        &self,
        ops: &Ops,
        config: &ModelConfig,
        x: &mut [f32],
        row_width: usize,
        pos: usize,
    ) {
        for (t, row) in x.chunks_exact_mut(row_width).enumerate() {
            let p = (pos + t) * self.half;
            ops.rope(
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
/// row of `step.scratch.q` into `step.scratch.attn`, in parallel over heads and tiles of
/// queries. Queries are regrouped head-major first so that each task reads and writes one
/// contiguous run.
pub(crate) fn attend(step: &mut Step<'_>, layer: usize, n: usize) {
    let c = step.config;
    let (hd, heads, d) = (c.head_dim, c.n_heads, c.n_heads * c.head_dim);
    let kv_width = c.kv_width();
    let s = &mut *step.scratch;
    step.kv.store(
        step.cx.ops,
        layer,
        step.pos,
        &s.k[..n * kv_width],
        &s.v[..n * kv_width],
    );
    let cache = step.kv.layer(layer);
    let shape = AttentionShape {
        n_heads: heads,
        n_kv_heads: c.n_kv_heads,
        head_dim: hd,
        scale: 1.0 / (hd as f32).sqrt(),
        window: None,
    };
    // [token][head][hd] -> [head][token][hd]
    let q_heads = sized(&mut s.q_heads, n * d);
    for (t, row) in s.q[..n * d].chunks_exact(d).enumerate() {
        for (h, qh) in row.chunks_exact(hd).enumerate() {
            q_heads[(h * n + t) * hd..][..hd].copy_from_slice(qh);
        }
    }
    let out_heads = sized(&mut s.attn_heads, n * d);
    let (pos, ops, pool) = (step.pos, step.cx.ops, step.cx.pool);
    let q_heads = &s.q_heads[..n * d];
    // One task per (head, tile of queries): [head][token][hd] cut at every tile and head.
    let mut tiles: Vec<(usize, usize, &mut [f32])> =
        Vec::with_capacity(heads * n.div_ceil(QUERY_TILE));
    for (h, head_out) in out_heads.chunks_mut(n * hd).enumerate() {
        for (t, o) in head_out.chunks_mut(QUERY_TILE * hd).enumerate() {
            tiles.push((h, t, o));
        }
    }
    s.attention.resize_with(pool.threads(), Default::default);
    let scratches = &s.attention[..];
    pool.for_each_chunk_mut(&mut tiles, 1, |_, tile, participant| {
        let (h, t, ref mut o) = tile[0];
        let q = &q_heads[h * n * hd..(h + 1) * n * hd];
        let q = &q[t * QUERY_TILE * hd..][..o.len()];
        let first = pos + t * QUERY_TILE;
        let mut scratch = scratches[participant]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        attend_tile(ops, &shape, h, q, first, cache, o, &mut scratch);
    });
    let attn = sized(&mut s.attn, n * d);
    for (t, row) in attn.chunks_exact_mut(d).enumerate() {
        for (h, oh) in row.chunks_exact_mut(hd).enumerate() {
            oh.copy_from_slice(&s.attn_heads[(h * n + t) * hd..][..hd]);
        }
    }
}
