//! `head -c 300MiB /dev/urandom | tee f | oss-rs cp - oss://b/k` against a strict
//! `oss-rs emulator` child: the object is exactly `f`, UploadPart was used, and the client's
//! peak RSS stays within (parallel + 1) × part size + 32 MiB; a 10-byte stdin is one PutObject.
//!
//! The test is the `tee`: it reads /dev/urandom, keeps a copy and writes the child's stdin.
//! The child's peak RSS is the `ru_maxrss` that `wait4` reports for exactly that pid (an
//! exited process has no `/proc/<pid>/status` VmHWM left to read). The stream is the full
//! 300 MiB in debug builds too (about 15 s).

use std::io::{Read as _, Write as _};
use std::process::{Command, Stdio};

use oss_test_support::{isolated_command, spawn_emulator};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "stdin";
const PART: u64 = 6 << 20;
const PARALLEL: u64 = 3;

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

fn log(endpoint: &str) -> Vec<serde_json::Value> {
    let addr = endpoint.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET /__emulator/requests HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    serde_json::from_str::<serde_json::Value>(text.split_once("\r\n\r\n").unwrap().1)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn count(log: &[serde_json::Value], op: &str, key: &str) -> usize {
    log.iter()
        .filter(|r| r["operation"] == op && r["key"] == key)
        .count()
}

/// Waits for `pid` and returns (exit status, peak RSS in bytes) from `wait4`.
fn wait_with_peak_rss(pid: u32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own unreaped child; both pointers are valid for the call.
    let r = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(r, pid as libc::pid_t, "wait4");
    // ru_maxrss is in KiB on Linux.
    (status, usage.ru_maxrss as u64 * 1024)
}

// The big child is reaped by `wait4` (for its rusage), which clippy cannot see.
#[allow(clippy::zombie_processes)]
#[test]
fn stdin_uploads_multipart_in_bounded_memory_and_tiny_stdin_is_one_put() {
    let (_emu, endpoint) = spawn_emulator(isolated_command(BIN).args([
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--create-bucket",
        BUCKET,
    ]));
    let work = tempfile::tempdir().unwrap();

    // 10 bytes: one PutObject.
    let mut child = command(&endpoint, &["cp", "-", &format!("oss://{BUCKET}/tiny")])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"0123456789")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let l = log(&endpoint);
    assert_eq!(count(&l, "PutObject", "tiny"), 1);
    assert_eq!(count(&l, "InitiateMultipartUpload", "tiny"), 0);

    let size: u64 = 300 << 20;
    let mut child = command(&endpoint, &["cp", "-", &format!("oss://{BUCKET}/big")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let copy = work.path().join("f");
    let tee = std::thread::spawn(move || {
        let mut urandom = std::fs::File::open("/dev/urandom").unwrap();
        let mut f = std::fs::File::create(&copy).unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = buf.len().min(left as usize);
            urandom.read_exact(&mut buf[..n]).unwrap();
            f.write_all(&buf[..n]).unwrap();
            stdin.write_all(&buf[..n]).unwrap();
            left -= n as u64;
        }
        copy
    });
    let (status, peak) = wait_with_peak_rss(child.id());
    let copy = tee.join().unwrap();
    assert_eq!(status, 0, "oss-rs cp - failed");
    let bound = (PARALLEL + 1) * PART + (32 << 20);
    println!(
        "peak RSS {} MiB for {} MiB from stdin (bound {} MiB)",
        peak >> 20,
        size >> 20,
        bound >> 20
    );
    assert!(peak <= bound, "peak RSS {peak} > {bound}");

    let l = log(&endpoint);
    assert!(count(&l, "UploadPart", "big") >= (size / PART) as usize);
    assert_eq!(count(&l, "CompleteMultipartUpload", "big"), 1);
    // The stored object is exactly f.
    let got = command(&endpoint, &["cp", &format!("oss://{BUCKET}/big"), "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert!(
        got.stdout == std::fs::read(&copy).unwrap(),
        "stored object differs from f"
    );
}
