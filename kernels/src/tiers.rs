//! Which SIMD kernels each tier installs over the scalar defaults of
//! [`crate::matmul::Kernels`]. A tier that has no kernel for a format keeps the scalar
//! one, and the table's `kernel_name` says so (logged at model load), never silently.

use crate::dispatch::Isa;
use crate::matmul::{
    GemmQ4_0Fn, GemmQ4_1Fn, GemmQ6KFn, GemmQ8_0Fn, Kernel, QuantizeQ8_0Fn, QuantizeQ8_1Fn,
};

/// The matmul entries a tier may replace.
pub(crate) struct Table<'a> {
    pub q8_0: &'a mut Kernel<GemmQ8_0Fn>,
    pub q4_0: &'a mut Kernel<GemmQ4_0Fn>,
    pub q4_1: &'a mut Kernel<GemmQ4_1Fn>,
    pub q6_k: &'a mut Kernel<GemmQ6KFn>,
    pub quantize_q8_0: &'a mut Kernel<QuantizeQ8_0Fn>,
    pub quantize_q8_1: &'a mut Kernel<QuantizeQ8_1Fn>,
}

pub(crate) fn install(isa: Isa, table: Table<'_>) {
    let mut table = table;
    match isa {
        Isa::Scalar => {}
        #[cfg(target_arch = "aarch64")]
        Isa::Neon | Isa::Dotprod | Isa::I8mm => crate::aarch64::install(isa, &mut table),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 | Isa::Avx512 => crate::x86_64::install(isa, &mut table),
        #[allow(unreachable_patterns)]
        _ => {}
    }
    let _ = &mut table;
}
