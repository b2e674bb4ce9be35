//! aarch64 tiers: ARMv8.0 NEON ([`neon`]), dot product ([`dotprod`], sdot) and int8
//! matrix multiply ([`i8mm`], smmla). Layers, each importing only those above it in this
//! list: [`asm`] (sdot/smmla/fcvt instructions) and [`format`] (what each weight format
//! contributes to a tile), [`driver`] (the loop nest of the dotprod and i8mm tiles), the
//! tiles [`neon`], [`dotprod`], [`i8mm`] (never each other), then [`kernels`] (the named
//! entries and tables). Each higher tier starts from the table of the tier below and
//! replaces what it does better. The non-matmul ops have one NEON tier ([`ops_neon`])
//! that all three use; the activation quantizers are [`quantize`].

mod asm;
mod dotprod;
mod driver;
mod format;
mod i8mm;
mod kernels;
mod neon;
pub(crate) mod ops_neon;
pub(crate) mod quantize;

use crate::dispatch::Isa;
use crate::matmul::contract::{quantizer, KernelTable};
use quantize::{quantize_row_q8_0_neon, quantize_row_q8_1_neon};

/// Replaces the scalar entries of `table` with those of `isa`: NEON's, then dotprod's,
/// then i8mm's.
pub(crate) fn install(isa: Isa, table: &mut KernelTable) {
    kernels::install_neon(table);
    table.quantize_q8_0 = quantizer!(quantize_row_q8_0_neon);
    table.quantize_q8_1 = quantizer!(quantize_row_q8_1_neon);
    if matches!(isa, Isa::Dotprod | Isa::I8mm) {
        kernels::install_dotprod(table);
    }
    if isa == Isa::I8mm {
        kernels::install_i8mm(table);
    }
}
