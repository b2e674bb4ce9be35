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
use crate::matmul::contract::{quantizer, KernelTable};
use quantize::{quantize_row_q8_0_neon, quantize_row_q8_1_neon};

/// Replaces the scalar entries of `table` with those of `isa`: NEON's, then dotprod's,
/// then i8mm's.
pub(crate) fn install(isa: Isa, table: &mut KernelTable) {
    neon::install(table);
    table.quantize_q8_0 = quantizer!(quantize_row_q8_0_neon);
    table.quantize_q8_1 = quantizer!(quantize_row_q8_1_neon);
    if matches!(isa, Isa::Dotprod | Isa::I8mm) {
        dotprod::install(table);
    }
    if isa == Isa::I8mm {
        i8mm::install(table);
    }
}
