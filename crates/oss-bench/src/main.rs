//! `oss-bench`: the measuring programs of `cargo xtask bench`. Each run is its own process, so
//! the CPU seconds (`/proc/self/stat`) and peak RSS (`VmHWM`) it prints belong to one client.
//!
//! ```text
//! oss-bench discard-server [--listen ADDR] [--crc]
//! oss-bench raw-put  --endpoint URL --file PATH [--parallel N] [--part-size BYTES]
//! oss-bench ours     --endpoint URL --file PATH [--parallel N] [--part-size BYTES] [--crc on|off]
//! oss-bench small    --endpoint URL --mode ours|raw [--count N] [--size BYTES] [--concurrency C]
//! ```
//! Every client prints one JSON line: rate (MiB/s or req/s), p50/p99 latency, CPU seconds,
//! peak RSS.
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod args;
mod discard;
mod metrics;
mod ours;
mod raw;

use std::process::ExitCode;

use args::Args;

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprintln!("usage: oss-bench <discard-server|raw-put|ours|small> [--flags]");
        return ExitCode::from(2);
    };
    let args = match Args::parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("oss-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oss-bench: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match command.as_str() {
            "discard-server" => discard::run(&args).await,
            "raw-put" => raw::put_file(&args).await,
            "ours" => ours::upload_file(&args).await,
            "small" => match args.get("mode").unwrap_or("ours") {
                "ours" => ours::small(&args).await,
                "raw" => raw::small(&args).await,
                other => Err(format!("unknown --mode {other}")),
            },
            other => Err(format!("unknown command {other}")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oss-bench {command}: {e}");
            ExitCode::FAILURE
        }
    }
}
