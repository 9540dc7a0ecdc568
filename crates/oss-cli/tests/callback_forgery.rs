//! `oss-rs callback-server` against the key-URL forgery of issue 11: trusted
//! `http://127.0.0.1:PORT` (no slash) must not let `http://127.0.0.1:PORT@127.0.0.1:OTHER/`
//! through, while the emulator's genuine callbacks through the same server still verify.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use oss_test_support::{http_request, isolated_command, spawn_callback_server, spawn_emulator};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
/// The attacker's own key pair (not the emulator's).
const ATTACKER_KEY: &str = include_str!("../../oss-callback/tests/data/test_key_512.pem");

/// `oss-rs` with no OSS_*, ALIBABA* or RUST_LOG variable from the developer's shell and a HOME
/// without credential files.
fn command() -> Command {
    isolated_command(BIN)
}

/// The attacker's key server on 127.0.0.1:0: serves `pem` to anyone and counts connections.
fn attacker_key_server(pem: String) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0; 2048];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{pem}",
                pem.len()
            );
        }
    });
    (port, count)
}

/// One HTTP/1.1 POST of a form body over loopback; returns status and body.
fn post(authority: &str, path: &str, headers: &http::HeaderMap, body: &[u8]) -> (u16, String) {
    let mut all = vec![(
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    for (name, value) in headers {
        all.push((name.to_string(), value.to_str().expect("ascii").to_owned()));
    }
    http_request(&format!("http://{authority}{path}"), "POST", &all, body)
}

#[test]
fn at_sign_forgery_is_refused_without_a_fetch_and_emulator_callbacks_still_verify() {
    // The upload goes to a bucket nobody creates: this test relies on auto-create.
    let (_emulator, endpoint) = spawn_emulator(command().args([
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--auto-create-buckets",
    ]));
    let emulator_authority = endpoint
        .strip_prefix("http://")
        .unwrap_or_else(|| panic!("{endpoint}"))
        .to_owned();
    assert!(emulator_authority.starts_with("127.0.0.1:"), "{endpoint}");

    let attacker = oss_callback::CallbackPrivateKey::from_pem(ATTACKER_KEY).expect("key");
    let attacker_pem = attacker.public_key().to_pem().expect("public key");
    let (attacker_port, fetches) = attacker_key_server(attacker_pem);

    // The trusted prefix exactly as issue 11 wrote it: no trailing slash.
    let trusted = format!("http://{emulator_authority}");
    let (callbacks, server) = spawn_callback_server(&mut command(), &trusted);
    let server_authority = server.strip_prefix("http://").expect("http").to_owned();

    // The forgery: a key URL that starts with the trusted string but names the attacker's host.
    let forged_key_url = format!("http://{emulator_authority}@127.0.0.1:{attacker_port}/key.pem");
    let body = b"bucket=cli-bucket&object=forged.txt";
    let headers =
        oss_callback::signature_headers(&attacker, &forged_key_url, "/oss-callback", "", body)
            .expect("sign");
    let (status, answer) = post(&server_authority, "/oss-callback", &headers, body);
    assert_eq!(status, 403, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
    assert_eq!(answer["verified"], false, "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .is_some_and(|r| r.contains("userinfo")),
        "{answer}"
    );
    assert!(callbacks
        .line_starting("callback POST /oss-callback")
        .starts_with("REJECTED"));
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        0,
        "the attacker's key was fetched"
    );

    // A genuine callback from the emulator, through the same server.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("small.txt");
    std::fs::write(&file, b"hello from oss-rs\n").expect("write");
    let out = command()
        .args([
            "--endpoint",
            &endpoint,
            "--region",
            "cn-hangzhou",
            "--path-style",
            "cp",
            &file.display().to_string(),
            "oss://cli-bucket/genuine.txt",
            "--callback-url",
            &format!("{server}/oss-callback"),
        ])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .output()
        .expect("run cp");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answered: serde_json::Value =
        serde_json::from_str(&callbacks.line_starting("answered:")).expect("JSON");
    assert_eq!(answered["verified"], true, "{answered}");
    assert_eq!(answered["path"], "/oss-callback", "{answered}");
    assert_eq!(fetches.load(Ordering::SeqCst), 0);
}

#[test]
fn an_allow_list_entry_without_a_scheme_is_refused_at_start() {
    let out = command()
        .args([
            "callback-server",
            "--listen",
            "127.0.0.1:0",
            "--trust-key-url-prefix",
            "127.0.0.1:9000",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("allow-list entry \"127.0.0.1:9000\" is invalid"),
        "{stderr}"
    );
}
