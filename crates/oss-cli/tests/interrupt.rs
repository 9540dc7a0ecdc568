//! `oss-rs cp` interrupted (SIGINT at a protocol event: the k-th UploadPart's answer held at a
//! proxy, so the run cannot finish first) during a non-resumable multipart upload: the upload
//! aborts itself, says so with its upload id, and the emulator lists no open upload; with
//! `--checkpoint-dir` (created when missing) the same command resumes instead.

use std::process::{Command, Output, Stdio};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oss_test_support::{isolated_command, spawn_emulator, FaultProxy, HoldStage, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "interrupt";

/// A safety deadline only.
const DEADLINE: Duration = Duration::from_secs(60);

struct Emu {
    _child: Running,
    endpoint: String,
    proxy: FaultProxy,
}

impl Emu {
    async fn start() -> Self {
        let (child, endpoint) = spawn_emulator(isolated_command(BIN).args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--create-bucket",
            BUCKET,
            "--log-capacity",
            "100000",
        ]));
        let proxy = FaultProxy::in_front_of(&endpoint).await;
        Self {
            _child: child,
            endpoint,
            proxy,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = isolated_command(BIN);
        cmd.args([
            "--endpoint",
            &self.proxy.url(),
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
        oss_test_support::admin_json(&self.endpoint, path)
    }
}

/// Runs `args` and sends SIGINT while the proxy holds the answer to the `k`-th UploadPart.
async fn interrupt_at_part(emu: &Emu, args: &[&str], k: usize) -> Output {
    let seen = AtomicUsize::new(0);
    let mut hold = emu.proxy.hold(HoldStage::BeforeResponse, move |h| {
        h.method == "PUT"
            && h.has_query("partNumber")
            && seen.fetch_add(1, Ordering::SeqCst) + 1 == k
    });
    let child = emu.command(args).stderr(Stdio::piped()).spawn().unwrap();
    tokio::time::timeout(DEADLINE, hold.arrived())
        .await
        .expect("the run reached the part")
        .expect("the proxy is up");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    hold.release();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_multipart_cp_aborts_its_upload_and_names_it() {
    let emu = Emu::start().await;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("big.bin");
    std::fs::write(&src, vec![7u8; 16 << 20]).unwrap();
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
    let out = interrupt_at_part(&emu, &args, 5).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_checkpoint_dir_is_created_and_an_interrupted_cp_resumes() {
    let emu = Emu::start().await;
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
    let out = interrupt_at_part(&emu, &args, 3).await;
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
