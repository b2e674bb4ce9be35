//! `slimlm bench --kernels`: the kernel microbenchmarks of `cargo bench -p slimlm-kernels`
//! ([`slimlm_kernels::bench_set`]) without cargo, for phones: every panel matmul format x
//! available tier x shape x batch on one thread, and the activation quantizers.

use std::time::{Duration, Instant};

use serde::Serialize;

use slimlm_kernels::bench_set::{self, QuantizedRows};
use slimlm_kernels::dispatch::Isa;
use slimlm_kernels::formats::{quantize_blocks, BlockQ8_0, BlockQ8_1, FormatError, QuantizeBlock};
use slimlm_kernels::matmul::{Kernels, MatmulError};

/// One measured kernel call.
#[derive(Clone, Debug, Serialize)]
pub struct KernelResult {
    /// "matmul" or "quantize".
    pub op: &'static str,
    /// Weight format (matmul) or activation format (quantize).
    pub format: String,
    /// "k x n" of the weight (matmul) or the row width (quantize).
    pub shape: String,
    pub role: &'static str,
    /// Activation rows.
    pub m: usize,
    pub tier: String,
    pub kernel: &'static str,
    pub calls: u64,
    pub us_per_call: f64,
    /// Giga-operations per second (a multiply-accumulate is 2); 0 for quantizers.
    pub gops: f64,
    /// Weight bytes (matmul) or input f32 bytes (quantize) per second, in GB/s.
    pub gb_per_s: f64,
}

/// What the set covers.
#[derive(Clone, Copy, Debug)]
pub struct KernelSetOptions {
    /// Smoke run: the first shape, decode only, one call each (numbers are meaningless).
    pub quick: bool,
    /// Time spent per measurement (after one warm-up call).
    pub min_time: Duration,
}

/// Why the set could not run (a bug: the shapes are constants).
#[derive(Debug, thiserror::Error)]
pub enum KernelSetError {
    #[error("building operands: {0}")]
    Format(#[from] FormatError),
    #[error("kernel call: {0}")]
    Matmul(MatmulError),
}

/// Calls `f` once to warm up, then until `min_time` has passed (once when `quick`);
/// returns the calls and the mean time per call.
fn time<E>(
    options: KernelSetOptions,
    mut f: impl FnMut() -> Result<(), E>,
) -> Result<(u64, f64), E> {
    f()?;
    let start = Instant::now();
    let mut calls = 0u64;
    loop {
        f()?;
        calls += 1;
        if options.quick || start.elapsed() >= options.min_time {
            break;
        }
    }
    Ok((calls, start.elapsed().as_secs_f64() / calls as f64))
}

/// Runs the whole set; `progress` sees each result as it comes (long runs on phones).
pub fn run(
    options: KernelSetOptions,
    mut progress: impl FnMut(&KernelResult),
) -> Result<Vec<KernelResult>, KernelSetError> {
    let tiers: Vec<Kernels> = Isa::ALL
        .into_iter()
        .filter_map(|isa| Kernels::new(isa).ok())
        .collect();
    let batches: &[usize] = if options.quick {
        &bench_set::BATCHES[..1]
    } else {
        &bench_set::BATCHES
    };
    let mut results = Vec::new();
    for ty in bench_set::FORMATS {
        // --quick: the first shape the format fits.
        let shapes = bench_set::shapes_for(ty).take(if options.quick { 1 } else { usize::MAX });
        for shape in shapes {
            let w = bench_set::weights(ty, shape.k, shape.n)?;
            for &m in batches {
                let rows = QuantizedRows::new(m, shape.k)?;
                let acts = rows.for_weights(ty);
                let ldo = w.groups() * 4;
                let mut out = vec![0.0f32; m * ldo];
                for k in &tiers {
                    // The scalar tier takes seconds per call on the big products.
                    if k.isa() == Isa::Scalar && bench_set::macs(shape, m) > 1 << 24 {
                        continue;
                    }
                    let (calls, secs) = time(options, || {
                        k.gemm(&w, 0..w.groups(), acts, m, &mut out, ldo)
                    })
                    .map_err(KernelSetError::Matmul)?;
                    let r = KernelResult {
                        op: "matmul",
                        format: ty.name().to_lowercase(),
                        shape: format!("{}x{}", shape.k, shape.n),
                        role: shape.role,
                        m,
                        tier: k.isa().name().into(),
                        kernel: k.kernel_name(ty),
                        calls,
                        us_per_call: secs * 1e6,
                        gops: 2.0 * bench_set::macs(shape, m) as f64 / secs / 1e9,
                        gb_per_s: w.bytes() as f64 / secs / 1e9,
                    };
                    progress(&r);
                    results.push(r);
                }
            }
        }
    }
    let widths: &[usize] = if options.quick {
        &bench_set::ACTIVATION_WIDTHS[..1]
    } else {
        &bench_set::ACTIVATION_WIDTHS
    };
    for &width in widths {
        for r in [
            quantizer::<BlockQ8_0>(options, "q8_0", width)?,
            quantizer::<BlockQ8_1>(options, "q8_1", width)?,
        ] {
            progress(&r);
            results.push(r);
        }
    }
    Ok(results)
}

/// Times the activation quantizer the runtime calls ([`quantize_blocks`]) on one row.
fn quantizer<B: QuantizeBlock>(
    options: KernelSetOptions,
    name: &str,
    width: usize,
) -> Result<KernelResult, KernelSetError> {
    let x = bench_set::activation_values(1, width);
    let mut out = vec![B::zeroed(); width / B::ELEMS];
    let (calls, secs) = time(options, || quantize_blocks(&x, &mut out))?;
    Ok(KernelResult {
        op: "quantize",
        format: name.into(),
        shape: width.to_string(),
        role: "activation row",
        m: 1,
        tier: "scalar".into(),
        kernel: "quantize_blocks",
        calls,
        us_per_call: secs * 1e6,
        gops: 0.0,
        gb_per_s: (width * 4) as f64 / secs / 1e9,
    })
}

/// The results as a markdown table.
pub fn markdown(results: &[KernelResult]) -> String {
    let mut s = String::from(
        "| op | format | k x n | role | m | tier | kernel | µs/call | GOP/s | GB/s |\n\
         |---|---|---|---|---:|---|---|---:|---:|---:|\n",
    );
    for r in results {
        s += &row(r);
    }
    s
}

/// One result as a markdown table row.
pub fn row(r: &KernelResult) -> String {
    format!(
        "| {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {:.2} |\n",
        r.op, r.format, r.shape, r.role, r.m, r.tier, r.kernel, r.us_per_call, r.gops, r.gb_per_s
    )
}
