//! Gemma 3's graph, as llama.cpp 0c1e570 builds it (src/models/gemma3.cpp) and
//! transformers' `Gemma3ForCausalLM` computes it.
//!
//! The input is the token embedding times `sqrt(d_model)`. Per block, with `n(x)` the
//! RMSNorm of `x` by a stored weight:
//! - `a = attn(rope(qn(Wq n1(x))), rope(kn(Wk n1(x))), Wv n1(x))` with per-head RMSNorms
//!   `qn`, `kn` over each `head_dim` slice, NeoX RoPE of the local base on sliding-window
//!   layers and the global base on the others, scale `1/sqrt(head_dim)`, GQA;
//!   `x += n2(Wo a)` (the post-attention norm);
//! - `x += n4(Wdown (gelu_tanh(Wgate n3(x)) * Wup n3(x)))` (GeGLU, post-FFN norm).
//!
//! The output is the final RMSNorm times the tied token embedding, soft-capped when the
//! file has `final_logit_softcapping`. The stored norm weights already include Gemma's
//! `1 + w` (llama.cpp's converter adds the 1: conversion/gemma.py, `norm_shift`), so every
//! norm here is a plain RMSNorm.

use super::config::ModelConfig;
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
    /// Per-head RMSNorm weights of Q and K (`head_dim` values).
    q_norm: Vec<f32>,
    k_norm: Vec<f32>,
    wo: Matrix,
    post_attn_norm: Vec<f32>,
    ffn_norm: Vec<f32>,
    ffn: GatedFfn,
    post_ffn_norm: Vec<f32>,
}

pub(crate) struct Gemma3 {
    token_embd: Matrix,
    layers: Vec<Layer>,
    output_norm: Vec<f32>,
    /// `output.weight`, or the token embedding when tied (Gemma's files are).
    output: Matrix,
}

impl Gemma3 {
    pub fn load(c: &ModelConfig, w: &WeightLoader) -> Result<Gemma3, ModelError> {
        let (d, q, kv, ff, hd) = (c.d_model, c.q_width(), c.kv_width(), c.d_ff, c.head_dim);
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
                    attn_norm: w.vector(&p("attn_norm.weight"), d)?,
                    wq: w.matrix(&p("attn_q.weight"), q, d)?,
                    wk: w.matrix(&p("attn_k.weight"), kv, d)?,
                    wv: w.matrix(&p("attn_v.weight"), kv, d)?,
                    q_norm: w.vector(&p("attn_q_norm.weight"), hd)?,
                    k_norm: w.vector(&p("attn_k_norm.weight"), hd)?,
                    wo: w.matrix(&p("attn_output.weight"), d, q)?,
                    post_attn_norm: w.vector(&p("post_attention_norm.weight"), d)?,
                    ffn_norm: w.vector(&p("ffn_norm.weight"), d)?,
                    ffn: GatedFfn {
                        w_gate: w.matrix(&p("ffn_gate.weight"), ff, d)?,
                        w_up: w.matrix(&p("ffn_up.weight"), ff, d)?,
                        w_down: w.matrix(&p("ffn_down.weight"), d, ff)?,
                    },
                    post_ffn_norm: w.vector(&p("post_ffw_norm.weight"), d)?,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(Gemma3 {
            token_embd,
            layers,
            output_norm: w.vector("output_norm.weight", d)?,
            output,
        })
    }

    pub fn run(&self, mut step: Step<'_>, tokens: &[u32], which: LogitsFor, logits: &mut Vec<f32>) {
        let c = step.config;
        let (n, d, q, kv) = (tokens.len(), c.d_model, c.q_width(), c.kv_width());
        let cx = step.cx;
        // The residual stream and the final norm's output live outside `step.scratch`
        // while the layers borrow it; they go back at the end for reuse.
        let mut x_buf = std::mem::take(&mut step.scratch.x);
        let x = sized(&mut x_buf, n * d);
        let t = step.profile.start();
        embed(&self.token_embd, tokens, x);
        // llama.cpp: ggml_scale(inpL, sqrtf(n_embd)); transformers: the same f32 value.
        cx.ops.scale(x, (d as f32).sqrt());
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
                (&layer.wq, sized(&mut s.q, n * q)),
                (&layer.wk, sized(&mut s.k, n * kv)),
                (&layer.wv, sized(&mut s.v, n * kv)),
            ];
            let mut qkv = qkv.map(|(w, out)| Product { w, bias: None, out });
            matmuls(&mut qkv, h, n, &mut s.matmul, cx);
            prof.stop(Op::AttnMatmul, t);
            // Per-head RMSNorm of Q and K (rows of head_dim), through the attention
            // output buffer, which `attend` overwrites afterwards.
            let t = prof.start();
            let qn = sized(&mut s.attn, n * q);
            cx.ops
                .rms_norm(&s.q[..n * q], &layer.q_norm, c.norm_eps, qn);
            std::mem::swap(&mut s.q, &mut s.attn);
            let kn = sized(&mut s.attn, n * kv);
            cx.ops
                .rms_norm(&s.k[..n * kv], &layer.k_norm, c.norm_eps, kn);
            std::mem::swap(&mut s.k, &mut s.attn);
            prof.stop(Op::Norm, t);
            let t = prof.start();
            let rope = step.rope.of_layer(c, li);
            rope.apply(cx.ops, c, &mut s.q[..n * q], q, step.pos);
            rope.apply(cx.ops, c, &mut s.k[..n * kv], kv, step.pos);
            prof.stop(Op::Rope, t);
            let t = prof.start();
            attend(&mut step, li, n);
            step.profile.stop(Op::Attention, t);

            let s = &mut *step.scratch;
            let prof = &mut *step.profile;
            let t = prof.start();
            let o = sized(&mut s.h, n * d);
            matmul(&layer.wo, None, &s.attn[..n * q], n, o, &mut s.matmul, cx);
            prof.stop(Op::AttnMatmul, t);
            let t = prof.start();
            let on = sized(&mut s.ff_b, n * d);
            cx.ops
                .rms_norm(&s.h[..n * d], &layer.post_attn_norm, c.norm_eps, on);
            prof.stop(Op::Norm, t);
            let t = prof.start();
            cx.ops.add(x, &s.ff_b[..n * d]);
            prof.stop(Op::Residual, t);

            let t = prof.start();
            let h = sized(&mut s.h, n * d);
            cx.ops.rms_norm(x, &layer.ffn_norm, c.norm_eps, h);
            prof.stop(Op::Norm, t);
            gated_ffn(&layer.ffn, n, s, cx, prof, Ops::gelu_tanh_mul);
            let t = prof.start();
            let dn = sized(&mut s.ff_b, n * d);
            cx.ops
                .rms_norm(&s.h[..n * d], &layer.post_ffn_norm, c.norm_eps, dn);
            prof.stop(Op::Norm, t);
            let t = prof.start();
            cx.ops.add(x, &s.ff_b[..n * d]);
            prof.stop(Op::Residual, t);
        }

        let mut h_buf = std::mem::take(&mut step.scratch.h);
        let h = sized(&mut h_buf, n * d);
        let t = step.profile.start();
        cx.ops.rms_norm(x, &self.output_norm, c.norm_eps, h);
        step.profile.stop(Op::Norm, t);
        let t = step.profile.start();
        lm_head(&self.output, h, d, which, &mut step, logits);
        if let Some(cap) = c.final_logit_softcap {
            // llama.cpp: scale by 1/cap, tanh, scale by cap.
            cx.ops.scale(logits, 1.0 / cap);
            cx.ops.tanh(logits);
            cx.ops.scale(logits, cap);
        }
        step.profile.stop(Op::LmHead, t);
        step.scratch.h = h_buf;
        step.scratch.x = x_buf;
    }
}
