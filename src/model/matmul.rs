//! Matrix products of a weight [`Matrix`] with a batch of f32 activation rows.
//!
//! Quantized weights multiply int8-quantized activations, as llama.cpp does: each
//! activation row is quantized once per product to the format the weight's dot product
//! wants (Q8_0 for Q4_0/Q5_0/Q8_0/Q6_K, Q8_1 for Q4_1 and Q4_K). Q8_0/Q4_0/Q4_1/Q6_K
//! weights were repacked into x4x8 panels at load, Q4_K weights into Q4_1 panels and
//! Q5_0 weights into Q8_0 panels, and go through the tier's kernels ([`Kernels`]); float
//! weights multiply the f32 rows directly, other block types (none in supported files so
//! far) are decoded a row at a time. Every output element is computed by one kernel call
//! whose arithmetic does not depend on the thread split, so results are bit-identical for
//! any number of threads.

use std::ops::Range;

use bytemuck::{Pod, Zeroable};

use super::weights::Matrix;
use crate::exec::threads::Pool;
use slimlm_kernels::formats::{self, BlockQ8_0, BlockQ8_1, GgmlType, QuantizeBlock};
use slimlm_kernels::matmul::{activation_type, Activations, Kernels, MatmulError};
use slimlm_kernels::ops::Ops;
use slimlm_kernels::pack::{PackedMatrix, PANEL_ROWS};

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
    tiles: Vec<f32>,
}

/// Weight rows per parallel task of the unpacked path.
const ROWS_PER_TASK: usize = 32;

/// One product of a group that shares its input rows (see [`matmuls`]): `out` receives
/// `m` rows of `w.rows` values, plus `bias` when given.
pub struct Product<'a> {
    pub w: &'a Matrix,
    pub bias: Option<&'a [f32]>,
    pub out: &'a mut [f32],
}

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
    matmuls(&mut [Product { w, bias, out }], x, m, scratch, cx);
}

/// Several products of the same input rows (Q, K and V; gate and up) as one parallel
/// step: the activations are quantized once and one task list covers every matrix, so
/// the threads meet once instead of once per matrix. Each output element is computed
/// exactly as [`matmul`] alone would compute it.
pub fn matmuls(
    products: &mut [Product<'_>],
    x: &[f32],
    m: usize,
    scratch: &mut MatmulScratch,
    cx: Compute<'_>,
) {
    for p in products.iter() {
        let (n, k) = (p.w.rows, p.w.cols);
        assert_eq!(x.len(), m * k, "{}: input is not {m} rows of {k}", p.w.name);
        assert_eq!(
            p.out.len(),
            m * n,
            "{}: output is not {m} rows of {n}",
            p.w.name
        );
    }
    let packed: Option<Vec<&PackedMatrix>> = products.iter().map(|p| p.w.packed()).collect();
    match packed {
        Some(ws) if ws.iter().all(|w| same_activations(w.ty(), ws[0].ty())) => {
            let mut outs: Vec<&mut [f32]> = products.iter_mut().map(|p| &mut *p.out).collect();
            packed_matmuls(&ws, x, m, &mut outs, scratch, cx);
        }
        _ => {
            for p in products.iter_mut() {
                match p.w.packed() {
                    Some(w) => packed_matmuls(&[w], x, m, &mut [&mut *p.out], scratch, cx),
                    None => unpacked_matmul(p.w, x, m, p.out, scratch, cx.pool),
                }
            }
        }
    }
    for p in products.iter_mut() {
        if let Some(bias) = p.bias {
            cx.ops.add_bias(p.out, bias);
        }
    }
}

/// Whether weights of types `a` and `b` take the same quantized activations.
fn same_activations(a: GgmlType, b: GgmlType) -> bool {
    activation_type(a) == activation_type(b)
}

/// Panels through the tier's kernels, in parallel over ranges of row groups of every
/// matrix (all of one activation format).
fn packed_matmuls(
    ws: &[&PackedMatrix],
    x: &[f32],
    m: usize,
    outs: &mut [&mut [f32]],
    scratch: &mut MatmulScratch,
    cx: Compute<'_>,
) {
    if m == 1 {
        return packed_gemv(ws, x, outs, scratch, cx);
    }
    let k = ws[0].cols;
    let kernels = cx.kernels;
    let acts = match ws[0].ty() {
        GgmlType::Q4_1 => Activations::Q8_1(quantize_rows_with(
            cx.pool,
            x,
            k,
            &mut scratch.q8_1,
            |row, blocks| kernels.quantize_q8_1(row, blocks),
        )),
        _ => Activations::Q8_0(quantize_rows_with(
            cx.pool,
            x,
            k,
            &mut scratch.q8_0,
            |row, blocks| kernels.quantize_q8_0(row, blocks),
        )),
    };
    let groups: usize = ws.iter().map(|w| w.groups()).sum();
    // About four tasks per thread, at least 4 groups (16 rows) each.
    let per_task = groups.div_ceil(4 * cx.pool.threads()).max(4);
    scratch.tiles.resize(m * groups * PANEL_ROWS, 0.0);
    // Each matrix's output tiles ([m][width] each, in group order) follow the previous
    // matrix's; a task is one tile.
    let mut tasks: Vec<(usize, Range<usize>, &mut [f32])> = Vec::new();
    let mut rest = &mut scratch.tiles[..];
    for (i, w) in ws.iter().enumerate() {
        let mut first = 0;
        while first < w.groups() {
            let range = first..(first + per_task).min(w.groups());
            let (tile, tail) = rest.split_at_mut(m * range.len() * PANEL_ROWS);
            rest = tail;
            first = range.end;
            tasks.push((i, range, tile));
        }
    }
    cx.pool.for_each_chunk_mut(&mut tasks, 1, |_, task, _| {
        let (i, ref range, ref mut tile) = task[0];
        let width = tile.len() / m;
        if let Err(e) = cx.kernels.gemm(ws[i], range.clone(), acts, m, tile, width) {
            unreachable!("{} groups {range:?}: {e}", ws[i].ty());
        }
    });
    // Scatter the tiles into each out ([m][n]): one item per output row, in parallel.
    let spans: Vec<(usize, usize, &[f32])> = {
        let (mut at, mut start) = (0, 0);
        tasks
            .iter()
            .map(|(i, _, tile)| {
                if at != *i {
                    (at, start) = (*i, 0);
                }
                let span = (*i, start, &**tile);
                start += tile.len() / m;
                span
            })
            .collect()
    };
    let mut rows: Vec<(usize, usize, &mut [f32])> = Vec::with_capacity(m * outs.len());
    for (i, out) in outs.iter_mut().enumerate() {
        for (r, row) in out.chunks_exact_mut(ws[i].rows).enumerate() {
            rows.push((i, r, row));
        }
    }
    let rows_per_task = rows.len().div_ceil(4 * cx.pool.threads()).max(8);
    cx.pool
        .for_each_chunk_mut(&mut rows, rows_per_task, |_, rows, _| {
            for (i, r, row) in rows.iter_mut() {
                for &(_, start, tile) in spans.iter().filter(|s| s.0 == *i) {
                    let width = tile.len() / m;
                    let valid = width.min(row.len().saturating_sub(start));
                    row[start..start + valid]
                        .copy_from_slice(&tile[*r * width..*r * width + valid]);
                }
            }
        });
}

/// Decode (one activation row) through the tier's kernels: the row is quantized once on
/// this thread (a few hundred values: a parallel step would cost more than the work), and
/// each task writes its range of output values straight into `outs`, so the whole product
/// is one parallel step, with no staging tiles and no scatter. Tasks are whole GEMV tiles
/// of the kernel (its [`Tile::gemv_weight_rows`]), about four per thread.
///
/// [`Tile::gemv_weight_rows`]: slimlm_kernels::matmul::Tile
fn packed_gemv(
    ws: &[&PackedMatrix],
    x: &[f32],
    outs: &mut [&mut [f32]],
    scratch: &mut MatmulScratch,
    cx: Compute<'_>,
) {
    let kernels = cx.kernels;
    let quantized = |e: Result<(), MatmulError>| {
        if let Err(e) = e {
            unreachable!("activation row of {} values: {e}", x.len());
        }
    };
    let acts = match activation_type(ws[0].ty()) {
        GgmlType::Q8_1 => {
            scratch.q8_1.resize(x.len() / 32, BlockQ8_1::zeroed());
            quantized(kernels.quantize_q8_1(x, &mut scratch.q8_1));
            Activations::Q8_1(&scratch.q8_1)
        }
        _ => {
            scratch.q8_0.resize(x.len() / 32, BlockQ8_0::zeroed());
            quantized(kernels.quantize_q8_0(x, &mut scratch.q8_0));
            Activations::Q8_0(&scratch.q8_0)
        }
    };
    let tile_groups = ws
        .iter()
        .filter_map(|w| kernels.kernel_tile(w.ty()))
        .map(|(_, tile)| tile.gemv_weight_rows.div_ceil(PANEL_ROWS))
        .max()
        .unwrap_or(1);
    let groups: usize = ws.iter().map(|w| w.groups()).sum();
    let per_task = groups
        .div_ceil(4 * cx.pool.threads())
        .next_multiple_of(tile_groups);
    let mut tasks: Vec<(usize, Range<usize>, &mut [f32])> = Vec::new();
    for (i, (w, out)) in ws.iter().zip(outs.iter_mut()).enumerate() {
        let mut rest = &mut out[..];
        let mut first = 0;
        while first < w.groups() {
            let range = first..(first + per_task).min(w.groups());
            let values = (PANEL_ROWS * range.len()).min(rest.len());
            let (part, tail) = std::mem::take(&mut rest).split_at_mut(values);
            rest = tail;
            first = range.end;
            tasks.push((i, range, part));
        }
    }
    cx.pool.for_each_chunk_mut(&mut tasks, 1, |_, task, _| {
        let (i, ref range, ref mut out) = task[0];
        let full = out.len() / PANEL_ROWS;
        let direct = range.start..range.start + full;
        let result = kernels
            .gemm(
                ws[i],
                direct,
                acts,
                1,
                &mut out[..PANEL_ROWS * full],
                PANEL_ROWS * full,
            )
            .and_then(|()| {
                // The matrix's last group, when its rows are not a multiple of 4: the
                // kernel writes the whole panel, the output takes the rows that exist.
                let valid = out.len() % PANEL_ROWS;
                if valid == 0 {
                    return Ok(());
                }
                let mut last = [0.0f32; PANEL_ROWS];
                let g = range.start + full;
                kernels.gemm(ws[i], g..g + 1, acts, 1, &mut last, PANEL_ROWS)?;
                out[PANEL_ROWS * full..].copy_from_slice(&last[..valid]);
                Ok(())
            });
        if let Err(e) = result {
            unreachable!("{} groups {range:?}: {e}", ws[i].ty());
        }
    });
}

/// Float weights (and any block type without panels): one dot product per output.
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

/// Quantizes each `k`-wide row of `x` into `buf` (resized) with the tier's quantizer and
/// returns the blocks; batches of rows are spread over the pool's threads.
fn quantize_rows_with<'a, B: QuantizeBlock + Send>(
    pool: &Pool,
    x: &[f32],
    k: usize,
    buf: &'a mut Vec<B>,
    quantize: impl Fn(&[f32], &mut [B]) -> Result<(), MatmulError> + Sync,
) -> &'a [B] {
    let per_row = k / B::ELEMS;
    let rows = x.len() / k;
    buf.resize(rows * per_row, B::zeroed());
    let rows_per_task = rows.div_ceil(4 * pool.threads()).max(4);
    pool.for_each_chunk_mut(buf, rows_per_task * per_row, |task, blocks, _| {
        let first = task * rows_per_task;
        let x = &x[first * k..];
        for (row, blocks) in x.chunks_exact(k).zip(blocks.chunks_exact_mut(per_row)) {
            // Lengths match by construction: k is a whole number of blocks (checked at
            // load).
            if let Err(e) = quantize(row, blocks) {
                unreachable!("activation row of {k} values: {e}");
            }
        }
    });
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
    pool.for_each_chunk_mut(out_t, ROWS_PER_TASK * m, |task, chunk, _| {
        for (r, outs) in chunk.chunks_exact_mut(m).enumerate() {
            let j = task * ROWS_PER_TASK + r;
            let row = &blocks[j * per_row..(j + 1) * per_row];
            for (i, o) in outs.iter_mut().enumerate() {
                *o = f(row, i);
            }
        }
    });
}

/// As [`rows_times`], for weights decoded to f32 a row at a time (F16).
fn rows_times_decoded<F>(pool: &Pool, w: &Matrix, m: usize, out_t: &mut [f32], f: F)
where
    F: Fn(&[f32], usize) -> f32 + Sync,
{
    let row_bytes = w.row_bytes();
    let bytes = w.bytes();
    pool.for_each_chunk_mut(out_t, ROWS_PER_TASK * m, |task, chunk, _| {
        // One decoded row per task of ROWS_PER_TASK rows: the allocation is noise next to
        // decoding them.
        let mut row = vec![0.0f32; w.cols];
        for (r, outs) in chunk.chunks_exact_mut(m).enumerate() {
            let j = task * ROWS_PER_TASK + r;
            let src = &bytes[j * row_bytes..(j + 1) * row_bytes];
            if let Err(e) = formats::dequantize_row(w.ty, src, &mut row) {
                unreachable!("{}: row {j}: {e}", w.name);
            }
            for (i, o) in outs.iter_mut().enumerate() {
                *o = f(&row, i);
            }
        }
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
