//! The Llama-family graph (SmolLM, SmolLM2, Llama 3) and Qwen2, which is the same graph
//! with Q/K/V biases and NeoX RoPE pairing (chosen in the config).
//!
//! Per block: `x += Wo attn(rope(Wq n), rope(Wk n), Wv n)` with `n = rmsnorm(x)`, then
//! `x += Wdown (silu(Wgate n) * Wup n)` with `n = rmsnorm(x)`. Final RMSNorm and an output
//! matrix (or the tied token embedding).

use super::config::{Arch, ModelConfig};
use super::graph::{attend, embed, gated_ffn, lm_head, sized, GatedFfn, LogitsFor, Step};
use super::matmul::{matmul, matmuls, Product};
use super::weights::{Matrix, WeightLoader};
use super::ModelError;
use crate::exec::profile::Op;
use slimlm_kernels::ops::Ops;

struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    /// Qwen2's Q, K and V biases.
    bq: Option<Vec<f32>>,
    bk: Option<Vec<f32>>,
    bv: Option<Vec<f32>>,
    wo: Matrix,
    ffn_norm: Vec<f32>,
    ffn: GatedFfn,
}

pub(crate) struct Llama {
    token_embd: Matrix,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    /// `output.weight`, or the token embedding when tied.
    output: Matrix,
}

impl Llama {
    pub fn load(c: &ModelConfig, w: &WeightLoader) -> Result<Llama, ModelError> {
        let (d, kv, ff) = (c.d_model, c.kv_width(), c.d_ff);
        let token_embd = w.matrix("token_embd.weight", c.vocab_size, d)?;
        let output = if w.has("output.weight") {
            w.matrix("output.weight", c.vocab_size, d)?
        } else {
            token_embd.clone()
        };
        let bias = |name: String, len: usize| -> Result<Option<Vec<f32>>, ModelError> {
            match c.arch {
                Arch::Qwen2 => w.vector(&name, len).map(Some),
                _ => Ok(None),
            }
        };
        let layers = (0..c.n_layers)
            .map(|i| {
                let p = |s: &str| format!("blk.{i}.{s}");
                Ok(Layer {
                    attn_norm: w.vector(&p("attn_norm.weight"), d)?,
                    wq: w.matrix(&p("attn_q.weight"), d, d)?,
                    wk: w.matrix(&p("attn_k.weight"), kv, d)?,
                    wv: w.matrix(&p("attn_v.weight"), kv, d)?,
                    bq: bias(p("attn_q.bias"), d)?,
                    bk: bias(p("attn_k.bias"), kv)?,
                    bv: bias(p("attn_v.bias"), kv)?,
                    wo: w.matrix(&p("attn_output.weight"), d, d)?,
                    ffn_norm: w.vector(&p("ffn_norm.weight"), d)?,
                    ffn: GatedFfn {
                        w_gate: w.matrix(&p("ffn_gate.weight"), ff, d)?,
                        w_up: w.matrix(&p("ffn_up.weight"), ff, d)?,
                        w_down: w.matrix(&p("ffn_down.weight"), d, ff)?,
                    },
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(Llama {
            token_embd,
            layers,
            output_norm: w.vector("output_norm.weight", d)?,
            output,
        })
    }

    pub fn run(&self, mut step: Step<'_>, tokens: &[u32], which: LogitsFor, logits: &mut Vec<f32>) {
        let c = step.config;
        let (n, d, kv) = (tokens.len(), c.d_model, c.kv_width());
        let cx = step.cx;
        // The residual stream and the final norm's output live outside `step.scratch`
        // while the layers borrow it; they go back at the end for reuse.
        let mut x_buf = std::mem::take(&mut step.scratch.x);
        let x = sized(&mut x_buf, n * d);
        let t = step.profile.start();
        embed(&self.token_embd, tokens, x);
        step.profile.stop(Op::Embed, t);

        for (li, layer) in self.layers.iter().enumerate() {
            let s = &mut *step.scratch;
            let prof = &mut *step.profile;
            let t = prof.start();
            let h = sized(&mut s.h, n * d);
            cx.ops.rms_norm(x, &layer.attn_norm, c.norm_eps, h);
            prof.stop(Op::Norm, t);
            let t = prof.start();
            let qkv = [
                (&layer.wq, layer.bq.as_deref(), sized(&mut s.q, n * d)),
                (&layer.wk, layer.bk.as_deref(), sized(&mut s.k, n * kv)),
                (&layer.wv, layer.bv.as_deref(), sized(&mut s.v, n * kv)),
            ];
            let mut qkv = qkv.map(|(w, bias, out)| Product { w, bias, out });
            matmuls(&mut qkv, h, n, &mut s.matmul, cx);
            prof.stop(Op::AttnMatmul, t);
            let t = prof.start();
            step.rope
                .of_layer(c, li)
                .apply(cx.ops, c, &mut s.q[..n * d], d, step.pos);
            step.rope
                .of_layer(c, li)
                .apply(cx.ops, c, &mut s.k[..n * kv], kv, step.pos);
            prof.stop(Op::Rope, t);
            let t = prof.start();
            attend(&mut step, li, n);
            step.profile.stop(Op::Attention, t);

            let s = &mut *step.scratch;
            let prof = &mut *step.profile;
            let t = prof.start();
            let o = sized(&mut s.h, n * d);
            matmul(&layer.wo, None, &s.attn[..n * d], n, o, &mut s.matmul, cx);
            prof.stop(Op::AttnMatmul, t);
            let t = prof.start();
            cx.ops.add(x, o);
            prof.stop(Op::Residual, t);

            let t = prof.start();
            let h = sized(&mut s.h, n * d);
            cx.ops.rms_norm(x, &layer.ffn_norm, c.norm_eps, h);
            prof.stop(Op::Norm, t);
            gated_ffn(&layer.ffn, n, s, cx, prof, Ops::silu_mul);
            let t = prof.start();
            cx.ops.add(x, &s.h[..n * d]);
            prof.stop(Op::Residual, t);
        }

        let mut h_buf = std::mem::take(&mut step.scratch.h);
        let h = sized(&mut h_buf, n * d);
        let t = step.profile.start();
        cx.ops.rms_norm(x, &self.output_norm, c.norm_eps, h);
        step.profile.stop(Op::Norm, t);
        let t = step.profile.start();
        lm_head(&self.output, h, d, which, &mut step, logits);
        step.profile.stop(Op::LmHead, t);
        step.scratch.h = h_buf;
        step.scratch.x = x_buf;
    }
}
