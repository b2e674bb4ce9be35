//! The key/value cache of a session: one K and one V row per position and layer, stored
//! as f32, f16 or Q8_0 ([`KvType`]).

use bytemuck::Zeroable;
use slimlm_kernels::attention::{KvRows, KvType};
use slimlm_kernels::formats::{quantize_blocks, BlockQ8_0};
use slimlm_kernels::ops::Ops;

/// One layer's K or V rows.
enum Rows {
    F32(Vec<f32>),
    F16(Vec<u16>),
    Q8_0(Vec<BlockQ8_0>),
}

impl Rows {
    fn new(ty: KvType, values: usize) -> Rows {
        match ty {
            KvType::F32 => Rows::F32(vec![0.0; values]),
            KvType::F16 => Rows::F16(vec![0; values]),
            KvType::Q8_0 => Rows::Q8_0(vec![BlockQ8_0::zeroed(); values / 32]),
        }
    }

    fn view(&self) -> KvRows<'_> {
        match self {
            Rows::F32(r) => KvRows::F32(r),
            Rows::F16(r) => KvRows::F16(r),
            Rows::Q8_0(r) => KvRows::Q8_0(r),
        }
    }

    /// Writes `x` (whole rows) starting at value offset `at`.
    fn write(&mut self, ops: &Ops, at: usize, x: &[f32]) {
        match self {
            Rows::F32(r) => r[at..at + x.len()].copy_from_slice(x),
            Rows::F16(r) => ops.f32_to_f16(x, &mut r[at..at + x.len()]),
            Rows::Q8_0(r) => {
                let blocks = &mut r[at / 32..(at + x.len()) / 32];
                if let Err(e) = quantize_blocks(x, blocks) {
                    unreachable!("KV rows of {} values: {e}", x.len());
                }
            }
        }
    }
}

/// K and V rows of `capacity` positions for every layer; a row holds `kv_width` values
/// (KV heads x head_dim, head-major).
pub struct KvCache {
    layers: Vec<(Rows, Rows)>,
    kv_width: usize,
    capacity: usize,
    ty: KvType,
}

impl KvCache {
    /// Allocates the cache; `capacity * kv_width` was bounded by the caller, and for Q8_0
    /// `kv_width` is a multiple of 32.
    pub fn new(ty: KvType, n_layers: usize, kv_width: usize, capacity: usize) -> KvCache {
        let size = capacity * kv_width;
        KvCache {
            layers: (0..n_layers)
                .map(|_| (Rows::new(ty, size), Rows::new(ty, size)))
                .collect(),
            kv_width,
            capacity,
            ty,
        }
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
        self.layers.len() * 2 * self.capacity * self.ty.row_bytes(self.kv_width)
    }

    /// The K and V rows of `layer`, all positions.
    pub fn layer(&self, layer: usize) -> (KvRows<'_>, KvRows<'_>) {
        let (k, v) = &self.layers[layer];
        (k.view(), v.view())
    }

    /// Stores consecutive rows of K and V for `layer` starting at position `pos`.
    pub fn store(&mut self, ops: &Ops, layer: usize, pos: usize, k: &[f32], v: &[f32]) {
        let at = pos * self.kv_width;
        let (kc, vc) = &mut self.layers[layer];
        kc.write(ops, at, k);
        vc.write(ops, at, v);
    }
}
