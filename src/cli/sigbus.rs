//! One clear `error:` line, instead of a bare "Bus error", when the model file shrinks
//! while the process runs.
//!
//! Weights are read straight from a memory map of the model file (src/gguf/source.rs).
//! If another process truncates the file while slimlm has it mapped, the next read of a
//! page past the new end raises SIGBUS. The read that faulted cannot be completed, so the
//! process must end; this handler only makes the ending say why (exit code 1, like every
//! other error). Replacing the file by a new one (rename, as downloads do) is harmless:
//! the map keeps the old inode. The library installs no handler: an app embedding it
//! owns its signal handling, and gets the default SIGBUS action.

/// Written with one `write(2)`: nothing else is async-signal-safe here.
const MESSAGE: &[u8] = b"error: bus error (SIGBUS) reading the memory-mapped model file: \
it was truncated or overwritten while in use\n";

extern "C" fn on_sigbus(_signal: libc::c_int) {
    // SAFETY: write(2) and _exit(2) are async-signal-safe; MESSAGE is a static buffer of
    // MESSAGE.len() bytes. A short or failed write cannot be helped at this point.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(1);
    }
}

/// Installs the SIGBUS handler for the whole process (all threads).
pub fn install() {
    // SAFETY: `sa` is fully initialized (zeroed, then the handler and an empty mask) before
    // sigaction reads it; `on_sigbus` has the signature of a plain (non-SA_SIGINFO) handler
    // and only calls async-signal-safe functions. A failure leaves the default action.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(libc::SIGBUS, &sa, std::ptr::null_mut()) != 0 {
            log::debug!("cannot install the SIGBUS handler");
        }
    }
}
