//! Non-matmul op throughput per op and tier at the widths of SmolLM2-135M (d 576, ffn
//! 1536, head_dim 64, 9 heads) and SlimLM-125M (d 768, ffn 3072, 12 heads), and softmax
//! rows of 512 and 2048 (attention scores). Reports elements per second.
//!
//! `cargo bench -p slimlm-kernels --bench ops [-- FILTER]`; numbers from qemu mean nothing.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::f32_to_f16;
use slimlm_kernels::ops::{Ops, RopePairing};

fn data(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 * 8.0 - 4.0
        })
        .collect()
}

fn tiers() -> Vec<Ops> {
    Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .map(|isa| Ops::new(isa).unwrap())
        .collect()
}

/// One benchmark group `name/n` with a run per tier of `f(ops, buffers)`.
fn group(c: &mut Criterion, name: &str, n: usize, f: impl Fn(&Ops, &mut [f32], &[f32])) {
    let mut g = c.benchmark_group(format!("{name}/{n}"));
    g.throughput(Throughput::Elements(n as u64));
    let y = data(n, 2);
    let x = data(n, 1);
    for ops in tiers() {
        // A fresh copy of the input each time (not timed): repeated in-place calls would
        // drift into subnormals or infinities, whose speed is not the op's.
        g.bench_function(BenchmarkId::from_parameter(ops.isa()), |b| {
            b.iter_batched_ref(
                || x.clone(),
                |x| f(&ops, black_box(x), black_box(&y)),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

/// As [`group`] for ops that only read `x`: the same input every iteration, so the time
/// is the op's and not that of fetching a fresh copy (a batch of copies outgrows L1,
/// which cost a 576-wide RMSNorm about half its time).
fn group_read_only(c: &mut Criterion, name: &str, n: usize, f: impl Fn(&Ops, &[f32], &[f32])) {
    let mut g = c.benchmark_group(format!("{name}/{n}"));
    g.throughput(Throughput::Elements(n as u64));
    let y = data(n, 2);
    let x = data(n, 1);
    for ops in tiers() {
        g.bench_function(BenchmarkId::from_parameter(ops.isa()), |b| {
            b.iter(|| f(&ops, black_box(&x), black_box(&y)))
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    for n in [576, 768] {
        let w = data(n, 3);
        let bias = data(n, 4);
        let mut out = vec![0.0; n];
        let out = std::cell::RefCell::new(&mut out);
        group_read_only(c, "rms_norm", n, |o, x, _| {
            o.rms_norm(x, &w, 1e-5, &mut out.borrow_mut()[..])
        });
        group_read_only(c, "layer_norm", n, |o, x, _| {
            o.layer_norm(x, &w, &bias, 1e-5, &mut out.borrow_mut()[..])
        });
        group(c, "add", n, |o, x, y| o.add(x, y));
        let mut h = vec![0u16; n];
        let h = std::cell::RefCell::new(&mut h);
        group(c, "f32_to_f16", n, |o, x, _| {
            o.f32_to_f16(x, &mut h.borrow_mut()[..])
        });
    }
    for (heads, head_dim) in [(9, 64), (12, 64)] {
        let (cos, sin): (Vec<f32>, Vec<f32>) = (0..head_dim / 2)
            .map(|j| ((j as f32).cos(), (j as f32).sin()))
            .unzip();
        let n = heads * head_dim;
        group(c, "rope_adjacent", n, |o, x, _| {
            o.rope(x, head_dim, head_dim, RopePairing::Adjacent, &cos, &sin)
        });
        group(c, "rope_half_split", n, |o, x, _| {
            o.rope(x, head_dim, head_dim, RopePairing::HalfSplit, &cos, &sin)
        });
    }
    for n in [512, 2048] {
        group(c, "softmax", n, |o, x, _| o.softmax(x));
        group(c, "exp", n, |o, x, _| o.exp(x));
    }
    for n in [1536, 3072] {
        group(c, "silu_mul", n, |o, x, y| o.silu_mul(x, y));
        group(c, "gelu_erf", n, |o, x, _| o.gelu_erf(x));
        group(c, "gelu_tanh", n, |o, x, _| o.gelu_tanh(x));
        group(c, "add_bias", n, |o, x, y| o.add_bias(x, y));
        group(c, "scale", n, |o, x, _| o.scale(x, 0.999));
        group(c, "erf", n, |o, x, _| o.erf(x));
        group(c, "tanh", n, |o, x, _| o.tanh(x));
    }
    for n in [64, 128] {
        let hk: Vec<u16> = data(n, 5).iter().map(|&v| f32_to_f16(v)).collect();
        group_read_only(c, "dot", n, |o, x, y| {
            black_box(o.dot(x, y));
        });
        group_read_only(c, "dot_f16", n, |o, x, _| {
            black_box(o.dot_f16(x, &hk));
        });
        group(c, "axpy", n, |o, x, y| o.axpy(x, 1e-3, y));
        group(c, "axpy_f16", n, |o, x, _| o.axpy_f16(x, 1e-3, &hk));
        group(c, "f16_to_f32", n, |o, x, _| o.f16_to_f32(&hk, x));
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
