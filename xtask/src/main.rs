//! Project automation for oss-rs, run as `cargo xtask <task>`.
//!
//! - `conformance [--live]`: formatting, lints, the workspace tests and every conformance suite,
//!   ending with one `conformance: N passed, M failed` line.
//! - `browser`: only conformance's browser step (the direct-upload page in headless Chromium).
//! - `demo`: every upload path with a callback against the embedded emulator.
//! - `bench [--quick]`: criterion benches and the end-to-end throughput report.
//! - `fuzz [--smoke | --target T --time S]`: the cargo-fuzz targets on the stable toolchain.

mod bench;
mod browser;
mod command;
mod conformance;
mod demo;
mod fuzz;
mod python;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <conformance [--live] | browser | demo | bench [--quick] | fuzz [--smoke | --target T --time S]>";

/// Set for everything xtask runs: the credential chain must never reach for the real ECS
/// metadata service (`100.100.100.200`) from a developer machine or CI. Tests of the IMDS link
/// point it at a loopback mock through `OSS_RS_IMDS_ENDPOINT` and clear this themselves.
const NO_IMDS: (&str, &str) = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");

fn main() -> ExitCode {
    // Still single-threaded here, so changing the environment races with nothing; every child
    // process inherits it.
    std::env::set_var(NO_IMDS.0, NO_IMDS.1);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match task.as_str() {
        "bench" => bench::run(rest),
        "browser" => browser::run(rest),
        "conformance" => conformance::run(rest),
        "demo" => demo::run(rest),
        "fuzz" => fuzz::run(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
