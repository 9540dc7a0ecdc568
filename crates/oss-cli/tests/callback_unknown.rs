//! Exit code 4 (issue 14): `oss-rs cp` with a callback whose PutObject answer is lost after OSS
//! stored the object (a fault proxy on 127.0.0.1:0 replaces it with a 503) says so in one line,
//! or in its `--json` document, sends nothing twice, and the callback ran once.

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use oss_test_support::{Answer, CallbackServer, ErrorStatus, Fault, FaultConfig, FaultProxy};

/// A proxy that replaces the answer of the first PUT with a 503 and passes everything else.
async fn proxy(emu: &oss_emulator::Emulator) -> FaultProxy {
    let puts = Arc::new(AtomicU32::new(0));
    let config = FaultConfig::new(4)
        .with(Fault::ReplaceResponse(ErrorStatus::ServiceUnavailable), 1)
        .with_exempt(move |r| r.method != "PUT" || puts.fetch_add(1, Ordering::SeqCst) > 0);
    FaultProxy::start(emu.local_addr(), config)
        .await
        .expect("proxy")
}

/// Runs `oss-rs [global] cp <1000-byte file> oss://bkt/<key> --callback-url <url>` off the
/// runtime, so the emulator, the proxy and the callback server keep serving.
async fn cp(endpoint: String, global: &[&str], key: &str, callback_url: String) -> Output {
    let global: Vec<String> = global.iter().map(|s| (*s).to_owned()).collect();
    let key = key.to_owned();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("photo.jpg");
        std::fs::write(&file, vec![7u8; 1000]).expect("write");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oss-rs"));
        for (var, _) in std::env::vars_os() {
            let name = var.to_string_lossy();
            if name.starts_with("OSS_") || name.starts_with("ALIBABA") || name == "RUST_LOG" {
                cmd.env_remove(&var);
            }
        }
        cmd.env("HOME", "/nonexistent/oss-rs-test-home")
            .env("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
            .env("OSS_ACCESS_KEY_ID", "ak")
            .env("OSS_ACCESS_KEY_SECRET", "sk")
            .env("OSS_REGION", oss_test_support::REGION)
            .stdin(Stdio::null())
            .args(["--endpoint", &endpoint, "--path-style"])
            .args(&global)
            .arg("cp")
            .arg(&file)
            .arg(format!("oss://bkt/{key}"))
            .args(["--callback-url", &callback_url])
            .output()
            .expect("run oss-rs cp")
    })
    .await
    .expect("the cp thread")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_after_the_object_was_stored_exits_4() {
    let emu = oss_test_support::emulator("ak", "sk")
        .start()
        .await
        .expect("emulator");
    let callbacks = CallbackServer::start(&emu, Answer::Echo).await;
    let callback_url = format!("{}/cb", callbacks.url);

    let p = proxy(&emu).await;
    let out = cp(p.url(), &[], "a.jpg", callback_url.clone()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("oss-rs: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    eprintln!("{}", lines[0]);
    assert!(
        lines[0].starts_with("oss-rs: the object oss://bkt/a.jpg is stored (etag \""),
        "{stderr}"
    );
    assert!(
        lines[0].contains("but whether the callback ran is unknown"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no callback answer to print");
    assert_eq!(callbacks.received().len(), 1, "one callback");
    let puts = p
        .injections()
        .iter()
        .filter(|i| i.head.method == "PUT")
        .count();
    assert_eq!(puts, 1, "no second PutObject");

    let p = proxy(&emu).await;
    let out = cp(p.url(), &["--json"], "b.jpg", callback_url).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(doc["bucket"], "bkt", "{doc}");
    assert_eq!(doc["key"], "b.jpg", "{doc}");
    assert_eq!(doc["callback"]["outcome"], "unknown", "{doc}");
    assert_eq!(doc["callback"]["object"], "stored", "{doc}");
    assert!(doc["etag"].is_string(), "{doc}");
    assert_eq!(callbacks.received().len(), 2, "one callback per upload");
}
