//! Hostile chat templates: the input up to its first NUL byte is the template source, the
//! rest a message. Compiling and rendering must end in text or a [`ChatError`], within the
//! fuel, recursion and output limits of `slimlm::chat`: never a panic, never more output
//! than the cap, never a long run (scripts/fuzz.sh gives libFuzzer `-timeout`, so a slow
//! case is reported as a crash).
#![no_main]

use libfuzzer_sys::fuzz_target;
use slimlm::chat::{ChatMessage, ChatTemplate, OUTPUT_BASE, OUTPUT_PER_CONTENT_BYTE};

fuzz_target!(|data: &[u8]| {
    let (source, content) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"Hello!"[..]),
    };
    let source = String::from_utf8_lossy(source);
    let content = String::from_utf8_lossy(content);
    let Ok(template) = ChatTemplate::new(&source, "<|im_start|>", "<|im_end|>") else {
        return;
    };
    let messages = [
        ChatMessage::new("system", "You are a helpful assistant."),
        ChatMessage::new("user", content.as_ref()),
        ChatMessage::new("assistant", "Sure."),
        ChatMessage::new("user", content.as_ref()),
    ];
    let content_bytes: usize = messages
        .iter()
        .map(|m| m.role.len() + m.content.len())
        .sum();
    let cap = OUTPUT_BASE + OUTPUT_PER_CONTENT_BYTE * content_bytes;
    for add_generation_prompt in [true, false] {
        if let Ok(text) = template.render(&messages, add_generation_prompt) {
            assert!(text.len() <= cap, "{} bytes over the cap {cap}", text.len());
        }
    }
});
