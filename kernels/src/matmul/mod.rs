//! Matrix products of x4x8 weight panels ([`crate::pack`]) with int8-quantized
//! activation rows, for every tier, behind one dispatch table ([`Kernels`]): the facade
//! that checks shapes and chooses the tier. The contract every implementation meets and
//! the table type are in `contract.rs`; the scalar tier is `scalar.rs`.

pub(crate) mod contract;
pub(crate) mod scalar;

use core::ops::Range;

use self::contract::KernelTable;
pub use self::contract::Tile;
use crate::dispatch::Isa;
#[cfg(feature = "std")]
use crate::dispatch::IsaError;
use crate::formats::{BlockQ8_0, BlockQ8_1, GgmlType};
use crate::pack::{PackedMatrix, PanelData, PANEL_ROWS};

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
    table: KernelTable,
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

    /// The scalar table with every entry `isa` implements replaced by its own.
    fn table(isa: Isa) -> Kernels {
        let mut table = scalar::table();
        match isa {
            Isa::Scalar => {}
            #[cfg(target_arch = "aarch64")]
            Isa::Neon | Isa::Dotprod | Isa::I8mm => crate::aarch64::install(isa, &mut table),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 | Isa::Avx512 => crate::x86_64::install(isa, &mut table),
            #[allow(unreachable_patterns)]
            _ => {}
        }
        Kernels { isa, table }
    }

    /// Quantizes the f32 row `x` into Q8_0 blocks with this tier's quantizer
    /// (bit-identical to [`crate::formats::quantize_blocks`]).
    pub fn quantize_q8_0(&self, x: &[f32], out: &mut [BlockQ8_0]) -> Result<(), MatmulError> {
        if x.len() != 32 * out.len() {
            return Err(MatmulError::Shape("a Q8_0 row is 32 values per block"));
        }
        // SAFETY: the table's entries run on this CPU (see `Kernels`); lengths checked.
        unsafe { (self.table.quantize_q8_0.run)(x, out) };
        Ok(())
    }

    /// As [`Kernels::quantize_q8_0`], into Q8_1 blocks.
    pub fn quantize_q8_1(&self, x: &[f32], out: &mut [BlockQ8_1]) -> Result<(), MatmulError> {
        if x.len() != 32 * out.len() {
            return Err(MatmulError::Shape("a Q8_1 row is 32 values per block"));
        }
        // SAFETY: as in `quantize_q8_0`.
        unsafe { (self.table.quantize_q8_1.run)(x, out) };
        Ok(())
    }

    /// The quantizer that serves activations of type `ty` (Q8_0 or Q8_1), for logs and
    /// tests.
    pub fn quantizer_name(&self, ty: GgmlType) -> &'static str {
        match ty {
            GgmlType::Q8_0 => self.table.quantize_q8_0.name,
            GgmlType::Q8_1 => self.table.quantize_q8_1.name,
            _ => "none",
        }
    }

    /// The tier this table was built for.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The kernel that serves panels of type `ty` (for logs), "none" for a type without
    /// panels.
    pub fn kernel_name(&self, ty: GgmlType) -> &'static str {
        self.kernel_tile(ty).map_or("none", |(name, _)| name)
    }

    /// The name and tile of the kernel that serves panels of type `ty`, `None` for a type
    /// without panels.
    pub fn kernel_tile(&self, ty: GgmlType) -> Option<(&'static str, Tile)> {
        let t = &self.table;
        match ty {
            GgmlType::Q8_0 => Some((t.q8_0.name, t.q8_0.tile)),
            GgmlType::Q4_0 => Some((t.q4_0.name, t.q4_0.tile)),
            GgmlType::Q4_1 | GgmlType::Q4K => Some((t.q4_1.name, t.q4_1.tile)),
            GgmlType::Q6K => Some((t.q6_k.name, t.q6_k.tile)),
            _ => None,
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
                    (self.table.q8_0.run)(&p[panels], kb, a, m, out, ldo)
                }
                (PanelData::Q4_0(p), Activations::Q8_0(a)) => {
                    a_len(a.len())?;
                    (self.table.q4_0.run)(&p[panels], kb, a, m, out, ldo)
                }
                (PanelData::Q4_1(p), Activations::Q8_1(a)) => {
                    a_len(a.len())?;
                    (self.table.q4_1.run)(&p[panels], kb, a, m, out, ldo)
                }
                (PanelData::Q6K(p), Activations::Q8_0(a)) => {
                    a_len(a.len())?;
                    (self.table.q6_k.run)(&p[panels], kb, a, m, out, ldo)
                }
                _ => return Err(MatmulError::ActivationFormat { weights: w.ty() }),
            }
        }
        Ok(())
    }
}
