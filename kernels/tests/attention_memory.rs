//! Attention at a 2048-token context in SlimLM-125M's shape (12 heads of 64, no GQA)
//! allocates O(head_dim + KV_BLOCK) scratch per worker, not a context x context score
//! matrix: a counting allocator measures the peak heap growth of a whole prefill.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use slimlm_kernels::attention::{
    attend_tile, AttentionScratch, AttentionShape, KvType, LayerCache,
};
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::ops::Ops;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(live, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn prefill_of_2048_tokens_allocates_no_score_matrix() {
    const CONTEXT: usize = 2048;
    let shape = AttentionShape {
        n_heads: 12,
        n_kv_heads: 12,
        head_dim: 64,
        scale: 0.125,
        window: None,
    };
    let width = shape.kv_width();
    let value = |i: usize| ((i * 7919 % 1000) as f32 / 1000.0) - 0.5;
    let k: Vec<f32> = (0..CONTEXT * width).map(value).collect();
    let v: Vec<f32> = (0..CONTEXT * width).map(|i| value(i + 1)).collect();
    let q: Vec<f32> = (0..CONTEXT * 64).map(|i| value(i + 2)).collect();
    let mut out = vec![0.0f32; CONTEXT * 64];
    let ops = Ops::new(Isa::detect()).unwrap();
    let mut cache =
        LayerCache::new(KvType::F16, shape.n_kv_heads, shape.head_dim, CONTEXT).unwrap();
    cache.store(&ops, 0, &k, &v);
    assert_eq!(cache.bytes(), 2 * CONTEXT * width * 2);

    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let mut scratch = AttentionScratch::default();
    // One head is enough: each head is an independent call with the same scratch, and
    // every head of the model has this shape.
    for h in 0..1 {
        attend_tile(&ops, &shape, h, &q, 0, &cache, &mut out, &mut scratch);
    }
    let scratch_bytes = scratch.bytes();
    drop(scratch);
    let growth = PEAK.load(Ordering::SeqCst) - before;
    let score_matrix = shape.n_heads * CONTEXT * CONTEXT * 4; // what a naive prefill stores
    let cache = 2 * CONTEXT * width * 2;
    eprintln!(
        "attention over {CONTEXT} positions x {} heads: peak heap growth {growth} bytes \
         (scratch {scratch_bytes}); the KV cache is {cache} bytes, a full score matrix \
         would be {score_matrix}",
        shape.n_heads
    );
    // The scratch is one block of K and V as f32 (2 x 64 x 32 x 4 bytes) plus 32 scores:
    // O(head_dim x KV_BLOCK), whatever the context.
    assert!(growth <= 24 * 1024, "attention allocated {growth} bytes");
    assert!(out.iter().all(|x| x.is_finite()));
}
