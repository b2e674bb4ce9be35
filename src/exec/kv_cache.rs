//! The key/value cache of a session: one [`LayerCache`] per layer (K and V of every
//! position, stored as f32, f16 or Q8_0 in the layout the attention kernels read).

use slimlm_kernels::attention::{CacheError, KvType, LayerCache};
use slimlm_kernels::ops::Ops;

/// K and V of `capacity` positions for every layer.
pub struct KvCache {
    layers: Vec<LayerCache>,
    capacity: usize,
    ty: KvType,
}

impl KvCache {
    /// Allocates the cache; the caller bounded `capacity * n_kv_heads * head_dim`.
    pub fn new(
        ty: KvType,
        n_layers: usize,
        n_kv_heads: usize,
        head_dim: usize,
        capacity: usize,
    ) -> Result<KvCache, CacheError> {
        Ok(KvCache {
            layers: (0..n_layers)
                .map(|_| LayerCache::new(ty, n_kv_heads, head_dim, capacity))
                .collect::<Result<_, _>>()?,
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

    /// The cache of `layer`.
    pub fn layer(&self, layer: usize) -> &LayerCache {
        &self.layers[layer]
    }

    /// Stores consecutive rows of K and V for `layer` starting at position `pos`.
    pub fn store(&mut self, ops: &Ops, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        self.layers[layer].store(ops, pos, k, v);
    }
}
