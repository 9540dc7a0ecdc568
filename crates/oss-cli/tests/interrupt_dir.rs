//! `oss-rs cp -r` interrupted (SIGINT while a FaultProxy holds the answer to each file's first
//! UploadPart, so the run cannot finish first) with multipart uploads in flight: it waits for
//! their aborts before exiting, says how many were aborted, and the emulator lists no open
//! upload.

use std::process::{Command, Stdio};
use std::time::Duration;

use oss_test_support::{isolated_command, spawn_emulator, FaultProxy, HoldStage, Running};

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const BUCKET: &str = "interruptdir";
/// A safety deadline only.
const DEADLINE: Duration = Duration::from_secs(60);

fn admin(endpoint: &str, path: &str) -> serde_json::Value {
    oss_test_support::admin_json(endpoint, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_recursive_cp_aborts_every_upload_in_flight() {
    let (_emu, endpoint): (Running, String) = spawn_emulator(isolated_command(BIN).args([
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--create-bucket",
        BUCKET,
    ]));
    let proxy = FaultProxy::in_front_of(&endpoint).await;
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("tree");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for name in ["a.bin", "b.bin", "sub/c.bin"] {
        std::fs::write(dir.join(name), vec![name.as_bytes()[0]; 4 << 20]).unwrap();
    }

    // Every file's first part held after the emulator stored it: all three uploads are open
    // and none can finish before the interrupt.
    let mut holds: Vec<_> = ["a.bin", "b.bin", "sub/c.bin"]
        .into_iter()
        .map(|name| {
            let path = format!("/{BUCKET}/tree/{name}");
            proxy.hold(HoldStage::BeforeResponse, move |h| {
                h.method == "PUT" && h.has_query("partNumber") && h.path == path
            })
        })
        .collect();
    let child = isolated_command(BIN)
        .args([
            "--endpoint",
            &proxy.url(),
            "--region",
            "cn-hangzhou",
            "--path-style",
            "cp",
            "-r",
            dir.to_str().unwrap(),
            &format!("oss://{BUCKET}/tree/"),
            "--jobs",
            "3",
            "--part-size",
            "1MiB",
            "--parallel",
            "1",
        ])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for hold in &mut holds {
        tokio::time::timeout(DEADLINE, hold.arrived())
            .await
            .expect("each file reached its first part")
            .expect("the proxy is up");
    }
    let open = admin(&endpoint, "/__emulator/uploads");
    assert_eq!(open.as_array().unwrap().len(), 3, "{open}");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = tokio::time::timeout(
        DEADLINE,
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()),
    )
    .await
    .expect("the run ends")
    .unwrap();
    holds.into_iter().for_each(oss_test_support::Hold::release);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("3 multipart uploads were aborted"),
        "{stderr}"
    );
    let open = admin(&endpoint, "/__emulator/uploads");
    println!("open uploads after the interrupt: {open}");
    assert_eq!(open, serde_json::json!([]), "no upload is left");
}
