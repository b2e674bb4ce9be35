//! GGUF parsing, validation and `info` rendering of arbitrary bytes: must never panic,
//! and never allocate beyond what the input's size justifies. Files that parse go on to
//! the model configuration and tokenizer readers, which walk their metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slimlm::gguf::GgufFile;
use slimlm::info::render_info;
use slimlm::model::ModelConfig;
use slimlm::tokenizer::Tokenizer;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = GgufFile::from_bytes(data.to_vec()) {
        let _ = render_info(&file);
        for t in file.tensors() {
            let _ = file.tensor_bytes(t);
        }
        let _ = ModelConfig::from_gguf(&file);
        let _ = Tokenizer::from_gguf(&file);
    }
});
