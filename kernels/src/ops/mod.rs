//! The non-matmul ops of the graph (norms, RoPE, softmax, activations, residual adds, f16
//! conversion, and the dot / axpy primitives of attention) for every tier, behind one
//! table ([`Ops`]) chosen once, like [`crate::matmul::Kernels`].
//!
//! Every op is written once over 16-lane vectors in [`crate::reference`]; the scalar tier
//! is the reference itself and each SIMD tier (`neon` on aarch64 for neon/dotprod/i8mm,
//! `avx2` and `avx512` on x86_64) instantiates the same code with its registers, so every
//! tier's results are bit-identical to the reference (NaN payloads aside). The methods
//! check slice lengths and panic with the op's name on a mismatch (a caller bug); they
//! never allocate.

pub(crate) mod contract;
mod scalar;

use crate::dispatch::Isa;
#[cfg(feature = "std")]
use crate::dispatch::IsaError;
use crate::reference::norm::check_rows;
use crate::reference::rope::check_rope;
pub use crate::reference::rope::RopePairing;
pub use contract::Op;
use contract::Table;

/// The ops of one tier, chosen once. Every entry was checked against the CPU when the table
/// was built, which is what makes calling them safe.
#[derive(Clone, Copy)]
pub struct Ops {
    isa: Isa,
    table: &'static Table,
}

impl core::fmt::Debug for Ops {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ops").field("isa", &self.isa).finish()
    }
}

impl Ops {
    /// The ops of `isa`, which must be available on this CPU.
    #[cfg(feature = "std")]
    pub fn new(isa: Isa) -> Result<Ops, IsaError> {
        if !isa.is_available() {
            return Err(IsaError::Unsupported {
                requested: isa,
                best: Isa::detect(),
            });
        }
        Ok(Self::table(isa))
    }

    /// The ops of `isa` without checking the CPU.
    ///
    /// # Safety
    /// The CPU must support `isa` (see [`Isa::is_available`]); running an op of a tier the
    /// CPU lacks is undefined behaviour.
    pub unsafe fn new_unchecked(isa: Isa) -> Ops {
        Self::table(isa)
    }

    fn table(isa: Isa) -> Ops {
        let table: &'static Table = match isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => &crate::x86_64::ops_avx2::TABLE,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => &crate::x86_64::ops_avx512::TABLE,
            #[cfg(target_arch = "aarch64")]
            Isa::Neon | Isa::Dotprod | Isa::I8mm => &crate::aarch64::ops_neon::TABLE,
            _ => &scalar::TABLE,
        };
        Ops { isa, table }
    }

    /// The tier this table was built for.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The implementation that serves `op`, e.g. `rms_norm_f32_avx512` (for logs and tests).
    pub fn kernel_name(&self, op: Op) -> &'static str {
        self.table.names[op as usize]
    }

    /// RMSNorm of every row of `x` (rows of `weight.len()`):
    /// `out = x / sqrt(mean(x^2) + eps) * weight`.
    pub fn rms_norm(&self, x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
        check_rows("rms_norm", x.len(), weight.len(), out.len());
        // SAFETY: the table's tier runs on this CPU (see `Ops::new`), and the shapes were
        // checked (every method below relies on the same two facts).
        unsafe { (self.table.rms_norm)(x, weight, eps, out) }
    }

    /// LayerNorm of every row of `x` (rows of `weight.len()`):
    /// `out = (x - mean) / sqrt(var + eps) * weight + bias`.
    pub fn layer_norm(&self, x: &[f32], weight: &[f32], bias: &[f32], eps: f32, out: &mut [f32]) {
        check_rows("layer_norm", x.len(), weight.len(), out.len());
        assert_eq!(
            bias.len(),
            weight.len(),
            "layer_norm: bias and weight lengths differ"
        );
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.layer_norm)(x, weight, bias, eps, out) }
    }

    /// RoPE of every head of `x` (heads of `head_dim`) for one position: the first
    /// `rot_dims` dimensions, pair j turned by the angle of `cos[j]`, `sin[j]`.
    pub fn rope(
        &self,
        x: &mut [f32],
        head_dim: usize,
        rot_dims: usize,
        pairing: RopePairing,
        cos: &[f32],
        sin: &[f32],
    ) {
        check_rope(x.len(), head_dim, rot_dims, cos.len(), sin.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.rope)(x, head_dim, rot_dims, pairing, cos, sin) }
    }

    /// In-place softmax of one row (see [`crate::reference::softmax`] for -inf, +inf, NaN).
    pub fn softmax(&self, x: &mut [f32]) {
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.softmax)(x) }
    }

    /// SwiGLU: `gate = silu(gate) * up`.
    pub fn silu_mul(&self, gate: &mut [f32], up: &[f32]) {
        same_len("silu_mul", gate.len(), up.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.silu_mul)(gate, up) }
    }

    /// Exact (erf) GELU in place.
    pub fn gelu_erf(&self, x: &mut [f32]) {
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.gelu_erf)(x) }
    }

    /// tanh GELU in place.
    pub fn gelu_tanh(&self, x: &mut [f32]) {
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.gelu_tanh)(x) }
    }

    /// GeGLU (Gemma's MLP): `gate = gelu_tanh(gate) * up`.
    pub fn gelu_tanh_mul(&self, gate: &mut [f32], up: &[f32]) {
        same_len("gelu_tanh_mul", gate.len(), up.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.gelu_tanh_mul)(gate, up) }
    }

    /// `x += y` (residual add).
    pub fn add(&self, x: &mut [f32], y: &[f32]) {
        same_len("add", x.len(), y.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.add)(x, y) }
    }

    /// Every row of `x` (rows of `bias.len()`) `+= bias`.
    pub fn add_bias(&self, x: &mut [f32], bias: &[f32]) {
        check_rows("add_bias", x.len(), bias.len(), x.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.add_bias)(x, bias) }
    }

    /// `x *= s`.
    pub fn scale(&self, x: &mut [f32], s: f32) {
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.scale)(x, s) }
    }

    /// `out = x` as f16 bits, round to nearest even (F16C / fcvtn in the SIMD tiers).
    pub fn f32_to_f16(&self, x: &[f32], out: &mut [u16]) {
        same_len("f32_to_f16", x.len(), out.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.f32_to_f16)(x, out) }
    }

    /// `out = x` widened from f16 bits (exact).
    pub fn f16_to_f32(&self, x: &[u16], out: &mut [f32]) {
        same_len("f16_to_f32", x.len(), out.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.f16_to_f32)(x, out) }
    }

    /// e^x in place (error bounds in [`crate::reference`]'s `approx` notes).
    pub fn exp(&self, x: &mut [f32]) {
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.exp)(x) }
    }

    /// erf in place.
    pub fn erf(&self, x: &mut [f32]) {
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.erf)(x) }
    }

    /// tanh in place.
    pub fn tanh(&self, x: &mut [f32]) {
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.tanh)(x) }
    }

    /// `sum a[i] b[i]` in the lane-canonical order.
    pub fn dot(&self, a: &[f32], b: &[f32]) -> f32 {
        same_len("dot", a.len(), b.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.dot)(a, b) }
    }

    /// [`Ops::dot`] with `b` in f16 bits (an f16 KV cache row).
    pub fn dot_f16(&self, a: &[f32], b: &[u16]) -> f32 {
        same_len("dot_f16", a.len(), b.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.dot_f16)(a, b) }
    }

    /// `y += alpha * x`.
    pub fn axpy(&self, y: &mut [f32], alpha: f32, x: &[f32]) {
        same_len("axpy", y.len(), x.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.axpy)(y, alpha, x) }
    }

    /// `y += alpha * x` with `x` in f16 bits.
    pub fn axpy_f16(&self, y: &mut [f32], alpha: f32, x: &[u16]) {
        same_len("axpy_f16", y.len(), x.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.axpy_f16)(y, alpha, x) }
    }

    /// Attention scores of one query against a block of [`KEY_BLOCK`] keys stored
    /// key-major (`kt[i * KEY_BLOCK + j]` = dimension `i` of key `j`):
    /// `out[j] = scale * sum_i q[i] kt[i * KEY_BLOCK + j]`, each key's sum as four chains
    /// over `i mod 4` combined `(c0 + c1) + (c2 + c3)`.
    pub fn key_major_scores(&self, q: &[f32], kt: &[f32], scale: f32, out: &mut [f32]) {
        same_len("key_major_scores", kt.len(), q.len() * KEY_BLOCK);
        same_len("key_major_scores", out.len(), KEY_BLOCK);
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.key_major_scores)(q, kt, scale, out) }
    }

    /// `acc += p[j] * (row j of v)` for every `j` in order (one [`Ops::axpy`] per row, with
    /// `acc` kept in registers): `v` holds `p.len()` rows of `acc.len()` values.
    pub fn accumulate_rows(&self, acc: &mut [f32], p: &[f32], v: &[f32]) {
        same_len("accumulate_rows", v.len(), p.len() * acc.len());
        // SAFETY: as in `rms_norm`.
        unsafe { (self.table.accumulate_rows)(acc, p, v) }
    }
}

impl Ops {
    /// One block of an online softmax over attention scores: returns `(m, sum)` with
    /// `m = max(max(x), running)`; unless `m` is `-inf` (nothing visible yet), `x` becomes
    /// `exp(x - m)` and `sum` its lane-canonical sum (`x` is unchanged and `sum` 0
    /// otherwise).
    pub fn online_softmax_block(&self, x: &mut [f32], running: f32) -> (f32, f32) {
        // SAFETY: the table's tier runs on this CPU (see `Ops::new`); any length works.
        unsafe { (self.table.online_softmax_block)(x, running) }
    }
}

/// Keys per block of [`Ops::key_major_scores`].
pub const KEY_BLOCK: usize = crate::reference::vector::SCORE_KEYS;

/// Panics (a caller bug) unless two operands have the same length.
fn same_len(op: &str, a: usize, b: usize) {
    assert_eq!(a, b, "{op}: operand lengths differ ({a} vs {b})");
}
