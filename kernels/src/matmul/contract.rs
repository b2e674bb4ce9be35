//! The contract every tier's matrix products implement, and the table one tier fills.
//!
//! A leaf: it imports only the block formats and the panel types, every tier imports it,
//! and it imports no tier and not the facade ([`super::Kernels`]), so the layers of the
//! crate only import downward (docs/architecture.md).
//!
//! Contract of every product (`GemmQ8_0Fn` and friends): `w` holds the panel blocks of
//! `G = w.len() / kb` consecutive row groups, `a` holds `m` activation rows of `kb`
//! blocks, and the kernel writes `out[i * ldo + 4 * g + r]` = the dot product of weight row
//! `4g + r` (of the given groups) with activation row `i`, for `i < m`, `g < G`, `r < 4`.
//! Integer block sums are exact, and the float accumulation uses the same operations in
//! the same order as the scalar reference dot products ([`crate::reference::dot`]), so
//! every tier's output is bit-identical to the reference, whatever the tiling or thread
//! split. Kernels never allocate.

use crate::formats::{BlockQ8_0, BlockQ8_1};
use crate::pack::{BlockQ4_0x4, BlockQ4_1x4, BlockQ6Kx4, BlockQ8_0x4};

/// Q8_0 panels x Q8_0 activations.
pub type GemmQ8_0Fn =
    unsafe fn(w: &[BlockQ8_0x4], kb: usize, a: &[BlockQ8_0], m: usize, out: &mut [f32], ldo: usize);
/// Q4_0 panels x Q8_0 activations.
pub type GemmQ4_0Fn =
    unsafe fn(w: &[BlockQ4_0x4], kb: usize, a: &[BlockQ8_0], m: usize, out: &mut [f32], ldo: usize);
/// Q4_1 panels x Q8_1 activations.
pub type GemmQ4_1Fn =
    unsafe fn(w: &[BlockQ4_1x4], kb: usize, a: &[BlockQ8_1], m: usize, out: &mut [f32], ldo: usize);
/// Q6_K panels x Q8_0 activations.
pub type GemmQ6KFn =
    unsafe fn(w: &[BlockQ6Kx4], kb: usize, a: &[BlockQ8_0], m: usize, out: &mut [f32], ldo: usize);

/// f32 row -> Q8_0 blocks (`x.len() == 32 * out.len()`), bit-identical to the scalar
/// quantizer.
pub type QuantizeQ8_0Fn = unsafe fn(x: &[f32], out: &mut [BlockQ8_0]);
/// f32 row -> Q8_1 blocks, bit-identical to the scalar quantizer.
pub type QuantizeQ8_1Fn = unsafe fn(x: &[f32], out: &mut [BlockQ8_1]);

/// The output tile a product's micro-kernel computes per step (KleidiAI's `get_nr` /
/// `get_mr`): a caller that splits the work across threads splits on these multiples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    /// Weight rows (outputs of one activation row) per GEMM step (`m > 1`).
    pub weight_rows: usize,
    /// Activation rows per GEMM step.
    pub act_rows: usize,
    /// Weight rows per GEMV step (`m == 1`, decode).
    pub gemv_weight_rows: usize,
}

/// One tier's product for one weight format. `name` is the function's own name (made by
/// [`kernel!`], never typed twice): formats, panel layout, GEMM tile and ISA, e.g.
/// `gemm_q4_0x4x8_q8_0x4_4x8_i8mm` = Q4_0 panels of 4 rows x 8-byte groups, times Q8_0
/// activations repacked 4 rows at a time, 4 weight rows x 8 activation rows per step, smmla.
#[derive(Clone, Copy)]
pub struct Kernel<F> {
    pub name: &'static str,
    pub run: F,
    pub tile: Tile,
}

/// One tier's activation quantizer; `name` is the function's name (made by
/// [`quantizer!`]).
#[derive(Clone, Copy)]
pub struct Quantizer<F> {
    pub name: &'static str,
    pub run: F,
}

/// Every entry of one tier, declared once: the scalar tier fills all of them
/// ([`super::scalar::table`]) and each SIMD tier replaces those it implements.
#[derive(Clone, Copy)]
pub struct KernelTable {
    pub q8_0: Kernel<GemmQ8_0Fn>,
    pub q4_0: Kernel<GemmQ4_0Fn>,
    pub q4_1: Kernel<GemmQ4_1Fn>,
    pub q6_k: Kernel<GemmQ6KFn>,
    pub quantize_q8_0: Quantizer<QuantizeQ8_0Fn>,
    pub quantize_q8_1: Quantizer<QuantizeQ8_1Fn>,
}

/// Whether `name` contains `part` (a `const fn`, so [`kernel!`] checks names at compile
/// time).
pub(crate) const fn contains(name: &str, part: &str) -> bool {
    let (name, part) = (name.as_bytes(), part.as_bytes());
    let mut at = 0;
    while at + part.len() <= name.len() {
        let mut i = 0;
        while i < part.len() && name[at + i] == part[i] {
            i += 1;
        }
        if i == part.len() {
            return true;
        }
        at += 1;
    }
    false
}

/// `kernel!(f, weight_rows x act_rows, gemv gemv_weight_rows)`: the [`Kernel`] of the
/// function `f` (in scope), named after it; the name must state the GEMM tile
/// (`_{weight_rows}x{act_rows}_`), or the crate does not compile.
macro_rules! kernel {
    ($f:ident, $wr:literal x $ar:literal, gemv $gr:literal) => {{
        const {
            assert!(
                $crate::matmul::contract::contains(
                    stringify!($f),
                    concat!("_", stringify!($wr), "x", stringify!($ar), "_")
                ),
                concat!(stringify!($f), " does not name its tile")
            )
        };
        $crate::matmul::contract::Kernel {
            name: stringify!($f),
            run: $f,
            tile: $crate::matmul::contract::Tile {
                weight_rows: $wr,
                act_rows: $ar,
                gemv_weight_rows: $gr,
            },
        }
    }};
}
pub(crate) use kernel;

/// `quantizer!(f)`: the [`Quantizer`] of the function `f` (in scope), named after it.
macro_rules! quantizer {
    ($f:ident) => {
        $crate::matmul::contract::Quantizer {
            name: stringify!($f),
            run: $f,
        }
    };
}
pub(crate) use quantizer;
