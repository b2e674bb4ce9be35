//! x86-64 tiers: AVX2 + FMA + F16C ([`avx2`]) and AVX-512 with VNNI ([`avx512`]), and
//! the non-matmul ops of both ([`ops_avx2`], [`ops_avx512`]).
//!
//! Layers, each importing only from the ones below it (never from a sibling tier):
//! - tiers: [`avx2`] and [`avx512`] (one integer core per weight format and the install of
//!   their kernels), [`ops_avx2`] and [`ops_avx512`] (the ops' registers);
//! - shared by both tiers: [`panel`] (the loop nest, the `Core` trait, `panel_kernel!`),
//!   [`format`](mod@format) (scales and float stage per weight format), [`operands`]
//!   (operand loaders), [`reduce`] (the last reduction levels of the ops), [`quantize`]
//!   (activation rows);
//! - below: [`crate::matmul::contract`], [`crate::ops::contract`], [`crate::pack`],
//!   [`crate::formats`], [`crate::reference`].

pub(crate) mod avx2;
pub(crate) mod avx512;
mod format;
mod operands;
pub(crate) mod ops_avx2;
pub(crate) mod ops_avx512;
mod panel;
pub(crate) mod quantize;
mod reduce;

use crate::dispatch::Isa;
use crate::matmul::contract::{quantizer, KernelTable};
use quantize::{quantize_row_q8_0_avx2, quantize_row_q8_1_avx2};

/// Replaces the scalar entries of `table` with those of `isa`: avx2's, then avx512's.
pub(crate) fn install(isa: Isa, table: &mut KernelTable) {
    avx2::install(table);
    table.quantize_q8_0 = quantizer!(quantize_row_q8_0_avx2);
    table.quantize_q8_1 = quantizer!(quantize_row_q8_1_avx2);
    if isa == Isa::Avx512 {
        avx512::install(table);
    }
}
