//! `oss-rs cp --no-crc` against an `oss-rs emulator` child: a multipart upload with the CRC-64
//! switched off stores the file byte for byte (that nothing is hashed is oss-upload's
//! `checksum` unit test; the flag only turns the library switch).

use std::io::Read as _;
use std::io::Write as _;
use std::process::Command;

use oss_test_support::{isolated_command, spawn_emulator};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "nocrc";

fn command(endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = isolated_command(BIN);
    cmd.args([
        "--endpoint",
        endpoint,
        "--region",
        "cn-hangzhou",
        "--path-style",
    ])
    .args(args)
    .env("OSS_ACCESS_KEY_ID", "ak")
    .env("OSS_ACCESS_KEY_SECRET", "sk");
    cmd
}

fn upload_parts(endpoint: &str, key: &str) -> usize {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /__emulator/requests HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let log: serde_json::Value =
        serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
    log.as_array()
        .unwrap()
        .iter()
        .filter(|r| r["operation"] == "UploadPart" && r["key"] == key)
        .count()
}

#[test]
fn cp_no_crc_stores_the_file_exactly() {
    let (_emu, endpoint) = spawn_emulator(isolated_command(BIN).args([
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--create-bucket",
        BUCKET,
    ]));
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("f");
    let data: Vec<u8> = (0..700_000u32).map(|i| (i * 131 % 253) as u8).collect();
    std::fs::write(&file, &data).unwrap();

    let url = format!("oss://{BUCKET}/k");
    let out = command(
        &endpoint,
        &[
            "cp",
            "--no-crc",
            "--part-size",
            "100KiB",
            file.to_str().unwrap(),
            &url,
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(upload_parts(&endpoint, "k"), 7);

    let got = command(&endpoint, &["cp", &url, "-"]).output().unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(got.stdout == data, "stored bytes differ");
}
