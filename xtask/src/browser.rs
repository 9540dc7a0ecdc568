//! The browser step: the direct-upload example page in headless Chromium (Debian's `chromium`,
//! which `.ci/run` installs), driven by `playwright-core` from npm. The driver is installed with
//! `npm ci` from the committed lock file into `target/conformance-browser/`, never with a
//! browser of its own. Where Chromium (or node) is missing the step says it was not run, and
//! under `CI=true` that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::{self, run_teed};
use crate::conformance::Tally;

/// The test script and the driver's package.json + package-lock.json.
const SUITE_DIR: &str = "conformance/browser";
const SCRIPT: &str = "upload.test.mjs";

/// Where Chromium is looked for, unless `CHROMIUM` names it.
const CHROMIUM_CANDIDATES: [&str; 2] = ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path)).filter(|p| p.is_file());
    }
    CHROMIUM_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A missing prerequisite: said plainly, and fatal under CI.
fn not_run(reason: &str) -> Result<(), String> {
    println!("browser: not run: {reason}");
    if std::env::var("CI").as_deref() == Ok("true") {
        Err(format!("browser step not run under CI=true: {reason}"))
    } else {
        Ok(())
    }
}

/// `npm ci` into `target/conformance-browser/` when the committed lock file changed since the
/// last install. Returns that folder.
fn ensure_driver(root: &Path) -> Result<PathBuf, String> {
    let suite = root.join(SUITE_DIR);
    let dir = root.join("target").join("conformance-browser");
    let lock = std::fs::read_to_string(suite.join("package-lock.json"))
        .map_err(|e| format!("reading {SUITE_DIR}/package-lock.json: {e}"))?;
    let stamp = dir.join("lock.installed");
    let installed = dir.join("node_modules").join("playwright-core");
    if installed.is_dir() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&lock) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(suite.join(file), dir.join(file))
            .map_err(|e| format!("copying {SUITE_DIR}/{file}: {e}"))?;
    }
    println!(
        "==> npm ci (playwright-core, no browser download) in {}",
        dir.display()
    );
    command::run(
        "npm ci",
        Command::new("npm")
            .current_dir(&dir)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .env("PUPPETEER_SKIP_DOWNLOAD", "1")
            .args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ]),
    )?;
    std::fs::write(&stamp, lock).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    Ok(dir)
}

/// `cargo xtask browser`: this step alone, with conformance's closing line.
pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(flag) = args.first() {
        return Err(format!("browser: unknown flag `{flag}`"));
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut tally = Tally::default();
    let outcome = run_suite(&crate::workspace_root(), &cargo, &mut tally);
    println!(
        "conformance: {} passed, {} failed",
        tally.passed, tally.failed
    );
    outcome
}

pub fn run_suite(root: &Path, cargo: &str, tally: &mut Tally) -> Result<(), String> {
    let Some(chromium) = chromium() else {
        return not_run(
            "Chromium not found at /usr/bin/chromium (apt-get install chromium, or set CHROMIUM)",
        );
    };
    if !have("node") || !have("npm") {
        return not_run("node and npm are needed for the DevTools driver");
    }
    let started = std::time::Instant::now();
    let driver = ensure_driver(root)?;
    println!("==> cargo build (the serve_uploads example, for the browser step)");
    command::run(
        "cargo build",
        Command::new(cargo).current_dir(root).args([
            "build",
            "-p",
            "oss-direct-upload",
            "--example",
            "serve_uploads",
        ]),
    )?;
    let target = root.join("target");
    let server = target.join("debug").join("examples").join("serve_uploads");
    println!(
        "==> node {SUITE_DIR}/{SCRIPT} (headless {})",
        chromium.display()
    );
    let (ok, lines) = run_teed(
        "browser test",
        Command::new("node")
            .current_dir(root)
            .arg(root.join(SUITE_DIR).join(SCRIPT))
            .env("SERVE_UPLOADS_BIN", &server)
            .env("CHROMIUM", &chromium)
            .env("BROWSER_DRIVER_DIR", &driver)
            .env("BROWSER_OUT_DIR", target.join("browser")),
    )?;
    println!(
        "==> browser step took {:.1} s (driver install, build, test)",
        started.elapsed().as_secs_f64()
    );
    let counted = browser_tally(&lines);
    tally.passed += counted.passed;
    tally.failed += counted.failed;
    if !ok || counted.failed > 0 {
        return Err("browser step failed".into());
    }
    if counted.passed == 0 {
        return Err("browser step ran no test".into());
    }
    Ok(())
}

/// Reads the script's closing `browser: N passed, M failed` line.
fn browser_tally(lines: &[String]) -> Tally {
    let mut tally = Tally::default();
    if let Some(rest) = lines.iter().rev().find_map(|l| l.strip_prefix("browser: ")) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_closing_line() {
        let lines = vec![
            "ok - a case (812 ms)".to_string(),
            "browser: 3 passed, 1 failed".to_string(),
        ];
        let t = browser_tally(&lines);
        assert_eq!((t.passed, t.failed), (3, 1));
        assert_eq!(
            browser_tally(&["browser: not run: x".to_string()]).passed,
            0
        );
    }
}
