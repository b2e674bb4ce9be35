//! `/save` and `/load` of `slimlm chat`: a conversation as a JSON file,
//! `{"messages": [{"role": "system", "content": "..."}, {"role": "user", ...}, ...]}`
//! (the shape of OpenAI-style chat requests, so other tools can read and write it).

use std::error::Error;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use slimlm::chat::ChatMessage;

/// Largest conversation file read: far beyond any context.
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The roles a saved message may have.
const ROLES: [&str; 3] = ["system", "user", "assistant"];

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    messages: Vec<SavedMessage>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedMessage {
    role: String,
    content: String,
}

/// Writes `messages` to `path` (replacing the file).
pub fn save(path: &Path, messages: &[ChatMessage]) -> Result<(), Box<dyn Error>> {
    let saved = Saved {
        messages: messages
            .iter()
            .map(|m| SavedMessage {
                role: m.role.clone(),
                content: m.content.clone(),
            })
            .collect(),
    };
    let mut json = serde_json::to_string_pretty(&saved)?;
    json.push('\n');
    std::fs::write(path, json).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// Reads a conversation written by [`save`] (or by hand): at most 16 MiB of JSON whose
/// messages have the roles system, user or assistant.
pub fn load(path: &Path) -> Result<Vec<ChatMessage>, Box<dyn Error>> {
    let what = path.display();
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read {what}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{what}: larger than {} MiB", MAX_FILE_BYTES >> 20).into());
    }
    let saved: Saved = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{what} is not a saved conversation ({e}; expected {{\"messages\": [{{\"role\": ..., \"content\": ...}}]}})"
        )
    })?;
    for (i, m) in saved.messages.iter().enumerate() {
        if !ROLES.contains(&m.role.as_str()) {
            return Err(format!(
                "{what}: message {i} has role {:?} (expected system, user or assistant)",
                m.role
            )
            .into());
        }
    }
    Ok(saved
        .messages
        .into_iter()
        .map(|m| ChatMessage::new(&m.role, &m.content))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conversation_survives_save_and_load() {
        let dir = std::env::temp_dir().join(format!("slimlm-conv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.json");
        let messages = vec![
            ChatMessage::new("system", "be brief"),
            ChatMessage::new("user", "hi \"there\"\nline 2"),
            ChatMessage::new("assistant", "hello"),
        ];
        save(&path, &messages).unwrap();
        assert_eq!(load(&path).unwrap(), messages);

        std::fs::write(&path, r#"{"messages": [{"role": "tool", "content": "x"}]}"#).unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("message 0 has role \"tool\""), "{e}");
        std::fs::write(&path, "not json").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("is not a saved conversation"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
