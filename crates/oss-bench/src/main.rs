//! `oss-bench`: the measuring programs of `cargo xtask bench`. Each run is its own process, so
//! the CPU seconds (`/proc/self/stat`) and peak RSS (`VmHWM`) it prints belong to one client.
//!
//! ```text
//! oss-bench discard-server [--listen ADDR] [--crc] [--tls-cert PEM --tls-key PEM]
//! oss-bench raw-mem  --endpoint URL --size BYTES [--parallel N] [--part-size BYTES] [--ca-file PEM]
//! oss-bench raw-put  --endpoint URL --file PATH [--parallel N] [--part-size BYTES]
//! oss-bench ours     --endpoint URL --file PATH [--parallel N] [--part-size BYTES] [--crc on|off] [--ca-file PEM]
//! oss-bench parts    --endpoint URL --file PATH --design pread|mmap [--chunk BYTES] [--parallel N] [--part-size BYTES] [--crc on|off]
//! oss-bench small    --endpoint URL --mode ours|raw|raw-std [--count N] [--size BYTES] [--concurrency C]
//! oss-bench crc      [--parts N] [--part-size BYTES]
//! oss-bench child    --bench NAME --bytes N [--requests R] -- PROGRAM ARGS...
//! ```
//! `raw-mem` is the limit (hand-written HTTP/1.1 from memory over blocking sockets, TLS for an
//! `https://` endpoint); `raw-put` is the hyper-from-file reference; `parts` compares the ways
//! of reading a file's parts (positional reads in chunks, or a memory map) under one transport. Every client prints one
//! JSON line: rate (MiB/s or req/s), p50/p99 latency, CPU seconds, peak RSS, write calls.
// `designs::map` alone maps a file (for a measurement); nothing else may be unsafe.
#![deny(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod args;
mod child;
mod crc;
mod designs;
mod discard;
mod limit;
mod metrics;
mod ours;
mod raw;

use std::process::ExitCode;

use args::Args;

fn main() -> ExitCode {
    let mut argv = std::env::args().skip(1);
    let Some(command) = argv.next() else {
        eprintln!(
            "usage: oss-bench <discard-server|raw-mem|raw-put|ours|parts|small|crc|child> [--flags]"
        );
        return ExitCode::from(2);
    };
    let mut flags: Vec<String> = argv.collect();
    let program = match flags.iter().position(|a| a == "--") {
        Some(i) => {
            let program = flags.split_off(i + 1);
            flags.pop();
            program
        }
        None => Vec::new(),
    };
    let args = match Args::parse(flags.into_iter()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("oss-bench: {e}");
            return ExitCode::from(2);
        }
    };
    // The blocking measurements run without a runtime: it would only add threads.
    let blocking = match command.as_str() {
        "raw-mem" => Some(limit::put_memory(&args)),
        "small" if args.get("mode") == Some("raw-std") => Some(limit::small(&args)),
        "crc" => Some(crc::run(&args)),
        "child" => Some(child::run(&args, &program)),
        _ => None,
    };
    if let Some(result) = blocking {
        return finish(&command, result);
    }
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
            "parts" => designs::run(&args).await,
            "small" => match args.get("mode").unwrap_or("ours") {
                "ours" => ours::small(&args).await,
                "raw" => raw::small(&args).await,
                other => Err(format!("unknown --mode {other}")),
            },
            other => Err(format!("unknown command {other}")),
        }
    });
    finish(&command, result)
}

fn finish(command: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oss-bench {command}: {e}");
            ExitCode::FAILURE
        }
    }
}
