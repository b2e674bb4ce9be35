//! The kernel entry points against references, and their argument checks: the packed
//! products bit for bit against the scalar reference dot products (their contract), the
//! norms and attention within the derived bounds of the independent f64 oracles
//! (`slimlm_kernels::oracle`), not against the functions they wrap. Small shapes: these
//! run under qemu too.

use super::*;
use slimlm_kernels::formats::{quantize_bytes, BlockQ4_0, BlockQ4_1, QuantizeBlock};
use slimlm_kernels::oracle::{self, AttentionDecode, Expected};
use slimlm_kernels::reference::dot::{dot_q4_0_q8_0, dot_q4_1_q8_1, dot_q8_0_q8_0};
use std::ptr::{null, null_mut};

/// Small deterministic values in [-1, 1).
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

fn blocks<B: QuantizeBlock>(x: &[f32]) -> Vec<B> {
    let mut out = vec![B::zeroed(); x.len() / 32];
    formats::quantize_blocks(x, &mut out).unwrap();
    out
}

fn pack(ty: GgmlType, data: &[u8], rows: usize, cols: usize) -> *mut PackedHandle {
    let mut out = null_mut();
    // SAFETY: `data` holds its length; `out` is a local.
    let status = unsafe {
        slimlm_pack_weights(
            ty.id(),
            data.as_ptr().cast(),
            data.len(),
            rows,
            cols,
            &mut out,
        )
    };
    assert_eq!(status, Status::Ok);
    out
}

/// GEMM through the C entry point with a stride wider than the rows (the gap must stay
/// untouched) against one reference dot product per output.
fn check_gemm<W: QuantizeBlock, A: QuantizeBlock>(dot: fn(&[W], &[A]) -> f32) {
    let cols = 96;
    let kb = cols / 32;
    for rows in [1, 5, 8] {
        let w: Vec<W> = blocks(&values(rows * cols, rows as u32));
        let packed = pack(W::TYPE, bytemuck::cast_slice(&w), rows, cols);
        for m in [1, 3] {
            let a: Vec<A> = blocks(&values(m * cols, 7 + m as u32));
            let act: &[u8] = bytemuck::cast_slice(&a);
            let ldo = rows + 2;
            let mut out = vec![f32::NAN; (m - 1) * ldo + rows];
            // SAFETY: every buffer holds the length passed with it.
            let status = unsafe {
                slimlm_gemm(
                    packed,
                    act.as_ptr().cast(),
                    act.len(),
                    m,
                    out.as_mut_ptr(),
                    out.len(),
                    ldo,
                )
            };
            assert_eq!(status, Status::Ok, "{} rows {rows} m {m}", W::TYPE);
            for i in 0..m {
                for j in 0..ldo.min(out.len() - i * ldo) {
                    let got = out[i * ldo + j];
                    if j < rows {
                        let want = dot(&w[j * kb..(j + 1) * kb], &a[i * kb..(i + 1) * kb]);
                        assert_eq!(got.to_bits(), want.to_bits(), "{} [{i}][{j}]", W::TYPE);
                    } else {
                        assert!(got.is_nan(), "the gap between rows was written");
                    }
                }
            }
            if m == 1 {
                let mut y = vec![0.0; rows];
                // SAFETY: as above.
                let status = unsafe {
                    slimlm_gemv(packed, act.as_ptr().cast(), act.len(), y.as_mut_ptr(), rows)
                };
                assert_eq!(status, Status::Ok);
                assert_eq!(y, out[..rows]);
            }
        }
        // SAFETY: made by slimlm_pack_weights above, freed once.
        unsafe { slimlm_packed_weights_free(packed) };
    }
}

#[test]
fn gemm_of_every_packed_type_equals_the_reference_dot_products() {
    check_gemm::<BlockQ4_0, BlockQ8_0>(dot_q4_0_q8_0);
    check_gemm::<BlockQ4_1, BlockQ8_1>(dot_q4_1_q8_1);
    check_gemm::<BlockQ8_0, BlockQ8_0>(dot_q8_0_q8_0);
}

#[test]
fn gemm_arguments_are_checked() {
    let (rows, cols) = (5, 64);
    let w: Vec<BlockQ8_0> = blocks(&values(rows * cols, 1));
    let packed = pack(GgmlType::Q8_0, bytemuck::cast_slice(&w), rows, cols);
    let a: Vec<BlockQ8_0> = blocks(&values(2 * cols, 2));
    let act: &[u8] = bytemuck::cast_slice(&a);
    let mut out = vec![0.0f32; 2 * rows];
    // SAFETY: every buffer holds the length passed with it; bad lengths are refused
    // before any access.
    let call = |act: &[u8], m, out: &mut [f32], ldo| unsafe {
        slimlm_gemm(
            packed,
            act.as_ptr().cast(),
            act.len(),
            m,
            out.as_mut_ptr(),
            out.len(),
            ldo,
        )
    };
    assert_eq!(call(act, 2, &mut out, rows), Status::Ok);
    assert_eq!(
        call(&act[..act.len() - 34], 2, &mut out, rows),
        Status::InvalidArgument
    );
    assert_eq!(
        call(act, 2, &mut out[..2 * rows - 1], rows),
        Status::InvalidArgument
    );
    assert_eq!(call(act, 2, &mut out, rows - 1), Status::InvalidArgument);
    assert_eq!(call(act, 0, &mut out, rows), Status::Ok);
    // Misaligned activations (blocks hold u16 scales).
    let mut shifted = vec![0u8; act.len() + 1];
    shifted[1..].copy_from_slice(act);
    assert_eq!(
        call(&shifted[1..], 2, &mut out, rows),
        Status::InvalidArgument
    );
    // SAFETY: a NULL handle is refused.
    let status = unsafe { slimlm_gemv(null(), act.as_ptr().cast(), 68, out.as_mut_ptr(), rows) };
    assert_eq!(status, Status::NullArgument);
    // SAFETY: made by slimlm_pack_weights above, freed once.
    unsafe { slimlm_packed_weights_free(packed) };
}

#[test]
fn pack_refuses_bad_types_and_shapes() {
    let data = [0u8; 34];
    let mut out = null_mut();
    // SAFETY: `data` holds 34 bytes; bad arguments are refused before any read.
    let pack = |ty: u32, size, rows, cols, out: *mut *mut PackedHandle| unsafe {
        slimlm_pack_weights(ty, data.as_ptr().cast(), size, rows, cols, out)
    };
    assert_eq!(pack(8, 34, 1, 32, &mut out), Status::Ok);
    // SAFETY: made just above, freed once.
    unsafe { slimlm_packed_weights_free(out) };
    assert_eq!(pack(1, 34, 1, 32, &mut out), Status::Unsupported);
    assert!(out.is_null(), "a failed pack sets *out to NULL");
    assert_eq!(pack(8, 34, 0, 32, &mut out), Status::InvalidArgument);
    assert_eq!(pack(8, 34, 1, 33, &mut out), Status::InvalidArgument);
    assert_eq!(pack(8, 33, 1, 32, &mut out), Status::InvalidArgument);
    assert_eq!(
        pack(8, 34, usize::MAX, 32, &mut out),
        Status::InvalidArgument
    );
    assert_eq!(pack(8, 34, 1, 32, null_mut()), Status::NullArgument);
}

#[test]
fn quantizers_write_the_reference_blocks_at_any_alignment() {
    let x = values(64, 3);
    let mut want = [0u8; 72];
    quantize_bytes::<BlockQ8_1>(&x, &mut want).unwrap();
    let mut buf = [0u8; 73];
    let out = &mut buf[1..];
    // SAFETY: `x` holds 64 floats, `out` 72 bytes.
    let status = unsafe { slimlm_quantize_q8_1(x.as_ptr(), 64, out.as_mut_ptr().cast(), 72) };
    assert_eq!(status, Status::Ok);
    assert_eq!(out, &want[..]);
    let mut want = [0u8; 68];
    quantize_bytes::<BlockQ8_0>(&x, &mut want).unwrap();
    let mut out = [0u8; 68];
    // SAFETY: as above, 68 bytes.
    let status = unsafe { slimlm_quantize_q8_0(x.as_ptr(), 64, out.as_mut_ptr().cast(), 68) };
    assert_eq!((status, out), (Status::Ok, want));
    // SAFETY: too small an output, and an output over the input, are refused first.
    unsafe {
        let status = slimlm_quantize_q8_0(x.as_ptr(), 64, out.as_mut_ptr().cast(), 67);
        assert_eq!(status, Status::InvalidArgument);
        let mut y = values(64, 3);
        let status = slimlm_quantize_q8_0(y.as_ptr(), 64, y.as_mut_ptr().cast(), 68);
        assert_eq!(status, Status::InvalidArgument);
    }
}

/// Fails unless every element of `got` is within the oracle's bound.
fn within(what: &str, want: &Expected, got: &[f32]) {
    let w = want.worst(got);
    assert!(w.ratio <= 1.0, "{what}: {w}");
}

#[test]
fn norms_match_the_oracle_per_row_and_refuse_in_place() {
    let (rows, cols) = (3, 40);
    let x = values(rows * cols, 4);
    let (w, b) = (values(cols, 5), values(cols, 6));
    let mut out = vec![0.0; rows * cols];
    // SAFETY: every buffer holds rows * cols or cols floats.
    let status =
        unsafe { slimlm_rmsnorm_f32(x.as_ptr(), w.as_ptr(), rows, cols, 1e-5, out.as_mut_ptr()) };
    assert_eq!(status, Status::Ok);
    within("slimlm_rmsnorm_f32", &oracle::rms_norm(&x, &w, 1e-5), &out);
    // SAFETY: as above.
    let status = unsafe {
        slimlm_layernorm_f32(
            x.as_ptr(),
            w.as_ptr(),
            b.as_ptr(),
            rows,
            cols,
            1e-5,
            out.as_mut_ptr(),
        )
    };
    assert_eq!(status, Status::Ok);
    within(
        "slimlm_layernorm_f32",
        &oracle::layer_norm(&x, &w, &b, 1e-5),
        &out,
    );
    let mut y = x.clone();
    // SAFETY: refused before any access: in place, NaN eps, NULL weight.
    unsafe {
        let p = y.as_mut_ptr();
        assert_eq!(
            slimlm_rmsnorm_f32(p, w.as_ptr(), rows, cols, 1e-5, p),
            Status::InvalidArgument
        );
        let o = out.as_mut_ptr();
        let status = slimlm_rmsnorm_f32(x.as_ptr(), w.as_ptr(), rows, cols, f32::NAN, o);
        assert_eq!(status, Status::InvalidArgument);
        let status = slimlm_layernorm_f32(x.as_ptr(), w.as_ptr(), null(), rows, cols, 0.0, o);
        assert_eq!(status, Status::NullArgument);
    }
}

#[test]
fn attention_decode_matches_the_oracle() {
    let s = AttentionShapeC {
        n_heads: 4,
        n_kv_heads: 2,
        head_dim: 8,
        n_keys: 5,
        scale: 0.35,
    };
    let q = values(32, 7);
    let (k, v) = (values(5 * 16, 8), values(5 * 16, 9));
    let (mut scores, mut out) = (vec![0.0; 5], vec![0.0; 32]);
    // SAFETY: every buffer holds what the shape asks for.
    let status = unsafe {
        slimlm_attention_decode_f32(
            &s,
            q.as_ptr(),
            k.as_ptr(),
            v.as_ptr(),
            scores.as_mut_ptr(),
            out.as_mut_ptr(),
        )
    };
    assert_eq!(status, Status::Ok);
    // Judged by the bound of the tiers' online softmax (the f64 reference this entry point
    // runs today is within it too).
    let decode = AttentionDecode {
        n_heads: 4,
        n_kv_heads: 2,
        head_dim: 8,
        n_keys: 5,
        scale: 0.35,
        key_block: slimlm_kernels::attention::KV_BLOCK,
    };
    within(
        "slimlm_attention_decode_f32",
        &oracle::attention_decode(&decode, &q, &k, &v),
        &out,
    );
    for bad in [
        AttentionShapeC { n_kv_heads: 3, ..s },
        AttentionShapeC { n_kv_heads: 0, ..s },
        AttentionShapeC { n_keys: 0, ..s },
        AttentionShapeC {
            scale: f32::INFINITY,
            ..s
        },
        AttentionShapeC {
            n_keys: usize::MAX,
            ..s
        },
    ] {
        // SAFETY: refused before any access.
        let status = unsafe {
            slimlm_attention_decode_f32(
                &bad,
                q.as_ptr(),
                k.as_ptr(),
                v.as_ptr(),
                scores.as_mut_ptr(),
                out.as_mut_ptr(),
            )
        };
        assert_eq!(status, Status::InvalidArgument, "{bad:?}");
    }
    // SAFETY: scores over the keys is refused before any access.
    let status = unsafe {
        slimlm_attention_decode_f32(
            &s,
            q.as_ptr(),
            k.as_ptr(),
            v.as_ptr(),
            k.as_ptr().cast_mut(),
            out.as_mut_ptr(),
        )
    };
    assert_eq!(status, Status::InvalidArgument);
}
