//! The key/value cache of a session: one K and one V row per position and layer.

/// K and V rows of `capacity` positions for every layer, f32, row = `kv_width` values
/// (KV heads x head_dim, head-major).
pub struct KvCache {
    layers: Vec<(Vec<f32>, Vec<f32>)>,
    kv_width: usize,
    capacity: usize,
}

impl KvCache {
    /// Allocates the cache; `capacity * kv_width` was bounded by the caller.
    pub fn new(n_layers: usize, kv_width: usize, capacity: usize) -> KvCache {
        let size = capacity * kv_width;
        KvCache {
            layers: (0..n_layers)
                .map(|_| (vec![0.0; size], vec![0.0; size]))
                .collect(),
            kv_width,
            capacity,
        }
    }

    /// Positions the cache holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes allocated for K and V.
    pub fn bytes(&self) -> usize {
        self.layers.len() * 2 * self.capacity * self.kv_width * std::mem::size_of::<f32>()
    }

    /// The K and V rows of `layer`, all positions.
    pub fn layer(&self, layer: usize) -> (&[f32], &[f32]) {
        let (k, v) = &self.layers[layer];
        (k, v)
    }

    /// Stores `n` consecutive rows of K and V for `layer` starting at position `pos`.
    pub fn store(&mut self, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        let w = self.kv_width;
        let (kc, vc) = &mut self.layers[layer];
        kc[pos * w..pos * w + k.len()].copy_from_slice(k);
        vc[pos * w..pos * w + v.len()].copy_from_slice(v);
    }
}
