//! `child`: runs a program as a user would (the release `oss-rs cp`) and reports it like any
//! other row. Its CPU seconds and write calls are read from `/proc/<pid>` after it exits but
//! before it is reaped (`waitid` with `WNOWAIT`), so they are the child's exact totals; its peak
//! RSS is sampled while it runs, because an exited process no longer has a `VmHWM`.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};

use crate::args::Args;
use crate::metrics::{cpu_seconds_of, peak_rss_mib_of, write_syscalls_of, Report, Usage};

/// How often the child's `VmHWM` is read; the high-water mark only grows, so the last reading
/// misses at most what the child added in its final interval.
const RSS_POLL: Duration = Duration::from_millis(5);

/// `child --bench NAME --bytes N [--requests R] -- PROGRAM ARGS…`.
pub(crate) fn run(args: &Args, program: &[String]) -> Result<(), String> {
    let (bin, rest) = program
        .split_first()
        .ok_or("child: a program is required after `--`")?;
    let bench = args.required("bench")?.to_owned();
    let bytes = args.number("bytes", 0)?;
    let requests = args.number("requests", 1)?;
    let started = Instant::now();
    let mut child = Command::new(bin)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting {bin}: {e}"))?;
    let pid = child.id().to_string();
    let stderr = child.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut s) = stderr {
            let _ = s.read_to_string(&mut text);
        }
        text
    });
    let done = Arc::new(AtomicBool::new(false));
    let peak_kib = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, peak_kib, pid) = (Arc::clone(&done), Arc::clone(&peak_kib), pid.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                let mib = peak_rss_mib_of(&pid);
                if mib.is_finite() {
                    peak_kib.fetch_max((mib * 1024.0) as u64, Ordering::Relaxed);
                }
                std::thread::sleep(RSS_POLL);
            }
        })
    };
    waitid(
        WaitId::Pid(Pid::from_child(&child)),
        WaitIdOptions::EXITED | WaitIdOptions::NOWAIT,
    )
    .map_err(|e| format!("waitid: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let usage = Usage {
        cpu_s: cpu_seconds_of(&pid),
        write_syscalls: write_syscalls_of(&pid),
        peak_rss_mib: peak_kib.load(Ordering::Relaxed) as f64 / 1024.0,
    };
    let status = child.wait().map_err(|e| e.to_string())?;
    let _ = sampler.join();
    let errors = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{bin} failed ({status}): {}", errors.trim()));
    }
    Report {
        bench,
        bytes,
        requests,
        seconds,
        latencies: Vec::new(),
        cpu_start: 0.0,
    }
    .print_with(usage);
    Ok(())
}
