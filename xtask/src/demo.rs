//! `cargo xtask demo`: runs the demo binary, which exercises every upload path with a callback
//! against the embedded emulator once the upload crates exist.

use std::process::Command;

use crate::command;
use crate::workspace_root;

pub fn run(args: &[String]) -> Result<(), String> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let demo = root
        .join("crates")
        .join("oss-upload")
        .join("examples")
        .join("demo.rs");
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&root);
    if demo.exists() {
        cmd.args(["run", "-q", "-p", "oss-upload", "--example", "demo", "--"]);
    } else {
        // Before the uploader exists the demo can only sign a request and show it; it uploads nothing.
        cmd.args([
            "run",
            "-q",
            "-p",
            "oss-sign",
            "--example",
            "sign_request",
            "--",
        ]);
    }
    cmd.args(args);
    command::run("demo", &mut cmd)
}
