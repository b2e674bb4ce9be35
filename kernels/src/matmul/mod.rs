//! Matrix products of x4x8 weight panels ([`crate::pack`]) with int8-quantized
//! activation rows, for every tier, behind one dispatch table ([`Kernels`]).
//!
//! Contract of every implementation (`GemmQ8_0Fn` and friends): `w` holds the panel blocks
//! of `G = w.len() / kb` consecutive row groups, `a` holds `m` activation rows of `kb`
//! blocks, and the kernel writes `out[i * ldo + 4 * g + r]` = the dot product of weight row
//! `4g + r` (of the given groups) with activation row `i`, for `i < m`, `g < G`, `r < 4`.
//! Integer block sums are exact, and the float accumulation uses the same operations in
//! the same order as the scalar reference dot products ([`crate::reference::dot`]), so
//! every tier's output is bit-identical to the reference, whatever the tiling or thread
//! split. Kernels never allocate.

pub mod scalar;

use core::ops::Range;

use crate::dispatch::Isa;
#[cfg(feature = "std")]
use crate::dispatch::IsaError;
use crate::formats::{BlockQ8_0, BlockQ8_1, GgmlType};
use crate::pack::{
    BlockQ4_0x4, BlockQ4_1x4, BlockQ6Kx4, BlockQ8_0x4, PackedMatrix, PanelData, PANEL_ROWS,
};

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

/// One implementation of a format's product, with the name logs and tests show.
#[derive(Clone, Copy)]
pub struct Kernel<F> {
    pub name: &'static str,
    pub run: F,
}

/// Quantized activation rows, in the format a weight type's product wants.
#[derive(Clone, Copy, Debug)]
pub enum Activations<'a> {
    Q8_0(&'a [BlockQ8_0]),
    Q8_1(&'a [BlockQ8_1]),
}

/// Why a product call was refused (caller bugs: shapes that do not fit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatmulError {
    Shape(&'static str),
    ActivationFormat { weights: GgmlType },
}

impl core::fmt::Display for MatmulError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MatmulError::Shape(what) => write!(f, "matmul shape mismatch: {what}"),
            MatmulError::ActivationFormat { weights } => {
                write!(
                    f,
                    "{weights} panels need {} activations",
                    activation_type(*weights)
                )
            }
        }
    }
}

/// The activation format the product with `weights` panels takes (Q4_K weights are
/// Q4_1 panels).
pub fn activation_type(weights: GgmlType) -> GgmlType {
    match weights {
        GgmlType::Q4_1 | GgmlType::Q4K => GgmlType::Q8_1,
        _ => GgmlType::Q8_0,
    }
}

/// The kernels of one tier, chosen once. Every entry was checked against the CPU when the
/// table was built, which is what makes calling them safe.
#[derive(Clone, Copy)]
pub struct Kernels {
    isa: Isa,
    q8_0: Kernel<GemmQ8_0Fn>,
    q4_0: Kernel<GemmQ4_0Fn>,
    q4_1: Kernel<GemmQ4_1Fn>,
    q6_k: Kernel<GemmQ6KFn>,
    quantize_q8_0: Kernel<QuantizeQ8_0Fn>,
    quantize_q8_1: Kernel<QuantizeQ8_1Fn>,
}

impl Kernels {
    /// The table of `isa`, which must be available on this CPU.
    #[cfg(feature = "std")]
    pub fn new(isa: Isa) -> Result<Kernels, IsaError> {
        if !isa.is_available() {
            return Err(IsaError::Unsupported {
                requested: isa,
                best: Isa::detect(),
            });
        }
        Ok(Self::table(isa))
    }

    /// The table of `isa` without checking the CPU.
    ///
    /// # Safety
    /// The CPU must support `isa` (see [`Isa::is_available`]); calling a kernel of a tier
    /// the CPU lacks is undefined behaviour.
    pub unsafe fn new_unchecked(isa: Isa) -> Kernels {
        Self::table(isa)
    }

    fn table(isa: Isa) -> Kernels {
        let mut k = Kernels {
            isa,
            q8_0: Kernel {
                name: "gemm_q8_0x4x8_q8_0_scalar",
                run: scalar::gemm_q8_0,
            },
            q4_0: Kernel {
                name: "gemm_q4_0x4x8_q8_0_scalar",
                run: scalar::gemm_q4_0,
            },
            q4_1: Kernel {
                name: "gemm_q4_1x4x8_q8_1_scalar",
                run: scalar::gemm_q4_1,
            },
            q6_k: Kernel {
                name: "gemm_q6_kx4x8_q8_0_scalar",
                run: scalar::gemm_q6_k,
            },
            quantize_q8_0: Kernel {
                name: "quantize_row_q8_0_scalar",
                run: scalar::quantize_row_q8_0,
            },
            quantize_q8_1: Kernel {
                name: "quantize_row_q8_1_scalar",
                run: scalar::quantize_row_q8_1,
            },
        };
        let table = crate::tiers::Table {
            q8_0: &mut k.q8_0,
            q4_0: &mut k.q4_0,
            q4_1: &mut k.q4_1,
            q6_k: &mut k.q6_k,
            quantize_q8_0: &mut k.quantize_q8_0,
            quantize_q8_1: &mut k.quantize_q8_1,
        };
        crate::tiers::install(isa, table);
        k
    }

    /// Quantizes the f32 row `x` into Q8_0 blocks with this tier's quantizer
    /// (bit-identical to [`crate::formats::quantize_blocks`]).
    pub fn quantize_q8_0(&self, x: &[f32], out: &mut [BlockQ8_0]) -> Result<(), MatmulError> {
        if x.len() != 32 * out.len() {
            return Err(MatmulError::Shape("a Q8_0 row is 32 values per block"));
        }
        // SAFETY: the table's entries run on this CPU (see `Kernels`); lengths checked.
        unsafe { (self.quantize_q8_0.run)(x, out) };
        Ok(())
    }

    /// As [`Kernels::quantize_q8_0`], into Q8_1 blocks.
    pub fn quantize_q8_1(&self, x: &[f32], out: &mut [BlockQ8_1]) -> Result<(), MatmulError> {
        if x.len() != 32 * out.len() {
            return Err(MatmulError::Shape("a Q8_1 row is 32 values per block"));
        }
        // SAFETY: as in `quantize_q8_0`.
        unsafe { (self.quantize_q8_1.run)(x, out) };
        Ok(())
    }

    /// The quantizer that serves activations of type `ty` (Q8_0 or Q8_1), for logs and
    /// tests.
    pub fn quantizer_name(&self, ty: GgmlType) -> &'static str {
        match ty {
            GgmlType::Q8_0 => self.quantize_q8_0.name,
            GgmlType::Q8_1 => self.quantize_q8_1.name,
            _ => "none",
        }
    }

    /// The tier this table was built for.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The kernel that serves panels of type `ty` (for logs).
    pub fn kernel_name(&self, ty: GgmlType) -> &'static str {
        match ty {
            GgmlType::Q8_0 => self.q8_0.name,
            GgmlType::Q4_0 => self.q4_0.name,
            GgmlType::Q4_1 | GgmlType::Q4K => self.q4_1.name,
            GgmlType::Q6K => self.q6_k.name,
            _ => "none",
        }
    }

    /// `out[i * ldo + j]` = dot(weight row `4 * groups.start + j`, activation row `i`) for the
    /// rows of `groups` (4 rows each; rows past `w.rows` are zero padding) and `m`
    /// activation rows.
    pub fn gemm(
        &self,
        w: &PackedMatrix,
        groups: Range<usize>,
        a: Activations<'_>,
        m: usize,
        out: &mut [f32],
        ldo: usize,
    ) -> Result<(), MatmulError> {
        let kb = w.k_blocks();
        if groups.start > groups.end || groups.end > w.groups() {
            return Err(MatmulError::Shape("row groups outside the matrix"));
        }
        let width = (groups.end - groups.start) * PANEL_ROWS;
        if m == 0 || width == 0 {
            return Ok(());
        }
        if ldo < width || out.len() < (m - 1) * ldo + width {
            return Err(MatmulError::Shape("output tile too small"));
        }
        if kb == 0 {
            // Empty dot products: zero, without asking any kernel about a 0-wide panel.
            for row in out.chunks_mut(ldo).take(m) {
                row[..width].fill(0.0);
            }
            return Ok(());
        }
        let panels = groups.start * kb..groups.end * kb;
        let a_len = |n: usize| {
            if n == m * kb {
                Ok(())
            } else {
                Err(MatmulError::Shape("activations are not m rows of k blocks"))
            }
        };
        // SAFETY: the table was built for a tier this CPU supports (`new` checked it, or
        // the caller of `new_unchecked` promised it), and the slices were checked above to
        // hold what the kernel contract reads and writes.
        unsafe {
            match (&w.data, a) {
                (PanelData::Q8_0(p), Activations::Q8_0(a)) => {
                    a_len(a.len())?;
                    (self.q8_0.run)(&p[panels], kb, a, m, out, ldo)
                }
                (PanelData::Q4_0(p), Activations::Q8_0(a)) => {
                    a_len(a.len())?;
                    (self.q4_0.run)(&p[panels], kb, a, m, out, ldo)
                }
                (PanelData::Q4_1(p), Activations::Q8_1(a)) => {
                    a_len(a.len())?;
                    (self.q4_1.run)(&p[panels], kb, a, m, out, ldo)
                }
                (PanelData::Q6K(p), Activations::Q8_0(a)) => {
                    a_len(a.len())?;
                    (self.q6_k.run)(&p[panels], kb, a, m, out, ldo)
                }
                _ => return Err(MatmulError::ActivationFormat { weights: w.ty() }),
            }
        }
        Ok(())
    }
}
