//! `--json` and `-q` against `oss-rs emulator` and `oss-rs callback-server` on 127.0.0.1:0.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
/// Bound on waiting for a child's first line (never a correctness sleep).
const DEADLINE: Duration = Duration::from_secs(60);

fn oss_rs() -> Command {
    let mut cmd = Command::new(BIN);
    for (var, _) in std::env::vars_os() {
        let name = var.to_string_lossy();
        if name.starts_with("OSS_") || name.starts_with("ALIBABA") || name == "RUST_LOG" {
            cmd.env_remove(&var);
        }
    }
    cmd.env("HOME", "/nonexistent/oss-rs-test-home")
        .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .env("OSS_REGION", "cn-hangzhou")
        .stdin(Stdio::null());
    cmd
}

/// A child `oss-rs` killed when dropped, and the address it printed after `prefix`.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(args: &[&str], prefix: &str) -> Self {
        let mut child = oss_rs()
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn oss-rs");
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
        let address = loop {
            let line = rx.recv_timeout(DEADLINE).expect("the listening address");
            if let Some(rest) = line.trim().strip_prefix(prefix) {
                break rest.trim().to_owned();
            }
        };
        Self { child, address }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator() -> Server {
    Server::start(
        &[
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--create-bucket",
            "bkt",
        ],
        "oss-emulator listening on",
    )
}

fn cp(endpoint: &str, global: &[&str], extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("photo.jpg");
    std::fs::write(&file, vec![7u8; 1000]).expect("write");
    oss_rs()
        .args(["--endpoint", endpoint])
        .args(global)
        .arg("cp")
        .arg(&file)
        .arg("oss://bkt/photos/photo.jpg")
        .args(extra)
        .output()
        .expect("run oss-rs cp")
}

#[test]
fn cp_json_prints_one_document_with_the_callback_answer_etag_and_request_id() {
    let emulator = emulator();
    let trusted = format!("{}/", emulator.address);
    let callbacks = Server::start(
        &[
            "callback-server",
            "--listen",
            "127.0.0.1:0",
            "--trust-key-url-prefix",
            &trusted,
        ],
        "oss-rs callback-server listening on",
    );
    let callback_url = format!("{}/cb", callbacks.address);
    let out = cp(
        &emulator.address,
        &["--json"],
        &[
            "--callback-url",
            &callback_url,
            "--callback-var",
            "x:user=alice",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "one document: {stdout}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(doc["bucket"], "bkt", "{doc}");
    assert_eq!(doc["key"], "photos/photo.jpg", "{doc}");
    assert_eq!(doc["size"], 1000, "{doc}");
    assert!(doc["etag"].as_str().is_some_and(|e| !e.is_empty()), "{doc}");
    assert!(
        doc["request_id"].as_str().is_some_and(|e| !e.is_empty()),
        "{doc}"
    );
    assert!(doc["crc64"].as_str().is_some(), "{doc}");
    // The callback server answers with what it verified, as JSON.
    let answer = &doc["callback"]["answer"];
    assert!(answer.is_object(), "{doc}");
    assert!(answer.to_string().contains("alice"), "{doc}");
}

#[test]
fn cp_json_of_a_failed_callback_is_a_document_too_with_exit_3() {
    let emulator = emulator();
    // Nothing listens on port 9 of loopback: the callback fails, the object is stored.
    let out = cp(
        &emulator.address,
        &["--json"],
        &["--callback-url", "http://127.0.0.1:9/cb"],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(
        doc["callback"]["failure"]["code"], "CallbackFailed",
        "{doc}"
    );
    assert_eq!(doc["callback"]["failure"]["status"], 203, "{doc}");
    assert!(doc["etag"].as_str().is_some(), "{doc}");
}

#[test]
fn quiet_prints_nothing_on_success() {
    let emulator = emulator();
    let out = cp(&emulator.address, &["-q"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stdout.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An error still prints.
    let out = cp("http://127.0.0.1:9", &["-q"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("oss-rs: "),
        "{:?}",
        out.stderr
    );
}

#[test]
fn help_lists_the_exit_codes() {
    let out = oss_rs().arg("--help").output().expect("run oss-rs --help");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for line in [
        "  2    invalid command line",
        "  3    the upload callback failed; the object IS stored",
        "  4    the callback's outcome is unknown; the object is stored (or may be)",
        "  130  stopped by Ctrl-C or SIGTERM",
    ] {
        assert!(help.contains(line), "{line}: {help}");
    }
}
