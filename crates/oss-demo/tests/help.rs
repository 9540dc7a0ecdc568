//! `oss-demo --help` answers and exits 0 without running the demo.

use std::process::{Command, Stdio};

#[test]
fn help_exits_0_without_running_the_demo() {
    let out = Command::new(env!("CARGO_BIN_EXE_oss-demo"))
        .arg("--help")
        .stdin(Stdio::null())
        .output()
        .expect("run oss-demo --help");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("oss-demo: "), "{stdout}");
    assert!(stdout.contains("Usage: oss-demo [--live]"), "{stdout}");
    // The demo prints a line per upload path; help prints none of them.
    assert!(!stdout.contains("emulator listening"), "{stdout}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
