//! What every architecture's forward pass shares: scratch buffers, token embedding,
//! RoPE tables, causal attention over the KV cache. The per-architecture dispatch is
//! [`super::forward`].

use super::config::ModelConfig;
use super::matmul::{matmul, matmuls, Compute, MatmulScratch, Product};
use super::weights::Matrix;
use crate::exec::kv_cache::KvCache;
use crate::exec::profile::{Op, Profile};
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
    pub rope: &'a Rope,
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

/// The RoPE tables of a session: one for the global base, and one for the local layers'
/// base when the model has sliding-window layers (Gemma 3).
pub(crate) struct Rope {
    global: RopeTable,
    local: Option<RopeTable>,
}

impl Rope {
    /// Tables for positions `0..positions` (empty for models without RoPE).
    pub fn new(config: &ModelConfig, positions: usize) -> Rope {
        Rope {
            global: RopeTable::new(config.rope_base, config.rope_dims, positions),
            local: config
                .sliding
                .map(|s| RopeTable::new(s.rope_base, config.rope_dims, positions)),
        }
    }

    /// The table of layer `layer`.
    pub fn of_layer(&self, config: &ModelConfig, layer: usize) -> &RopeTable {
        match (&self.local, config.window_of(layer)) {
            (Some(local), Some(_)) => local,
            _ => &self.global,
        }
    }
}

/// cos and sin of every (position, pair) for a session's context, for one frequency base.
pub(crate) struct RopeTable {
    half: usize,
    cos: Vec<f32>,
    sin: Vec<f32>,
}

impl RopeTable {
    /// Tables of base `base` over `dims` rotated dimensions for positions `0..positions`.
    pub fn new(base: f32, dims: usize, positions: usize) -> RopeTable {
        let half = dims / 2;
        let mut cos = Vec::with_capacity(positions * half);
        let mut sin = Vec::with_capacity(positions * half);
        for pos in 0..positions {
            for j in 0..half {
                let inv_freq = f64::from(base).powf(-2.0 * j as f64 / dims as f64);
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

/// The weights of a gated feed-forward block.
pub(crate) struct GatedFfn {
    pub w_gate: Matrix,
    pub w_up: Matrix,
    pub w_down: Matrix,
}

/// The gated feed-forward block of Llama (SwiGLU) and Gemma 3 (GeGLU): the gate and up
/// projections of the normed rows in `s.h` as one parallel step, `act(gate) * up` in
/// place over the gate rows, then the down projection of those into `s.h[..n * d]`.
/// `act` is the tier's fused activation-and-multiply (`Ops::silu_mul`,
/// `Ops::gelu_tanh_mul`).
pub(crate) fn gated_ffn(
    w: &GatedFfn,
    n: usize,
    s: &mut Scratch,
    cx: Compute<'_>,
    prof: &mut Profile,
    act: fn(&Ops, &mut [f32], &[f32]),
) {
    let (d, ff) = (w.w_down.rows, w.w_gate.rows);
    let t = prof.start();
    let mut gate_up = [
        Product {
            w: &w.w_gate,
            bias: None,
            out: sized(&mut s.ff_a, n * ff),
        },
        Product {
            w: &w.w_up,
            bias: None,
            out: sized(&mut s.ff_b, n * ff),
        },
    ];
    matmuls(&mut gate_up, &s.h[..n * d], n, &mut s.matmul, cx);
    prof.stop(Op::FfnMatmul, t);
    let t = prof.start();
    let up = &s.ff_b[..n * ff];
    in_row_batches(cx.pool, &mut s.ff_a[..n * ff], ff, |first, gate| {
        act(cx.ops, gate, &up[first * ff..first * ff + gate.len()])
    });
    prof.stop(Op::Activation, t);
    let t = prof.start();
    let down = sized(&mut s.h, n * d);
    matmul(
        &w.w_down,
        None,
        &s.ff_a[..n * ff],
        n,
        down,
        &mut s.matmul,
        cx,
    );
    prof.stop(Op::FfnMatmul, t);
}

/// Stores this batch's K/V rows for `layer` and computes causal attention (through the
/// layer's sliding window, if it has one) for every query row of `step.scratch.q` into
/// `step.scratch.attn`, in parallel over heads and tiles of queries. Queries are regrouped
/// head-major first so that each task reads and writes one contiguous run. A ring cache
/// (a local layer's) takes at most [`slimlm_kernels::attention::LayerCache::max_store`]
/// positions at a time, so a longer batch is stored and attended in chunks of that size.
pub(crate) fn attend(step: &mut Step<'_>, layer: usize, n: usize) {
    let c = step.config;
    let (hd, heads, d) = (c.head_dim, c.n_heads, c.q_width());
    let kv_width = c.kv_width();
    let shape = AttentionShape {
        n_heads: heads,
        n_kv_heads: c.n_kv_heads,
        head_dim: hd,
        scale: c.attn_scale,
        window: c.window_of(layer),
    };
    let s = &mut *step.scratch;
    // [token][head][hd] -> [head][token][hd]
    let q_heads = sized(&mut s.q_heads, n * d);
    for (t, row) in s.q[..n * d].chunks_exact(d).enumerate() {
        for (h, qh) in row.chunks_exact(hd).enumerate() {
            q_heads[(h * n + t) * hd..][..hd].copy_from_slice(qh);
        }
    }
    let out_heads = sized(&mut s.attn_heads, n * d);
    let (ops, pool) = (step.cx.ops, step.cx.pool);
    let q_heads = &s.q_heads[..n * d];
    s.attention.resize_with(pool.threads(), Default::default);
    let chunk = step.kv.layer(layer).max_store().min(n);
    let mut c0 = 0;
    while c0 < n {
        let c1 = (c0 + chunk).min(n);
        let pos = step.pos + c0;
        step.kv.store(
            ops,
            layer,
            pos,
            &s.k[c0 * kv_width..c1 * kv_width],
            &s.v[c0 * kv_width..c1 * kv_width],
        );
        let cache = step.kv.layer(layer);
        // One task per (head, tile of queries): each head's rows c0..c1 cut at every tile.
        let mut tiles: Vec<(usize, usize, &mut [f32])> =
            Vec::with_capacity(heads * (c1 - c0).div_ceil(QUERY_TILE));
        for (h, head_out) in out_heads.chunks_mut(n * hd).enumerate() {
            let rows = &mut head_out[c0 * hd..c1 * hd];
            for (t, o) in rows.chunks_mut(QUERY_TILE * hd).enumerate() {
                tiles.push((h, t, o));
            }
        }
        let scratches = &s.attention[..];
        pool.for_each_chunk_mut(&mut tiles, 1, |_, tile, participant| {
            let (h, t, ref mut o) = tile[0];
            let q = &q_heads[(h * n + c0) * hd..(h * n + c1) * hd];
            let q = &q[t * QUERY_TILE * hd..][..o.len()];
            let first = pos + t * QUERY_TILE;
            let mut scratch = scratches[participant]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            attend_tile(ops, &shape, h, q, first, cache, o, &mut scratch);
        });
        c0 = c1;
    }
    let attn = sized(&mut s.attn, n * d);
    for (t, row) in attn.chunks_exact_mut(d).enumerate() {
        for (h, oh) in row.chunks_exact_mut(hd).enumerate() {
            oh.copy_from_slice(&s.attn_heads[(h * n + t) * hd..][..hd]);
        }
    }
}
