//! SlimLM's graph: MPT with learned absolute positions and no ALiBi.
//!
//! Per block: `x += Wo attn(split(Wqkv n + b)) + bo` with `n = layernorm1(x)`, then
//! `x += Wdown gelu_erf(Wup n + bu) + bd` with `n = layernorm2(x)`. The input is the token
//! embedding plus the position embedding; the output is the final LayerNorm times the tied
//! token embedding. SlimLM's MLP uses exact (erf) GELU.

use super::config::ModelConfig;
use super::graph::{attend, embed, in_row_batches, lm_head, sized, LogitsFor, Step};
use super::matmul::matmul;
use super::weights::{Matrix, WeightLoader};
use super::ModelError;
use crate::exec::profile::Op;
use slimlm_kernels::ops::Ops;

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Norm {
    fn load(w: &WeightLoader, prefix: &str, d: usize) -> Result<Norm, ModelError> {
        Ok(Norm {
            weight: w.vector(&format!("{prefix}.weight"), d)?,
            bias: w.vector(&format!("{prefix}.bias"), d)?,
        })
    }

    fn rows(&self, ops: &Ops, x: &[f32], eps: f32, out: &mut [f32]) {
        ops.layer_norm(x, &self.weight, &self.bias, eps, out);
    }
}

struct Layer {
    attn_norm: Norm,
    w_qkv: Matrix,
    b_qkv: Vec<f32>,
    wo: Matrix,
    bo: Vec<f32>,
    ffn_norm: Norm,
    w_up: Matrix,
    b_up: Vec<f32>,
    w_down: Matrix,
    b_down: Vec<f32>,
}

pub(crate) struct Mpt {
    token_embd: Matrix,
    /// Learned positions, `context_length` rows of `d_model`.
    position_embd: Vec<f32>,
    layers: Vec<Layer>,
    output_norm: Norm,
    /// `output.weight` if present, else the tied token embedding.
    output: Matrix,
}

impl Mpt {
    pub fn load(c: &ModelConfig, w: &WeightLoader) -> Result<Mpt, ModelError> {
        let (d, kv, ff) = (c.d_model, c.kv_width(), c.d_ff);
        let qkv = d + 2 * kv;
        if !w.has("position_embd.weight") {
            return Err(ModelError::Unsupported {
                what: "MPT without position_embd.weight (ALiBi positions)".into(),
            });
        }
        let token_embd = w.matrix("token_embd.weight", c.vocab_size, d)?;
        let output = if w.has("output.weight") {
            w.matrix("output.weight", c.vocab_size, d)?
        } else {
            token_embd.clone()
        };
        let layers = (0..c.n_layers)
            .map(|i| {
                let p = |s: &str| format!("blk.{i}.{s}");
                Ok(Layer {
                    attn_norm: Norm::load(w, &p("attn_norm"), d)?,
                    w_qkv: w.matrix(&p("attn_qkv.weight"), qkv, d)?,
                    b_qkv: w.vector(&p("attn_qkv.bias"), qkv)?,
                    wo: w.matrix(&p("attn_output.weight"), d, d)?,
                    bo: w.vector(&p("attn_output.bias"), d)?,
                    ffn_norm: Norm::load(w, &p("ffn_norm"), d)?,
                    w_up: w.matrix(&p("ffn_up.weight"), ff, d)?,
                    b_up: w.vector(&p("ffn_up.bias"), ff)?,
                    w_down: w.matrix(&p("ffn_down.weight"), d, ff)?,
                    b_down: w.vector(&p("ffn_down.bias"), d)?,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(Mpt {
            token_embd,
            position_embd: w.table("position_embd.weight", c.context_length, d)?,
            layers,
            output_norm: Norm::load(w, "output_norm", d)?,
            output,
        })
    }

    pub fn run(&self, mut step: Step<'_>, tokens: &[u32], which: LogitsFor, logits: &mut Vec<f32>) {
        let c = step.config;
        let (n, d, kv, ff) = (tokens.len(), c.d_model, c.kv_width(), c.d_ff);
        let qkv_width = d + 2 * kv;
        let cx = step.cx;
        // The residual stream and the final norm's output live outside `step.scratch`
        // while the layers borrow it; they go back at the end for reuse.
        let mut x_buf = std::mem::take(&mut step.scratch.x);
        let x = sized(&mut x_buf, n * d);
        let t = step.profile.start();
        embed(&self.token_embd, tokens, x);
        let positions = &self.position_embd[step.pos * d..(step.pos + n) * d];
        cx.ops.add(x, positions);
        step.profile.stop(Op::Embed, t);

        for (li, layer) in self.layers.iter().enumerate() {
            let s = &mut *step.scratch;
            let prof = &mut *step.profile;
            let t = prof.start();
            let h = sized(&mut s.h, n * d);
            layer.attn_norm.rows(cx.ops, x, c.norm_eps, h);
            prof.stop(Op::Norm, t);
            let t = prof.start();
            let qkv = sized(&mut s.ff_a, n * qkv_width);
            matmul(
                &layer.w_qkv,
                Some(&layer.b_qkv),
                h,
                n,
                qkv,
                &mut s.matmul,
                cx,
            );
            prof.stop(Op::AttnMatmul, t);
            let t = prof.start();
            if let Some(limit) = c.clamp_qkv {
                for v in qkv.iter_mut() {
                    *v = v.clamp(-limit, limit);
                }
            }
            let (q, k, v) = (
                sized(&mut s.q, n * d),
                sized(&mut s.k, n * kv),
                sized(&mut s.v, n * kv),
            );
            for (t, row) in qkv.chunks_exact(qkv_width).enumerate() {
                q[t * d..(t + 1) * d].copy_from_slice(&row[..d]);
                k[t * kv..(t + 1) * kv].copy_from_slice(&row[d..d + kv]);
                v[t * kv..(t + 1) * kv].copy_from_slice(&row[d + kv..]);
            }
            prof.stop(Op::Attention, t);
            let t = prof.start();
            attend(&mut step, li, n);
            step.profile.stop(Op::Attention, t);

            let s = &mut *step.scratch;
            let prof = &mut *step.profile;
            let t = prof.start();
            let o = sized(&mut s.h, n * d);
            matmul(
                &layer.wo,
                Some(&layer.bo),
                &s.attn[..n * d],
                n,
                o,
                &mut s.matmul,
                cx,
            );
            prof.stop(Op::AttnMatmul, t);
            let t = prof.start();
            cx.ops.add(x, o);
            prof.stop(Op::Residual, t);

            let t = prof.start();
            let h = sized(&mut s.h, n * d);
            layer.ffn_norm.rows(cx.ops, x, c.norm_eps, h);
            prof.stop(Op::Norm, t);
            let t = prof.start();
            let up = sized(&mut s.ff_a, n * ff);
            matmul(&layer.w_up, Some(&layer.b_up), h, n, up, &mut s.matmul, cx);
            prof.stop(Op::FfnMatmul, t);
            let t = prof.start();
            in_row_batches(cx.pool, up, ff, |_, x| cx.ops.gelu_erf(x));
            prof.stop(Op::Activation, t);
            let t = prof.start();
            let down = sized(&mut s.h, n * d);
            matmul(
                &layer.w_down,
                Some(&layer.b_down),
                &s.ff_a[..n * ff],
                n,
                down,
                &mut s.matmul,
                cx,
            );
            prof.stop(Op::FfnMatmul, t);
            let t = prof.start();
            cx.ops.add(x, down);
            prof.stop(Op::Residual, t);
        }

        let mut h_buf = std::mem::take(&mut step.scratch.h);
        let h = sized(&mut h_buf, n * d);
        let t = step.profile.start();
        self.output_norm.rows(cx.ops, x, c.norm_eps, h);
        step.profile.stop(Op::Norm, t);
        let t = step.profile.start();
        lm_head(&self.output, h, d, which, &mut step, logits);
        step.profile.stop(Op::LmHead, t);
        step.scratch.h = h_buf;
        step.scratch.x = x_buf;
    }
}
