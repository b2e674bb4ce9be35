//! x86-64 tiers: AVX2 + FMA + F16C ([`avx2`]) and AVX-512 with VNNI ([`avx512`]), and
//! the non-matmul ops of both ([`ops_avx2`], [`ops_avx512`]).

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod ops_avx2;
pub(crate) mod ops_avx512;
pub(crate) mod quantize;

use crate::dispatch::Isa;
use crate::matmul::Kernel;
use crate::tiers::Table;

pub(crate) fn install(isa: Isa, table: &mut Table<'_>) {
    avx2::install(table);
    *table.quantize_q8_0 = Kernel {
        name: "quantize_row_q8_0_avx2",
        run: quantize::quantize_row_q8_0_avx2,
    };
    *table.quantize_q8_1 = Kernel {
        name: "quantize_row_q8_1_avx2",
        run: quantize::quantize_row_q8_1_avx2,
    };
    if isa == Isa::Avx512 {
        avx512::install(table);
    }
}
