//! Ctrl-C (SIGINT) for the commands that generate: during a generation it only raises a
//! flag, which the per-token callback reads to stop (`run` then ends, `chat` returns to
//! its prompt). Outside a generation, and for a second Ctrl-C that arrives before the
//! first was honoured (say, during a long prompt evaluation), SIGINT keeps its default
//! action: the process ends at once, killed by the signal (exit status 130 in shells).
//!
//! Built on signal-hook's flag actions, which only store to atomics in the handler
//! (async-signal-safe) or run the default action.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use signal_hook::consts::SIGINT;
use signal_hook::flag;

/// The installed SIGINT handling of the process.
pub struct Interrupt {
    /// Set by SIGINT; cleared by [`Interrupt::during`] before each generation.
    pending: Arc<AtomicBool>,
    /// True outside generations: SIGINT then runs its default action.
    default_action: Arc<AtomicBool>,
}

impl Interrupt {
    /// Installs the handler. Call once, from the command that generates.
    pub fn install() -> io::Result<Interrupt> {
        let pending = Arc::new(AtomicBool::new(false));
        let default_action = Arc::new(AtomicBool::new(true));
        // signal-hook runs the actions in registration order: the two conditional
        // default actions see the flags as they were before this signal set `pending`.
        flag::register_conditional_default(SIGINT, Arc::clone(&default_action))?;
        flag::register_conditional_default(SIGINT, Arc::clone(&pending))?;
        flag::register(SIGINT, Arc::clone(&pending))?;
        Ok(Interrupt {
            pending,
            default_action,
        })
    }

    /// Runs `work` (a generation) with Ctrl-C turned into a request to stop, which
    /// [`Interrupt::requested`] reports.
    pub fn during<R>(&self, work: impl FnOnce() -> R) -> R {
        self.pending.store(false, Ordering::SeqCst);
        self.default_action.store(false, Ordering::SeqCst);
        let result = work();
        self.default_action.store(true, Ordering::SeqCst);
        result
    }

    /// Whether Ctrl-C was pressed during the current (or last) [`Interrupt::during`].
    pub fn requested(&self) -> bool {
        self.pending.load(Ordering::SeqCst)
    }
}
