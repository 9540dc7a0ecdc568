//! The demo binary end to end: every path must report a verified callback.

use std::process::Command;

#[test]
fn demo_runs_every_path_with_a_verified_callback() {
    let out = Command::new(env!("CARGO_BIN_EXE_oss-demo"))
        .output()
        .expect("demo starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}");
    // The five upload paths, then the same PutObject with credentials from the emulator's IMDS.
    for path in [
        "put-object",
        "multipart",
        "resumable",
        "form",
        "presigned",
        "ecs-role",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(path))
            .unwrap_or_else(|| panic!("no line for {path}:\n{stdout}"));
        assert!(line.contains("signature verified"), "{line}");
        assert!(line.contains("\"user\":\"demo-user\""), "{line}");
    }
    assert!(stdout.contains("all 6 upload paths"), "{stdout}");
}
