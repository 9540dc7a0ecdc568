//! Running child processes: plain runs, and runs whose output is echoed while it is read.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Runs `cmd` with inherited stdio; an unsuccessful exit is an error naming `what`.
pub fn run(what: &str, cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: could not start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// Runs `cmd`, echoing its stdout line by line while keeping a copy, so callers can read the
/// test runner's summary lines without hiding progress from the user. Stderr is inherited.
pub fn run_teed(what: &str, cmd: &mut Command) -> Result<(bool, Vec<String>), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: could not start: {e}"))?;
    let mut lines = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("{what}: reading output: {e}"))?;
            println!("{line}");
            lines.push(line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("{what}: waiting for it: {e}"))?;
    Ok((status.success(), lines))
}
