//! Teacher-forced logits of a prompt and its continuation, for comparison scripts
//! (scripts/compare-gemma3-oracles.py):
//! `cargo run --release --example dump_logits -- MODEL PROMPT CONTINUATION OUT` tokenizes
//! PROMPT + CONTINUATION (BOS added, as `slimlm run --raw` does), evaluates every position,
//! and writes OUT.ids (the prompt's token count on the first line, then all token ids on
//! one line, space-separated) and OUT.f32 (n_tokens x vocab logits, little-endian f32).

use std::io::Write;

use slimlm::model::{LoadOptions, Model};
use slimlm::runtime::Session;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, prompt, continuation, out] = &args[..] else {
        return Err("usage: dump_logits MODEL PROMPT CONTINUATION OUT".into());
    };
    let m = Model::load(model, &LoadOptions::default())?;
    let prompt_ids = m.tokenizer.encode(prompt, true, false);
    let ids = m
        .tokenizer
        .encode(&format!("{prompt}{continuation}"), true, false);
    if !ids.starts_with(&prompt_ids) {
        return Err("the prompt's tokens are not a prefix of the whole text's".into());
    }
    let mut s = Session::new(&m, ids.len())?;
    let logits = s.eval_all(&ids)?;
    let ids_line: Vec<String> = ids.iter().map(u32::to_string).collect();
    let lines = format!("{}\n{}\n", prompt_ids.len(), ids_line.join(" "));
    std::fs::write(format!("{out}.ids"), lines)?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(format!("{out}.f32"))?);
    for x in &logits {
        f.write_all(&x.to_le_bytes())?;
    }
    f.flush()?;
    Ok(())
}
