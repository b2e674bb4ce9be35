//! Scalar references of every operation: the definitions every SIMD tier must match
//! (integer parts bit for bit, float results within documented tolerances).
//!
//! - [`dot`]: quantized dot products (Q4_0/Q4_1/Q8_0 x Q8_0/Q8_1, Q4_K/Q6_K x Q8_K) and
//!   their per-block integer sums.
//! - [`norm`]: RMSNorm and LayerNorm; [`rope`]: rotary embeddings in both pairings;
//!   [`softmax`]; [`activation`]: GELU (erf and tanh), SiLU, SwiGLU; [`math`]: the no_std
//!   exp, tanh, erf and sqrt they need; [`attention`]: causal GQA attention over a KV cache.

pub mod activation;
pub mod attention;
pub mod dot;
pub mod math;
pub mod norm;
pub mod rope;
pub mod softmax;
