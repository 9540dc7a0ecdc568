//! `oss-rs cp` interrupted (SIGINT at a protocol event: the k-th UploadPart in the emulator's
//! request log) during a non-resumable multipart upload: the upload aborts itself, says so with
//! its upload id, and the emulator lists no open upload; with `--checkpoint-dir` (created when
//! missing) the same command resumes instead.

use std::io::{Read as _, Write as _};
use std::process::{Command, Output, Stdio};

use oss_test_support::{isolated_command, spawn_emulator, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "interrupt";

struct Emu {
    _child: Running,
    endpoint: String,
}

impl Emu {
    fn start() -> Self {
        let (child, endpoint) = spawn_emulator(isolated_command(BIN).args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--create-bucket",
            BUCKET,
            "--log-capacity",
            "100000",
        ]));
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

    fn admin(&self, path: &str) -> serde_json::Value {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut text = String::new();
        s.read_to_string(&mut text).expect("read");
        let body = text.split_once("\r\n\r\n").expect("a body").1;
        serde_json::from_str(body).expect("JSON")
    }

    fn upload_parts(&self) -> usize {
        self.admin("/__emulator/requests")
            .as_array()
            .expect("a list")
            .iter()
            .filter(|r| r["operation"] == "UploadPart")
            .count()
    }
}

/// Runs `args` and sends SIGINT once the emulator has answered `k` UploadParts.
fn interrupt_after(emu: &Emu, args: &[&str], k: usize) -> Output {
    let mut child = emu.command(args).stderr(Stdio::piped()).spawn().unwrap();
    while emu.upload_parts() < k {
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
    child.wait_with_output().unwrap()
}

#[test]
fn an_interrupted_multipart_cp_aborts_its_upload_and_names_it() {
    let emu = Emu::start();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("big.bin");
    std::fs::write(&src, vec![7u8; 64 << 20]).unwrap();
    let dst = format!("oss://{BUCKET}/big.bin");
    let args = [
        "cp",
        src.to_str().unwrap(),
        &dst,
        "--part-size",
        "1MiB",
        "--parallel",
        "2",
    ];
    let out = interrupt_after(&emu, &args, 5);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("was aborted; no part is left in OSS"),
        "{stderr}"
    );
    assert!(stderr.contains("upload "), "names the upload id: {stderr}");
    let open = emu.admin("/__emulator/uploads");
    assert_eq!(open, serde_json::json!([]), "no upload is left");
}

#[test]
fn a_missing_checkpoint_dir_is_created_and_an_interrupted_cp_resumes() {
    let emu = Emu::start();
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("big.bin");
    let body: Vec<u8> = (0..(16u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&src, &body).unwrap();
    let ckpt = work.path().join("no/such/dir");
    let dst = format!("oss://{BUCKET}/resumed.bin");
    let args = [
        "cp",
        src.to_str().unwrap(),
        &dst,
        "--part-size",
        "1MiB",
        "--parallel",
        "2",
        "--checkpoint-dir",
        ckpt.to_str().unwrap(),
    ];
    let out = interrupt_after(&emu, &args, 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("resume"), "{stderr}");
    assert!(ckpt.is_dir(), "the checkpoint directory was created");
    assert_eq!(
        std::fs::read_dir(&ckpt).unwrap().count(),
        1,
        "one checkpoint"
    );

    let out = emu.command(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(std::fs::read_dir(&ckpt).unwrap().count(), 0, "nothing left");
    assert_eq!(emu.admin("/__emulator/uploads"), serde_json::json!([]));
}
