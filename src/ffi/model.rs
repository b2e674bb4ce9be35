//! `slimlm_model`: load and free a model, ask about it, tokenize and detokenize.
//!
//! A model is immutable once loaded: every function here takes it as `const` and may be
//! called from any number of threads at once. Sessions hold a reference count on it, so
//! `slimlm_model_free` may come before the sessions are freed.

use std::ffi::c_char;
use std::sync::Arc;

use slimlm_kernels::dispatch::{Isa, IsaError};

use super::args::{self, c_path, c_str, copy_out, handle, utf8, write_out};
use super::info::isa_c_name;
use super::status::{guard, guard_value, Error, Status};
use crate::gguf::GgufError;
use crate::model::{LoadOptions, Model, ModelError};

/// The C `slimlm_model`: a loaded model, shared with the sessions made from it.
pub struct ModelHandle {
    pub(super) model: Arc<Model>,
}

fn load_error(path: &std::path::Path, e: ModelError) -> Error {
    let status = match &e {
        ModelError::Isa(IsaError::Unknown(_)) | ModelError::Threads(_) => Status::InvalidArgument,
        ModelError::Isa(IsaError::Unsupported { .. }) => Status::Unsupported,
        _ => Status::Load,
    };
    match e {
        // Open errors already name the path.
        ModelError::Gguf(e @ GgufError::Open { .. }) => Error::new(status, e.to_string()),
        e => Error::new(status, format!("{}: {e}", path.display())),
    }
}

/// Loads the GGUF model at `path` into `*out` (NULL on failure).
///
/// `isa` forces a kernel tier by name (NULL: `SLIMLM_ISA` if set, else the best this CPU
/// reports); `threads` is the number of worker threads (0: one per big core).
///
/// # Safety
/// `path` and a non-NULL `isa` must be NUL-terminated strings; `out` must be valid for
/// writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn slimlm_model_load(
    path: *const c_char,
    isa: *const c_char,
    threads: u32,
    out: *mut *mut ModelHandle,
) -> Status {
    guard("slimlm_model_load", || {
        // SAFETY: the caller's promise about `out`.
        unsafe { write_out(out, std::ptr::null_mut(), "out")? };
        // SAFETY: the caller's promise about `path`.
        let path = unsafe { c_path(path, "path")? };
        let isa = if isa.is_null() {
            None
        } else {
            // SAFETY: the caller's promise about `isa`.
            let name = unsafe { c_str(isa, "isa")? };
            Some(Isa::parse(name).ok_or_else(|| {
                Error::invalid(format!(
                    "`isa` {name:?} is not a kernel tier (scalar, neon, dotprod, i8mm, avx2, avx512)"
                ))
            })?)
        };
        let options = LoadOptions {
            isa,
            threads: (threads > 0).then_some(threads as usize),
            cpus: None,
        };
        let model = Model::load(&path, &options).map_err(|e| load_error(&path, e))?;
        let handle = Box::new(ModelHandle {
            model: Arc::new(model),
        });
        // SAFETY: checked writable above.
        unsafe { write_out(out, Box::into_raw(handle), "out") }
    })
}

/// Releases the caller's reference to a model (NULL is ignored). Sessions made from it
/// stay valid: the model's memory goes with the last of them.
///
/// # Safety
/// A non-NULL `model` must come from `slimlm_model_load` and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn slimlm_model_free(model: *mut ModelHandle) {
    guard_value("slimlm_model_free", (), || {
        if !model.is_null() {
            // SAFETY: made by Box::into_raw in slimlm_model_load, freed once (the caller's
            // promise).
            drop(unsafe { Box::from_raw(model) });
        }
    })
}

/// Runs a getter on a model; NULL (or a panic) gives `fallback`.
///
/// # Safety
/// A non-NULL `model` must be a live model.
unsafe fn get<T>(
    name: &str,
    model: *const ModelHandle,
    fallback: T,
    f: impl FnOnce(&Model) -> T,
) -> T {
    // SAFETY: the caller's promise.
    match unsafe { model.as_ref() } {
        Some(m) => guard_value(name, fallback, || f(&m.model)),
        None => fallback,
    }
}

/// Vocabulary size: token ids are `0..n_vocab` (0 for NULL).
///
/// # Safety
/// A non-NULL `model` must be a live model.
#[no_mangle]
pub unsafe extern "C" fn slimlm_model_n_vocab(model: *const ModelHandle) -> usize {
    // SAFETY: forwarded promise.
    unsafe { get("slimlm_model_n_vocab", model, 0, |m| m.config.vocab_size) }
}

/// The context length the model was trained with (0 for NULL).
///
/// # Safety
/// A non-NULL `model` must be a live model.
#[no_mangle]
pub unsafe extern "C" fn slimlm_model_n_ctx_train(model: *const ModelHandle) -> usize {
    // SAFETY: forwarded promise.
    unsafe {
        get("slimlm_model_n_ctx_train", model, 0, |m| {
            m.config.context_length
        })
    }
}

/// Whether generating `token` ends a generation (EOS, end of turn...); false for NULL.
///
/// # Safety
/// A non-NULL `model` must be a live model.
#[no_mangle]
pub unsafe extern "C" fn slimlm_model_is_end_token(model: *const ModelHandle, token: u32) -> bool {
    // SAFETY: forwarded promise.
    unsafe {
        get("slimlm_model_is_end_token", model, false, |m| {
            m.tokenizer.is_end_of_generation(token)
        })
    }
}

/// The kernel tier the model runs on (static string; NULL for NULL).
///
/// # Safety
/// A non-NULL `model` must be a live model.
#[no_mangle]
pub unsafe extern "C" fn slimlm_model_isa(model: *const ModelHandle) -> *const c_char {
    // SAFETY: forwarded promise.
    unsafe {
        get("slimlm_model_isa", model, std::ptr::null(), |m| {
            isa_c_name(m.isa()).as_ptr()
        })
    }
}

/// Encodes `text_len` bytes of UTF-8 `text` into `tokens` (size-query convention: see
/// the header).
///
/// # Safety
/// `model` must be a live model or NULL; a non-NULL `text` must hold `text_len` bytes, a
/// non-NULL `tokens` `capacity` values; `n_tokens` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn slimlm_tokenize(
    model: *const ModelHandle,
    text: *const c_char,
    text_len: usize,
    add_special: bool,
    parse_special: bool,
    tokens: *mut u32,
    capacity: usize,
    n_tokens: *mut usize,
) -> Status {
    guard("slimlm_tokenize", || {
        // SAFETY: the caller's promises.
        let model = unsafe { handle(model, "model")? };
        // SAFETY: the caller's promise about `text`.
        let bytes = unsafe { args::slice(text.cast::<u8>(), text_len, "text")? };
        let text = utf8(bytes, "text")?;
        let ids = model
            .model
            .tokenizer
            .encode(text, add_special, parse_special);
        let names = ("tokens", "capacity", "n_tokens");
        // SAFETY: the caller's promises about `tokens`, `capacity` and `n_tokens`.
        unsafe { copy_out(&ids, 0, tokens, capacity, n_tokens, names)? };
        Ok(())
    })
}

/// Decodes `n_tokens` ids into UTF-8 `text`, NUL-terminated (size-query convention: see
/// the header; the capacity needed is `*text_len + 1`).
///
/// # Safety
/// `model` must be a live model or NULL; a non-NULL `tokens` must hold `n_tokens` values,
/// a non-NULL `text` `capacity` bytes; `text_len` must be valid for a write.
#[no_mangle]
pub unsafe extern "C" fn slimlm_detokenize(
    model: *const ModelHandle,
    tokens: *const u32,
    n_tokens: usize,
    text: *mut c_char,
    capacity: usize,
    text_len: *mut usize,
) -> Status {
    guard("slimlm_detokenize", || {
        // SAFETY: the caller's promises.
        let model = unsafe { handle(model, "model")? };
        // SAFETY: the caller's promise about `tokens`.
        let ids = unsafe { args::slice(tokens, n_tokens, "tokens")? };
        let decoded = model
            .model
            .tokenizer
            .decode(ids)
            .map_err(|e| Error::invalid(format!("`tokens`: {e}")))?;
        let names = ("text", "capacity", "text_len");
        let bytes = decoded.as_bytes();
        let text = text.cast::<u8>();
        // SAFETY: the caller's promises about `text`, `capacity` and `text_len`.
        let copied = unsafe { copy_out(bytes, 1, text, capacity, text_len, names)? };
        if let Some(out) = copied {
            out[bytes.len()] = 0;
        }
        Ok(())
    })
}
