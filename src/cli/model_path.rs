//! Where the default model is found when `--model` is not given, so that `slimlm` works
//! from any directory (installed with `cargo install --path .`, or run from elsewhere).
//!
//! The places, first match wins:
//! 1. `models/` under the current directory (a checkout, as scripts/fetch-model.sh fills it);
//! 2. `$XDG_DATA_HOME/slimlm/models/` (default `~/.local/share/slimlm/models/`), for a
//!    user's own copy;
//! 3. `models/` of the checkout this binary was built from (its path is recorded at build
//!    time; a binary copied to another machine simply does not find it there).

use std::error::Error;
use std::path::{Path, PathBuf};

/// File name of the default model (SmolLM2-135M-Instruct, Q4_1).
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The folders searched for the default model, in order (see the module docs).
pub fn default_model_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("models")];
    let data_home = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| Path::new(&h).join(".local/share"))
        });
    if let Some(data_home) = data_home {
        dirs.push(data_home.join("slimlm").join("models"));
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    dirs
}

/// The default model's path: the first of [`default_model_dirs`] that holds it.
pub fn find_default() -> Result<PathBuf, Box<dyn Error>> {
    let dirs = default_model_dirs();
    if let Some(path) = dirs
        .iter()
        .map(|d| d.join(DEFAULT_MODEL_FILE))
        .find(|p| p.is_file())
    {
        return Ok(path);
    }
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "no --model given, and the default model {DEFAULT_MODEL_FILE} is in none of {} \
         (run scripts/fetch-model.sh, copy the file into one of them, or pass --model PATH)",
        searched.join(", ")
    )
    .into())
}
