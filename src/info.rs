//! [`render_info`]: the human-readable summary that `slimlm info` prints.
//!
//! Reads only what the file declares (it interprets no hyperparameter and loads no
//! tensor data), prints what is present and says "absent" or shows the problem for what
//! is not. Never fails: a file that opened is always describable.

use std::fmt::{self, Write};

use slimlm_kernels::formats::GgmlType;

use crate::gguf::{GgufFile, MetaValue};
use crate::tokenizer::TokenizerKind;

/// `{arch}.`-prefixed keys shown as hyperparameters, when present.
const HYPERPARAMETERS: [&str; 9] = [
    "context_length",
    "embedding_length",
    "block_count",
    "feed_forward_length",
    "attention.head_count",
    "attention.head_count_kv",
    "rope.freq_base",
    "attention.layer_norm_rms_epsilon",
    "attention.layer_norm_epsilon",
];

/// Header, hyperparameters, tokenizer summary, tensor table and totals, one item a line.
pub fn render_info(file: &GgufFile) -> String {
    let mut out = String::new();
    // fmt::Write for String never returns an error.
    let _ = write_info(&mut out, file);
    out
}

fn write_info(out: &mut String, file: &GgufFile) -> fmt::Result {
    writeln!(
        out,
        "GGUF v{}, {} bytes, alignment {}, data section at byte {}",
        file.version(),
        file.file_bytes().len(),
        file.alignment(),
        file.data_offset()
    )?;
    let arch = file.architecture();
    match &arch {
        Ok(arch) => writeln!(out, "architecture: {arch}")?,
        Err(e) => writeln!(out, "architecture: unknown ({e})")?,
    }
    if let Some(name) = file.get("general.name") {
        writeln!(out, "name: {}", shown(Some(name)))?;
    }
    writeln!(out, "metadata keys: {}", file.metadata().len())?;

    if let Ok(arch) = arch {
        writeln!(out, "\nhyperparameters ({arch}.*):")?;
        for key in HYPERPARAMETERS {
            if let Some(value) = file.get(&format!("{arch}.{key}")) {
                writeln!(out, "  {key:<34}{value}")?;
            }
        }
    }
    write_tokenizer(out, file)?;
    write_tensors(out, file)?;
    write_totals(out, file)
}

fn write_tokenizer(out: &mut String, file: &GgufFile) -> fmt::Result {
    writeln!(out, "\ntokenizer:")?;
    let line = |out: &mut String, label: &str, value: String| writeln!(out, "  {label:<16}{value}");
    // The model name with the algorithm it stands for, e.g. "llama: SPM (SentencePiece)".
    let model = match file.get_str("tokenizer.ggml.model") {
        Ok(name) => match TokenizerKind::from_model_name(name) {
            Some(kind) => format!("{name}: {}", kind.description()),
            None => format!("{name} (not supported)"),
        },
        Err(_) => shown(file.get("tokenizer.ggml.model")),
    };
    line(out, "model", model)?;
    line(out, "pre", shown(file.get("tokenizer.ggml.pre")))?;
    let tokens = file.get_str_array("tokenizer.ggml.tokens");
    let count = |key: &str| match file.get(key) {
        Some(MetaValue::Array(a)) => a.len().to_string(),
        other => shown(other),
    };
    line(out, "vocab size", count("tokenizer.ggml.tokens"))?;
    line(out, "merges", count("tokenizer.ggml.merges"))?;
    for (label, key) in [
        ("bos", "tokenizer.ggml.bos_token_id"),
        ("eos", "tokenizer.ggml.eos_token_id"),
    ] {
        let value = match file.get_u64(key) {
            Ok(id) => {
                let text = tokens.as_ref().ok().and_then(|t| {
                    let i = usize::try_from(id).ok()?;
                    t.get(i)
                });
                match text {
                    Some(text) => format!("{id} {text:?}"),
                    None => format!("{id} (no such token)"),
                }
            }
            Err(_) => shown(file.get(key)),
        };
        line(out, label, value)?;
    }
    let template = match file.get_str("tokenizer.chat_template") {
        Ok(t) => format!("present ({} bytes)", t.len()),
        Err(_) => shown(file.get("tokenizer.chat_template")),
    };
    line(out, "chat template", template)
}

/// A value as Display shows it, with its type, or "absent".
fn shown(value: Option<&MetaValue>) -> String {
    match value {
        Some(MetaValue::String(s)) => s.clone(),
        Some(v) => format!("{v} ({})", v.type_name()),
        None => "absent".to_owned(),
    }
}

fn write_tensors(out: &mut String, file: &GgufFile) -> fmt::Result {
    let tensors = file.tensors();
    let width = tensors
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(out, "\ntensors: {}", tensors.len())?;
    writeln!(
        out,
        "  {:<width$}  {:<7} {:<22} {:>12}",
        "name", "type", "shape", "bytes"
    )?;
    for t in tensors {
        let shape = t
            .dims
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" x ");
        writeln!(
            out,
            "  {:<width$}  {:<7} {:<22} {:>12}",
            t.name,
            t.ggml_type.name(),
            shape,
            t.n_bytes
        )?;
    }
    Ok(())
}

fn write_totals(out: &mut String, file: &GgufFile) -> fmt::Result {
    // (type, tensors, bytes) in type id order. Tensors do not overlap, so the sums are at
    // most the file length; saturating adds say so without a panic path.
    let mut per_type: Vec<(GgmlType, u64, u64)> = Vec::new();
    for t in file.tensors() {
        match per_type.iter_mut().find(|(ty, _, _)| *ty == t.ggml_type) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 = entry.2.saturating_add(t.n_bytes);
            }
            None => per_type.push((t.ggml_type, 1, t.n_bytes)),
        }
    }
    per_type.sort_by_key(|(ty, _, _)| ty.id());
    writeln!(out, "\ntotals:")?;
    for (ty, count, bytes) in &per_type {
        writeln!(
            out,
            "  {:<7} {count:>6} tensors {bytes:>14} bytes",
            ty.name()
        )?;
    }
    let bytes = per_type
        .iter()
        .fold(0u64, |acc, (_, _, b)| acc.saturating_add(*b));
    let params = file
        .tensors()
        .iter()
        .fold(0u64, |acc, t| acc.saturating_add(t.n_elements()));
    writeln!(
        out,
        "  {:<7} {:>6} tensors {bytes:>14} bytes, {params} parameters",
        "all",
        file.tensors().len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::{GgufWriter, MetaArray};

    #[test]
    fn renders_present_and_absent_parts() {
        let bytes = GgufWriter::new()
            .metadata("general.architecture", MetaValue::String("llama".into()))
            .metadata("llama.block_count", MetaValue::U32(2))
            .metadata("llama.rope.freq_base", MetaValue::F32(10000.0))
            .metadata(
                "tokenizer.ggml.tokens",
                MetaValue::Array(MetaArray::String(vec!["<s>".into(), "a".into()])),
            )
            .metadata("tokenizer.ggml.bos_token_id", MetaValue::U32(0))
            .metadata("tokenizer.ggml.eos_token_id", MetaValue::U32(9))
            .tensor("b", &[32, 2], GgmlType::Q8_0, vec![0; 68])
            .tensor("a", &[4], GgmlType::F32, vec![0; 16])
            .to_bytes();
        let text = render_info(&GgufFile::from_bytes(bytes).unwrap());
        for want in [
            "architecture: llama",
            "  block_count                       2\n",
            "  rope.freq_base                    10000\n",
            "  vocab size      2\n",
            "  bos             0 \"<s>\"\n",
            "  eos             9 (no such token)\n",
            "  merges          absent\n",
            "  chat template   absent\n",
            "tensors: 2\n",
            "  b     Q8_0    32 x 2                           68\n",
            "  F32          1 tensors             16 bytes\n",
            "  Q8_0         1 tensors             68 bytes\n",
            "  all          2 tensors             84 bytes, 68 parameters\n",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert!(!text.contains("context_length"), "{text}");
    }
}
