//! The Python suite: the official Python SDK (`alibabacloud-oss-v2`) as an independent client
//! against our emulator. xtask creates its virtualenv under `target/` on first use, so
//! `cargo xtask conformance` works on a fresh machine without `.ci/run`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{run, run_teed};
use crate::conformance::Tally;

/// Where the suite lives; it is skipped (and says so) until it exists.
const SUITE_DIR: &str = "conformance/python";

/// Creates (or refreshes) the venv and returns its python interpreter.
pub fn ensure_venv(root: &Path) -> Result<PathBuf, String> {
    let requirements = root.join(SUITE_DIR).join("requirements.txt");
    let venv = root.join("target").join("conformance-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        println!("==> creating the conformance venv in {}", venv.display());
        run(
            "python3 -m venv",
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
        )?;
    }
    let wanted = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("reading {}: {e}", requirements.display()))?;
    let stamp = venv.join("requirements.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        println!("==> pip install -r {}", requirements.display());
        run(
            "pip install",
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(&requirements),
        )?;
        std::fs::write(&stamp, wanted).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    }
    Ok(python)
}

pub fn run_suite(root: &Path, cargo: &str, tally: &mut Tally) -> Result<(), String> {
    let suite = root.join(SUITE_DIR);
    if !suite.join("requirements.txt").exists() {
        println!("==> python suite: not present yet ({SUITE_DIR}), nothing run");
        return Ok(());
    }
    let python = ensure_venv(root)?;

    println!(
        "==> cargo build (the emulator, oss-sign's examples and the direct-upload server, for the python suite)"
    );
    run(
        "cargo build",
        Command::new(cargo).current_dir(root).args([
            "build",
            "-p",
            "oss-emulator",
            "--bins",
            "-p",
            "oss-sign",
            "--example",
            "post_policy",
            "--example",
            "sign_cases",
            "-p",
            "oss-direct-upload",
            "--example",
            "serve_uploads",
        ]),
    )?;
    let debug = root.join("target").join("debug");
    let emulator = debug.join("oss-emulator");
    let post_policy = debug.join("examples").join("post_policy");
    let sign_cases = debug.join("examples").join("sign_cases");
    let serve_uploads = debug.join("examples").join("serve_uploads");

    println!("==> pytest {SUITE_DIR}");
    let (ok, lines) = run_teed(
        "pytest",
        Command::new(&python)
            .current_dir(&suite)
            .env("OSS_EMULATOR_BIN", &emulator)
            .env("OSS_SIGN_POST_POLICY_BIN", &post_policy)
            .env("OSS_SIGN_CASES_BIN", &sign_cases)
            .env("OSS_DIRECT_UPLOAD_SERVER_BIN", &serve_uploads)
            .env("OSS_RS_ROOT", root)
            .args(["-m", "pytest", "-v", "-rA", "-p", "no:cacheprovider"]),
    )?;
    let counted = pytest_tally(&lines);
    tally.passed += counted.passed;
    tally.failed += counted.failed;
    if !ok || counted.failed > 0 {
        return Err("python suite failed".into());
    }
    if counted.passed == 0 {
        return Err("python suite ran no test".into());
    }
    Ok(())
}

/// Reads pytest's closing line, e.g. `==== 12 passed, 1 failed in 3.10s ====`.
fn pytest_tally(lines: &[String]) -> Tally {
    let mut tally = Tally::default();
    let Some(last) = lines
        .iter()
        .rev()
        .find(|l| l.starts_with('=') && (l.contains(" passed") || l.contains(" failed")))
    else {
        return tally;
    };
    let words: Vec<&str> = last
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=')
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(2) {
        let Ok(count) = pair[0].parse::<u64>() else {
            continue;
        };
        match pair[1] {
            "passed" => tally.passed += count,
            "failed" | "error" | "errors" => tally.failed += count,
            _ => {}
        }
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pytest_closing_line() {
        let lines = vec![
            "conformance/python/test_put.py::test_put PASSED".to_string(),
            "======== 12 passed, 2 failed, 1 error in 3.10s ========".to_string(),
        ];
        let t = pytest_tally(&lines);
        assert_eq!((t.passed, t.failed), (12, 3));
    }
}
