//! Causal scaled dot-product attention over a KV cache, with an online (flash-style)
//! softmax: keys are visited in blocks of [`KV_BLOCK`] positions, and each query keeps a
//! running maximum, a running sum of exponentials and a rescaled output accumulator, so no
//! score row longer than one block is ever stored. Memory per query is O(head_dim), not
//! O(context).
//!
//! Layout: a cache row per position holds `n_kv_heads * head_dim` values (head-major) in
//! the cache's [`KvType`]; a query row holds `n_heads * head_dim` f32. Query head `h` reads
//! KV head `h / (n_heads / n_kv_heads)` (grouped-query attention).
//!
//! Every query's result depends only on its own position and the cache, through the same
//! sequence of operations in decode ([`attend_one`]) and prefill ([`attend_tile`]), so a
//! prompt evaluated in one batch or token by token gives bit-identical outputs.

use bytemuck::Zeroable;

use crate::formats::{f16_to_f32, quantize_blocks, BlockQ8_0};
use crate::ops::Ops;
use crate::reference::dot::q8_0_q8_0_block_sum;

/// Keys per online-softmax block.
pub const KV_BLOCK: usize = 32;

/// Queries per prefill tile: they share each K/V block while it is in L1.
pub const QUERY_TILE: usize = 8;

/// Storage format of KV cache rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KvType {
    /// Exact; 4 bytes per value.
    F32,
    /// 2 bytes per value; the default (what llama.cpp stores).
    F16,
    /// 34 bytes per 32 values; needs `head_dim` a multiple of 32.
    Q8_0,
}

impl KvType {
    /// Bytes one cache row of `width` values takes (`width` a multiple of 32 for Q8_0).
    pub fn row_bytes(self, width: usize) -> usize {
        match self {
            KvType::F32 => width * 4,
            KvType::F16 => width * 2,
            KvType::Q8_0 => width / 32 * core::mem::size_of::<BlockQ8_0>(),
        }
    }

    /// The name `--kv-type` takes.
    pub fn name(self) -> &'static str {
        match self {
            KvType::F32 => "f32",
            KvType::F16 => "f16",
            KvType::Q8_0 => "q8_0",
        }
    }
}

/// The rows of one cache tensor (all K or all V of a layer), positions `0..len / width`.
#[derive(Clone, Copy, Debug)]
pub enum KvRows<'a> {
    F32(&'a [f32]),
    /// f16 bit patterns.
    F16(&'a [u16]),
    /// `width / 32` blocks per row.
    Q8_0(&'a [BlockQ8_0]),
}

/// Shape of one attention call.
#[derive(Clone, Copy, Debug)]
pub struct AttentionShape {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    /// Multiplies the raw scores, usually `1/sqrt(head_dim)`.
    pub scale: f32,
}

impl AttentionShape {
    /// Values in one cache row.
    pub fn kv_width(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// KV head read by query head `h`.
    pub fn kv_head(&self, h: usize) -> usize {
        h / (self.n_heads / self.n_kv_heads)
    }
}

/// Per-query running state of the online softmax.
struct Running {
    max: f32,
    sum: f32,
}

/// Reusable buffers of one attention worker: O(QUERY_TILE * (head_dim + KV_BLOCK)),
/// independent of the context length.
#[derive(Default)]
pub struct AttentionScratch {
    scores: alloc::vec::Vec<f32>,
    q8: alloc::vec::Vec<BlockQ8_0>,
    row: alloc::vec::Vec<f32>,
}

impl AttentionScratch {
    /// Bytes currently held (for memory tests and reports).
    pub fn bytes(&self) -> usize {
        self.scores.capacity() * 4
            + self.q8.capacity() * core::mem::size_of::<BlockQ8_0>()
            + self.row.capacity() * 4
    }
}

/// One query head at absolute position `pos` (it sees keys `0..=pos`): `out =
/// softmax(scale * q . K^T) V`.
#[allow(clippy::too_many_arguments)]
pub fn attend_one(
    ops: &Ops,
    shape: &AttentionShape,
    h: usize,
    q: &[f32],
    pos: usize,
    k: KvRows<'_>,
    v: KvRows<'_>,
    out: &mut [f32],
    scratch: &mut AttentionScratch,
) {
    attend_tile(ops, shape, h, q, pos, k, v, out, scratch);
}

/// Query head `h` of `q.len() / head_dim` consecutive query rows (at most
/// [`QUERY_TILE`] per pass; longer runs are processed tile by tile), the first at absolute
/// position `pos`; `q` and `out` hold one `head_dim` slice per query.
///
/// # Panics
/// If the slices do not match the shape or the cache holds fewer than `pos + queries`
/// rows (caller bugs).
#[allow(clippy::too_many_arguments)]
pub fn attend_tile(
    ops: &Ops,
    shape: &AttentionShape,
    h: usize,
    q: &[f32],
    pos: usize,
    k: KvRows<'_>,
    v: KvRows<'_>,
    out: &mut [f32],
    scratch: &mut AttentionScratch,
) {
    let hd = shape.head_dim;
    assert!(
        hd > 0 && q.len().is_multiple_of(hd) && out.len() == q.len(),
        "query/output shape"
    );
    assert!(
        h < shape.n_heads && shape.n_heads.is_multiple_of(shape.n_kv_heads),
        "head"
    );
    let rows = q.len() / hd;
    let needed = (pos + rows) * shape.kv_width();
    assert!(rows_len(k) >= needed, "K cache shorter than the positions");
    assert!(rows_len(v) >= needed, "V cache shorter than the positions");
    if let KvRows::Q8_0(_) = k {
        assert!(
            hd.is_multiple_of(32),
            "Q8_0 KV cache needs head_dim a multiple of 32"
        );
    }
    for (t, (qt, ot)) in q
        .chunks(QUERY_TILE * hd)
        .zip(out.chunks_mut(QUERY_TILE * hd))
        .enumerate()
    {
        tile(ops, shape, h, qt, pos + t * QUERY_TILE, k, v, ot, scratch);
    }
}

/// Values (not bytes) the cache slice holds.
fn rows_len(rows: KvRows<'_>) -> usize {
    match rows {
        KvRows::F32(r) => r.len(),
        KvRows::F16(r) => r.len(),
        KvRows::Q8_0(r) => r.len() * 32,
    }
}

/// At most QUERY_TILE queries: walk the key blocks once, each query stopping at its own
/// position.
#[allow(clippy::too_many_arguments)]
fn tile(
    ops: &Ops,
    shape: &AttentionShape,
    h: usize,
    q: &[f32],
    pos: usize,
    k: KvRows<'_>,
    v: KvRows<'_>,
    out: &mut [f32],
    scratch: &mut AttentionScratch,
) {
    let hd = shape.head_dim;
    let rows = q.len() / hd;
    let width = shape.kv_width();
    let head_off = shape.kv_head(h) * hd;
    let mut state: [Running; QUERY_TILE] = core::array::from_fn(|_| Running {
        max: f32::NEG_INFINITY,
        sum: 0.0,
    });
    out.fill(0.0);
    scratch.scores.resize(KV_BLOCK, 0.0);
    scratch.row.resize(hd, 0.0);
    if let KvRows::Q8_0(_) = k {
        // Q8_0 keys: the query is quantized too and scores are integer block dots, as
        // llama.cpp does for a quantized K cache.
        scratch.q8.resize(rows * hd / 32, BlockQ8_0::zeroed());
        for (qt, blocks) in q.chunks_exact(hd).zip(scratch.q8.chunks_exact_mut(hd / 32)) {
            if let Err(e) = quantize_blocks(qt, blocks) {
                unreachable!("query head of {hd} values: {e}");
            }
        }
    }
    let last_key = pos + rows; // exclusive: the last query sees keys 0..pos + rows
    let mut start = 0;
    while start < last_key {
        let end = (start + KV_BLOCK).min(last_key);
        for i in 0..rows {
            let visible = (pos + i + 1).min(end);
            if visible <= start {
                continue;
            }
            let n = visible - start;
            let scores = &mut scratch.scores[..n];
            let qi = &q[i * hd..(i + 1) * hd];
            for (j, s) in scores.iter_mut().enumerate() {
                let base = (start + j) * width + head_off;
                let dot = match k {
                    KvRows::F32(r) => ops.dot(qi, &r[base..base + hd]),
                    KvRows::F16(r) => ops.dot_f16(qi, &r[base..base + hd]),
                    KvRows::Q8_0(r) => {
                        let kb = &r[base / 32..(base + hd) / 32];
                        dot_q8_0(kb, &scratch.q8[i * hd / 32..(i + 1) * hd / 32])
                    }
                };
                *s = dot * shape.scale;
            }
            let st = &mut state[i];
            let block_max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let new_max = st.max.max(block_max);
            let acc = &mut out[i * hd..(i + 1) * hd];
            if new_max == f32::NEG_INFINITY {
                // Every score so far is -inf (only possible with infinite inputs):
                // nothing to weigh yet.
                continue;
            }
            if st.max != new_max {
                if st.max != f32::NEG_INFINITY {
                    // Rescale what was accumulated under the old maximum.
                    let mut correction = [st.max - new_max];
                    ops.exp(&mut correction);
                    st.sum *= correction[0];
                    ops.scale(acc, correction[0]);
                }
                st.max = new_max;
            }
            for s in scores.iter_mut() {
                *s -= new_max;
            }
            ops.exp(scores);
            for (j, &p) in scores.iter().enumerate() {
                st.sum += p;
                let base = (start + j) * width + head_off;
                match v {
                    KvRows::F32(r) => ops.axpy(acc, p, &r[base..base + hd]),
                    KvRows::F16(r) => ops.axpy_f16(acc, p, &r[base..base + hd]),
                    KvRows::Q8_0(r) => {
                        let row = &mut scratch.row[..hd];
                        dequantize_q8_0(&r[base / 32..(base + hd) / 32], row);
                        ops.axpy(acc, p, row);
                    }
                }
            }
        }
        start = end;
    }
    for (i, st) in state.iter().enumerate().take(rows) {
        let acc = &mut out[i * hd..(i + 1) * hd];
        // sum >= 1 whenever a finite score was seen (the maximum contributes exp(0)).
        let inv = if st.sum > 0.0 { 1.0 / st.sum } else { 0.0 };
        ops.scale(acc, inv);
    }
}

/// Q8_0 x Q8_0 dot in llama.cpp's order: per block `sumi * (d_k * d_q)`.
fn dot_q8_0(k: &[BlockQ8_0], q: &[BlockQ8_0]) -> f32 {
    let mut sum = 0.0f32;
    for (kb, qb) in k.iter().zip(q) {
        sum += q8_0_q8_0_block_sum(kb, qb) as f32 * (f16_to_f32(kb.d) * f16_to_f32(qb.d));
    }
    sum
}

fn dequantize_q8_0(blocks: &[BlockQ8_0], out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(32)) {
        let d = f16_to_f32(b.d);
        for (x, &q) in o.iter_mut().zip(&b.qs) {
            *x = d * f32::from(q);
        }
    }
}
