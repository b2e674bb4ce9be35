//! Causal scaled dot-product attention over a KV cache, with an online (flash-style)
//! softmax: keys are visited in blocks of [`KV_BLOCK`] positions, and each query keeps a
//! running maximum, a running sum of exponentials and a rescaled output accumulator, so no
//! score row longer than one block is ever stored. Memory per query is O(head_dim), not
//! O(context).
//!
//! The cache of a layer is a [`LayerCache`], laid out for the kernels: per KV head, K in
//! blocks of [`KV_BLOCK`] positions stored key-major (dimension `i` of the block's 32 keys
//! is one contiguous run, so a score kernel's lanes are keys and no horizontal sum is
//! needed: [`Ops::key_major_scores`]), and V as one row per position (the output
//! accumulates whole rows: [`Ops::accumulate_rows`]). A Q8_0 cache keeps K as rows of
//! blocks too (its scores are integer block dots, like llama.cpp's). A query row holds
//! `n_heads * head_dim` f32; query head `h` reads KV head `h / (n_heads / n_kv_heads)`
//! (grouped-query attention).
//!
//! Sliding-window attention (Gemma 3's local layers): with [`AttentionShape::window`] =
//! `Some(w)`, the query at position `p` sees only the keys `p + 1 - w ..= p` (llama.cpp's
//! `LLAMA_SWA_TYPE_STANDARD`: key `k` is masked when `p - k >= w`). Keys are still visited
//! in the same aligned blocks of [`KV_BLOCK`] positions; a block the window cuts is used
//! from the first visible key on (scores, softmax and values of the keys before it are
//! simply not read), and blocks wholly before the window are skipped. Such layers may keep
//! a ring cache of fewer positions than the context ([`LayerCache::ring`]).
//!
//! Every query's result depends only on its own position and the cache, through the same
//! sequence of operations whether it comes alone (decode) or in a tile (prefill) of
//! [`attend_tile`], so a prompt evaluated in one batch or token by token gives
//! bit-identical outputs, with or without a window.

use alloc::vec;
use alloc::vec::Vec;

use bytemuck::Zeroable;

use crate::formats::{f16_to_f32, quantize_blocks, BlockQ8_0};
use crate::ops::{Ops, KEY_BLOCK};
use crate::reference::dot::q8_0_q8_0_block_sum;

/// Keys per online-softmax block.
pub const KV_BLOCK: usize = KEY_BLOCK;

/// Queries per prefill tile: they share each K/V block (converted to f32 once) while it
/// is in L1.
pub const QUERY_TILE: usize = 16;

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

/// Shape of one attention call.
#[derive(Clone, Copy, Debug)]
pub struct AttentionShape {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    /// Multiplies the raw scores, usually `1/sqrt(head_dim)`.
    pub scale: f32,
    /// Sliding window: the query at position `p` sees keys `p + 1 - w ..= p` only
    /// (`None`: every earlier key).
    pub window: Option<usize>,
}

impl AttentionShape {
    /// The first key position the query at `pos` sees.
    pub fn first_visible(&self, pos: usize) -> usize {
        match self.window {
            Some(w) => (pos + 1).saturating_sub(w),
            None => 0,
        }
    }

    /// Values in one cache row.
    pub fn kv_width(&self) -> usize {
        self.n_kv_heads * self.head_dim
    }

    /// KV head read by query head `h`.
    pub fn kv_head(&self, h: usize) -> usize {
        h / (self.n_heads / self.n_kv_heads)
    }
}

/// K or V storage of a [`LayerCache`].
enum Store {
    F32(Vec<f32>),
    /// f16 bit patterns.
    F16(Vec<u16>),
    Q8_0(Vec<BlockQ8_0>),
}

impl Store {
    fn new(ty: KvType, values: usize) -> Store {
        match ty {
            KvType::F32 => Store::F32(vec![0.0; values]),
            KvType::F16 => Store::F16(vec![0; values]),
            KvType::Q8_0 => Store::Q8_0(vec![BlockQ8_0::zeroed(); values / 32]),
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Store::F32(v) => v.len() * 4,
            Store::F16(v) => v.len() * 2,
            Store::Q8_0(v) => v.len() * core::mem::size_of::<BlockQ8_0>(),
        }
    }
}

/// Why a [`LayerCache`] cannot be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheError {
    /// A Q8_0 cache needs `head_dim` to be a multiple of 32.
    Q8_0HeadDim(usize),
    /// Zero heads or a zero head_dim.
    EmptyShape,
    /// A ring cache needs a window and a batch of at least one position.
    EmptyRing,
}

impl core::fmt::Display for CacheError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CacheError::Q8_0HeadDim(hd) => {
                write!(
                    f,
                    "a q8_0 KV cache needs head_dim a multiple of 32 (it is {hd})"
                )
            }
            CacheError::EmptyShape => write!(f, "a KV cache needs at least one head of one value"),
            CacheError::EmptyRing => {
                write!(
                    f,
                    "a ring KV cache needs a window and a batch of at least 1"
                )
            }
        }
    }
}

/// One layer's K and V for `capacity` slots of every KV head, in the layout the kernels
/// read (see the module docs); position `p` lives in slot `s = p` (a flat cache) or
/// `s = p % capacity` (a ring cache):
/// - K, f32 / f16: value `i` of head `g` in slot `s` is at
///   `((g * blocks + s / KV_BLOCK) * head_dim + i) * KV_BLOCK + s % KV_BLOCK`;
/// - K, Q8_0, and V of every type: row `g * capacity + s` of `head_dim` values.
///
/// As `capacity` is a multiple of [`KV_BLOCK`], an aligned block of positions is an
/// aligned block of slots in either kind of cache.
pub struct LayerCache {
    ty: KvType,
    n_kv_heads: usize,
    head_dim: usize,
    /// Slots, a multiple of [`KV_BLOCK`].
    capacity: usize,
    /// For a ring cache, which positions it holds.
    ring: Option<Ring>,
    k: Store,
    v: Store,
}

/// The positions a ring cache holds: `lo..hi` (every slot written since is newer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ring {
    /// The most positions one [`LayerCache::store`] may write.
    max_store: usize,
    lo: usize,
    hi: usize,
}

impl LayerCache {
    /// A zeroed cache of at least `positions` positions (rounded up to a whole block).
    /// The caller bounds `positions * n_kv_heads * head_dim` (it is allocated twice).
    pub fn new(
        ty: KvType,
        n_kv_heads: usize,
        head_dim: usize,
        positions: usize,
    ) -> Result<LayerCache, CacheError> {
        if n_kv_heads == 0 || head_dim == 0 {
            return Err(CacheError::EmptyShape);
        }
        if ty == KvType::Q8_0 && !head_dim.is_multiple_of(32) {
            return Err(CacheError::Q8_0HeadDim(head_dim));
        }
        let capacity = positions.div_ceil(KV_BLOCK) * KV_BLOCK;
        let values = capacity * n_kv_heads * head_dim;
        Ok(LayerCache {
            ty,
            n_kv_heads,
            head_dim,
            capacity,
            ring: None,
            k: Store::new(ty, values),
            v: Store::new(ty, values),
        })
    }

    /// A ring cache for a sliding-window layer of window `window`, written at most
    /// `max_store` positions at a time: `window + max_store - 1` slots (rounded up to a
    /// whole block), the fewest that keep, while a store of `max_store` positions is
    /// attended, every key its queries see. Memory is independent of the context.
    pub fn ring(
        ty: KvType,
        n_kv_heads: usize,
        head_dim: usize,
        window: usize,
        max_store: usize,
    ) -> Result<LayerCache, CacheError> {
        if window == 0 || max_store == 0 {
            return Err(CacheError::EmptyRing);
        }
        let mut cache = LayerCache::new(ty, n_kv_heads, head_dim, window + max_store - 1)?;
        cache.ring = Some(Ring {
            max_store: cache.capacity + 1 - window,
            lo: 0,
            hi: 0,
        });
        Ok(cache)
    }

    /// The most positions one [`LayerCache::store`] may write (unbounded for a flat cache).
    pub fn max_store(&self) -> usize {
        self.ring.map_or(usize::MAX, |r| r.max_store)
    }

    /// Whether the cache is a ring (slots reused modulo the capacity).
    pub fn is_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// The oldest position a ring cache still holds (0 for a flat cache).
    pub fn oldest(&self) -> usize {
        self.ring.map_or(0, |r| r.lo)
    }

    /// The slot of position `p`.
    fn slot(&self, p: usize) -> usize {
        match self.ring {
            Some(_) => p % self.capacity,
            None => p,
        }
    }

    pub fn kv_type(&self) -> KvType {
        self.ty
    }

    /// Slots of the cache (a multiple of [`KV_BLOCK`]): the positions a flat cache holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes allocated for K and V.
    pub fn bytes(&self) -> usize {
        self.k.bytes() + self.v.bytes()
    }

    /// Stores the K and V rows (`n_kv_heads * head_dim` values each, head-major) of
    /// consecutive positions from `pos` on. In a ring cache, positions from `pos + rows`
    /// on are forgotten (as after a rewind) and the oldest ones give way.
    ///
    /// # Panics
    /// If the rows are not whole, go past a flat cache's capacity or are more than a ring
    /// cache's [`LayerCache::max_store`] (a caller bug).
    pub fn store(&mut self, ops: &Ops, pos: usize, k: &[f32], v: &[f32]) {
        let (hd, width) = (self.head_dim, self.n_kv_heads * self.head_dim);
        assert!(
            k.len() == v.len() && k.len().is_multiple_of(width),
            "K/V rows of {width} values"
        );
        let rows = k.len() / width;
        match &mut self.ring {
            None => assert!(pos + rows <= self.capacity, "K/V rows past the cache"),
            Some(ring) => {
                assert!(rows <= ring.max_store, "more K/V rows than the ring takes");
                let hi = pos + rows;
                // Positions lo..pos survive unless their slots were just rewritten, which
                // happens to those more than `capacity` behind the new end.
                ring.lo = if (ring.lo..=ring.hi).contains(&pos) {
                    ring.lo.max(hi.saturating_sub(self.capacity))
                } else {
                    pos
                };
                ring.hi = hi;
            }
        }
        let blocks = self.capacity / KV_BLOCK;
        for (t, (kr, vr)) in k.chunks_exact(width).zip(v.chunks_exact(width)).enumerate() {
            let p = self.slot(pos + t);
            for (g, (kh, vh)) in kr.chunks_exact(hd).zip(vr.chunks_exact(hd)).enumerate() {
                let row = (g * self.capacity + p) * hd;
                write_row(ops, &mut self.v, row, vh);
                match &mut self.k {
                    Store::Q8_0(_) => write_row(ops, &mut self.k, row, kh),
                    Store::F32(c) => {
                        let base = (g * blocks + p / KV_BLOCK) * hd * KV_BLOCK + p % KV_BLOCK;
                        for (i, &x) in kh.iter().enumerate() {
                            c[base + i * KV_BLOCK] = x;
                        }
                    }
                    Store::F16(c) => {
                        let base = (g * blocks + p / KV_BLOCK) * hd * KV_BLOCK + p % KV_BLOCK;
                        // Converted with the tier's op (F16C / NEON), then scattered.
                        let mut bits = [0u16; 64];
                        for (part, xs) in kh.chunks(64).enumerate() {
                            let bits = &mut bits[..xs.len()];
                            ops.f32_to_f16(xs, bits);
                            for (i, &b) in bits.iter().enumerate() {
                                c[base + (part * 64 + i) * KV_BLOCK] = b;
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Writes one row of values at value offset `at` of a row-major store.
fn write_row(ops: &Ops, store: &mut Store, at: usize, x: &[f32]) {
    match store {
        Store::F32(c) => c[at..at + x.len()].copy_from_slice(x),
        Store::F16(c) => ops.f32_to_f16(x, &mut c[at..at + x.len()]),
        Store::Q8_0(c) => {
            let blocks = &mut c[at / 32..(at + x.len()) / 32];
            if let Err(e) = quantize_blocks(x, blocks) {
                unreachable!("K/V row of {} values: {e}", x.len());
            }
        }
    }
}

/// Per-query running state of the online softmax.
struct Running {
    max: f32,
    sum: f32,
}

/// Reusable buffers of one attention worker: O(head_dim * KV_BLOCK), independent of the
/// context length.
#[derive(Default)]
pub struct AttentionScratch {
    scores: Vec<f32>,
    q8: Vec<BlockQ8_0>,
    /// The current block's K (key-major) and V rows as f32.
    k_block: Vec<f32>,
    v_block: Vec<f32>,
}

impl AttentionScratch {
    /// Bytes currently held (for memory tests and reports).
    pub fn bytes(&self) -> usize {
        (self.scores.capacity() + self.k_block.capacity() + self.v_block.capacity()) * 4
            + self.q8.capacity() * core::mem::size_of::<BlockQ8_0>()
    }
}

/// Query head `h` of `q.len() / head_dim` consecutive query rows (processed in tiles of
/// [`QUERY_TILE`]), the first at absolute position `pos` (query `t` sees keys
/// `0..=pos + t`); `q` and `out` hold one `head_dim` slice per query:
/// `out = softmax(scale * q . K^T) V`.
///
/// # Panics
/// If the shapes disagree with each other or with the cache, or the queries reach past
/// the cache (caller bugs).
#[allow(clippy::too_many_arguments)]
pub fn attend_tile(
    ops: &Ops,
    shape: &AttentionShape,
    h: usize,
    q: &[f32],
    pos: usize,
    cache: &LayerCache,
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
    assert!(
        cache.head_dim == hd && cache.n_kv_heads == shape.n_kv_heads,
        "cache shape"
    );
    let rows = q.len() / hd;
    match cache.ring {
        None => assert!(pos + rows <= cache.capacity, "queries past the cache"),
        Some(ring) => assert!(
            shape.window.is_some()
                && (rows == 0 || (pos + rows <= ring.hi && shape.first_visible(pos) >= ring.lo)),
            "queries outside the ring cache's positions"
        ),
    }
    for (t, (qt, ot)) in q
        .chunks(QUERY_TILE * hd)
        .zip(out.chunks_mut(QUERY_TILE * hd))
        .enumerate()
    {
        tile(ops, shape, h, qt, pos + t * QUERY_TILE, cache, ot, scratch);
    }
}

/// Up to [`QUERY_TILE`] queries: for every block of keys, K and V are made f32 once, then
/// each query that sees part of the block takes its scores and folds them into its
/// running softmax and output.
#[allow(clippy::too_many_arguments)]
fn tile(
    ops: &Ops,
    shape: &AttentionShape,
    h: usize,
    q: &[f32],
    pos: usize,
    cache: &LayerCache,
    out: &mut [f32],
    scratch: &mut AttentionScratch,
) {
    let hd = shape.head_dim;
    let rows = q.len() / hd;
    let g = shape.kv_head(h);
    let mut state: [Running; QUERY_TILE] = core::array::from_fn(|_| Running {
        max: f32::NEG_INFINITY,
        sum: 0.0,
    });
    out.fill(0.0);
    scratch.scores.resize(KV_BLOCK, 0.0);
    scratch.k_block.resize(hd * KV_BLOCK, 0.0);
    scratch.v_block.resize(hd * KV_BLOCK, 0.0);
    if let Store::Q8_0(_) = cache.k {
        scratch.q8.resize(rows * hd / 32, BlockQ8_0::zeroed());
        for (qt, blocks) in q.chunks_exact(hd).zip(scratch.q8.chunks_exact_mut(hd / 32)) {
            if let Err(e) = quantize_blocks(qt, blocks) {
                unreachable!("query head of {hd} values: {e}");
            }
        }
    }
    let blocks = cache.capacity / KV_BLOCK;
    // Exclusive: the last query sees keys up to pos + rows - 1.
    let last_key = pos + rows;
    // The aligned block holding the first query's first visible key.
    let mut start = shape.first_visible(pos) / KV_BLOCK * KV_BLOCK;
    while start < last_key {
        let end = (start + KV_BLOCK).min(last_key);
        let n = end - start;
        // Slot of the block's first position: an aligned block of slots in either cache.
        let slot = cache.slot(start);
        // This block's K (key-major, f32/f16 caches) and its V rows as f32.
        let kt_at = (g * blocks + slot / KV_BLOCK) * hd * KV_BLOCK;
        let kt: &[f32] = match &cache.k {
            Store::F32(c) => &c[kt_at..kt_at + hd * KV_BLOCK],
            Store::F16(c) => {
                ops.f16_to_f32(&c[kt_at..kt_at + hd * KV_BLOCK], &mut scratch.k_block);
                &scratch.k_block
            }
            Store::Q8_0(_) => &[],
        };
        let v_at = (g * cache.capacity + slot) * hd;
        let v_rows: &[f32] = match &cache.v {
            Store::F32(c) => &c[v_at..v_at + n * hd],
            Store::F16(c) => {
                let vb = &mut scratch.v_block[..n * hd];
                ops.f16_to_f32(&c[v_at..v_at + n * hd], vb);
                vb
            }
            Store::Q8_0(c) => {
                let vb = &mut scratch.v_block[..n * hd];
                dequantize_q8_0(&c[v_at / 32..(v_at + n * hd) / 32], vb);
                vb
            }
        };
        for i in 0..rows {
            // Keys start + a .. start + b of this block are visible to query i.
            let visible = (pos + i + 1).min(end);
            let first = shape.first_visible(pos + i).max(start);
            if visible <= first {
                continue;
            }
            let (a, b) = (first - start, visible - start);
            let qi = &q[i * hd..(i + 1) * hd];
            match &cache.k {
                Store::Q8_0(c) => {
                    let qb = &scratch.q8[i * hd / 32..(i + 1) * hd / 32];
                    for (j, s) in scratch.scores[a..b].iter_mut().enumerate() {
                        let row = ((g * cache.capacity + slot + a + j) * hd) / 32;
                        *s = dot_q8_0(&c[row..row + hd / 32], qb) * shape.scale;
                    }
                }
                _ => ops.key_major_scores(qi, kt, shape.scale, &mut scratch.scores),
            }
            let scores = &mut scratch.scores[a..b];
            let st = &mut state[i];
            let (new_max, block_sum) = ops.online_softmax_block(scores, st.max);
            let acc = &mut out[i * hd..(i + 1) * hd];
            if new_max == f32::NEG_INFINITY {
                continue;
            }
            if st.max != new_max {
                if st.max != f32::NEG_INFINITY {
                    let mut correction = [st.max - new_max];
                    ops.exp(&mut correction);
                    st.sum *= correction[0];
                    ops.scale(acc, correction[0]);
                }
                st.max = new_max;
            }
            st.sum += block_sum;
            ops.accumulate_rows(acc, scores, &v_rows[a * hd..b * hd]);
        }
        start = end;
    }
    for (i, st) in state.iter().enumerate().take(rows) {
        let acc = &mut out[i * hd..(i + 1) * hd];
        let inv = if st.sum > 0.0 { 1.0 / st.sum } else { 0.0 };
        ops.scale(acc, inv);
    }
}

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
