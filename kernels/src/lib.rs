//! slimlm-kernels: the arithmetic of slimlm, embeddable in any runtime.
//!
//! - [`formats`]: GGUF block formats as plain-old-data structs, with scalar (de)quantizers.
//! - [`reference`]: the scalar reference of every operation; SIMD tiers must match it.
//! - [`pack`]: weight panels repacked at load (x4x8: 4 rows interleaved in 8-byte groups).
//! - [`matmul`]: panel x int8-activation products of every tier, dispatched once.
//! - [`bench_set`]: the shapes and operands of the kernel microbenchmarks.
//! - [`dispatch`]: the instruction-set tiers, detected once or forced by `SLIMLM_ISA`.
//!
//! Kernels are stateless: they never allocate behind the caller's back, start threads or
//! keep global state. The crate is `no_std` + `alloc` without its default `std` feature
//! (which only adds runtime CPU feature detection).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod bench_set;
pub mod dispatch;
pub mod formats;
pub mod matmul;
pub mod pack;
pub mod reference;
mod tiers;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86_64;
