//! `slimlm chat` in a real terminal, driven through tmux as a user would: Ctrl-C during a
//! long answer returns to the prompt and the next turn works, the up arrow recalls the
//! last line, an invalid UTF-8 line gets a message and the session goes on, a
//! conversation longer than `--ctx 256` keeps going, and `/exit` quits with status 0.
//!
//! tmux comes from Debian (scripts/setup.sh installs it). The test runs natively only:
//! under qemu (`SLIMLM_TEST_RUNNER` set) it returns at once, because the chat loop has no
//! architecture-specific code and an emulated real model would take minutes per answer.
//! Waits poll the screen and stderr with a generous deadline that only guards against a
//! hang; nothing asserts how long a step takes.

#[path = "common/model.rs"]
mod model;
#[path = "common/tiny_model.rs"]
#[allow(dead_code)]
mod tiny_model;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Hang guard of every wait.
const DEADLINE: Duration = Duration::from_secs(300);

/// A tmux server of its own (private socket) running one `slimlm chat`, whose stderr goes
/// to a file and whose exit status is written to another.
struct Chat {
    dir: PathBuf,
    socket: PathBuf,
}

impl Chat {
    /// Starts `slimlm chat ARGS` in a 200x50 terminal.
    fn start(name: &str, args: &[&str]) -> Chat {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("cli_chat")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        // The shell survives the Ctrl-C sent to the terminal's foreground group (its
        // trap runs once slimlm ends), so it can write slimlm's exit status; slimlm
        // itself starts with SIGINT's default action, as from an interactive shell.
        let script = format!(
            "trap : INT\n'{bin}' chat {args} 2> '{dir}/stderr.log'\necho $? > '{dir}/status'\n",
            bin = env!("CARGO_BIN_EXE_slimlm"),
            args = quoted.join(" "),
            dir = dir.display()
        );
        std::fs::write(dir.join("chat.sh"), script).unwrap();
        let chat = Chat {
            socket: dir.join("tmux.sock"),
            dir,
        };
        let script = format!("sh '{}'", chat.dir.join("chat.sh").display());
        chat.tmux(&[
            "new-session",
            "-d",
            "-x",
            "200",
            "-y",
            "50",
            "-s",
            "chat",
            &script,
        ]);
        chat
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux ({e}): run scripts/setup.sh"));
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys as tmux names them ("Enter", "C-c", "Up") or literal text with `-l`.
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "chat"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn line(&self, text: &str) {
        self.keys(&["-l", text]);
        self.keys(&["Enter"]);
    }

    /// The whole pane, scrollback included.
    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", "chat", "-S", "-"])
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default()
    }

    fn status(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.join("status"))
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// Polls until `done(stderr, screen)`; panics with both after [`DEADLINE`].
    fn wait(&self, what: &str, done: impl Fn(&str, &str) -> bool) {
        let start = Instant::now();
        loop {
            let (err, screen) = (self.stderr(), self.screen());
            if done(&err, &screen) {
                return;
            }
            assert!(
                start.elapsed() < DEADLINE && self.status().is_none(),
                "waiting for {what}; status {:?}\n--- stderr:\n{err}\n--- screen:\n{screen}",
                self.status()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the `n`-th finished answer (its timings line on stderr).
    fn wait_answers(&self, n: usize) {
        self.wait(&format!("answer {n}"), |err, _| {
            err.matches("stop: ").count() >= n
        });
    }

    /// `/exit`, then the exit status of slimlm.
    fn exit(&self) -> String {
        self.line("/exit");
        let start = Instant::now();
        while self.status().is_none() {
            assert!(
                start.elapsed() < DEADLINE,
                "no exit\n--- stderr:\n{}\n--- screen:\n{}",
                self.stderr(),
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.status().unwrap()
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

fn emulated() -> bool {
    if std::env::var_os("SLIMLM_TEST_RUNNER").is_some() {
        eprintln!("cli_chat: not run under an emulator (see the module docs)");
        return true;
    }
    false
}

#[test]
fn ctrl_c_history_invalid_utf8_and_exit() {
    if emulated() {
        return;
    }
    let model = model::real_model_path();
    let model = model.to_str().unwrap();
    let chat = Chat::start(
        "real",
        &["-m", model, "-t", "2", "-n", "1500", "-c", "2048"],
    );
    chat.wait("the greeting", |err, _| err.contains("chat with"));

    // Ctrl-C once the long answer has started: back to the prompt, the chat goes on.
    chat.line("Write a very long story about a dragon who learns to cook.");
    chat.wait("the answer to start", |_, screen| {
        screen
            .split("learns to cook.")
            .nth(1)
            .is_some_and(|answer| answer.trim().len() > 20)
    });
    chat.keys(&["C-c"]);
    chat.wait_answers(1);
    let err = chat.stderr();
    assert!(err.contains("stop: interrupted (Ctrl-C)"), "{err}");
    assert!(err.contains("(stopped)"), "{err}");

    // The next turn is answered in full.
    chat.line("Hi");
    chat.wait_answers(2);
    assert!(!chat.stderr().contains("error"), "{}", chat.stderr());

    // The up arrow brings "Hi" back; Enter sends it again.
    chat.keys(&["Up"]);
    chat.keys(&["Enter"]);
    chat.wait_answers(3);
    let screen = chat.screen();
    assert_eq!(
        screen.lines().filter(|l| l.trim_end() == "> Hi").count(),
        2,
        "{screen}"
    );

    // A line with an invalid UTF-8 byte: a message, then the session goes on.
    chat.keys(&["-l", "caf"]);
    chat.keys(&["-H", "e9"]);
    chat.keys(&["Enter"]);
    chat.wait("the UTF-8 message", |err, _| {
        err.contains("not valid UTF-8")
    });
    chat.line("/help");
    chat.wait("the help", |err, _| err.contains("/save FILE"));

    assert_eq!(chat.exit(), "0", "{}", chat.stderr());
}

#[test]
fn a_conversation_longer_than_the_context_keeps_going() {
    if emulated() {
        return;
    }
    let bytes = tiny_model::TinyModel::new("llama")
        .to_bytes(u64::MAX)
        .unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli_chat");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("tiny.gguf");
    std::fs::write(&model, bytes).unwrap();
    let model = model.to_str().unwrap();
    let chat = Chat::start("ctx", &["-m", model, "-t", "1", "-n", "32", "-c", "256"]);
    chat.wait("the greeting", |err, _| err.contains("chat with"));
    // About 60 tokens of message and template per turn, plus up to 32 of answer: the
    // context of 256 overflows by the fourth turn.
    let turns = 8;
    for i in 1..=turns {
        chat.line(&format!(
            "message number {i}: tell me more about the weather in the mountains"
        ));
        chat.wait_answers(i);
    }
    let err = chat.stderr();
    assert!(err.contains("(context full: dropped the oldest"), "{err}");
    assert!(!err.contains("error"), "{err}");
    assert_eq!(chat.exit(), "0", "{}", chat.stderr());
}
