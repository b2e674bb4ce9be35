//! Attention throughput per tier at SmolLM2-135M's shape (9 heads, 3 KV heads, head_dim
//! 64) and SlimLM-125M's (12 heads of 64): decode (one query, every head) over an f16 or
//! Q8_0 KV cache at 512 and 2048 cached positions, reporting cached positions read per
//! second (criterion's "elements": positions x heads); and causal prefill of a 512-token
//! prompt over an f16 cache, reporting query-key pairs per second (pairs x heads).
//!
//! Compare tiers within one run (`cargo bench -p slimlm-kernels --bench attention`); on a
//! phone run it on the device, never under qemu.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slimlm_kernels::attention::{
    attend_tile, AttentionScratch, AttentionShape, KvType, LayerCache,
};
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::ops::Ops;

fn values(n: usize, salt: usize) -> Vec<f32> {
    (0..n)
        .map(|i| ((i * 7919 + salt * 104_729) % 2001) as f32 / 1000.0 - 1.0)
        .collect()
}

/// The benchmarked models' attention: `heads` query heads and `kv_heads` KV heads of 64.
fn shape_of(heads: usize, kv_heads: usize) -> AttentionShape {
    AttentionShape {
        n_heads: heads,
        n_kv_heads: kv_heads,
        head_dim: 64,
        scale: 0.125,
        window: None,
    }
}

fn decode(c: &mut Criterion) {
    let shapes = [("smollm2", 9, 3), ("slimlm", 12, 12)];
    let mut group = c.benchmark_group("attention_decode");
    for (model, heads, kv_heads) in shapes {
        for context in [512usize, 2048] {
            let shape = shape_of(heads, kv_heads);
            let width = shape.kv_width();
            let k = values(context * width, 1);
            let v = values(context * width, 2);
            let q = values(heads * 64, 3);
            group.throughput(Throughput::Elements((context * heads) as u64));
            for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
                let ops = Ops::new(isa).unwrap();
                for ty in [KvType::F16, KvType::Q8_0] {
                    let mut cache = LayerCache::new(ty, kv_heads, 64, context).unwrap();
                    cache.store(&ops, 0, &k, &v);
                    let kv_name = ty.name();
                    let id = format!("{model}/{kv_name}/ctx{context}/{isa}");
                    let mut out = vec![0.0f32; heads * 64];
                    let mut scratch = AttentionScratch::default();
                    group.bench_function(BenchmarkId::from_parameter(id), |b| {
                        b.iter(|| {
                            for (h, (qh, oh)) in
                                q.chunks_exact(64).zip(out.chunks_exact_mut(64)).enumerate()
                            {
                                attend_tile(
                                    &ops,
                                    &shape,
                                    h,
                                    qh,
                                    context - 1,
                                    &cache,
                                    oh,
                                    &mut scratch,
                                );
                            }
                        })
                    });
                }
            }
        }
    }
    group.finish();
}

fn prefill(c: &mut Criterion) {
    let shapes = [("smollm2", 9, 3), ("slimlm", 12, 12)];
    let tokens = 512usize;
    let mut group = c.benchmark_group("attention_prefill");
    group.sample_size(20);
    for (model, heads, kv_heads) in shapes {
        let shape = shape_of(heads, kv_heads);
        let width = shape.kv_width();
        let k = values(tokens * width, 1);
        let v = values(tokens * width, 2);
        // One head's queries for every position, head after head.
        let q = values(heads * tokens * 64, 3);
        let pairs = tokens * (tokens + 1) / 2;
        group.throughput(Throughput::Elements((pairs * heads) as u64));
        for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
            let ops = Ops::new(isa).unwrap();
            let mut cache = LayerCache::new(KvType::F16, kv_heads, 64, tokens).unwrap();
            cache.store(&ops, 0, &k, &v);
            let mut out = vec![0.0f32; heads * tokens * 64];
            let mut scratch = AttentionScratch::default();
            let id = format!("{model}/f16/prompt{tokens}/{isa}");
            group.bench_function(BenchmarkId::from_parameter(id), |b| {
                b.iter(|| {
                    let per_head = tokens * 64;
                    let heads_q = q.chunks_exact(per_head).zip(out.chunks_exact_mut(per_head));
                    for (h, (qh, oh)) in heads_q.enumerate() {
                        attend_tile(&ops, &shape, h, qh, 0, &cache, oh, &mut scratch);
                    }
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, decode, prefill);
criterion_main!(benches);
