//! Connection limits: slow and idle connections are closed after their timeouts while normal
//! clients keep being served, and the connection cap makes extra clients wait, not fail.

#[path = "support/client.rs"]
mod client;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::{builder, TestClient, AK, REGION, SK};
use http::StatusCode;
use oss_sign::Credentials;
use oss_test_support::{spawn_emulator, Running, TEST_KEY_PATH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_oss-emulator");
const HEADER_TIMEOUT_SECS: u64 = 1;
const IDLE_TIMEOUT_SECS: u64 = 2;
const WANTED_PER_KIND: usize = 300;
/// Bound on waiting for the server to close a connection that overstayed its timeout.
const CLOSE_DEADLINE: Duration = Duration::from_secs(30);

/// The emulator binary, killed when the test ends however it ends.
fn spawn(extra: &[&str]) -> (Running, String) {
    spawn_emulator(
        Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--region", REGION])
            .args([
                "--access-key-id",
                AK,
                "--access-key-secret",
                SK,
                "--rsa-key",
                TEST_KEY_PATH,
            ])
            .args(extra)
            // Requests here go to buckets nobody creates: these tests rely on auto-create.
            .arg("--auto-create-buckets")
            .env("RUST_LOG", "error")
            .stderr(Stdio::null()),
    )
}

/// Raises this process's descriptor limit (inherited by the child) as far as allowed, and
/// says how many connections of each kind fit.
fn connections_per_kind() -> usize {
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let lim = getrlimit(Resource::Nofile);
        let want = (4 * WANTED_PER_KIND as u64) + 256;
        let soft = lim.current.unwrap_or(u64::MAX);
        if soft < want {
            let target = lim.maximum.map_or(want, |max| max.min(want));
            let _ = setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(target),
                    maximum: lim.maximum,
                },
            );
        }
        let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
        // Each kind costs one descriptor here and one in the emulator; keep 128 spare.
        let fit = (soft.saturating_sub(128) / 2 / 2) as usize;
        fit.clamp(16, WANTED_PER_KIND)
    }
    #[cfg(not(unix))]
    {
        WANTED_PER_KIND
    }
}

fn addr_of(endpoint: &str) -> String {
    endpoint.trim_start_matches("http://").to_owned()
}

/// Sends one keep-alive request and reads its whole answer, leaving the connection open.
async fn one_request(stream: &mut TcpStream) {
    stream
        .write_all(b"GET /__emulator/pubkey.pem HTTP/1.1\r\nHost: emu\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            Instant::now() < deadline,
            "no answer to the keep-alive request"
        );
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed before answering");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("content-length");
            if buf.len() >= end + 4 + len {
                return;
            }
        }
    }
}

/// Waits (bounded) for the server to close `stream`; true on EOF or reset.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut b = [0u8; 64];
    matches!(
        tokio::time::timeout(CLOSE_DEADLINE, stream.read(&mut b)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_while_others_are_served() {
    let per_kind = connections_per_kind();
    let (_emu, endpoint) = spawn(&[
        "--header-read-timeout",
        &HEADER_TIMEOUT_SECS.to_string(),
        "--idle-timeout",
        &IDLE_TIMEOUT_SECS.to_string(),
        "--max-connections",
        &(2 * per_kind + 64).to_string(),
    ]);
    let addr = addr_of(&endpoint);
    let mut idle = Vec::new();
    for _ in 0..per_kind {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        one_request(&mut s).await;
        idle.push(s);
    }
    let mut slow = Vec::new();
    for _ in 0..per_kind {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /bucket/key HTTP/1.1\r\nHost: emu\r\nx-never: ends")
            .await
            .unwrap();
        slow.push(s);
    }
    let held_since = Instant::now();
    // Meanwhile a normal client is served, without errors.
    let c = TestClient::with(&endpoint, Credentials::new(AK, SK), REGION);
    let mut served = 0;
    for i in 0..20 {
        let key = format!("k{i}");
        let body = vec![i as u8; 1000 + i];
        let put = c.put("conn-bucket", &key, &body).await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.text());
        let get = c.get("conn-bucket", &key).await;
        assert_eq!(get.status, StatusCode::OK);
        assert_eq!(&get.body[..], &body[..]);
        served += 2;
    }
    // Then the server closes every slow and idle connection (read sees EOF).
    let mut slow_closed = 0;
    for s in &mut slow {
        slow_closed += usize::from(closed_by_server(s).await);
    }
    let slow_done = held_since.elapsed();
    let mut idle_closed = 0;
    for s in &mut idle {
        idle_closed += usize::from(closed_by_server(s).await);
    }
    println!(
        "{per_kind} idle + {per_kind} slow connections held; {served} normal requests served; \
         {slow_closed} slow closed by {slow_done:?}, {idle_closed} idle closed by {:?}",
        held_since.elapsed()
    );
    assert_eq!(
        slow_closed, per_kind,
        "every header-less connection is closed"
    );
    assert_eq!(idle_closed, per_kind, "every idle connection is closed");
    assert!(slow_done >= Duration::from_millis(HEADER_TIMEOUT_SECS * 1000 - 100));
    // And the server still serves afterwards.
    assert_eq!(c.get("conn-bucket", "k0").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_over_the_cap_waits_until_another_closes() {
    const CAP: usize = 3;
    let emu = builder().with_max_connections(CAP).start().await.unwrap();
    let addr = emu.local_addr().to_string();
    let mut held = Vec::new();
    for _ in 0..CAP {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        one_request(&mut s).await;
        held.push(s);
    }
    // Connection CAP+1 completes its TCP handshake (the backlog) but is not served...
    let mut extra = TcpStream::connect(&addr).await.unwrap();
    extra
        .write_all(b"GET /__emulator/pubkey.pem HTTP/1.1\r\nHost: emu\r\n\r\n")
        .await
        .unwrap();
    let mut b = [0u8; 16];
    let early = tokio::time::timeout(Duration::from_millis(500), extra.read(&mut b)).await;
    assert!(
        early.is_err(),
        "connection {} was served at the cap",
        CAP + 1
    );
    // ...until one of the others closes.
    drop(held.pop());
    let n = tokio::time::timeout(Duration::from_secs(30), extra.read(&mut b))
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert!(n > 0 && b.starts_with(b"HTTP/1.1 200"), "{:?}", &b[..n]);
    println!("cap {CAP}: connection {} waited, then was served", CAP + 1);
    drop(held);
    emu.shutdown().await;
}
