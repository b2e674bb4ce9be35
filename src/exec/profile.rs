//! Where a forward pass spends its time, per kind of operation (`--profile`).
//!
//! Timing is off unless asked for: a disabled [`Profile`] never reads the clock.

use std::fmt::Write;
use std::time::{Duration, Instant};

/// The kinds of work a forward pass does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Token (and position) embedding rows.
    Embed,
    /// RMSNorm / LayerNorm.
    Norm,
    /// Q, K, V and output projections (including their activation quantization).
    AttnMatmul,
    /// RoPE on Q and K.
    Rope,
    /// KV cache store and attention itself.
    Attention,
    /// Gate, up and down projections.
    FfnMatmul,
    /// SwiGLU / GELU.
    Activation,
    /// Residual additions.
    Residual,
    /// Final projection to the vocabulary.
    LmHead,
}

impl Op {
    pub const ALL: [Op; 9] = [
        Op::Embed,
        Op::Norm,
        Op::AttnMatmul,
        Op::Rope,
        Op::Attention,
        Op::FfnMatmul,
        Op::Activation,
        Op::Residual,
        Op::LmHead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Embed => "embedding",
            Op::Norm => "norms",
            Op::AttnMatmul => "attention projections",
            Op::Rope => "rope",
            Op::Attention => "attention (kv store + softmax)",
            Op::FfnMatmul => "ffn projections",
            Op::Activation => "activation",
            Op::Residual => "residual adds",
            Op::LmHead => "lm head",
        }
    }
}

/// Accumulated wall time and call counts per [`Op`].
#[derive(Clone, Debug, Default)]
pub struct Profile {
    enabled: bool,
    time: [Duration; Op::ALL.len()],
    calls: [u64; Op::ALL.len()],
    /// Parallel steps of the thread pool (barriers) during the profiled forward passes.
    parallel_steps: u64,
    /// Forward passes profiled.
    passes: u64,
}

impl Profile {
    /// A profile that records (`enabled`) or ignores every measurement.
    pub fn new(enabled: bool) -> Profile {
        Profile {
            enabled,
            ..Profile::default()
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The start of a measurement (`None` when disabled: no clock read).
    pub fn start(&self) -> Option<Instant> {
        self.enabled.then(Instant::now)
    }

    /// Ends a measurement begun by [`Profile::start`].
    pub fn stop(&mut self, op: Op, started: Option<Instant>) {
        if let Some(t) = started {
            let i = op as usize;
            self.time[i] += t.elapsed();
            self.calls[i] += 1;
        }
    }

    /// Counts one forward pass that ran `steps` parallel steps of the pool.
    pub fn add_pass(&mut self, steps: u64) {
        if self.enabled {
            self.passes += 1;
            self.parallel_steps += steps;
        }
    }

    /// Total time of `op`.
    pub fn time(&self, op: Op) -> Duration {
        self.time[op as usize]
    }

    /// Forgets every measurement (keeps the enabled state).
    pub fn clear(&mut self) {
        *self = Profile::new(self.enabled);
    }

    /// A table: op, total ms, share of the measured total, calls.
    pub fn render(&self) -> String {
        let total: Duration = self.time.iter().sum();
        let mut out = String::from("op                              time ms   share   calls\n");
        for op in Op::ALL {
            let t = self.time(op);
            let share = if total.is_zero() {
                0.0
            } else {
                100.0 * t.as_secs_f64() / total.as_secs_f64()
            };
            let _ = writeln!(
                out,
                "{:<30} {:>9.2} {:>6.1}% {:>7}",
                op.name(),
                t.as_secs_f64() * 1e3,
                share,
                self.calls[op as usize]
            );
        }
        let _ = writeln!(out, "{:<30} {:>9.2}", "total", total.as_secs_f64() * 1e3);
        if self.passes > 0 {
            let _ = writeln!(
                out,
                "parallel steps (pool barriers): {} in {} forward passes, {:.1} per pass",
                self.parallel_steps,
                self.passes,
                self.parallel_steps as f64 / self.passes as f64
            );
        }
        out
    }
}
