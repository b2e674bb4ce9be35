//! `slimlm_session`: a conversation over a model (KV cache, position, logits).
//!
//! A session is used by one thread at a time (it may move between threads); different
//! sessions of one model may run in parallel.

use std::sync::Arc;

use super::args::{self, handle, handle_mut, write_out};
use super::model::ModelHandle;
use super::status::{guard, guard_value, Error, Status};
use crate::model::Model;
use crate::runtime::{Session, SessionError};

/// The C `slimlm_session`.
///
/// `session` borrows the model that `_model` keeps alive: fields drop in declaration
/// order, so the session goes before the last reference to its model, and the `'static`
/// borrow never leaves this struct.
pub struct SessionHandle {
    session: Session<'static>,
    /// Whether `session.logits()` belong to the current context (false after a reset).
    has_logits: bool,
    _model: Arc<Model>,
}

fn session_error(e: SessionError) -> Error {
    let status = match e {
        SessionError::ContextOverflow { .. } => Status::ContextFull,
        _ => Status::InvalidArgument,
    };
    Error::new(status, e.to_string())
}

/// Creates a session whose context holds `n_ctx` tokens, into `*out` (NULL on failure).
///
/// # Safety
/// A non-NULL `model` must be a live model; `out` must be valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn slimlm_session_create(
    model: *const ModelHandle,
    n_ctx: u32,
    out: *mut *mut SessionHandle,
) -> Status {
    guard("slimlm_session_create", || {
        // SAFETY: the caller's promise about `out`.
        unsafe { write_out(out, std::ptr::null_mut(), "out")? };
        // SAFETY: the caller's promise about `model`.
        let owner = Arc::clone(&unsafe { handle(model, "model")? }.model);
        // SAFETY: the Arc's allocation stays at one address and alive for as long as the
        // clone stored beside the session in `SessionHandle` (which drops after the
        // session); the reference is only ever used through that struct.
        let shared: &'static Model = unsafe { &*Arc::as_ptr(&owner) };
        let session = Session::new(shared, n_ctx as usize).map_err(session_error)?;
        let handle = Box::new(SessionHandle {
            session,
            has_logits: false,
            _model: owner,
        });
        // SAFETY: checked writable above.
        unsafe { write_out(out, Box::into_raw(handle), "out") }
    })
}

/// Frees a session (NULL is ignored).
///
/// # Safety
/// A non-NULL `session` must come from `slimlm_session_create` and not have been freed.
#[no_mangle]
pub unsafe extern "C" fn slimlm_session_free(session: *mut SessionHandle) {
    guard_value("slimlm_session_free", (), || {
        if !session.is_null() {
            // SAFETY: made by Box::into_raw in slimlm_session_create, freed once (the
            // caller's promise).
            drop(unsafe { Box::from_raw(session) });
        }
    })
}

/// Forgets the whole context; the logits are unavailable until the next eval.
///
/// # Safety
/// A non-NULL `session` must be a live session not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn slimlm_session_reset(session: *mut SessionHandle) -> Status {
    guard("slimlm_session_reset", || {
        // SAFETY: the caller's promise.
        let s = unsafe { handle_mut(session, "session")? };
        s.session.reset();
        s.has_logits = false;
        Ok(())
    })
}

/// Tokens in the context so far (0 for NULL).
///
/// # Safety
/// A non-NULL `session` must be a live session not modified meanwhile.
#[no_mangle]
pub unsafe extern "C" fn slimlm_session_n_past(session: *const SessionHandle) -> usize {
    // SAFETY: the caller's promise.
    match unsafe { session.as_ref() } {
        Some(s) => guard_value("slimlm_session_n_past", 0, || s.session.position()),
        None => 0,
    }
}

/// Appends `n_tokens` tokens to the context (prefill); the logits of the last one become
/// available. On error nothing changes.
///
/// # Safety
/// A non-NULL `session` must be a live session not used by another thread meanwhile; a
/// non-NULL `tokens` must hold `n_tokens` values.
#[no_mangle]
pub unsafe extern "C" fn slimlm_session_eval(
    session: *mut SessionHandle,
    tokens: *const u32,
    n_tokens: usize,
) -> Status {
    guard("slimlm_session_eval", || {
        // SAFETY: the caller's promise.
        let s = unsafe { handle_mut(session, "session")? };
        // SAFETY: the caller's promise about `tokens`.
        let tokens = unsafe { args::slice(tokens, n_tokens, "tokens")? };
        s.session.prefill(tokens).map_err(session_error)?;
        s.has_logits = true;
        Ok(())
    })
}

/// Appends one token (a decode step); its logits become available.
///
/// # Safety
/// A non-NULL `session` must be a live session not used by another thread meanwhile.
#[no_mangle]
pub unsafe extern "C" fn slimlm_session_decode(session: *mut SessionHandle, token: u32) -> Status {
    guard("slimlm_session_decode", || {
        // SAFETY: the caller's promise.
        let s = unsafe { handle_mut(session, "session")? };
        s.session.decode(token).map_err(session_error)?;
        s.has_logits = true;
        Ok(())
    })
}

/// Points `*logits` at the `*n_vocab` logits of the last evaluated token, owned by the
/// session and valid until its next eval, decode, reset or free.
///
/// # Safety
/// A non-NULL `session` must be a live session; `logits` and `n_vocab` must be valid for
/// writes.
#[no_mangle]
pub unsafe extern "C" fn slimlm_session_logits(
    session: *const SessionHandle,
    logits: *mut *const f32,
    n_vocab: *mut usize,
) -> Status {
    guard("slimlm_session_logits", || {
        // SAFETY: the caller's promise.
        let s = unsafe { handle(session, "session")? };
        if logits.is_null() {
            return Err(Error::null("logits"));
        }
        if !s.has_logits {
            return Err(Error::new(
                Status::InvalidState,
                "no logits: nothing was evaluated since the session was created or reset",
            ));
        }
        let row = s.session.logits();
        // SAFETY: the caller's promises about the two output pointers.
        unsafe {
            write_out(n_vocab, row.len(), "n_vocab")?;
            write_out(logits, row.as_ptr(), "logits")
        }
    })
}
