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
/// 200 MiB, as the issue asks; the upload path is fast enough in debug builds too (the stdin and
/// download suites move 300 MiB there).
const SIZE_MIB: usize = 200;

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

/// `command_line` run by `script(1)` under a pty: its status and everything it wrote.
fn under_a_pty(command_line: &str) -> (std::process::ExitStatus, String) {
    let out = isolated("script")
        .args(["-qfec", command_line, "/dev/null"])
        .output()
        .expect("run script");
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn quoted(args: &[&str]) -> String {
    args.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The visible lines of a pty capture (see the first test).
fn visible_lines(tty: &str) -> Vec<String> {
    tty.split(['\r', '\n'])
        .map(visible)
        .map(|l| l.trim_end().to_owned())
        .collect()
}

/// UploadParts answered 200 so far, from the emulator's request log.
fn uploaded_parts(endpoint: &str) -> usize {
    let (status, body) =
        oss_test_support::http_request(&format!("{endpoint}/__emulator/requests"), "GET", &[], b"");
    assert_eq!(status, 200, "{body}");
    let log: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    log.as_array()
        .expect("a list")
        .iter()
        .filter(|r| r["operation"] == "UploadPart" && r["status"] == 200)
        .count()
}

#[test]
fn a_resumed_cp_shows_the_resumed_bytes_apart_from_the_sent_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emulator = Emulator::start(&dir.path().join("emulator.log"));
    let file = dir.path().join("resume.bin");
    std::fs::write(&file, vec![0x3cu8; 24 << 20]).expect("write");
    let ckpt = dir.path().join("ckpt");
    std::fs::create_dir(&ckpt).expect("mkdir");
    let args = [
        BIN,
        "--endpoint",
        &emulator.endpoint,
        "cp",
        file.to_str().expect("utf-8 path"),
        "oss://bkt/resume.bin",
        "--checkpoint-dir",
        ckpt.to_str().expect("utf-8 path"),
        "--part-size",
        "1MiB",
        "--parallel",
        "1",
    ];
    let mut first = oss_rs()
        .args(&args[1..])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cp");
    // The protocol event: the emulator has answered the K-th UploadPart.
    const K: usize = 6;
    while uploaded_parts(&emulator.endpoint) < K {
        assert!(
            first.try_wait().expect("try_wait").is_none(),
            "finished before the interruption"
        );
    }
    let kill = Command::new("kill")
        .args(["-INT", &first.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let first = first.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(130), "{stderr}");
    let done = uploaded_parts(&emulator.endpoint);
    assert!((K..24).contains(&done), "{done} parts before the rerun");

    let (status, tty) = under_a_pty(&quoted(&args));
    assert!(status.success(), "exit {status:?}\n{tty:?}");
    let lines = visible_lines(&tty);
    // Every frame of the bar shows the resumed bytes apart: `… 13.00 MiB/24.00 MiB (resumed
    // 6.0 MiB) 3.1 MiB/s ETA 4 s`. They grow as the checkpoint's parts are confirmed, to at
    // most the `done` parts the server had: a part answered just before the SIGINT may not have
    // reached the checkpoint, and is sent again.
    let frames: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("MiB/24.00 MiB"))
        .collect();
    assert!(!frames.is_empty(), "no bar in {lines:#?}");
    let resumed: Vec<f64> = frames
        .iter()
        .map(|frame| {
            frame
                .split_once("(resumed ")
                .and_then(|(_, rest)| rest.split_once(" MiB)"))
                .and_then(|(n, _)| n.parse::<f64>().ok())
                .unwrap_or_else(|| panic!("no resumed bytes in {frame:?}"))
        })
        .collect();
    let most = resumed.iter().copied().fold(0.0, f64::max);
    assert!(
        most >= 1.0 && most <= done as f64,
        "{done} parts stored: {frames:#?}"
    );
    // The rate counts only the bytes sent by this run: the first frame, drawn when the first
    // part was found, has sent nothing yet.
    assert!(
        frames[0].contains(" 0 B/s "),
        "the resumed bytes counted in the rate: {:?}",
        frames[0]
    );
    assert!(
        lines.iter().any(|l| l.starts_with("uploaded ")),
        "no summary in {lines:#?}"
    );
}

#[test]
fn a_cp_refused_before_any_byte_draws_no_bar() {
    let dir = tempfile::tempdir().expect("tempdir");
    let emulator = Emulator::start(&dir.path().join("emulator.log"));
    let file = dir.path().join("ten.bin");
    std::fs::write(&file, b"0123456789").expect("write");
    let command_line = format!(
        "OSS_ACCESS_KEY_SECRET=wrong {}",
        quoted(&[
            BIN,
            "--endpoint",
            &emulator.endpoint,
            "cp",
            file.to_str().expect("utf-8 path"),
            "oss://bkt/ten.bin",
        ])
    );
    let (status, tty) = under_a_pty(&command_line);
    assert_eq!(status.code(), Some(1), "{tty:?}");
    let lines: Vec<String> = visible_lines(&tty)
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        lines.len() == 1 && lines[0].contains("HTTP 403 SignatureDoesNotMatch"),
        "expected the error alone: {lines:#?}"
    );
    assert!(
        !tty.contains("100%") && !tty.contains("10 B"),
        "a frame of the bar: {tty:?}"
    );
}
