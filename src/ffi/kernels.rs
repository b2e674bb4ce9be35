//! Kernel entry points for other runtimes: quantize activations, pack weights, packed
//! GEMV/GEMM, RMSNorm, LayerNorm, attention decode. Each is a thin wrapper that checks
//! the C arguments and calls one function of `slimlm_kernels`.
//!
//! They are stateless and run on the calling thread (no worker threads, no allocation but
//! the packed weights themselves); any number of threads may call them at once, also on
//! one packed matrix. The matrix products use the tier of `SLIMLM_ISA` when set, else the
//! best this CPU reports, chosen on first use.

use std::ffi::{c_char, c_void};
use std::sync::OnceLock;

use slimlm_kernels::dispatch::{Isa, IsaError};
use slimlm_kernels::formats::{self, BlockQ8_0, BlockQ8_1, GgmlType};
use slimlm_kernels::matmul::{activation_type, Activations, Kernels};
use slimlm_kernels::ops::Ops;
use slimlm_kernels::pack::{PackedMatrix, PANEL_ROWS};
use slimlm_kernels::reference::attention::{attention_f32, AttentionShape};

use super::args::{self, disjoint, handle, mul, span, write_out};
use super::info::isa_c_name;
use super::status::{guard, guard_value, Error, Status};

/// Values per quantization block of every format here.
const BLOCK: usize = 32;

/// The kernel table of the matrix products, built once.
fn kernels() -> Result<&'static Kernels, Error> {
    static KERNELS: OnceLock<Result<Kernels, IsaError>> = OnceLock::new();
    KERNELS
        .get_or_init(|| Isa::from_env().and_then(Kernels::new))
        .as_ref()
        .map_err(|e| {
            let status = match e {
                IsaError::Unknown(_) => Status::InvalidArgument,
                IsaError::Unsupported { .. } => Status::Unsupported,
            };
            Error::new(status, e.to_string())
        })
}

/// The norms' op table, of the same tier as [`kernels`] (bit-identical to the scalar
/// references on every tier).
fn ops() -> Result<&'static Ops, Error> {
    static OPS: OnceLock<Ops> = OnceLock::new();
    let isa = kernels()?.isa();
    Ok(OPS.get_or_init(|| {
        // SAFETY: `kernels()` built a table for `isa`, which checked that this CPU runs it.
        unsafe { Ops::new_unchecked(isa) }
    }))
}

/// Points `*name` at the tier the matrix products run on (static string).
///
/// # Safety
/// `name` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn slimlm_kernels_isa(name: *mut *const c_char) -> Status {
    guard("slimlm_kernels_isa", || {
        let isa = kernels()?.isa();
        // SAFETY: the caller's promise.
        unsafe { write_out(name, isa_c_name(isa).as_ptr(), "name") }
    })
}

/// Quantizes `n` floats to `n / 32` blocks of `B` written as raw bytes at `out`.
///
/// # Safety
/// Non-NULL `x` must hold `n` floats, non-NULL `out` `out_size` bytes.
unsafe fn quantize<B: formats::QuantizeBlock>(
    x: *const f32,
    n: usize,
    out: *mut c_void,
    out_size: usize,
) -> Result<(), Error> {
    if !n.is_multiple_of(BLOCK) {
        return Err(Error::invalid(format!("`n` is {n}: not a multiple of 32")));
    }
    let block_bytes = std::mem::size_of::<B>();
    let need = mul(n / BLOCK, block_bytes, "blocks x block bytes")?;
    if out_size < need {
        return Err(Error::invalid(format!(
            "`out_size` is {out_size} but {} blocks of {block_bytes} bytes need {need}",
            n / BLOCK
        )));
    }
    let out = out.cast::<u8>();
    disjoint(span("out", out, need)?, span("x", x, n)?)?;
    // SAFETY: the caller's promise about `x`.
    let x = unsafe { args::slice(x, n, "x")? };
    // SAFETY: the caller's promise about `out` (bytes: no alignment needed).
    let out = unsafe { args::slice_mut(out, need, "out")? };
    formats::quantize_bytes::<B>(x, out).map_err(|e| Error::invalid(e.to_string()))
}

/// f32 -> Q8_0 blocks (ggml's `quantize_row_q8_0_ref`, bit for bit).
///
/// # Safety
/// Non-NULL `x` must hold `n` floats, non-NULL `out` `out_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn slimlm_quantize_q8_0(
    x: *const f32,
    n: usize,
    out: *mut c_void,
    out_size: usize,
) -> Status {
    // SAFETY: forwarded promises.
    guard("slimlm_quantize_q8_0", || unsafe {
        quantize::<BlockQ8_0>(x, n, out, out_size)
    })
}

/// f32 -> Q8_1 blocks (ggml's `quantize_row_q8_1_ref`, bit for bit).
///
/// # Safety
/// Non-NULL `x` must hold `n` floats, non-NULL `out` `out_size` writable bytes.
#[no_mangle]
pub unsafe extern "C" fn slimlm_quantize_q8_1(
    x: *const f32,
    n: usize,
    out: *mut c_void,
    out_size: usize,
) -> Status {
    // SAFETY: forwarded promises.
    guard("slimlm_quantize_q8_1", || unsafe {
        quantize::<BlockQ8_1>(x, n, out, out_size)
    })
}

/// The C `slimlm_packed_weights`: a weight matrix in x4x8 panels.
pub struct PackedHandle {
    matrix: PackedMatrix,
}

/// Repacks a row-major GGUF matrix (`rows` x `cols` values of `type`, `size` bytes at
/// `data`, any alignment) into panels for the matrix products, into `*out`.
///
/// # Safety
/// Non-NULL `data` must hold `size` bytes; `out` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn slimlm_pack_weights(
    type_id: u32,
    data: *const c_void,
    size: usize,
    rows: usize,
    cols: usize,
    out: *mut *mut PackedHandle,
) -> Status {
    guard("slimlm_pack_weights", || {
        // SAFETY: the caller's promise about `out`.
        unsafe { write_out(out, std::ptr::null_mut(), "out")? };
        let ty = GgmlType::from_id(type_id)
            .filter(|&ty| PackedMatrix::supports(ty))
            .ok_or_else(|| {
                Error::new(
                    Status::Unsupported,
                    format!(
                        "`type` {type_id}: only Q4_0 (2), Q4_1 (3), Q5_0 (6), Q8_0 (8), \
                         Q4_K (12) and Q6_K (14) weights pack"
                    ),
                )
            })?;
        let block = ty.block_elems();
        if rows == 0 || cols == 0 || !cols.is_multiple_of(block) {
            return Err(Error::invalid(format!(
                "{rows} x {cols}: `rows` must be >= 1 and `cols` a positive multiple of \
                 {block} for {ty}"
            )));
        }
        let need = mul(rows, cols / block, "rows x blocks per row")
            .and_then(|blocks| mul(blocks, ty.block_bytes(), "blocks x block bytes"))?;
        if size != need {
            return Err(Error::invalid(format!(
                "`size` is {size} but {rows} rows of {cols} {ty} values take {need} bytes"
            )));
        }
        // SAFETY: the caller's promise about `data`.
        let bytes = unsafe { args::slice(data.cast::<u8>(), size, "data")? };
        let matrix = PackedMatrix::pack(ty, bytes, rows, cols)
            .map_err(|e| Error::invalid(format!("`data`: {e}")))?;
        let handle = Box::new(PackedHandle { matrix });
        // SAFETY: checked writable above.
        unsafe { write_out(out, Box::into_raw(handle), "out") }
    })
}

/// Frees packed weights (NULL is ignored).
///
/// # Safety
/// A non-NULL `weights` must come from `slimlm_pack_weights` and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn slimlm_packed_weights_free(weights: *mut PackedHandle) {
    guard_value("slimlm_packed_weights_free", (), || {
        if !weights.is_null() {
            // SAFETY: made by Box::into_raw in slimlm_pack_weights, freed once (the
            // caller's promise).
            drop(unsafe { Box::from_raw(weights) });
        }
    })
}

/// `out[i * ldo + j] = dot(weight row j, activation row i)` for `i < m`, `j < rows`.
///
/// # Safety
/// Non-NULL pointers must be valid for the sizes given; `weights` must be live.
unsafe fn gemm(
    weights: *const PackedHandle,
    act: *const c_void,
    act_size: usize,
    m: usize,
    out: *mut f32,
    out_len: usize,
    ldo: usize,
) -> Result<(), Error> {
    // SAFETY: the caller's promise.
    let w = &unsafe { handle(weights, "weights")? }.matrix;
    let kernels = kernels()?;
    let (rows, kb) = (w.rows, w.k_blocks());
    if m == 0 {
        return Ok(());
    }
    if ldo < rows {
        return Err(Error::invalid(format!(
            "`ldo` is {ldo}, less than the {rows} rows of the weights"
        )));
    }
    let need_out = mul(m - 1, ldo, "(m - 1) x ldo")?
        .checked_add(rows)
        .ok_or_else(|| Error::invalid("(m - 1) x ldo + rows overflows"))?;
    if out_len < need_out {
        return Err(Error::invalid(format!(
            "`out_len` is {out_len} but {m} rows at stride {ldo} need {need_out} floats"
        )));
    }
    let blocks = mul(m, kb, "m x blocks per row")?;
    let q8_1 = activation_type(w.ty()) == GgmlType::Q8_1;
    let act_bytes = if q8_1 {
        check_act_size::<BlockQ8_1>(act_size, m, kb, blocks)?
    } else {
        check_act_size::<BlockQ8_0>(act_size, m, kb, blocks)?
    };
    disjoint(
        span("out", out, need_out)?,
        span("act", act.cast::<u8>(), act_bytes)?,
    )?;
    // SAFETY: the caller's promise about `out`.
    let out = unsafe { args::slice_mut(out, need_out, "out")? };
    let acts = if q8_1 {
        // SAFETY: the caller's promise about `act`, whose size was checked.
        Activations::Q8_1(unsafe { args::slice(act.cast(), blocks, "act")? })
    } else {
        // SAFETY: the caller's promise about `act`, whose size was checked.
        Activations::Q8_0(unsafe { args::slice(act.cast(), blocks, "act")? })
    };
    let shape = |e: slimlm_kernels::matmul::MatmulError| Error::invalid(e.to_string());
    // Whole panels write straight into `out`; the last panel of a row count that is not
    // a multiple of 4 goes through a 4-wide tile, one activation row at a time.
    let full = rows / PANEL_ROWS;
    kernels.gemm(w, 0..full, acts, m, out, ldo).map_err(shape)?;
    let tail = rows % PANEL_ROWS;
    if tail > 0 {
        let start = full * PANEL_ROWS;
        for i in 0..m {
            let row = match acts {
                Activations::Q8_0(a) => Activations::Q8_0(&a[i * kb..(i + 1) * kb]),
                Activations::Q8_1(a) => Activations::Q8_1(&a[i * kb..(i + 1) * kb]),
            };
            let mut tile = [0.0f32; PANEL_ROWS];
            kernels
                .gemm(w, full..full + 1, row, 1, &mut tile, PANEL_ROWS)
                .map_err(shape)?;
            out[i * ldo + start..i * ldo + rows].copy_from_slice(&tile[..tail]);
        }
    }
    Ok(())
}

/// Checks that `act_size` is the bytes of `blocks` activation blocks of `B`, and returns it.
fn check_act_size<B>(act_size: usize, m: usize, kb: usize, blocks: usize) -> Result<usize, Error> {
    let block_bytes = std::mem::size_of::<B>();
    let need = mul(blocks, block_bytes, "blocks x block bytes")?;
    if act_size != need {
        return Err(Error::invalid(format!(
            "`act_size` is {act_size} but {m} rows of {kb} blocks of {block_bytes} bytes take {need}"
        )));
    }
    Ok(need)
}

/// One activation row times the packed weights: `out[j] = dot(weight row j, act)`.
///
/// # Safety
/// `weights` must be live or NULL; non-NULL `act` must hold `act_size` bytes, non-NULL
/// `out` `out_len` floats.
#[no_mangle]
pub unsafe extern "C" fn slimlm_gemv(
    weights: *const PackedHandle,
    act: *const c_void,
    act_size: usize,
    out: *mut f32,
    out_len: usize,
) -> Status {
    guard("slimlm_gemv", || {
        // SAFETY: the caller's promises about every argument.
        let rows = unsafe { handle(weights, "weights")? }.matrix.rows;
        // SAFETY: forwarded promises; with one row the stride only has to cover it.
        unsafe { gemm(weights, act, act_size, 1, out, out_len, rows) }
    })
}

/// `m` activation rows times the packed weights: `out[i * ldo + j]`.
///
/// # Safety
/// `weights` must be live or NULL; non-NULL `act` must hold `act_size` bytes, non-NULL
/// `out` `out_len` floats.
#[no_mangle]
pub unsafe extern "C" fn slimlm_gemm(
    weights: *const PackedHandle,
    act: *const c_void,
    act_size: usize,
    m: usize,
    out: *mut f32,
    out_len: usize,
    ldo: usize,
) -> Status {
    // SAFETY: forwarded promises.
    guard("slimlm_gemm", || unsafe {
        gemm(weights, act, act_size, m, out, out_len, ldo)
    })
}

/// A finite, non-negative epsilon.
fn check_eps(eps: f32) -> Result<(), Error> {
    if eps.is_finite() && eps >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "`eps` is {eps}: expected a finite number >= 0"
        )))
    }
}

/// RMSNorm of each of `rows` rows of `cols` floats.
///
/// # Safety
/// Non-NULL `x` and `out` must hold `rows * cols` floats, non-NULL `weight` `cols`.
#[no_mangle]
pub unsafe extern "C" fn slimlm_rmsnorm_f32(
    x: *const f32,
    weight: *const f32,
    rows: usize,
    cols: usize,
    eps: f32,
    out: *mut f32,
) -> Status {
    guard("slimlm_rmsnorm_f32", || {
        check_eps(eps)?;
        let n = mul(rows, cols, "rows x cols")?;
        let out_span = span("out", out, n)?;
        disjoint(out_span, span("x", x, n)?)?;
        disjoint(out_span, span("weight", weight, cols)?)?;
        // SAFETY: the caller's promises about the three buffers.
        let (x, weight, out) = unsafe {
            (
                args::slice(x, n, "x")?,
                args::slice(weight, cols, "weight")?,
                args::slice_mut(out, n, "out")?,
            )
        };
        if n > 0 {
            ops()?.rms_norm(x, weight, eps, out);
        }
        Ok(())
    })
}

/// LayerNorm (with bias) of each of `rows` rows of `cols` floats.
///
/// # Safety
/// Non-NULL `x` and `out` must hold `rows * cols` floats, non-NULL `weight` and `bias`
/// `cols`.
#[no_mangle]
pub unsafe extern "C" fn slimlm_layernorm_f32(
    x: *const f32,
    weight: *const f32,
    bias: *const f32,
    rows: usize,
    cols: usize,
    eps: f32,
    out: *mut f32,
) -> Status {
    guard("slimlm_layernorm_f32", || {
        check_eps(eps)?;
        let n = mul(rows, cols, "rows x cols")?;
        let out_span = span("out", out, n)?;
        disjoint(out_span, span("x", x, n)?)?;
        disjoint(out_span, span("weight", weight, cols)?)?;
        disjoint(out_span, span("bias", bias, cols)?)?;
        // SAFETY: the caller's promises about the four buffers.
        let (x, weight, bias, out) = unsafe {
            (
                args::slice(x, n, "x")?,
                args::slice(weight, cols, "weight")?,
                args::slice(bias, cols, "bias")?,
                args::slice_mut(out, n, "out")?,
            )
        };
        if n > 0 {
            ops()?.layer_norm(x, weight, bias, eps, out);
        }
        Ok(())
    })
}

/// The C `slimlm_attention_shape`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct AttentionShapeC {
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub n_keys: usize,
    pub scale: f32,
}

/// Attention of one query position over the first `n_keys` rows of an f32 KV cache.
///
/// # Safety
/// Non-NULL `shape` must point to a `slimlm_attention_shape`; non-NULL buffers must hold
/// the sizes the header gives for that shape.
#[no_mangle]
pub unsafe extern "C" fn slimlm_attention_decode_f32(
    shape: *const AttentionShapeC,
    q: *const f32,
    k_cache: *const f32,
    v_cache: *const f32,
    scores: *mut f32,
    out: *mut f32,
) -> Status {
    guard("slimlm_attention_decode_f32", || {
        // SAFETY: the caller's promise.
        let s = *unsafe { handle(shape, "shape")? };
        if s.n_kv_heads == 0 || s.n_heads == 0 || !s.n_heads.is_multiple_of(s.n_kv_heads) {
            return Err(Error::invalid(format!(
                "shape: n_heads {} must be a positive multiple of n_kv_heads {}",
                s.n_heads, s.n_kv_heads
            )));
        }
        if s.head_dim == 0 || s.n_keys == 0 || !s.scale.is_finite() {
            return Err(Error::invalid(format!(
                "shape: head_dim {} and n_keys {} must be >= 1 and scale {} finite",
                s.head_dim, s.n_keys, s.scale
            )));
        }
        let q_len = mul(s.n_heads, s.head_dim, "n_heads x head_dim")?;
        let cache_len = mul(s.n_kv_heads, s.head_dim, "n_kv_heads x head_dim")
            .and_then(|row| mul(s.n_keys, row, "n_keys x cache row"))?;
        let (out_span, scores_span) = (span("out", out, q_len)?, span("scores", scores, s.n_keys)?);
        disjoint(out_span, scores_span)?;
        for input in [
            span("q", q, q_len)?,
            span("k_cache", k_cache, cache_len)?,
            span("v_cache", v_cache, cache_len)?,
        ] {
            disjoint(out_span, input)?;
            disjoint(scores_span, input)?;
        }
        // SAFETY: the caller's promises about the five buffers.
        let (q, k, v, scores, out) = unsafe {
            (
                args::slice(q, q_len, "q")?,
                args::slice(k_cache, cache_len, "k_cache")?,
                args::slice(v_cache, cache_len, "v_cache")?,
                args::slice_mut(scores, s.n_keys, "scores")?,
                args::slice_mut(out, q_len, "out")?,
            )
        };
        let shape = AttentionShape {
            n_heads: s.n_heads,
            n_kv_heads: s.n_kv_heads,
            head_dim: s.head_dim,
            n_keys: s.n_keys,
            scale: s.scale,
        };
        attention_f32(&shape, q, k, v, scores, out);
        Ok(())
    })
}

#[cfg(test)]
mod tests;
