//! Project automation for oss-rs, run as `cargo xtask <task>`.
//!
//! - `conformance [--live]`: formatting, lints, the workspace tests and every conformance suite,
//!   ending with one `conformance: N passed, M failed` line.
//! - `demo`: every upload path with a callback against the embedded emulator.
//! - `bench [--quick]`: criterion benches and the end-to-end throughput report.
//! - `fuzz [--smoke | --target T --time S]`: the cargo-fuzz targets on the stable toolchain.

mod bench;
mod command;
mod conformance;
mod demo;
mod fuzz;
mod python;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <conformance [--live] | demo | bench [--quick] | fuzz [--smoke | --target T --time S]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match task.as_str() {
        "bench" => bench::run(rest),
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
