//! The real test model, SmolLM2-135M-Instruct Q4_1. Tests that need it fail (never skip)
//! when it is missing. Include with `#[path = "common/model.rs"] mod model;`.

use std::path::PathBuf;

/// Path of models/SmolLM2-135M-Instruct.Q4_1.gguf; panics with the fix when absent.
pub fn real_model_path() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-model.sh",
        path.display()
    );
    path
}
