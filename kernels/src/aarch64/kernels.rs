//! The named entry functions of the aarch64 tiers (the kernel contract of
//! [`crate::matmul::contract`] per format and tier) and the tables they install. This is
//! where tiles meet: the i8mm kernels run the dotprod tile for single activation rows,
//! so tier files never import each other.

use super::driver;
use super::format::{Format, Q4_0, Q4_1, Q6K, Q8_0};
use super::neon::gemm as neon_gemm;
use super::{dotprod::DotTile, i8mm, i8mm::MmlaTile};
use crate::matmul::contract::{kernel, KernelTable};

/// The dotprod product: `sdot` tiles of 4 activation rows (tails 1..=3) through the
/// shared loop nest.
///
/// # Safety
/// The CPU must support FEAT_DotProd. (Shapes are checked: a slice too short panics.)
#[inline]
#[target_feature(enable = "neon,dotprod")]
unsafe fn dotprod_gemm<F: Format>(
    w: &[F::Panel],
    kb: usize,
    a: &[F::Act],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    // SAFETY: the caller guarantees dotprod; `DotTile` takes every height 1..=4.
    unsafe { driver::gemm::<F, DotTile>(w, kb, a, m, out, ldo) }
}

/// The i8mm product: `smmla` tiles of 2..=8 rows, and the dotprod tile for a single row
/// (m == 1, or the last row of m = 8t + 1), whose `sdot`s use all 16 multiplies where a
/// zero-padded `smmla` would waste half of its 32.
///
/// # Safety
/// The CPU must support FEAT_I8MM (with NEON and dotprod). (Shapes are checked: a slice
/// too short panics.)
#[inline]
#[target_feature(enable = "neon,dotprod,i8mm")]
unsafe fn i8mm_gemm<F: Format>(
    w: &[F::Panel],
    kb: usize,
    a: &[F::Act],
    m: usize,
    out: &mut [f32],
    ldo: usize,
) {
    let single = m % i8mm::TILE_M == 1;
    let tiled = if single { m - 1 } else { m };
    // SAFETY: the caller guarantees i8mm; the heights `MmlaTile` sees are 8 and a tail of
    // 2..=7; the last single row goes to `DotTile` (i8mm cores have dotprod), with `a`
    // and `out` offset to that row.
    unsafe {
        driver::gemm::<F, MmlaTile>(w, kb, a, tiled, out, ldo);
        if single {
            let (a, out) = (&a[tiled * kb..], &mut out[tiled * ldo..]);
            driver::gemm::<F, DotTile>(w, kb, a, 1, out, ldo);
        }
    }
}

/// `entries!(features, product: name = Format, ...)` defines each `name`: `product` for
/// that format under the tier's target features, with the contract's signature.
macro_rules! entries {
    ($features:literal, $product:ident: $($name:ident = $format:ident),+ $(,)?) => {$(
        /// The kernel contract ([`crate::matmul::contract`]) for this format and tier.
        ///
        /// # Safety
        /// The CPU must support the tier's features; slices as in the contract (a slice
        /// too short panics, never reads or writes out of bounds).
        #[target_feature(enable = $features)]
        unsafe fn $name(
            w: &[<$format as Format>::Panel],
            kb: usize,
            a: &[<$format as Format>::Act],
            m: usize,
            out: &mut [f32],
            ldo: usize,
        ) {
            // SAFETY: forwarded from the caller.
            unsafe { $product::<$format>(w, kb, a, m, out, ldo) }
        }
    )+};
}

entries!("neon", neon_gemm:
    gemm_q8_0x4x8_q8_0_4x4_neon = Q8_0,
    gemm_q4_0x4x8_q8_0_4x4_neon = Q4_0,
    gemm_q4_1x4x8_q8_1_4x4_neon = Q4_1,
    gemm_q6_kx4x8_q8_0_4x4_neon = Q6K,
);
entries!("neon,dotprod", dotprod_gemm:
    gemm_q8_0x4x8_q8_0_4x4_dotprod = Q8_0,
    gemm_q4_0x4x8_q8_0_4x4_dotprod = Q4_0,
    gemm_q4_1x4x8_q8_1_4x4_dotprod = Q4_1,
    gemm_q6_kx4x8_q8_0_4x4_dotprod = Q6K,
);
entries!("neon,dotprod,i8mm", i8mm_gemm:
    gemm_q8_0x4x8_q8_0x4_4x8_i8mm = Q8_0,
    gemm_q4_0x4x8_q8_0x4_4x8_i8mm = Q4_0,
    gemm_q4_1x4x8_q8_1x4_4x8_i8mm = Q4_1,
    gemm_q6_kx4x8_q8_0x4_4x8_i8mm = Q6K,
);

/// NEON: GEMM tiles of 4 weight rows x 4 activation rows, GEMV tiles of 8 weight rows.
pub(super) fn install_neon(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0_4x4_neon, 4 x 4, gemv 8);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0_4x4_neon, 4 x 4, gemv 8);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1_4x4_neon, 4 x 4, gemv 8);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0_4x4_neon, 4 x 4, gemv 8);
}

/// dotprod: tiles of 4 weight rows x 4 activation rows, GEMV 4 weight rows.
pub(super) fn install_dotprod(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0_4x4_dotprod, 4 x 4, gemv 4);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0_4x4_dotprod, 4 x 4, gemv 4);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1_4x4_dotprod, 4 x 4, gemv 4);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0_4x4_dotprod, 4 x 4, gemv 4);
}

/// i8mm: tiles of 4 weight rows x 8 activation rows; GEMV (one activation row) runs the
/// dotprod tile.
pub(super) fn install_i8mm(table: &mut KernelTable) {
    table.q8_0 = kernel!(gemm_q8_0x4x8_q8_0x4_4x8_i8mm, 4 x 8, gemv 4);
    table.q4_0 = kernel!(gemm_q4_0x4x8_q8_0x4_4x8_i8mm, 4 x 8, gemv 4);
    table.q4_1 = kernel!(gemm_q4_1x4x8_q8_1x4_4x8_i8mm, 4 x 8, gemv 4);
    table.q6_k = kernel!(gemm_q6_kx4x8_q8_0x4_4x8_i8mm, 4 x 8, gemv 4);
}
