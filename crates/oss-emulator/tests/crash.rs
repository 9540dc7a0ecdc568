//! Crash atomicity: the emulator is killed (`OSS_EMULATOR_CRASH_AT` aborts the process) at each
//! step of an overwrite's commit, then restarted on the same data dir. The key then holds the
//! old object whole or the new one whole, never a mix, and no stray data file is left.

#[path = "support/client.rs"]
mod client;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::{TestClient, AK, REGION, SK};
use http::StatusCode;
use oss_sign::Credentials;
use oss_test_support::{spawn_emulator, Running, TEST_KEY_PATH};

const BIN: &str = env!("CARGO_BIN_EXE_oss-emulator");
const SEED: u64 = 0x0550_c0de;

fn spawn(data_dir: &Path, crash_at: Option<&str>) -> (Running, TestClient) {
    let mut cmd = Command::new(BIN);
    cmd.args(["--listen", "127.0.0.1:0", "--region", REGION])
        .args([
            "--access-key-id",
            AK,
            "--access-key-secret",
            SK,
            "--rsa-key",
            TEST_KEY_PATH,
        ])
        .arg("--data-dir")
        .arg(data_dir)
        // The contention runs write to a bucket they never create: they rely on auto-create.
        .arg("--auto-create-buckets")
        .env("RUST_LOG", "error")
        .env_remove("OSS_EMULATOR_CRASH_AT")
        .stderr(Stdio::null());
    if let Some(step) = crash_at {
        cmd.env("OSS_EMULATOR_CRASH_AT", step);
    }
    let (emulator, endpoint) = spawn_emulator(&mut cmd);
    let c = TestClient::with(&endpoint, Credentials::new(AK, SK), REGION);
    (emulator, c)
}

fn wait_exit(emulator: &mut Running) -> std::process::ExitStatus {
    let child = emulator.child_mut();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        assert!(Instant::now() < deadline, "emulator did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Kills the emulator (dropping its [`Running`]) before the next one opens the same data dir.
fn stop(emulator: Running) {
    drop(emulator);
}

fn body(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn data_files(dir: &Path) -> usize {
    let mut n = 0;
    for bucket in std::fs::read_dir(dir.join("objects")).unwrap() {
        for f in std::fs::read_dir(bucket.unwrap().path()).unwrap() {
            n += usize::from(f.unwrap().file_name().to_string_lossy().ends_with(".data"));
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_any_commit_step_leaves_a_whole_object() {
    let dir = tempfile::tempdir().unwrap();
    let old = body(SEED, 180_000);
    let (child, c) = spawn(dir.path(), None);
    let put = c.put("crash-bucket", "obj", &old).await;
    assert_eq!(put.status, StatusCode::OK);
    let old_etag = put.header("etag").unwrap().to_owned();
    stop(child);

    // (step, which object must survive the crash)
    let steps = [
        ("after-data", false),
        ("after-sidecar-temp", false),
        ("after-commit", true),
    ];
    for (i, (step, new_wins)) in steps.into_iter().enumerate() {
        let new = body(SEED + 1 + i as u64, 60_000 + 50_000 * i);
        let (mut child, c) = spawn(dir.path(), Some(step));
        // The connection dies with the process; the PUT's outcome is unknown to the client.
        let req = client::Req::put("crash-bucket", "obj", new.clone());
        let parts = c.sign(&req);
        let full = http_body_util::Full::new(req.body.clone());
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let answer = http.request(http::Request::from_parts(parts, full)).await;
        assert!(answer.is_err(), "{step}: the PUT must not be answered");
        let status = wait_exit(&mut child);
        assert!(!status.success(), "{step}: aborted, got {status}");

        let (child, c) = spawn(dir.path(), None);
        let got = c.get("crash-bucket", "obj").await;
        assert_eq!(got.status, StatusCode::OK, "{step}");
        let (want, label) = if new_wins {
            (&new, "new")
        } else {
            (&old, "old")
        };
        assert!(
            got.body[..] == want[..],
            "{step}: not the whole {label} object ({} bytes)",
            got.body.len()
        );
        if new_wins {
            assert_ne!(got.header("etag"), Some(old_etag.as_str()));
        } else {
            assert_eq!(got.header("etag"), Some(old_etag.as_str()));
        }
        assert_eq!(
            data_files(dir.path()),
            1,
            "{step}: the restart removed the orphan"
        );
        println!(
            "{step}: crashed ({status}), restarted, {label} object whole ({} bytes)",
            got.body.len()
        );
        if new_wins {
            // Put the old object back for the next step.
            let put = c.put("crash-bucket", "obj", &old).await;
            assert_eq!(put.header("etag"), Some(old_etag.as_str()));
        }
        stop(child);
    }
}
