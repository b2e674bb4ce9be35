//! Error paths a new user (or a phone app handed a file from the internet) hits, each with
//! the exact message it gets: models whose metadata and tensors disagree, sessions past
//! their context, bad thread counts. Every model here is the tiny model of
//! tests/common/tiny_model.rs with one thing broken, so the whole file runs in well under
//! a second (also under qemu). CLI-level paths are in tests/cli_errors.rs.

#[path = "common/tiny_model.rs"]
mod tiny_model;

use std::sync::Arc;

use slimlm::exec::threads::ThreadError;
use slimlm::gguf::{GgufFile, MetaValue};
use slimlm::kernels::dispatch::Isa;
use slimlm::kernels::formats::GgmlType;
use slimlm::model::{LoadOptions, Model, ModelError};
use slimlm::runtime::{Session, SessionError};
use tiny_model::TinyModel;

fn options() -> LoadOptions {
    LoadOptions {
        threads: Some(1),
        ..LoadOptions::default()
    }
}

fn load(model: &TinyModel) -> Result<Model, ModelError> {
    let bytes = model.to_bytes(u64::MAX).expect("tiny model fits");
    let file = GgufFile::from_bytes(bytes).expect("the broken part is not the GGUF layout");
    Model::from_file(Arc::new(file), &options())
}

/// The load error of `model`, as the user reads it.
fn load_error(model: &TinyModel) -> String {
    match load(model) {
        Ok(_) => panic!("loaded a broken model"),
        Err(e) => e.to_string(),
    }
}

/// The tiny llama with `edit` applied.
fn llama(edit: impl FnOnce(&mut TinyModel)) -> TinyModel {
    let mut m = TinyModel::new("llama");
    edit(&mut m);
    m
}

#[test]
fn the_tiny_models_load_and_run() {
    for arch in tiny_model::ARCHS {
        let model = load(&TinyModel::new(arch)).unwrap_or_else(|e| panic!("{arch}: {e}"));
        let mut session = Session::new(&model, 8).unwrap();
        let logits = session.prefill(&[1, 100, 200]).unwrap();
        assert_eq!(logits.len(), tiny_model::VOCAB as usize);
        assert!(logits.iter().all(|x| x.is_finite()), "{arch}");
    }
}

#[test]
fn head_counts_that_do_not_divide() {
    let e = load_error(&llama(|m| {
        m.set("llama.attention.head_count", MetaValue::U32(3));
    }));
    assert_eq!(
        e,
        "metadata 'llama.attention.head_count': embedding_length 32 is not a multiple of 3 heads"
    );
    let e = load_error(&llama(|m| {
        m.set("llama.attention.head_count", MetaValue::U32(4))
            .set("llama.attention.head_count_kv", MetaValue::U32(3));
    }));
    assert_eq!(
        e,
        "metadata 'llama.attention.head_count_kv': 4 query heads are not a multiple of 3 KV heads"
    );
    let e = load_error(&llama(|m| {
        m.set("llama.attention.head_count_kv", MetaValue::U32(0));
    }));
    assert_eq!(
        e,
        "metadata 'llama.attention.head_count_kv': 0 is outside 1..=65536"
    );
}

#[test]
fn head_counts_that_disagree_with_the_tensors() {
    // 2 KV heads of 16 would need 32-row K and V matrices; the file has 16.
    let e = load_error(&llama(|m| {
        m.set("llama.attention.head_count_kv", MetaValue::U32(2));
    }));
    assert_eq!(
        e,
        "tensor 'blk.0.attn_k.weight' has shape [32, 16], expected [32, 32] (ggml order)"
    );
    // 4 heads of 8: every shape still fits, so the model loads (nothing in the file says
    // the head size); RoPE then rotates 8-wide heads. This is what llama.cpp does too.
    let m = llama(|m| {
        m.set("llama.attention.head_count", MetaValue::U32(4))
            .set("llama.attention.head_count_kv", MetaValue::U32(2));
    });
    assert!(load(&m).is_ok());
}

#[test]
fn wrong_types_and_missing_keys() {
    let e = load_error(&llama(|m| {
        m.set("llama.block_count", MetaValue::String("one".into()));
    }));
    assert!(e.contains("llama.block_count"), "{e}");
    assert!(e.contains("string"), "{e}");
    let e = load_error(&llama(|m| {
        m.remove_key("llama.embedding_length");
    }));
    assert!(e.contains("llama.embedding_length"), "{e}");
    let e = load_error(&llama(|m| {
        m.set("general.architecture", MetaValue::String("gpt-j".into()));
    }));
    assert_eq!(
        e,
        "unsupported architecture 'gpt-j' (slimlm runs llama, qwen2, mpt and gemma3)"
    );
}

#[test]
fn missing_tensors() {
    let e = load_error(&llama(|m| {
        m.remove_tensor("blk.0.ffn_down.weight");
    }));
    assert_eq!(e, "missing tensor 'blk.0.ffn_down.weight'");
    // The config promises two layers; the file has one.
    let e = load_error(&llama(|m| {
        m.set("llama.block_count", MetaValue::U32(2));
    }));
    assert_eq!(e, "missing tensor 'blk.1.attn_norm.weight'");
    let e = load_error(&llama(|m| {
        m.remove_tensor("token_embd.weight");
    }));
    assert_eq!(e, "missing tensor 'token_embd.weight'");
    let e = load_error(&{
        let mut m = TinyModel::new("mpt");
        m.remove_tensor("position_embd.weight");
        m
    });
    assert_eq!(
        e,
        "unsupported model feature: MPT without position_embd.weight (ALiBi positions)"
    );
}

#[test]
fn extra_tensors() {
    let e = load_error(&llama(|m| {
        m.add_tensor("blk.1.attn_q.weight", &[32, 32], GgmlType::Q4_1);
    }));
    assert_eq!(
        e,
        "tensor 'blk.1.attn_q.weight' is in the file but not used by the llama graph"
    );
    // A Qwen2 bias in a llama file is a different graph, not something to ignore.
    let e = load_error(&llama(|m| {
        m.add_tensor("blk.0.attn_q.bias", &[32], GgmlType::F32);
    }));
    assert!(e.contains("blk.0.attn_q.bias"), "{e}");
}

#[test]
fn shapes_that_disagree_with_the_config() {
    let e = load_error(&llama(|m| {
        m.tensor("blk.0.ffn_up.weight").dims = vec![32, 96];
    }));
    assert_eq!(
        e,
        "tensor 'blk.0.ffn_up.weight' has shape [32, 96], expected [32, 64] (ggml order)"
    );
    let e = load_error(&llama(|m| {
        m.set("llama.embedding_length", MetaValue::U32(64));
    }));
    assert_eq!(
        e,
        "tensor 'token_embd.weight' has shape [32, 261], expected [64, 261] (ggml order)"
    );
    let e = load_error(&llama(|m| {
        m.tensor("output_norm.weight").dims = vec![32, 1];
    }));
    assert_eq!(
        e,
        "tensor 'output_norm.weight' has shape [32, 1], expected [32] (ggml order)"
    );
    let e = load_error(&llama(|m| {
        m.tensor("blk.0.attn_q.weight").ty = GgmlType::I32;
    }));
    assert_eq!(
        e,
        "tensor 'blk.0.attn_q.weight' has type I32, which slimlm cannot multiply"
    );
    // Q5_1 (and Q5_K) decode, but no panel holds them losslessly yet: refused by name,
    // not run on a slow path. Q5_0 packs into Q8_0 panels and loads.
    let e = load_error(&llama(|m| {
        m.tensor("blk.0.attn_q.weight").ty = GgmlType::Q5_1;
    }));
    assert_eq!(
        e,
        "tensor 'blk.0.attn_q.weight' has type Q5_1, which slimlm cannot multiply"
    );
    let q5_0 = llama(|m| {
        m.tensor("blk.0.attn_q.weight").ty = GgmlType::Q5_0;
    });
    assert!(load(&q5_0).is_ok());
}

#[test]
fn vocabulary_larger_than_the_embedding() {
    let e = load_error(&llama(|m| {
        m.tensor("token_embd.weight").dims = vec![32, 200];
    }));
    assert_eq!(
        e,
        "metadata 'tokenizer.ggml.tokens': 261 tokens but token_embd.weight has only 200 rows"
    );
}

#[test]
fn sessions_past_their_context() {
    let model = load(&TinyModel::new("llama")).unwrap();
    let error = |r: Result<Session, SessionError>| r.err().expect("an error").to_string();
    assert_eq!(
        error(Session::new(&model, 0)),
        "context of 0 tokens: must be between 1 and 4096 for this model"
    );
    // Llama contexts may exceed the trained length (RoPE extrapolates) up to 8x.
    assert!(Session::new(&model, 8 * tiny_model::CTX as usize).is_ok());
    assert_eq!(
        error(Session::new(&model, 4097)),
        "context of 4097 tokens: must be between 1 and 4096 for this model"
    );

    let mut session = Session::new(&model, 4).unwrap();
    assert_eq!(
        session.prefill(&[1, 2, 3, 4, 5]).unwrap_err().to_string(),
        "context overflow: 0 tokens are in the context and 5 more do not fit in its 4"
    );
    session.prefill(&[1, 2, 3, 4]).unwrap();
    assert_eq!(
        session.decode(5).unwrap_err().to_string(),
        "context overflow: 4 tokens are in the context and 1 more do not fit in its 4"
    );
    // A full session is still usable after a rewind.
    session.rewind(2).unwrap();
    session.decode(5).unwrap();

    let mut session = Session::new(&model, 4).unwrap();
    assert_eq!(
        session.prefill(&[1, 99_999]).unwrap_err().to_string(),
        "token id 99999 at index 1 is outside the vocabulary of 261"
    );
    assert_eq!(
        session.prefill(&[]).unwrap_err().to_string(),
        "nothing to evaluate: the token list is empty"
    );
    assert_eq!(session.position(), 0, "failed calls change nothing");
}

#[test]
fn zero_and_too_many_threads() {
    let bytes = TinyModel::new("llama").to_bytes(u64::MAX).unwrap();
    let file = Arc::new(GgufFile::from_bytes(bytes).unwrap());
    let with = |threads, cpus: Option<&str>| {
        let options = LoadOptions {
            threads: Some(threads),
            cpus: cpus.map(str::to_owned),
            ..LoadOptions::default()
        };
        Model::from_file(Arc::clone(&file), &options)
    };
    assert!(matches!(
        with(0, None),
        Err(ModelError::Threads(ThreadError::ZeroThreads))
    ));
    let e = with(100_000, None).err().expect("too many threads");
    assert!(matches!(
        e,
        ModelError::Threads(ThreadError::TooManyThreads {
            requested: 100_000,
            ..
        })
    ));
    let e = with(1, Some("abc"))
        .err()
        .expect("bad cpu list")
        .to_string();
    assert!(e.contains("abc"), "{e}");
}

#[test]
fn a_tier_this_cpu_cannot_run_is_an_error_not_a_fallback() {
    let wrong = if cfg!(target_arch = "aarch64") {
        Isa::Avx2
    } else {
        Isa::I8mm
    };
    let bytes = TinyModel::new("llama").to_bytes(u64::MAX).unwrap();
    let file = Arc::new(GgufFile::from_bytes(bytes).unwrap());
    let options = LoadOptions {
        isa: Some(wrong),
        ..options()
    };
    let e = Model::from_file(file, &options).err().expect("no fallback");
    assert!(matches!(e, ModelError::Isa(_)), "{e}");
    assert!(
        e.to_string().contains("this CPU does not support it"),
        "{e}"
    );
}
