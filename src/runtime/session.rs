//! A conversation with a model: its KV cache, position and buffers.
//!
//! Prompts are evaluated in batches through the matrix-matrix path (prefill); generated
//! tokens one at a time (decode). The cache is sized once, from the requested context.

use crate::exec::kv_cache::KvCache;
use crate::exec::profile::Profile;
use crate::model::graph::{LogitsFor, Rope, Scratch, Step};
use crate::model::matmul::Compute;
use crate::model::{Arch, Model};
pub use slimlm_kernels::attention::KvType;

/// Why a session call was refused. Nothing is changed when an error is returned.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("context of {requested} tokens: must be between 1 and {max} for this model")]
    BadContext { requested: usize, max: usize },
    #[error("context overflow: {position} tokens are in the context and {adding} more do not fit in its {capacity}")]
    ContextOverflow {
        position: usize,
        adding: usize,
        capacity: usize,
    },
    #[error("token id {id} at index {index} is outside the vocabulary of {vocab}")]
    BadToken { id: u32, index: usize, vocab: usize },
    #[error("nothing to evaluate: the token list is empty")]
    Empty,
    #[error("a {ty} KV cache needs head_dim a multiple of 32; this model's is {head_dim}")]
    KvType { ty: &'static str, head_dim: usize },
    #[error("cannot rewind to position {to}: only {position} tokens are in the context")]
    BadRewind { to: usize, position: usize },
    #[error("cannot rewind to position {to}: the sliding-window layers' ring caches no longer hold the keys it needs (reset instead)")]
    RewindPastWindow { to: usize },
}

/// Tokens per forward batch in prefill: bounds the activation buffers (a batch of 256 on
/// a 576-wide model with a 1536 MLP is a few MB) while keeping matrix products wide.
pub const PREFILL_BATCH: usize = 256;

/// A conversation state over a shared [`Model`].
pub struct Session<'m> {
    model: &'m Model,
    kv: KvCache,
    rope: Rope,
    scratch: Scratch,
    logits: Vec<f32>,
    position: usize,
    profile: Profile,
}

impl<'m> Session<'m> {
    /// A session whose f16 KV cache holds `context` positions. MPT's learned position
    /// table limits it to the trained context; RoPE models may go past their trained
    /// context (quality then degrades), up to 8x it.
    pub fn new(model: &'m Model, context: usize) -> Result<Session<'m>, SessionError> {
        Self::with_kv_type(model, context, KvType::F16)
    }

    /// As [`Session::new`], with the KV cache stored as `kv_type` (f32 is exact, f16 the
    /// default, Q8_0 half of f16's memory).
    pub fn with_kv_type(
        model: &'m Model,
        context: usize,
        kv_type: KvType,
    ) -> Result<Session<'m>, SessionError> {
        let c = &model.config;
        if kv_type == KvType::Q8_0 && !c.head_dim.is_multiple_of(32) {
            return Err(SessionError::KvType {
                ty: kv_type.name(),
                head_dim: c.head_dim,
            });
        }
        let max = match c.arch {
            Arch::Mpt => c.context_length,
            _ => c.context_length.saturating_mul(8),
        };
        if context == 0 || context > max {
            return Err(SessionError::BadContext {
                requested: context,
                max,
            });
        }
        let windows: Vec<Option<usize>> = (0..c.n_layers).map(|l| c.window_of(l)).collect();
        let kv = KvCache::new(
            kv_type,
            &windows,
            c.n_kv_heads,
            c.head_dim,
            context,
            PREFILL_BATCH,
        )
        .map_err(|_| SessionError::KvType {
            ty: kv_type.name(),
            head_dim: c.head_dim,
        })?;
        Ok(Session {
            model,
            kv,
            rope: Rope::new(c, context),
            scratch: Scratch::default(),
            logits: Vec::new(),
            position: 0,
            profile: Profile::new(false),
        })
    }

    /// The model this session runs.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Tokens in the context so far.
    pub fn position(&self) -> usize {
        self.position
    }

    /// Positions the context holds.
    pub fn capacity(&self) -> usize {
        self.kv.capacity()
    }

    /// Bytes held by the KV cache.
    pub fn kv_bytes(&self) -> usize {
        self.kv.bytes()
    }

    /// Bytes held by the KV cache of each layer (sliding-window layers keep a ring of
    /// about their window when the context is longer).
    pub fn kv_layer_bytes(&self) -> Vec<usize> {
        self.kv.layer_bytes()
    }

    /// Turns per-op timing on or off (off by default; see [`Profile`]).
    pub fn set_profiling(&mut self, enabled: bool) {
        self.profile = Profile::new(enabled);
    }

    /// The per-op timing so far (empty unless [`Session::set_profiling`] turned it on).
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Clears the per-op timing (e.g. between prefill and decode).
    pub fn clear_profile(&mut self) {
        self.profile.clear();
    }

    /// Forgets the whole context.
    pub fn reset(&mut self) {
        self.position = 0;
    }

    /// Forgets every token from position `to` on (the cache rows stay and are
    /// overwritten by the next tokens). With sliding-window layers whose ring caches have
    /// already overwritten the keys position `to` needs, this is refused with
    /// [`SessionError::RewindPastWindow`] (rewinding to 0 always works).
    pub fn rewind(&mut self, to: usize) -> Result<(), SessionError> {
        if to > self.position {
            return Err(SessionError::BadRewind {
                to,
                position: self.position,
            });
        }
        if !self.kv.can_resume_at(to) {
            return Err(SessionError::RewindPastWindow { to });
        }
        self.position = to;
        Ok(())
    }

    /// Evaluates `tokens` (prefill) and returns the logits of the last one.
    pub fn prefill(&mut self, tokens: &[u32]) -> Result<&[f32], SessionError> {
        self.eval(tokens, LogitsFor::Last)?;
        Ok(&self.logits)
    }

    /// Evaluates one token (decode) and returns its logits.
    pub fn decode(&mut self, token: u32) -> Result<&[f32], SessionError> {
        self.eval(&[token], LogitsFor::Last)?;
        Ok(&self.logits)
    }

    /// Evaluates `tokens` and returns the logits of every one of them (`tokens.len()` rows
    /// of the vocabulary size), for perplexity and teacher forcing.
    pub fn eval_all(&mut self, tokens: &[u32]) -> Result<Vec<f32>, SessionError> {
        self.check(tokens)?;
        let vocab = self.model.config.vocab_size;
        let mut all = Vec::with_capacity(tokens.len() * vocab);
        for batch in tokens.chunks(PREFILL_BATCH) {
            self.run(batch, LogitsFor::All);
            all.extend_from_slice(&self.logits);
        }
        Ok(all)
    }

    /// The logits of the last evaluated token.
    pub fn logits(&self) -> &[f32] {
        &self.logits
    }

    fn eval(&mut self, tokens: &[u32], which: LogitsFor) -> Result<(), SessionError> {
        self.check(tokens)?;
        for batch in tokens.chunks(PREFILL_BATCH) {
            self.run(batch, which);
        }
        Ok(())
    }

    /// Validates a batch before anything changes.
    fn check(&self, tokens: &[u32]) -> Result<(), SessionError> {
        if tokens.is_empty() {
            return Err(SessionError::Empty);
        }
        if tokens.len() > self.capacity() - self.position {
            return Err(SessionError::ContextOverflow {
                position: self.position,
                adding: tokens.len(),
                capacity: self.capacity(),
            });
        }
        let vocab = self.model.config.vocab_size;
        if let Some((index, &id)) = tokens
            .iter()
            .enumerate()
            .find(|(_, &t)| t as usize >= vocab)
        {
            return Err(SessionError::BadToken { id, index, vocab });
        }
        Ok(())
    }

    fn run(&mut self, batch: &[u32], which: LogitsFor) {
        let model = self.model;
        let step = Step {
            config: &model.config,
            cx: Compute {
                pool: &model.pool,
                kernels: &model.kernels,
                ops: &model.ops,
            },
            kv: &mut self.kv,
            rope: &self.rope,
            scratch: &mut self.scratch,
            profile: &mut self.profile,
            pos: self.position,
        };
        let steps_before = model.pool.parallel_steps();
        model.graph.run(step, batch, which, &mut self.logits);
        self.profile
            .add_pass(model.pool.parallel_steps() - steps_before);
        self.position += batch.len();
    }
}
