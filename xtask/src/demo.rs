//! `cargo xtask demo`: runs `crates/oss-demo`, which uploads with every path, each with a
//! verified callback, against the embedded emulator, and exits non-zero if any path fails.

use std::process::Command;

use crate::command;
use crate::workspace_root;

pub fn run(args: &[String]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    command::run(
        "demo",
        Command::new(&cargo)
            .current_dir(workspace_root())
            .args(["run", "-q", "-p", "oss-demo", "--"])
            .args(args),
    )
}
