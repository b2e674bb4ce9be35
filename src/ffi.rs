//! The C ABI of slimlm, declared for C in `include/slimlm.h` (the header is the reference
//! documentation of every function: ownership, lifetimes, thread-safety, memory layouts).
//!
//! - [`status`]: return codes, the thread-local last error message, and the guard that
//!   runs every entry point under `catch_unwind`, so no panic ever crosses the boundary.
//! - [`args`]: checked conversions of C pointers and sizes into slices (NULL, overflow,
//!   alignment, overlap), done before anything is read or allocated.
//! - [`info`]: library version and the CPU's kernel tier.
//! - [`model`]: model load/free, tokenize/detokenize.
//! - [`session`]: sessions over a model: eval (prefill), decode, logits.
//! - [`sampler`]: the runtime's sampler (greedy, temperature/top-k/top-p/min-p, seeded).
//! - [`kernels`]: kernel entry points for other runtimes: activation quantizers, weight
//!   packing, packed GEMV/GEMM, RMSNorm, LayerNorm, attention decode.
//!
//! Every entry point is an `unsafe extern "C" fn`: its `# Safety` section says what the
//! caller must guarantee beyond what is checked (pointers that are non-NULL must be valid
//! for the sizes given; handles must come from this library and be live).

pub mod args;
pub mod info;
pub mod kernels;
pub mod model;
pub mod sampler;
pub mod session;
pub mod status;

pub use status::Status;

// What the header promises about threads: models and packed weights are shared between
// threads; sessions and samplers move between them.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send<T: Send>() {}
    send_sync::<model::ModelHandle>();
    send_sync::<kernels::PackedHandle>();
    send::<session::SessionHandle>();
    send::<sampler::SamplerHandle>();
};
