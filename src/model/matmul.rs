//! Matrix products of a weight [`Matrix`] with a batch of f32 activation rows.
//!
//! Quantized weights multiply int8-quantized activations, as llama.cpp does: each
//! activation row is quantized once per product to the format the weight's dot product
//! wants (Q8_0 for Q4_0/Q8_0, Q8_1 for Q4_1, Q8_K for the k-quants). Q8_0/Q4_0/Q4_1
//! weights were repacked into x4x8 panels at load and go through the tier's kernels
//! ([`Kernels`]); other types use the scalar reference dot products; float weights
//! multiply the f32 rows directly. Every output element is computed by one kernel call
//! whose arithmetic does not depend on the thread split, so results are bit-identical for
//! any number of threads.

use bytemuck::Pod;
use rayon::prelude::*;

use super::weights::Matrix;
use crate::runtime::threads::Pool;
use slimlm_kernels::formats::{
    self, BlockQ4K, BlockQ6K, BlockQ8K, BlockQ8_0, BlockQ8_1, GgmlType, QuantizeBlock,
};
use slimlm_kernels::matmul::{Activations, Kernels, MatmulError};
use slimlm_kernels::ops::Ops;
use slimlm_kernels::pack::{PackedMatrix, PANEL_ROWS};
use slimlm_kernels::reference::dot;

/// What a product needs besides its operands: the worker threads and the kernel tier.
#[derive(Clone, Copy)]
pub struct Compute<'a> {
    pub pool: &'a Pool,
    pub kernels: &'a Kernels,
    pub ops: &'a Ops,
}

/// Reusable buffers of the matrix products (activations quantized once per product, and
/// the output tiles before they are scattered into place).
#[derive(Default)]
pub struct MatmulScratch {
    q8_0: Vec<BlockQ8_0>,
    q8_1: Vec<BlockQ8_1>,
    q8_k: Vec<BlockQ8K>,
    tiles: Vec<f32>,
}

/// Weight rows per parallel task of the unpacked path.
const ROWS_PER_TASK: usize = 32;

/// `out[i][j] = sum_k x[i][k] * w[j][k] (+ bias[j])` for the `m` rows of `x`.
///
/// `x` holds `m * w.cols` values, `out` `m * w.rows`.
pub fn matmul(
    w: &Matrix,
    bias: Option<&[f32]>,
    x: &[f32],
    m: usize,
    out: &mut [f32],
    scratch: &mut MatmulScratch,
    cx: Compute<'_>,
) {
    let (n, k) = (w.rows, w.cols);
    assert_eq!(x.len(), m * k, "{}: input is not {m} rows of {k}", w.name);
    assert_eq!(
        out.len(),
        m * n,
        "{}: output is not {m} rows of {n}",
        w.name
    );
    if let Some(packed) = w.packed() {
        packed_matmul(packed, x, m, out, scratch, cx);
    } else {
        unpacked_matmul(w, x, m, out, scratch, cx.pool);
    }
    if let Some(bias) = bias {
        cx.ops.add_bias(out, bias);
    }
}

/// Panels through the tier's kernels, in parallel over ranges of row groups.
fn packed_matmul(
    w: &PackedMatrix,
    x: &[f32],
    m: usize,
    out: &mut [f32],
    scratch: &mut MatmulScratch,
    cx: Compute<'_>,
) {
    let (n, k) = (w.rows, w.cols);
    let kernels = cx.kernels;
    let acts = match w.ty() {
        GgmlType::Q4_1 => Activations::Q8_1(quantize_rows_with(
            x,
            k,
            &mut scratch.q8_1,
            |row, blocks| kernels.quantize_q8_1(row, blocks),
        )),
        _ => Activations::Q8_0(quantize_rows_with(
            x,
            k,
            &mut scratch.q8_0,
            |row, blocks| kernels.quantize_q8_0(row, blocks),
        )),
    };
    let groups = w.groups();
    // About four tasks per thread, at least 4 groups (16 rows) each.
    let per_task = groups.div_ceil(4 * cx.pool.threads()).max(4);
    scratch.tiles.resize(m * groups * PANEL_ROWS, 0.0);
    let tiles = &mut scratch.tiles[..];
    cx.pool.install(|| {
        tiles
            .par_chunks_mut(m * per_task * PANEL_ROWS)
            .enumerate()
            .for_each(|(task, tile)| {
                let width = tile.len() / m;
                let first = task * per_task;
                let range = first..first + width / PANEL_ROWS;
                if let Err(e) = cx.kernels.gemm(w, range, acts, m, tile, width) {
                    unreachable!("panel tile {task}: {e}");
                }
            })
    });
    // Scatter the tiles ([m][width] each, in task order) into out ([m][n]).
    let mut start = 0;
    for tile in tiles.chunks(m * per_task * PANEL_ROWS) {
        let width = tile.len() / m;
        let valid = width.min(n.saturating_sub(start));
        for i in 0..m {
            out[i * n + start..i * n + start + valid]
                .copy_from_slice(&tile[i * width..i * width + valid]);
        }
        start += width;
    }
}

/// Float and k-quant weights: one reference dot product per output.
fn unpacked_matmul(
    w: &Matrix,
    x: &[f32],
    m: usize,
    out: &mut [f32],
    scratch: &mut MatmulScratch,
    pool: &Pool,
) {
    let (n, k) = (w.rows, w.cols);
    scratch.tiles.resize(m * n, 0.0);
    let out_t = &mut scratch.tiles[..];
    match w.ty {
        GgmlType::F32 => rows_times(pool, w, m, out_t, |row: &[f32], i| {
            dot_f32(row, &x[i * k..(i + 1) * k])
        }),
        GgmlType::Q4K => {
            let a = quantize_rows(x, k, &mut scratch.q8_k);
            let kb = k / 256;
            rows_times(pool, w, m, out_t, |row: &[BlockQ4K], i| {
                dot::dot_q4_k_q8_k(row, &a[i * kb..(i + 1) * kb])
            })
        }
        GgmlType::Q6K => {
            let a = quantize_rows(x, k, &mut scratch.q8_k);
            let kb = k / 256;
            rows_times(pool, w, m, out_t, |row: &[BlockQ6K], i| {
                dot::dot_q6_k_q8_k(row, &a[i * kb..(i + 1) * kb])
            })
        }
        // F16, and any block type without panels: decode a row at a time.
        _ => rows_times_decoded(pool, w, m, out_t, |row: &[f32], i| {
            dot_f32(row, &x[i * k..(i + 1) * k])
        }),
    }
    // out_t is [n][m]; out is [m][n].
    for (i, out_row) in out.chunks_exact_mut(n).enumerate() {
        for (j, o) in out_row.iter_mut().enumerate() {
            *o = out_t[j * m + i];
        }
    }
}

/// Quantizes each `k`-wide row of `x` into `buf` (resized) and returns the blocks.
fn quantize_rows<'a, B: QuantizeBlock>(x: &[f32], k: usize, buf: &'a mut Vec<B>) -> &'a [B] {
    quantize_rows_with(x, k, buf, |row, blocks| {
        formats::quantize_blocks(row, blocks).map_err(|_| MatmulError::Shape("block row"))
    })
}

/// Quantizes each `k`-wide row of `x` into `buf` (resized) with the tier's quantizer and
/// returns the blocks.
fn quantize_rows_with<'a, B: QuantizeBlock>(
    x: &[f32],
    k: usize,
    buf: &'a mut Vec<B>,
    quantize: impl Fn(&[f32], &mut [B]) -> Result<(), MatmulError>,
) -> &'a [B] {
    let per_row = k / B::ELEMS;
    buf.resize(x.len() / k * per_row, B::zeroed());
    for (row, blocks) in x.chunks_exact(k).zip(buf.chunks_exact_mut(per_row)) {
        // Lengths match by construction: k is a whole number of blocks (checked at load).
        if let Err(e) = quantize(row, blocks) {
            unreachable!("activation row of {k} values: {e}");
        }
    }
    buf
}

/// Computes `out_t[j][i] = f(weight row j, i)` for every weight row, in parallel over
/// groups of rows. `W` is the block type the matrix is stored in.
fn rows_times<W: Pod + Sync, F>(pool: &Pool, w: &Matrix, m: usize, out_t: &mut [f32], f: F)
where
    F: Fn(&[W], usize) -> f32 + Sync,
{
    let blocks: &[W] = bytemuck::cast_slice(w.bytes());
    let per_row = blocks.len() / w.rows;
    pool.install(|| {
        out_t
            .par_chunks_mut(ROWS_PER_TASK * m)
            .enumerate()
            .for_each(|(task, chunk)| {
                for (r, outs) in chunk.chunks_exact_mut(m).enumerate() {
                    let j = task * ROWS_PER_TASK + r;
                    let row = &blocks[j * per_row..(j + 1) * per_row];
                    for (i, o) in outs.iter_mut().enumerate() {
                        *o = f(row, i);
                    }
                }
            })
    });
}

/// As [`rows_times`], for weights decoded to f32 a row at a time (F16).
fn rows_times_decoded<F>(pool: &Pool, w: &Matrix, m: usize, out_t: &mut [f32], f: F)
where
    F: Fn(&[f32], usize) -> f32 + Sync,
{
    let row_bytes = w.row_bytes();
    let bytes = w.bytes();
    pool.install(|| {
        out_t
            .par_chunks_mut(ROWS_PER_TASK * m)
            .enumerate()
            .for_each_init(
                || vec![0.0f32; w.cols],
                |row, (task, chunk)| {
                    for (r, outs) in chunk.chunks_exact_mut(m).enumerate() {
                        let j = task * ROWS_PER_TASK + r;
                        let src = &bytes[j * row_bytes..(j + 1) * row_bytes];
                        if let Err(e) = formats::dequantize_row(w.ty, src, row) {
                            unreachable!("{}: row {j}: {e}", w.name);
                        }
                        for (i, o) in outs.iter_mut().enumerate() {
                            *o = f(row, i);
                        }
                    }
                },
            )
    });
}

/// f32 dot product with four interleaved accumulators (a fixed order, so deterministic).
fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (a4.remainder(), b4.remainder());
    for (x, y) in a4.zip(b4) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}
