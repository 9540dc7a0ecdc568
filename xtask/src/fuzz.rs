//! `cargo xtask fuzz`: the cargo-fuzz targets in `fuzz/`, on the stable toolchain.
//!
//! - `--smoke`: every target for a few seconds; prints the executions each one managed.
//! - `--target T --time S`: one target for S seconds.
//!
//! Only a stable toolchain exists here, and cargo-fuzz passes nightly-only `-Z` flags for its
//! sanitizers; `--sanitizer none` leaves only stable `-C` instrumentation flags, so the targets
//! build and run on stable with nothing else (see docs/decisions.md). A crash
//! that libFuzzer writes to `fuzz/artifacts/<target>/` is copied into `fuzz/corpus/<target>/`,
//! where the plain test suites replay every file, so a found bug stays a failing test.

use std::path::Path;
use std::process::Command;

use crate::command::{self, run_teed};
use crate::workspace_root;

const SMOKE_SECONDS: u64 = 8;

pub fn run(args: &[String]) -> Result<(), String> {
    let mut smoke = false;
    let mut target: Option<String> = None;
    let mut seconds: u64 = 60;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            "--target" => target = Some(it.next().ok_or("--target needs a name")?.clone()),
            "--time" => {
                seconds = it
                    .next()
                    .ok_or("--time needs seconds")?
                    .parse()
                    .map_err(|_| "--time takes whole seconds".to_string())?
            }
            other => return Err(format!("fuzz: unknown flag `{other}`")),
        }
    }
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    ensure_cargo_fuzz()?;
    let targets = match (smoke, target) {
        (_, Some(t)) => vec![t],
        (true, None) => list_targets(&fuzz_dir)?,
        (false, None) => return Err("fuzz: pass --smoke or --target T [--time S]".into()),
    };
    let seconds = if smoke { SMOKE_SECONDS } else { seconds };
    let mut report = Vec::new();
    for target in &targets {
        let executions = run_target(&fuzz_dir, target, seconds)?;
        report.push((target.clone(), executions));
    }
    println!("fuzz: executions per target ({seconds} s each)");
    for (target, executions) in &report {
        println!("  {target:<32} {executions:>12}");
    }
    Ok(())
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if installed {
        return Ok(());
    }
    println!("==> cargo install cargo-fuzz --locked");
    command::run(
        "cargo install cargo-fuzz",
        Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]),
    )
}

fn list_targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let out = Command::new("cargo")
        .current_dir(fuzz_dir)
        .args(["fuzz", "list"])
        .output()
        .map_err(|e| format!("cargo fuzz list: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Runs one target; returns libFuzzer's execution count.
fn run_target(fuzz_dir: &Path, target: &str, seconds: u64) -> Result<u64, String> {
    println!("==> fuzzing {target} for {seconds} s");
    let corpus = fuzz_dir.join("corpus").join(target);
    // libFuzzer writes new inputs into its first corpus directory: point that at a scratch
    // directory under fuzz/target so the committed seeds stay a curated handful.
    let scratch = fuzz_dir.join("target").join("corpus").join(target);
    for dir in [&corpus, &scratch] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // libFuzzer reports on stderr; merge it so the run count can be read.
    let script = format!(
        "cargo fuzz run --sanitizer none {target} '{}' '{}' -- -max_total_time={seconds} -print_final_stats=1 2>&1",
        scratch.display(),
        corpus.display()
    );
    let (ok, lines) = run_teed(
        "cargo fuzz run",
        Command::new("sh")
            .current_dir(fuzz_dir)
            .args(["-c", &script]),
    )?;
    let saved = save_crashes(fuzz_dir, target, &corpus)?;
    if !ok {
        return Err(format!(
            "fuzz target {target} failed; {saved} crash input(s) copied into {}",
            corpus.display()
        ));
    }
    Ok(executions(&lines))
}

fn save_crashes(fuzz_dir: &Path, target: &str, corpus: &Path) -> Result<usize, String> {
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let Ok(entries) = std::fs::read_dir(&artifacts) else {
        return Ok(0);
    };
    let mut saved = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("crash-") || name.starts_with("oom-") || name.starts_with("timeout-") {
            std::fs::copy(entry.path(), corpus.join(&*name))
                .map_err(|e| format!("saving {name}: {e}"))?;
            saved += 1;
        }
    }
    Ok(saved)
}

/// `stat::number_of_executed_units: N` from `-print_final_stats`, else the last `#N` status line.
fn executions(lines: &[String]) -> u64 {
    for line in lines.iter().rev() {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            if let Ok(n) = n.trim().parse() {
                return n;
            }
        }
    }
    lines
        .iter()
        .rev()
        .find_map(|l| {
            l.strip_prefix('#')
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_final_stats_or_status_lines() {
        let stats = vec![
            "#1024\tpulse  cov: 10".to_string(),
            "stat::number_of_executed_units: 52311".to_string(),
        ];
        assert_eq!(executions(&stats), 52311);
        let status_only = vec!["#2\tINITED".to_string(), "#4096\tpulse".to_string()];
        assert_eq!(executions(&status_only), 4096);
        assert_eq!(executions(&[]), 0);
    }
}
