//! Child processes for end-to-end tests: `oss-rs emulator`, the `oss-emulator` binary and
//! `oss-rs callback-server`, each read line by line and killed when the test drops it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Bound on waiting for a child's line: a hung child fails the test instead of hanging it. It is
/// never a correctness sleep; a line that arrives ends the wait at once.
pub const LINE_DEADLINE: Duration = Duration::from_secs(60);

/// The first line both emulator binaries print, followed by their endpoint.
const EMULATOR_LISTENING: &str = "oss-emulator listening on ";
/// The first line of `oss-rs callback-server`, followed by its base URL.
const CALLBACK_SERVER_LISTENING: &str = "oss-rs callback-server listening on";

/// A child process killed (and reaped) when dropped, with its stdout lines on a channel.
#[derive(Debug)]
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Running {
    /// Spawns `cmd` with stdin closed and stdout read by a thread, one line at a time; stderr
    /// stays as `cmd` set it (inherited by default, so a failing child explains itself).
    ///
    /// # Panics
    ///
    /// When the process cannot be spawned.
    pub fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, lines) = mpsc::channel();
        // Reading on until EOF keeps the pipe drained, so a chatty child never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// The next line the child prints.
    ///
    /// # Panics
    ///
    /// When none comes within [`LINE_DEADLINE`] or the child closes its stdout first.
    pub fn next_line(&self) -> String {
        self.lines
            .recv_timeout(LINE_DEADLINE)
            .expect("a line from the child process")
    }

    /// The rest of the next line starting with `prefix` (both trimmed), skipping other lines.
    ///
    /// # Panics
    ///
    /// As [`Running::next_line`].
    pub fn line_starting(&self, prefix: &str) -> String {
        loop {
            let line = self.next_line();
            if let Some(rest) = line.trim_start().strip_prefix(prefix) {
                return rest.trim().to_owned();
            }
        }
    }

    /// The process itself, for tests that signal it or wait for its exit.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawns an emulator (`oss-rs emulator` or `oss-emulator`; `cmd` carries
/// `--listen 127.0.0.1:0` and the other flags) and returns it with the endpoint from its first
/// line, `http://127.0.0.1:PORT`.
///
/// # Panics
///
/// When the first line is not the listening line or the endpoint is not on loopback.
pub fn spawn_emulator(cmd: &mut Command) -> (Running, String) {
    let emulator = Running::spawn(cmd);
    let line = emulator.next_line();
    let endpoint = line
        .trim()
        .strip_prefix(EMULATOR_LISTENING)
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    (emulator, endpoint)
}

/// Starts `oss-rs callback-server` on 127.0.0.1:0 from `cmd` (the `oss-rs` binary with the
/// environment the test wants), trusting public-key URLs under `trusted_prefix`, and returns
/// it with its base URL, `http://127.0.0.1:PORT`. Its later lines (`answered: …`, the
/// `callback POST …` log) are the test's to read.
///
/// # Panics
///
/// When it prints no listening line or listens elsewhere than on loopback.
pub fn spawn_callback_server(cmd: &mut Command, trusted_prefix: &str) -> (Running, String) {
    let server = Running::spawn(cmd.args([
        "callback-server",
        "--listen",
        "127.0.0.1:0",
        "--trust-key-url-prefix",
        trusted_prefix,
    ]));
    let url = server.line_starting(CALLBACK_SERVER_LISTENING);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    (server, url)
}

/// `bin` without the `OSS_*`, `ALIBABA*` and `RUST_LOG` variables of the developer's shell, with
/// a `HOME` that holds no credential files and the ECS metadata lookup off, so the default
/// credential chain finds only what the test sets.
pub fn isolated_command(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        if name.starts_with("OSS_") || name.starts_with("ALIBABA") || name == "RUST_LOG" {
            cmd.env_remove(&var);
        }
    }
    cmd.env("HOME", "/nonexistent/oss-rs-test-home")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    cmd
}

/// `bin` with an empty environment apart from `HOME=home` and the switches that keep it off the
/// real metadata service and the developer's aliyun CLI profile: for tests whose credentials
/// must come from files under `home` or from variables the test sets.
pub fn empty_env_command(bin: &str, home: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .env("HOME", home)
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true");
    cmd
}
