//! `oss-rs cp --checkpoint-dir` SIGKILLed at two protocol events, seen at a proxy (not timed):
//! while Complete's answer is held (the server committed the object and delivered the callback;
//! the run never learns it) and while Initiate's answer is held (the server created an upload
//! whose id the run never learns). The rerun finishes without a second callback or an orphan:
//! exit 4 (the callback's outcome is unknown, the object is stored) and exit 0. The full kill
//! suite (random events, many kills) builds on these.

use std::process::{Command, Stdio};
use std::time::Duration;

use oss_test_support::{
    isolated_command, spawn_callback_server, spawn_emulator, FaultProxy, HoldStage, Running,
};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "kill";
/// A safety deadline only.
const DEADLINE: Duration = Duration::from_secs(60);

struct Setup {
    _emu: Running,
    emu_endpoint: String,
    _cb: Running,
    cb_url: String,
    proxy: FaultProxy,
    work: tempfile::TempDir,
}

impl Setup {
    async fn start() -> Self {
        let (emu, emu_endpoint) = spawn_emulator(isolated_command(BIN).args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--create-bucket",
            BUCKET,
        ]));
        let (cb, cb_url) =
            spawn_callback_server(&mut isolated_command(BIN), &format!("{emu_endpoint}/"));
        let proxy = FaultProxy::in_front_of(&emu_endpoint).await;
        Self {
            _emu: emu,
            emu_endpoint,
            _cb: cb,
            cb_url,
            proxy,
            work: tempfile::tempdir().unwrap(),
        }
    }

    fn cp(&self, src: &std::path::Path, key: &str, callback: bool) -> Command {
        let mut cmd = isolated_command(BIN);
        cmd.args([
            "--endpoint",
            &self.proxy.url(),
            "--region",
            "cn-hangzhou",
            "--path-style",
            "cp",
            src.to_str().unwrap(),
            &format!("oss://{BUCKET}/{key}"),
            "--part-size",
            "1MiB",
            "--parallel",
            "2",
            "--checkpoint-dir",
            self.work.path().join("ckpt").to_str().unwrap(),
        ])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        if callback {
            cmd.args([
                "--callback-url",
                &format!("{}/notify", self.cb_url),
                "--callback-body",
                r#"{"object":${object},"size":${size}}"#,
            ]);
        }
        cmd
    }

    fn admin(&self, path: &str) -> serde_json::Value {
        oss_test_support::admin_json(&self.emu_endpoint, path)
    }

    /// Runs `cp` and SIGKILLs it once the proxy holds the answer `matches` picks.
    async fn kill_at(
        &self,
        cmd: &mut Command,
        matches: impl Fn(&oss_test_support::RequestHead) -> bool + Send + Sync + 'static,
    ) {
        let mut hold = self.proxy.hold(HoldStage::BeforeResponse, matches);
        let mut child = cmd.spawn().unwrap();
        tokio::time::timeout(DEADLINE, hold.arrived())
            .await
            .expect("the run reached the event")
            .expect("the proxy is up");
        child.kill().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success());
        hold.release();
    }

    /// Files left in the checkpoint directory (checkpoint, temp or lock files).
    fn leftovers(&self) -> Vec<String> {
        match std::fs::read_dir(self.work.path().join("ckpt")) {
            Ok(d) => d
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    async fn stored(&self, key: &str) -> Vec<u8> {
        let client = oss_upload::Client::builder(BUCKET)
            .with_endpoint(self.emu_endpoint.clone())
            .with_region("cn-hangzhou")
            .with_static_credentials("ak", "sk")
            .with_path_style(true)
            .build()
            .unwrap();
        let out = client.get_object(key).send().await.unwrap();
        out.body.bytes().await.unwrap().to_vec()
    }
}

fn is_complete(h: &oss_test_support::RequestHead) -> bool {
    h.method == "POST" && h.has_query("uploadId") && !h.has_query("uploads")
}

fn is_initiate(h: &oss_test_support::RequestHead) -> bool {
    h.method == "POST" && h.has_query("uploads")
}

fn body() -> Vec<u8> {
    (0..(6u32 << 20) + 123).map(|i| (i % 253) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_completes_answer_is_in_flight_the_rerun_sends_no_second_callback() {
    let s = Setup::start().await;
    let data = body();
    let src = s.work.path().join("big.bin");
    std::fs::write(&src, &data).unwrap();
    s.kill_at(&mut s.cp(&src, "big.bin", true), is_complete)
        .await;
    assert_eq!(
        s.admin("/__emulator/callbacks").as_array().unwrap().len(),
        1
    );

    let out = s.cp(&src, "big.bin", true).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("rerun: {:?}\n{stderr}", out.status);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("earlier run completed"), "{stderr}");
    let callbacks = s.admin("/__emulator/callbacks").as_array().unwrap().len();
    println!("callbacks delivered: {callbacks}");
    assert_eq!(callbacks, 1, "exactly one callback");
    assert_eq!(s.admin("/__emulator/uploads"), serde_json::json!([]));
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    assert!(s.stored("big.bin").await == data, "not byte-identical");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_initiates_answer_is_in_flight_the_rerun_leaves_no_orphan() {
    let s = Setup::start().await;
    let data = body();
    let src = s.work.path().join("init.bin");
    std::fs::write(&src, &data).unwrap();
    s.kill_at(&mut s.cp(&src, "init.bin", false), is_initiate)
        .await;
    let open = s.admin("/__emulator/uploads");
    assert_eq!(open.as_array().unwrap().len(), 1, "{open}");

    let out = s.cp(&src, "init.bin", false).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let open = s.admin("/__emulator/uploads");
    println!("open uploads after the rerun: {open}");
    assert_eq!(open, serde_json::json!([]), "the orphan was aborted");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    assert!(s.stored("init.bin").await == data, "not byte-identical");
}
