//! Scalar references of every operation: the definitions every SIMD tier must match.
//!
//! - [`dot`]: quantized dot products (Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 x Q8_0/Q8_1, Q4_K/Q5_K x
//!   Q8_1, Q6_K x Q8_0, Q4_K/Q5_K/Q6_K x Q8_K) and their per-block integer sums.
//! - The non-matmul ops, each written once over 16-lane vectors (`lanes`) in a
//!   lane-canonical order, so that every SIMD tier ([`crate::ops`]) is bit-identical to
//!   its scalar instantiation: [`norm`] (RMSNorm, LayerNorm), [`rope`] (both pairings),
//!   [`softmax`], [`activation`] (GELU erf/tanh, SwiGLU), `vector` (adds, scale, f16
//!   conversion, dot, axpy) and `approx` (f32 exp, erf, tanh).
//! - [`math`]: the no_std f64 exp, tanh, erf and sqrt (the accuracy oracle of `approx`);
//!   [`attention`]: causal GQA attention over a KV cache.

pub mod activation;
pub(crate) mod approx;
pub mod attention;
pub mod dot;
pub(crate) mod lanes;
pub mod math;
pub mod norm;
pub mod rope;
pub mod softmax;
pub(crate) mod vector;
