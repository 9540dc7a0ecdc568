//! The checkpoint lock at CLI level (issue 15): while a resumable `oss-rs cp` is stalled at a
//! protocol event (its second UploadPart held at a proxy before the emulator sees it), a second
//! `cp` of the same source into the same checkpoint directory fails at once, naming the lock
//! file and the first run's pid, and sends nothing; released, the first run completes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use oss_test_support::{isolated_command, spawn_emulator, FaultProxy, HoldStage, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "lock";
const KEY: &str = "locked.bin";
/// A safety deadline only.
const DEADLINE: Duration = Duration::from_secs(60);

struct Setup {
    _emu: Running,
    emu_endpoint: String,
    proxy: FaultProxy,
    src: PathBuf,
    ckpt: PathBuf,
    _work: tempfile::TempDir,
}

impl Setup {
    async fn start(data: &[u8]) -> Self {
        let (emu, emu_endpoint) = spawn_emulator(isolated_command(BIN).args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--create-bucket",
            BUCKET,
        ]));
        let proxy = FaultProxy::in_front_of(&emu_endpoint).await;
        let work = tempfile::tempdir().unwrap();
        let src = work.path().join(KEY);
        std::fs::write(&src, data).unwrap();
        Self {
            _emu: emu,
            emu_endpoint,
            proxy,
            ckpt: work.path().join("ckpt"),
            src,
            _work: work,
        }
    }

    fn cp(&self) -> Command {
        let mut cmd = isolated_command(BIN);
        cmd.args([
            "--endpoint",
            &self.proxy.url(),
            "--region",
            "cn-hangzhou",
            "--path-style",
            "cp",
            self.src.to_str().unwrap(),
            &format!("oss://{BUCKET}/{KEY}"),
            "--part-size",
            "1MiB",
            // One part at a time: with the held part the first run sends nothing else, so the
            // emulator's log shows what the second one sent.
            "--parallel",
            "1",
            "--checkpoint-dir",
            self.ckpt.to_str().unwrap(),
        ])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        cmd
    }

    fn admin(&self, path: &str) -> serde_json::Value {
        oss_test_support::admin_json(&self.emu_endpoint, path)
    }

    /// OSS requests the emulator has seen (its admin requests left out).
    fn requests(&self) -> usize {
        let log = self.admin("/__emulator/requests");
        log.as_array()
            .unwrap()
            .iter()
            .filter(|r| !r["operation"].is_null())
            .count()
    }

    async fn stored(&self) -> Vec<u8> {
        let client = oss_upload::Client::builder(BUCKET)
            .with_endpoint(self.emu_endpoint.clone())
            .with_region("cn-hangzhou")
            .with_static_credentials("ak", "sk")
            .with_path_style(true)
            .build()
            .unwrap();
        let out = client.get_object(KEY).send().await.unwrap();
        out.body.bytes().await.unwrap().to_vec()
    }
}

fn names(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(d) => d
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_cp_on_a_locked_checkpoint_fails_naming_the_lock_and_the_first_completes() {
    let data: Vec<u8> = (0..(8u32 << 20) + 77).map(|i| (i % 249) as u8).collect();
    let s = Setup::start(&data).await;

    let seen = AtomicUsize::new(0);
    let mut hold = s.proxy.hold(HoldStage::BeforeRequest, move |h| {
        h.method == "PUT" && h.has_query("partNumber") && seen.fetch_add(1, Ordering::SeqCst) == 1
    });
    let first = s.cp().spawn().unwrap();
    let first_pid = first.id();
    let first = tokio::task::spawn_blocking(move || first.wait_with_output().unwrap());
    tokio::time::timeout(DEADLINE, hold.arrived())
        .await
        .expect("the first run reached its second part")
        .expect("the proxy is up");
    let locks: Vec<_> = names(&s.ckpt)
        .into_iter()
        .filter(|n| n.ends_with(".lock"))
        .collect();
    assert_eq!(locks.len(), 1, "the first run holds one lock: {locks:?}");

    let before = s.requests();
    let second = tokio::time::timeout(
        DEADLINE,
        tokio::task::spawn_blocking({
            let mut cmd = s.cp();
            move || cmd.output().unwrap()
        }),
    )
    .await
    .expect("the second run ends while the first is held")
    .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    println!("second run: {:?}\n{stderr}", second.status);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("checkpoint lock"))
        .unwrap_or_else(|| panic!("no lock line: {stderr}"));
    assert!(line.contains(&locks[0]), "names the lock file: {line}");
    assert!(
        line.contains(&format!("process {first_pid}")),
        "names the first run's pid {first_pid}: {line}"
    );
    assert_eq!(s.requests(), before, "the second run sent nothing");

    hold.release();
    let out = tokio::time::timeout(DEADLINE, first)
        .await
        .expect("the first run finishes once released")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(s.stored().await == data, "not byte-identical");
    assert_eq!(s.admin("/__emulator/uploads"), serde_json::json!([]));
    assert!(names(&s.ckpt).is_empty(), "{:?}", names(&s.ckpt));
}
