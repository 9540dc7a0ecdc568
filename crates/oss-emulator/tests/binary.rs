//! The `oss-emulator` binary: prints its address, stores on disk, shuts down gracefully on
//! SIGTERM, and serves the same bytes after a restart on the same data dir.

#[path = "support/client.rs"]
mod client;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::{TestClient, AK, REGION, SK};
use http::StatusCode;
use oss_sign::Credentials;
use oss_test_support::{spawn_emulator, Running, TEST_KEY_PATH};

const BIN: &str = env!("CARGO_BIN_EXE_oss-emulator");

fn spawn(data_dir: &std::path::Path) -> (Running, String) {
    spawn_emulator(
        Command::new(BIN)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--region",
                REGION,
                "--access-key-id",
                AK,
                "--access-key-secret",
                SK,
            ])
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--callback-timeout", "2", "--rsa-key", TEST_KEY_PATH])
            // These tests write to buckets they never create: they rely on auto-create.
            .arg("--auto-create-buckets")
            .env("RUST_LOG", "warn")
            .stderr(Stdio::null()),
    )
}

fn terminate(mut emulator: Running) {
    let child = emulator.child_mut();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "emulator did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_then_restart_keeps_objects() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 256) as u8).collect();

    let (child, endpoint) = spawn(dir.path());
    let c = TestClient::with(&endpoint, Credentials::new(AK, SK), REGION);
    let put = c.put("bin-bucket", "persist/data.bin", &data).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    terminate(child);

    let (child, endpoint) = spawn(dir.path());
    let c = TestClient::with(&endpoint, Credentials::new(AK, SK), REGION);
    let got = c.get("bin-bucket", "persist/data.bin").await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.body[..], &data[..]);
    assert_eq!(got.header("etag"), put.header("etag"));
    terminate(child);
}

#[test]
fn help_lists_flags_and_defaults() {
    let out = Command::new(BIN)
        .arg("--help")
        .output()
        .expect("run --help");
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--region",
        "--data-dir",
        "--access-key-id",
        "--access-key-secret",
        "--sts-token",
        "--callback-timeout",
        "[default: 127.0.0.1:9000]",
        "[default: cn-hangzhou]",
        "[default: 5]",
        "in memory",
        "--header-read-timeout",
        "--create-bucket",
        "--auto-create-buckets",
        "--idle-timeout",
        "--max-connections",
        "--log-capacity",
        "[default: 30]",
        "[default: 60]",
        "[default: 512]",
        "[default: 10000]",
    ] {
        assert!(text.contains(flag), "--help lacks {flag}:\n{text}");
    }
}
