//! Cancelling a generation from its per-token callback (`generate_with`), on the tiny
//! model of tests/common/tiny_model.rs: a break stops before the next decode step with
//! `StopReason::Cancelled`, the callback runs once per generated token, and a break on
//! the token that ends generation anyway reports that token's own reason.

#[path = "common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::ops::ControlFlow;
use std::sync::Arc;

use slimlm::gguf::GgufFile;
use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::generate::{generate, generate_with, GenerateOptions, StopReason};
use slimlm::runtime::sampler::SamplerConfig;
use slimlm::runtime::Session;

fn tiny() -> Model {
    let bytes = tiny_model::TinyModel::new("llama")
        .to_bytes(u64::MAX)
        .unwrap();
    let file = GgufFile::from_bytes(bytes).unwrap();
    let options = LoadOptions {
        threads: Some(1),
        ..LoadOptions::default()
    };
    Model::from_file(Arc::new(file), &options).unwrap()
}

/// Sampling that draws from the whole vocabulary but never an end token before the
/// limits below (checked by `the_uncancelled_run_is_long`).
fn options(max_tokens: usize) -> GenerateOptions {
    GenerateOptions {
        max_tokens,
        sampler: SamplerConfig {
            temperature: 1.0,
            seed: 7,
            ..SamplerConfig::default()
        },
        stop_strings: Vec::new(),
    }
}

fn prompt(model: &Model) -> Vec<u32> {
    model.tokenizer.encode("the", true, true)
}

#[test]
fn the_uncancelled_run_is_long() {
    let model = tiny();
    let mut session = Session::new(&model, 128).unwrap();
    let g = generate(&mut session, &prompt(&model), &options(40), |_| {}).unwrap();
    assert_eq!(g.stop, StopReason::MaxTokens, "{g:?}");
    assert_eq!(g.tokens.len(), 40);
}

#[test]
fn a_break_stops_at_once() {
    let model = tiny();
    let mut session = Session::new(&model, 128).unwrap();
    let prompt = prompt(&model);
    let mut calls = 0;
    let mut stop_at_5 = break_at(5);
    let g = generate_with(&mut session, &prompt, &options(40), |text| {
        calls += 1;
        stop_at_5(text)
    })
    .unwrap();
    assert_eq!(g.stop, StopReason::Cancelled, "{g:?}");
    assert_eq!(g.tokens.len(), 5);
    assert_eq!(calls, 5, "no call after the break");
    // No decode step ran for the fifth token: the cache holds the prompt and four tokens.
    assert_eq!(session.position(), prompt.len() + 4);

    // The same seed without the break gives the same first five tokens.
    let mut fresh = Session::new(&model, 128).unwrap();
    let whole = generate(&mut fresh, &prompt, &options(40), |_| {}).unwrap();
    assert_eq!(whole.tokens[..5], g.tokens[..]);
}

#[test]
fn a_break_on_the_last_token_reports_the_real_reason() {
    let model = tiny();
    let mut session = Session::new(&model, 128).unwrap();
    let g = generate_with(&mut session, &prompt(&model), &options(6), break_at(6)).unwrap();
    assert_eq!(g.stop, StopReason::MaxTokens, "{g:?}");
    assert_eq!(g.tokens.len(), 6);
}

/// A callback that breaks on its `n`-th call.
fn break_at(n: usize) -> impl FnMut(&str) -> ControlFlow<()> {
    let mut calls = 0;
    move |_| {
        calls += 1;
        if calls == n {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}
