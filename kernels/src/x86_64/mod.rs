//! x86-64 tiers: AVX2 + FMA + F16C ([`avx2`]) and AVX-512 with VNNI ([`avx512`]), and
//! the non-matmul ops of both ([`ops_avx2`], [`ops_avx512`]).

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod ops_avx2;
pub(crate) mod ops_avx512;
pub(crate) mod quantize;

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
