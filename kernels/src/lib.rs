//! slimlm-kernels: the arithmetic of slimlm, embeddable in any runtime.
//!
//! - [`formats`]: GGUF block formats as plain-old-data structs, with scalar (de)quantizers.
//! - [`reference`]: the scalar reference of every operation; SIMD tiers must match it.
//! - [`dispatch`]: the instruction-set tiers, detected once or forced by `SLIMLM_ISA`.
//!
//! Kernels are stateless: they never allocate behind the caller's back, start threads or
//! keep global state. The crate is `no_std` + `alloc` without its default `std` feature
//! (which only adds runtime CPU feature detection).
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod dispatch;
pub mod formats;
pub mod reference;
