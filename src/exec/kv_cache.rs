//! The key/value cache of a session: one [`LayerCache`] per layer (K and V of every
//! position, stored as f32, f16 or Q8_0 in the layout the attention kernels read). Layers
//! that attend through a sliding window keep only a ring of `window + max_store - 1`
//! positions when that is fewer than the context ([`LayerCache::ring`]).

use slimlm_kernels::attention::{CacheError, KvType, LayerCache};
use slimlm_kernels::ops::Ops;

/// K and V of `capacity` positions for every layer.
pub struct KvCache {
    layers: Vec<LayerCache>,
    /// The sliding window of each layer (`None`: a global layer).
    windows: Vec<Option<usize>>,
    capacity: usize,
    ty: KvType,
}

impl KvCache {
    /// Allocates the cache for `capacity` positions: a flat cache for every layer whose
    /// `windows` entry is `None`, and for a windowed layer a ring cache taking batches of
    /// up to `max_store` positions, when it is smaller than the flat one. The caller
    /// bounded `capacity * n_kv_heads * head_dim`.
    pub fn new(
        ty: KvType,
        windows: &[Option<usize>],
        n_kv_heads: usize,
        head_dim: usize,
        capacity: usize,
        max_store: usize,
    ) -> Result<KvCache, CacheError> {
        let layers = windows
            .iter()
            .map(|window| match window {
                Some(w) if w.saturating_add(max_store) <= capacity => {
                    LayerCache::ring(ty, n_kv_heads, head_dim, *w, max_store)
                }
                _ => LayerCache::new(ty, n_kv_heads, head_dim, capacity),
            })
            .collect::<Result<_, _>>()?;
        Ok(KvCache {
            layers,
            windows: windows.to_vec(),
            capacity,
            ty,
        })
    }

    /// Positions the cache holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Storage format of the rows.
    pub fn kv_type(&self) -> KvType {
        self.ty
    }

    /// Bytes allocated for K and V.
    pub fn bytes(&self) -> usize {
        self.layers.iter().map(LayerCache::bytes).sum()
    }

    /// Bytes allocated for K and V of each layer.
    pub fn layer_bytes(&self) -> Vec<usize> {
        self.layers.iter().map(LayerCache::bytes).collect()
    }

    /// The cache of `layer`.
    pub fn layer(&self, layer: usize) -> &LayerCache {
        &self.layers[layer]
    }

    /// Stores consecutive rows of K and V for `layer` starting at position `pos`.
    pub fn store(&mut self, ops: &Ops, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        self.layers[layer].store(ops, pos, k, v);
    }

    /// Whether evaluation can go on at position `pos` after a rewind: every ring cache
    /// still holds the keys the query at `pos` sees (those of its window before it).
    pub fn can_resume_at(&self, pos: usize) -> bool {
        self.layers.iter().zip(&self.windows).all(|(l, w)| {
            let needed = w.map_or(0, |w| (pos + 1).saturating_sub(w));
            !l.is_ring() || pos == 0 || l.oldest() <= needed
        })
    }
}
