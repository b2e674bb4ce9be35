//! Panel matmul throughput per format and tier at the real shapes of SmolLM2-135M and
//! SlimLM-125M (rows x cols of the weight; GEMV = one activation row, GEMM = 64 rows).
//! Reports int8 multiply-accumulates per second (criterion's "elements").
//!
//! Run on the device itself (`cargo bench -p slimlm-kernels --bench matmul`); numbers
//! from qemu mean nothing.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::{
    f32_to_f16, BlockQ4_0, BlockQ4_1, BlockQ8_0, BlockQ8_1, GgmlType, QuantizeBlock,
};
use slimlm_kernels::matmul::{Activations, Kernels};
use slimlm_kernels::pack::PackedMatrix;

/// (rows, cols) of the weight matrices: SmolLM2-135M, then SlimLM-125M, then the tied heads.
const SHAPES: &[(usize, usize)] = &[
    (576, 576),
    (1536, 576),
    (576, 1536),
    (2304, 768),
    (3072, 768),
    (768, 3072),
    (49152, 576),
    (50368, 768),
];

fn weights(ty: GgmlType, rows: usize, cols: usize) -> PackedMatrix {
    let n = rows * cols / 32;
    let mut seed = 0x1234_5678u32;
    let mut byte = || {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (seed >> 24) as u8
    };
    let d = f32_to_f16(0.01);
    let bytes: Vec<u8> = match ty {
        GgmlType::Q8_0 => bytemuck::cast_slice(
            &(0..n)
                .map(|_| BlockQ8_0 {
                    d,
                    qs: core::array::from_fn(|_| byte() as i8),
                })
                .collect::<Vec<_>>(),
        )
        .to_vec(),
        GgmlType::Q4_0 => bytemuck::cast_slice(
            &(0..n)
                .map(|_| BlockQ4_0 {
                    d,
                    qs: core::array::from_fn(|_| byte()),
                })
                .collect::<Vec<_>>(),
        )
        .to_vec(),
        _ => bytemuck::cast_slice(
            &(0..n)
                .map(|_| BlockQ4_1 {
                    d,
                    m: d,
                    qs: core::array::from_fn(|_| byte()),
                })
                .collect::<Vec<_>>(),
        )
        .to_vec(),
    };
    PackedMatrix::pack(ty, &bytes, rows, cols).expect("pack")
}

fn bench(c: &mut Criterion) {
    let tiers: Vec<Kernels> = Isa::ALL
        .into_iter()
        .filter(|isa| isa.is_available())
        .map(|isa| Kernels::new(isa).expect("available tier"))
        .collect();
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1] {
        for &(rows, cols) in SHAPES {
            let w = weights(ty, rows, cols);
            for m in [1usize, 64] {
                let x: Vec<f32> = (0..m * cols)
                    .map(|i| ((i * 7919) % 255) as f32 - 127.0)
                    .collect();
                let q8_0: Vec<BlockQ8_0> = x.chunks(32).map(BlockQ8_0::quantize).collect();
                let q8_1: Vec<BlockQ8_1> = x.chunks(32).map(BlockQ8_1::quantize).collect();
                let acts = match ty {
                    GgmlType::Q4_1 => Activations::Q8_1(&q8_1),
                    _ => Activations::Q8_0(&q8_0),
                };
                let mut out = vec![0.0f32; m * w.groups() * 4];
                let mut group = c.benchmark_group(format!(
                    "{}_{}x{}_m{m}",
                    ty.name().to_lowercase(),
                    rows,
                    cols
                ));
                group.throughput(Throughput::Elements((m * rows * cols) as u64));
                group.sample_size(10);
                for k in &tiers {
                    if k.isa() == Isa::Scalar && rows * cols * m > 1 << 24 {
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

criterion_group!(benches, bench);
criterion_main!(benches);
