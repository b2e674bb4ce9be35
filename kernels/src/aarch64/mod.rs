//! aarch64 tiers: ARMv8.0 NEON ([`neon`]), dot product ([`dotprod`], sdot) and int8
//! matrix multiply ([`i8mm`], smmla). Each higher tier starts from the table of the tier
//! below and replaces what it does better. The non-matmul ops have one NEON tier
//! ([`ops_neon`]) that all three use.

mod asm;
pub(crate) mod dotprod;
pub(crate) mod i8mm;
pub(crate) mod neon;
pub(crate) mod ops_neon;
pub(crate) mod quantize;

use crate::dispatch::Isa;
use crate::matmul::Kernel;
use crate::tiers::Table;

pub(crate) fn install(isa: Isa, table: &mut Table<'_>) {
    neon::install(table);
    *table.quantize_q8_0 = Kernel {
        name: "quantize_row_q8_0_neon",
        run: quantize::quantize_row_q8_0_neon,
    };
    *table.quantize_q8_1 = Kernel {
        name: "quantize_row_q8_1_neon",
        run: quantize::quantize_row_q8_1_neon,
    };
    if matches!(isa, Isa::Dotprod | Isa::I8mm) {
        dotprod::install(table);
    }
    if isa == Isa::I8mm {
        i8mm::install(table);
    }
}
