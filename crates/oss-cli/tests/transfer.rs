//! `oss-rs cp` both ways against a strict `oss-rs emulator` child (`--create-bucket`): a
//! directory round trip with a callback per file, a download interrupted by SIGINT at a
//! protocol event (the k-th ranged GET in the emulator's request log) and resumed, a corrupted
//! stored byte caught by the combined CRC-64, and keys that would escape the target directory.
//!
//! The resumed download is the full 300 MiB in debug builds too: this suite and tests/stdin.rs
//! take about 30 s together on 2 cores, inside their 90 s budget, so nothing is shrunk.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use oss_test_support::{isolated_command, spawn_callback_server, spawn_emulator, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "transfer";

struct Emu {
    _child: Running,
    endpoint: String,
}

impl Emu {
    fn start(extra: &[&str]) -> Self {
        let (child, endpoint) = spawn_emulator(
            isolated_command(BIN)
                .args([
                    "emulator",
                    "--listen",
                    "127.0.0.1:0",
                    "--create-bucket",
                    BUCKET,
                ])
                .args(extra),
        );
        Self {
            _child: child,
            endpoint,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = isolated_command(BIN);
        cmd.args([
            "--endpoint",
            &self.endpoint,
            "--region",
            "cn-hangzhou",
            "--path-style",
        ])
        .args(args)
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .stdin(Stdio::null());
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run oss-rs")
    }

    fn admin(&self, path: &str) -> serde_json::Value {
        oss_test_support::admin_json(&self.endpoint, path)
    }

    fn requests(&self) -> Vec<serde_json::Value> {
        self.admin("/__emulator/requests")
            .as_array()
            .expect("a list")
            .clone()
    }

    fn client(&self) -> oss_upload::Client {
        oss_upload::Client::builder(BUCKET)
            .with_endpoint(self.endpoint.clone())
            .with_region("cn-hangzhou")
            .with_static_credentials("ak", "sk")
            .with_path_style(true)
            .build()
            .expect("client")
    }
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    stderr
}

/// Seeded pseudo-random bytes (xorshift), so a failure reproduces.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read dir") {
            let p = e.expect("entry").path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                out.insert(format!("{rel}/"));
                stack.push(p);
            } else {
                out.insert(rel);
            }
        }
    }
    out
}

#[test]
fn directory_round_trip_with_a_callback_per_file() {
    let emu = Emu::start(&[]);
    let (_cb, cb_url) =
        spawn_callback_server(&mut isolated_command(BIN), &format!("{}/", emu.endpoint));
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("src tree");
    let dirs = ["", "photos 2024/", "文档/", "文档/深 层/", "a/b/c/"];
    let mut expected = BTreeSet::new();
    for i in 0..50 {
        let dir = dirs[i % dirs.len()];
        let rel = format!("{dir}file {i} 文件.bin");
        let path = src.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data(i * 997 + 1, i as u64)).unwrap();
        expected.insert(rel);
    }
    std::fs::create_dir_all(src.join("empty dir")).unwrap();
    std::os::unix::fs::symlink(src.join("file 0 文件.bin"), src.join("a link")).unwrap();

    let out = emu.run(&[
        "cp",
        "-r",
        src.to_str().unwrap(),
        &format!("oss://{BUCKET}/tree/"),
        "--jobs",
        "4",
        "--callback-url",
        &format!("{cb_url}/notify"),
        "--callback-body",
        r#"{"path":${x:path},"object":${object}}"#,
        "--callback-var",
        "x:path={relpath}",
    ]);
    let stderr = ok(&out);
    assert!(
        stderr.contains("upload: 50 ok, 2 skipped, 0 failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("symbolic link") && stderr.contains("empty directory"),
        "{stderr}"
    );

    let callbacks = emu.admin("/__emulator/callbacks");
    let callbacks = callbacks.as_array().unwrap();
    assert_eq!(callbacks.len(), 50, "{callbacks:?}");
    let mut paths = BTreeSet::new();
    for c in callbacks {
        let body: serde_json::Value = serde_json::from_str(c["body"].as_str().unwrap()).unwrap();
        let path = body["path"].as_str().unwrap().to_owned();
        assert_eq!(body["object"].as_str().unwrap(), format!("tree/{path}"));
        paths.insert(path);
    }
    assert_eq!(paths, expected);

    let back = work.path().join("back");
    let out = emu.run(&[
        "cp",
        "-r",
        &format!("oss://{BUCKET}/tree/"),
        back.to_str().unwrap(),
    ]);
    let stderr = ok(&out);
    assert!(
        stderr.contains("download: 50 ok, 0 skipped, 0 failed"),
        "{stderr}"
    );
    // Byte-identical, except that the symlink and the empty directory were not uploaded.
    let got: BTreeSet<_> = files_under(&back)
        .into_iter()
        .filter(|f| !f.ends_with('/'))
        .collect();
    assert_eq!(got, expected);
    for rel in &expected {
        assert_eq!(
            std::fs::read(back.join(rel)).unwrap(),
            std::fs::read(src.join(rel)).unwrap(),
            "{rel}"
        );
    }
    assert!(!back.join("a link").exists() && !back.join("empty dir").exists());

    // --no-clobber skips what exists.
    let out = emu.run(&[
        "cp",
        "-r",
        "--no-clobber",
        &format!("oss://{BUCKET}/tree/"),
        back.to_str().unwrap(),
    ]);
    assert!(ok(&out).contains("download: 0 ok, 50 skipped, 0 failed"));
}

fn ranged_gets(log: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    log.iter()
        .filter(|r| r["operation"] == "GetObject" && r["range"].is_string())
        .collect()
}

#[test]
fn interrupted_download_resumes_and_fetches_less() {
    let size: usize = 300 << 20;
    let emu = Emu::start(&["--log-capacity", "100000"]);
    let work = tempfile::tempdir().unwrap();
    let body = data(size, 7);
    let src = work.path().join("big.bin");
    std::fs::write(&src, &body).unwrap();
    ok(&emu.run(&[
        "cp",
        src.to_str().unwrap(),
        &format!("oss://{BUCKET}/big.bin"),
    ]));
    let dest = work.path().join("copy.bin");
    let ckpt = work.path().join("ckpt");
    std::fs::create_dir(&ckpt).unwrap();
    let args = [
        "cp",
        &format!("oss://{BUCKET}/big.bin"),
        dest.to_str().unwrap(),
        "--checkpoint-dir",
        ckpt.to_str().unwrap(),
        "--part-size",
        "1MiB",
        "--parallel",
        "2",
    ];
    let mut child = emu.command(&args).stderr(Stdio::piped()).spawn().unwrap();
    // The protocol event: the emulator has answered the k-th ranged GET.
    const K: usize = 100;
    let mut polls = 0u64;
    while ranged_gets(&emu.requests()).len() < K {
        polls += 1;
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the interruption"
        );
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let first = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&first.stderr);
    println!("interrupted after {K} ranged GETs ({polls} log polls)");
    assert_eq!(first.status.code(), Some(130), "{stderr}");
    assert!(
        !dest.exists(),
        "a partial download sits under the final name"
    );
    assert!(work.path().join("copy.bin.temp").exists());

    let before = emu.requests().len();
    let stderr = ok(&emu.run(&args));
    assert!(stderr.contains("resumed from the checkpoint"), "{stderr}");
    assert!(std::fs::read(&dest).unwrap() == body, "not byte-identical");
    let log = emu.requests();
    let rerun: u64 = ranged_gets(&log[before..])
        .iter()
        .map(|r| r["bytes_served"].as_u64().unwrap())
        .sum();
    println!("rerun fetched {rerun} of {size} bytes");
    assert!(rerun > 0 && rerun < size as u64, "{rerun} of {size}");
    assert!(!work.path().join("copy.bin.temp").exists());
    assert_eq!(std::fs::read_dir(&ckpt).unwrap().count(), 0);
}

fn data_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            data_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "data") {
            out.push(p);
        }
    }
}

#[test]
fn a_corrupted_stored_byte_fails_the_crc_and_leaves_no_file() {
    let store = tempfile::tempdir().unwrap();
    let emu = Emu::start(&["--data-dir", store.path().to_str().unwrap()]);
    let work = tempfile::tempdir().unwrap();
    let body = data(3 << 20, 11);
    let src = work.path().join("c.bin");
    std::fs::write(&src, &body).unwrap();
    ok(&emu.run(&[
        "cp",
        src.to_str().unwrap(),
        &format!("oss://{BUCKET}/c.bin"),
        "--part-size",
        "1MiB",
    ]));
    let mut files = Vec::new();
    data_files(&store.path().join("objects"), &mut files);
    assert_eq!(files.len(), 1, "{files:?}");
    let mut stored = std::fs::read(&files[0]).unwrap();
    stored[1_500_000] ^= 0x01;
    std::fs::write(&files[0], stored).unwrap();

    let dest = work.path().join("out.bin");
    let out = emu.run(&[
        "cp",
        &format!("oss://{BUCKET}/c.bin"),
        dest.to_str().unwrap(),
        "--part-size",
        "1MiB",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("CRC-64 mismatch"), "{stderr}");
    assert!(!dest.exists() && !work.path().join("out.bin.temp").exists());
}

#[test]
fn keys_that_escape_the_target_are_skipped() {
    let emu = Emu::start(&[]);
    let client = emu.client();
    runtime().block_on(async {
        for key in ["p/../evil", "p//abs", "p/a", "p/a/b", "p/ok.txt"] {
            client
                .put_object(key, key.as_bytes().to_vec())
                .send()
                .await
                .expect(key);
        }
    });
    let work = tempfile::tempdir().unwrap();
    let target = work.path().join("target");
    std::fs::create_dir(&target).unwrap();
    let out = emu.run(&[
        "cp",
        "-r",
        &format!("oss://{BUCKET}/p/"),
        target.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for key in ["p/../evil", "p//abs", "p/a"] {
        assert!(
            stderr.contains(&format!("skipped key {key:?}")),
            "{key}: {stderr}"
        );
    }
    assert!(
        stderr.contains("download: 2 ok, 0 skipped, 3 failed"),
        "{stderr}"
    );
    // Nothing outside the target: the temp dir holds only it, and it holds only the safe keys.
    let outside: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("target")]);
    assert_eq!(
        files_under(&target),
        ["a/", "a/b", "ok.txt"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}
