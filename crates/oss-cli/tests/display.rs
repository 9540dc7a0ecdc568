//! What `oss-rs cp` draws and logs: under a pty (`script` from util-linux) the summary starts on
//! its own line and a "completing" line shows while Complete runs; through a pipe and in the
//! emulator's log file there is no escape byte; `-v` prints info lines.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
/// Bound on waiting for the emulator's first line (never a correctness sleep).
const DEADLINE: Duration = Duration::from_secs(60);
/// 200 MiB as the issue asks in release builds; debug builds hash and sign slowly enough that
/// 32 MiB (still six multipart parts of the default 6 MiB) keeps the suite short.
const SIZE_MIB: usize = if cfg!(debug_assertions) { 32 } else { 200 };

/// `program` with no OSS_*/ALIBABA_*/RUST_LOG/NO_COLOR variables from the developer's shell,
/// static test keys and no credential files.
fn isolated(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        if name.starts_with("OSS_")
            || name.starts_with("ALIBABA")
            || name == "RUST_LOG"
            || name == "NO_COLOR"
        {
            cmd.env_remove(&var);
        }
    }
    cmd.env("HOME", "/nonexistent/oss-rs-test-home")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .env("OSS_REGION", "cn-hangzhou")
        .env("TERM", "xterm")
        .stdin(Stdio::null());
    cmd
}

fn oss_rs() -> Command {
    isolated(BIN)
}

/// `oss-rs -v emulator` with its log (stderr) in `log`, killed when dropped.
struct Emulator {
    child: Child,
    endpoint: String,
}

impl Emulator {
    fn start(log: &Path) -> Self {
        let log = std::fs::File::create(log).expect("log file");
        let mut child = oss_rs()
            .args(["-v", "emulator", "--listen", "127.0.0.1:0"])
            .args(["--create-bucket", "bkt"])
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn the emulator");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let endpoint = loop {
            let line = rx.recv_timeout(DEADLINE).expect("the emulator's address");
            if let Some(rest) = line.trim().strip_prefix("oss-emulator listening on") {
                break rest.trim().to_owned();
            }
        };
        Self { child, endpoint }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A terminal segment without its CSI escape sequences.
fn visible(segment: &str) -> String {
    let mut out = String::new();
    let mut chars = segment.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn a_cp_under_a_pty_shows_completing_and_the_summary_on_its_own_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emulator = Emulator::start(&dir.path().join("emulator.log"));
    let file = dir.path().join("big.bin");
    std::fs::write(&file, vec![0x5au8; SIZE_MIB * 1024 * 1024]).expect("write");
    let command_line = [
        BIN,
        "--endpoint",
        &emulator.endpoint,
        "cp",
        file.to_str().expect("utf-8 path"),
        "oss://bkt/big.bin",
    ]
    .iter()
    .map(|a| shell_quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    let mut script = isolated("script");
    script.args(["-qfec", &command_line, "/dev/null"]);
    let out = script.output().expect("run script");
    let tty = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "exit {:?}\n{tty:?}", out.status);
    // indicatif rewrites its line in place: each visible line is a segment between carriage
    // returns and newlines, its erase sequences stripped. A message above the bar is padded to
    // the terminal's width rather than ended with a newline, so it is a segment of its own too.
    let lines: Vec<String> = tty
        .split(['\r', '\n'])
        .map(visible)
        .map(|l| l.trim_end().to_owned())
        .collect();
    assert!(
        lines.iter().any(|l| l
            .strip_prefix("completing the upload…")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("   "))),
        "no completing line in {lines:#?}"
    );
    let summary = lines
        .iter()
        .find(|l| l.contains("uploaded "))
        .unwrap_or_else(|| panic!("no summary in {lines:#?}"));
    assert!(
        summary.starts_with("uploaded ") && summary.contains("to oss://bkt/big.bin"),
        "summary glued to something: {summary:?}"
    );
    // The bar's line was erased (or ended) before the summary: it starts a line of its own.
    assert!(
        tty.contains("\r\u{1b}[2Kuploaded ") || tty.contains("\nuploaded "),
        "summary after the bar on the same line: {tty:?}"
    );
}

#[test]
fn piped_output_and_the_emulator_log_have_no_escape_byte_and_v_logs_info() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("emulator.log");
    let emulator = Emulator::start(&log);
    let file = dir.path().join("small.bin");
    std::fs::write(&file, vec![1u8; 7 * 1024 * 1024]).expect("write");
    let command_line = [
        BIN,
        "-v",
        "--endpoint",
        &emulator.endpoint,
        "cp",
        file.to_str().expect("utf-8 path"),
        "oss://bkt/small.bin",
    ]
    .iter()
    .map(|a| shell_quote(a))
    .collect::<Vec<_>>()
    .join(" ");
    let out = isolated("sh")
        .args(["-c", &format!("{command_line} 2>&1 | cat")])
        .output()
        .expect("run sh");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(!out.stdout.contains(&0x1b), "escape byte in {text:?}");
    assert!(text.contains("uploaded "), "{text}");
    assert!(
        text.lines()
            .any(|l| l.contains(" INFO ") && l.contains("OSS client")),
        "no info line in {text}"
    );

    emulator.stop();
    let logged = std::fs::read(&log).expect("read the emulator's log");
    assert!(!logged.is_empty(), "the emulator logged nothing at -v");
    assert!(
        !logged.contains(&0x1b),
        "escape byte in the emulator's log: {:?}",
        String::from_utf8_lossy(&logged)
    );
}
