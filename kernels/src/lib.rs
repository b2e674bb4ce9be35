//! slimlm-kernels: the arithmetic of slimlm, embeddable in any runtime.
//!
//! - [`formats`]: GGUF block formats as plain-old-data structs, with scalar (de)quantizers.
//! - [`reference`]: the scalar reference of every operation; SIMD tiers must match it.
//! - [`pack`]: weight panels repacked at load (x4x8: 4 rows interleaved in 8-byte groups).
//! - [`matmul`]: panel x int8-activation products of every tier, dispatched once.
//! - [`bench_set`]: the shapes and operands of the kernel microbenchmarks.
//! - [`ops`]: norms, RoPE, softmax, activations, adds, f16 conversion, dot/axpy and the
//!   attention block kernels of every tier, bit-identical to the references, dispatched once.
//! - [`attention`]: causal attention with an online softmax over f32/f16/Q8_0 KV caches.
//! - [`oracle`] (with `std`): independent f64 oracles of the non-matmul ops, each with a
//!   derived error bound, for tests of every tier and of the C entry points.
//! - [`dispatch`]: the instruction-set tiers, detected once or forced by `SLIMLM_ISA`.
//!
//! Kernels are stateless: they never allocate behind the caller's back, start threads or
//! keep global state. The crate is `no_std` + `alloc` without its default `std` feature
//! (which only adds runtime CPU feature detection).
//!
//! # Example: a Q4_0 matrix times a vector, without any runtime
//!
//! Weights come as GGUF rows of blocks (here made from f32 values); they are repacked once
//! into panels. Each activation row is quantized to the format the weight type's product
//! takes (Q8_0 for Q4_0 and Q8_0 weights, Q8_1 for Q4_1), and the tier chosen for this CPU
//! computes one dot product per weight row, bit-identical to the scalar reference.
//!
//! ```
//! use slimlm_kernels::dispatch::Isa;
//! use slimlm_kernels::formats::{quantize_blocks, BlockQ4_0, BlockQ8_0, GgmlType};
//! use slimlm_kernels::matmul::{activation_type, Activations, Kernels};
//! use slimlm_kernels::pack::PackedMatrix;
//! use slimlm_kernels::reference::dot::dot_q4_0_q8_0;
//!
//! let (rows, cols) = (8, 64);
//! let w: Vec<f32> = (0..rows * cols).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
//! let x: Vec<f32> = (0..cols).map(|i| (i as f32 * 0.37).sin()).collect();
//!
//! // A Q4_0 matrix: `rows` rows of cols / 32 blocks of 18 bytes, as stored in GGUF.
//! let mut blocks = vec![BlockQ4_0 { d: 0, qs: [0; 16] }; rows * cols / 32];
//! quantize_blocks(&w, &mut blocks)?;
//! let gguf: &[u8] = bytemuck::cast_slice(&blocks);
//!
//! // Pack once (at load), quantize the activation row (per call).
//! let packed = PackedMatrix::pack(GgmlType::Q4_0, gguf, rows, cols)?;
//! assert_eq!(activation_type(GgmlType::Q4_0), GgmlType::Q8_0);
//! let mut act = vec![BlockQ8_0 { d: 0, qs: [0; 32] }; cols / 32];
//! quantize_blocks(&x, &mut act)?;
//!
//! // GEMV: all row groups (4 rows each), one activation row, output stride `rows`.
//! let kernels = Kernels::new(Isa::detect())?;
//! let mut y = vec![0.0f32; rows];
//! kernels.gemm(&packed, 0..packed.groups(), Activations::Q8_0(&act), 1, &mut y, rows)
//!     .map_err(|e| e.to_string())?;
//!
//! // Every tier equals the scalar reference dot product, bit for bit.
//! for (j, &yj) in y.iter().enumerate() {
//!     let row = &blocks[j * cols / 32..(j + 1) * cols / 32];
//!     assert_eq!(yj.to_bits(), dot_q4_0_q8_0(row, &act).to_bits());
//! }
//! println!("{} via {}", Isa::detect(), kernels.kernel_name(GgmlType::Q4_0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod attention;
pub mod bench_set;
pub mod dispatch;
pub mod formats;
pub mod matmul;
pub mod ops;
#[cfg(feature = "std")]
pub mod oracle;
pub mod pack;
pub mod reference;
#[cfg(any(target_arch = "aarch64", target_arch = "x86_64"))]
mod unroll;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86_64;
