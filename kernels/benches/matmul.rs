//! Panel matmul throughput per format and tier at the real shapes of SmolLM2-135M and
//! SlimLM-125M ([`bench_set::SHAPES`], `k x n`; GEMV = one activation row, GEMM = 64 rows),
//! and the activation quantizers at the models' row widths. Matmuls report int8
//! multiply-accumulates per second (criterion's "elements"; GOP/s = 2 x Gelem/s);
//! quantizers report input bytes per second.
//!
//! Run on the device itself (`cargo bench -p slimlm-kernels --bench matmul`); numbers
//! from qemu mean nothing. `slimlm bench --kernels` runs the same set without cargo.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slimlm_kernels::bench_set::{self, QuantizedRows};
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::{quantize_blocks, BlockQ8_0, BlockQ8_1, QuantizeBlock};
use slimlm_kernels::matmul::Kernels;

fn matmuls(c: &mut Criterion) {
    let tiers: Vec<Kernels> = Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .map(|isa| Kernels::new(isa).expect("available tier"))
        .collect();
    for ty in bench_set::FORMATS {
        for shape in bench_set::shapes_for(ty) {
            let w = bench_set::weights(ty, shape.k, shape.n).expect("pack");
            for m in bench_set::BATCHES {
                let rows = QuantizedRows::new(m, shape.k).expect("quantize");
                let acts = rows.for_weights(ty);
                let mut out = vec![0.0f32; m * w.groups() * 4];
                let mut group = c.benchmark_group(format!(
                    "{}_{}x{}_m{m}",
                    ty.name().to_lowercase(),
                    shape.k,
                    shape.n
                ));
                group.throughput(Throughput::Elements(bench_set::macs(shape, m)));
                group.sample_size(10);
                for k in &tiers {
                    if k.isa() == Isa::Scalar && bench_set::macs(shape, m) > 1 << 24 {
                        continue; // minutes per sample: not worth waiting for
                    }
                    group.bench_function(BenchmarkId::from_parameter(k.isa()), |b| {
                        b.iter(|| {
                            k.gemm(&w, 0..w.groups(), acts, m, &mut out, w.groups() * 4)
                                .expect("gemm")
                        })
                    });
                }
                group.finish();
            }
        }
    }
}

/// The quantizer the runtime calls ([`quantize_blocks`]) for each activation format.
fn quantizers(c: &mut Criterion) {
    fn one<B: QuantizeBlock>(c: &mut Criterion, name: &str, width: usize) {
        let x = bench_set::activation_values(1, width);
        let mut out = vec![B::zeroed(); width / B::ELEMS];
        let mut group = c.benchmark_group(format!("quantize_{name}_{width}"));
        group.throughput(Throughput::Bytes((width * 4) as u64));
        group.bench_function("quantize_blocks", |b| {
            b.iter(|| quantize_blocks(&x, &mut out).expect("quantize"))
        });
        group.finish();
    }
    for width in bench_set::ACTIVATION_WIDTHS {
        one::<BlockQ8_0>(c, "q8_0", width);
        one::<BlockQ8_1>(c, "q8_1", width);
    }
}

criterion_group!(benches, matmuls, quantizers);
criterion_main!(benches);
