//! `cargo xtask conformance`: every check a submission must pass, in order, stopping at the first
//! failure, and one closing `conformance: N passed, M failed` line counting every test and
//! scenario that ran.

use std::process::Command;

use crate::command::{self, run_teed};
use crate::{browser, python, workspace_root};

/// Tests counted across suites.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub passed: u64,
    pub failed: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut live = false;
    for arg in args {
        match arg.as_str() {
            "--live" => live = true,
            other => return Err(format!("conformance: unknown flag `{other}`")),
        }
    }
    let mut tally = Tally::default();
    let outcome = run_suites(live, &mut tally);
    println!(
        "conformance: {} passed, {} failed",
        tally.passed, tally.failed
    );
    outcome
}

fn run_suites(live: bool, tally: &mut Tally) -> Result<(), String> {
    let root = workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    step("cargo fmt --all -- --check");
    command::run(
        "cargo fmt --check",
        Command::new(&cargo)
            .current_dir(&root)
            .args(["fmt", "--all", "--", "--check"]),
    )?;

    step("cargo clippy --workspace --all-targets -- -D warnings");
    command::run(
        "cargo clippy",
        Command::new(&cargo).current_dir(&root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;

    step("cargo test --workspace");
    let (ok, lines) = run_teed(
        "cargo test",
        Command::new(&cargo)
            .current_dir(&root)
            .args(["test", "--workspace"]),
    )?;
    tally.add(cargo_test_tally(&lines));
    if !ok {
        return Err("cargo test failed".into());
    }

    python::run_suite(&root, &cargo, tally)?;

    step("browser: the direct-upload page in headless Chromium");
    browser::run_suite(&root, &cargo, tally)?;

    if live {
        live_suite(&root, &cargo, tally)?;
    } else {
        println!("conformance: live suite against real OSS not run (pass --live with OSS_ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET, OSS_TEST_BUCKET, OSS_TEST_REGION, OSS_TEST_CALLBACK_URL set)");
    }
    Ok(())
}

/// The five upload paths against a real bucket (`oss-demo --live`); its closing
/// `live: N passed, M failed` line is counted.
fn live_suite(root: &std::path::Path, cargo: &str, tally: &mut Tally) -> Result<(), String> {
    const NEEDED: [&str; 5] = [
        "OSS_ACCESS_KEY_ID",
        "OSS_ACCESS_KEY_SECRET",
        "OSS_TEST_BUCKET",
        "OSS_TEST_REGION",
        "OSS_TEST_CALLBACK_URL",
    ];
    let missing: Vec<&str> = NEEDED
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_none())
        .collect();
    if !missing.is_empty() {
        println!(
            "conformance: live suite NOT run: missing {}; nothing from it is counted",
            missing.join(", ")
        );
        return Ok(());
    }
    step("live suite: oss-demo --live against the real bucket");
    let (ok, lines) = run_teed(
        "oss-demo --live",
        Command::new(cargo)
            .current_dir(root)
            .args(["run", "-q", "-p", "oss-demo", "--", "--live"]),
    )?;
    let counted = live_tally(&lines);
    tally.add(counted);
    if !ok || counted.failed > 0 || counted.passed == 0 {
        return Err("live suite failed".into());
    }
    Ok(())
}

fn live_tally(lines: &[String]) -> Tally {
    let mut tally = Tally::default();
    if let Some(rest) = lines.iter().rev().find_map(|l| l.strip_prefix("live: ")) {
        let words: Vec<&str> = rest.split([' ', ',']).filter(|w| !w.is_empty()).collect();
        for pair in words.windows(2) {
            match (pair[0].parse::<u64>(), pair[1]) {
                (Ok(n), "passed") => tally.passed += n,
                (Ok(n), "failed") => tally.failed += n,
                _ => {}
            }
        }
    }
    tally
}

fn step(name: &str) {
    println!("==> {name}");
}

/// Sums libtest's `test result: ok. N passed; M failed; ...` lines (unit, integration and doc
/// tests each print one).
pub fn cargo_test_tally(lines: &[String]) -> Tally {
    let mut tally = Tally::default();
    for line in lines {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => tally.passed += count,
                "failed" => tally.failed += count,
                _ => {}
            }
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_live_closing_line() {
        let lines = vec![
            "put-object ok".to_string(),
            "live: 4 passed, 1 failed".to_string(),
        ];
        let t = live_tally(&lines);
        assert_eq!((t.passed, t.failed), (4, 1));
        assert_eq!(live_tally(&["live: not run".to_string()]).passed, 0);
    }

    #[test]
    fn sums_every_libtest_summary() {
        let lines: Vec<String> = [
            "running 3 tests",
            "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test result: FAILED. 2 passed; 4 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s",
            "unrelated: 9 passed",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let tally = cargo_test_tally(&lines);
        assert_eq!((tally.passed, tally.failed), (5, 4));
    }
}
