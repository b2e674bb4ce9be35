//! `slimlm_sampler`: the runtime's [`Sampler`] (greedy, or temperature with top-k, top-p,
//! min-p and a repetition penalty, from a seeded generator) over a row of logits.
//!
//! A sampler holds a random generator state and buffers: one thread at a time.

use super::args::{self, handle, handle_mut, write_out};
use super::status::{guard, guard_value, Error, Status};
use crate::runtime::sampler::{Sampler, SamplerConfig};

/// The C `slimlm_sampler_params`: the fields of [`SamplerConfig`], C types.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SamplerParams {
    pub temperature: f32,
    pub top_k: u32,
    pub top_p: f32,
    pub min_p: f32,
    pub repetition_penalty: f32,
    pub repetition_window: u32,
    pub seed: u64,
}

/// The C `slimlm_sampler`.
pub struct SamplerHandle {
    sampler: Sampler,
    /// The logits copy the sampler may modify (the caller's row stays untouched).
    scratch: Vec<f32>,
}

/// Writes the defaults (greedy, every filter off) into `*params`.
///
/// # Safety
/// A non-NULL `params` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn slimlm_sampler_params_default(params: *mut SamplerParams) -> Status {
    guard("slimlm_sampler_params_default", || {
        let c = SamplerConfig::default();
        let p = SamplerParams {
            temperature: c.temperature,
            top_k: u32::try_from(c.top_k).unwrap_or(u32::MAX),
            top_p: c.top_p,
            min_p: c.min_p,
            repetition_penalty: c.repetition_penalty,
            repetition_window: u32::try_from(c.repetition_window).unwrap_or(u32::MAX),
            seed: c.seed,
        };
        // SAFETY: the caller's promise.
        unsafe { write_out(params, p, "params") }
    })
}

/// Creates a sampler from validated `*params` into `*out` (NULL on failure).
///
/// # Safety
/// A non-NULL `params` must point to a `slimlm_sampler_params`; `out` must be valid for
/// writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn slimlm_sampler_create(
    params: *const SamplerParams,
    out: *mut *mut SamplerHandle,
) -> Status {
    guard("slimlm_sampler_create", || {
        // SAFETY: the caller's promise about `out`.
        unsafe { write_out(out, std::ptr::null_mut(), "out")? };
        // SAFETY: the caller's promise about `params`.
        let p = *unsafe { handle(params, "params")? };
        let config = SamplerConfig {
            temperature: p.temperature,
            top_k: p.top_k as usize,
            top_p: p.top_p,
            min_p: p.min_p,
            repetition_penalty: p.repetition_penalty,
            repetition_window: p.repetition_window as usize,
            seed: p.seed,
        };
        let sampler = Sampler::new(config).map_err(|e| Error::invalid(format!("`params`: {e}")))?;
        let handle = Box::new(SamplerHandle {
            sampler,
            scratch: Vec::new(),
        });
        // SAFETY: checked writable above.
        unsafe { write_out(out, Box::into_raw(handle), "out") }
    })
}

/// Frees a sampler (NULL is ignored).
///
/// # Safety
/// A non-NULL `sampler` must come from `slimlm_sampler_create` and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn slimlm_sampler_free(sampler: *mut SamplerHandle) {
    guard_value("slimlm_sampler_free", (), || {
        if !sampler.is_null() {
            // SAFETY: made by Box::into_raw in slimlm_sampler_create, freed once (the
            // caller's promise).
            drop(unsafe { Box::from_raw(sampler) });
        }
    })
}

/// Returns the random generator to its seed.
///
/// # Safety
/// A non-NULL `sampler` must be a live sampler not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn slimlm_sampler_reset(sampler: *mut SamplerHandle) -> Status {
    guard("slimlm_sampler_reset", || {
        // SAFETY: the caller's promise.
        unsafe { handle_mut(sampler, "sampler")? }.sampler.reset();
        Ok(())
    })
}

/// Picks a token from `n_logits` logits given the `n_history` tokens so far (used by the
/// repetition penalty; may be NULL with 0) into `*token`. `logits` is not modified.
///
/// # Safety
/// A non-NULL `sampler` must be a live sampler not used by another thread meanwhile; a
/// non-NULL `logits` must hold `n_logits` floats, a non-NULL `history` `n_history`
/// values; `token` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn slimlm_sampler_sample(
    sampler: *mut SamplerHandle,
    logits: *const f32,
    n_logits: usize,
    history: *const u32,
    n_history: usize,
    token: *mut u32,
) -> Status {
    guard("slimlm_sampler_sample", || {
        // SAFETY: the caller's promises.
        let s = unsafe { handle_mut(sampler, "sampler")? };
        // Checked before sampling, which advances the generator.
        if token.is_null() {
            return Err(Error::null("token"));
        }
        // SAFETY: the caller's promise about `logits`.
        let logits = unsafe { args::slice(logits, n_logits, "logits")? };
        // SAFETY: the caller's promise about `history`.
        let history = unsafe { args::slice(history, n_history, "history")? };
        if logits.is_empty() || u32::try_from(logits.len() - 1).is_err() {
            return Err(Error::invalid(format!(
                "`n_logits` is {n_logits}: expected 1 to 2^32 logits"
            )));
        }
        s.scratch.clear();
        s.scratch.try_reserve(logits.len()).map_err(|_| {
            Error::new(
                Status::OutOfMemory,
                format!("cannot allocate a copy of {n_logits} logits"),
            )
        })?;
        s.scratch.extend_from_slice(logits);
        let picked = s.sampler.sample(&mut s.scratch, history);
        // SAFETY: the caller's promise about `token`.
        unsafe { write_out(token, picked, "token") }
    })
}
