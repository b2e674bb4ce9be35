//! Scalar references of every operation: the definitions every SIMD tier must match
//! (integer parts bit for bit, float results within documented tolerances).
//!
//! - [`dot`]: quantized dot products (Q4_0/Q4_1/Q8_0 x Q8_0/Q8_1, Q4_K/Q6_K x Q8_K) and
//!   their per-block integer sums.

pub mod dot;
