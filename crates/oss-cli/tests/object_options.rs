//! `--content-type`, `--meta`, `--acl` and `--storage-class` on `cp` and `presign put`, against
//! `oss-rs emulator` on 127.0.0.1:0. For presign they are signed headers: an upload that sends
//! them is stored with them, one that changes them is refused.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use oss_test_support::{isolated_command, spawn_emulator, Running, LINE_DEADLINE as DEADLINE};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");

fn oss_rs() -> Command {
    let mut cmd = isolated_command(BIN);
    cmd.env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .env("OSS_REGION", "cn-hangzhou")
        .stdin(Stdio::null());
    cmd
}

struct Emulator {
    _process: Running,
    endpoint: String,
}

impl Emulator {
    fn start() -> Self {
        let (process, endpoint) = spawn_emulator(
            oss_rs()
                .args([
                    "emulator",
                    "--listen",
                    "127.0.0.1:0",
                    "--create-bucket",
                    "bkt",
                ])
                .stderr(Stdio::null()),
        );
        Self {
            _process: process,
            endpoint,
        }
    }

    /// `oss-rs --endpoint <emulator> ARGS`, asserting success; stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = oss_rs()
            .args(["--endpoint", &self.endpoint])
            .args(args)
            .output()
            .expect("run oss-rs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// A PUT over a plain socket (HTTP/1.1, `Connection: close`); the status code.
fn put(url: &str, headers: &[(String, String)], body: &[u8]) -> u16 {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let mut request = format!(
        "PUT {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

#[test]
fn presign_put_signs_content_type_and_meta() {
    let emulator = Emulator::start();
    let text = emulator.ok(&[
        "presign",
        "put",
        "oss://bkt/notes.txt",
        "--content-type",
        "text/plain",
        "--meta",
        "a:b",
    ]);
    let mut lines = text.lines();
    let url = lines.next().expect("the URL").to_owned();
    assert!(
        url.starts_with(&format!("{}/bkt/notes.txt?", emulator.endpoint)),
        "{text}"
    );
    assert!(text.contains("\ncontent-type: text/plain\n"), "{text}");
    assert!(text.contains("\nx-oss-meta-a: b\n"), "{text}");
    let curl = text
        .lines()
        .find(|l| l.starts_with("curl "))
        .expect("a curl command");
    assert!(
        curl.contains("-H 'content-type: text/plain'") && curl.contains("-H 'x-oss-meta-a: b'"),
        "{curl}"
    );

    let signed = [
        ("Content-Type".to_owned(), "text/plain".to_owned()),
        ("x-oss-meta-a".to_owned(), "b".to_owned()),
    ];
    // Another content type breaks the signature.
    let other = [
        ("Content-Type".to_owned(), "text/html".to_owned()),
        ("x-oss-meta-a".to_owned(), "b".to_owned()),
    ];
    assert_eq!(put(&url, &other, b"<b>hi</b>"), 403);
    assert_eq!(put(&url, &signed, b"hello"), 200);

    let stat = emulator.ok(&["stat", "oss://bkt/notes.txt"]);
    assert!(
        stat.contains("Content-Type") && stat.contains("text/plain"),
        "{stat}"
    );
    assert!(
        stat.contains("X-Oss-Meta-A") && stat.contains(": b"),
        "{stat}"
    );
}

#[test]
fn cp_stores_content_type_and_meta_and_accepts_acl_and_storage_class() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("data.bin");
    std::fs::write(&file, b"0123456789").expect("write");
    emulator.ok(&[
        "cp",
        file.to_str().expect("utf-8 path"),
        "oss://bkt/data.bin",
        "--content-type",
        "text/csv",
        "--meta",
        "Owner:alice",
        "--meta",
        "team:x",
        "--acl",
        "private",
        "--storage-class",
        "IA",
    ]);
    // The emulator stores type and metadata; it keeps every object Standard and private, so
    // --acl and --storage-class are checked as headers by object_args' unit tests.
    let stat = emulator.ok(&["stat", "oss://bkt/data.bin"]);
    for expected in [
        "Content-Type        : text/csv",
        "X-Oss-Meta-Owner    : alice",
        "X-Oss-Meta-Team     : x",
    ] {
        assert!(stat.contains(expected), "{expected}: {stat}");
    }
}
