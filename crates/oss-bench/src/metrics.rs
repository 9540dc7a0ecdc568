//! What each run reports: wall time, latencies, this process's CPU seconds and peak RSS.

use std::time::Duration;

/// Clock ticks per second of `/proc/self/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU seconds of this process (all threads) so far.
pub(crate) fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// User + system CPU seconds of process `pid` (`"self"` or a number). Also valid for a zombie
/// child not yet reaped: its threads' times are summed into the process when they exit.
pub(crate) fn cpu_seconds_of(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // Fields after the `(comm)`: state is index 0, utime 11, stime 12.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return f64::NAN;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(u), Some(s)) => (u + s) / TICKS_PER_SECOND,
        _ => f64::NAN,
    }
}

/// Write system calls (`syscw` of `/proc/<pid>/io`: write, writev, sendmsg, …) of process `pid`
/// so far; `None` where the kernel has no I/O accounting.
pub(crate) fn write_syscalls_of(pid: &str) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("syscw:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Peak resident set size (`VmHWM`) in MiB.
pub(crate) fn peak_rss_mib() -> f64 {
    peak_rss_mib_of("self")
}

/// Peak resident set size (`VmHWM`) of process `pid` in MiB; NaN once its memory is gone.
pub(crate) fn peak_rss_mib_of(pid: &str) -> f64 {
    let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
        return f64::NAN;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// The p-th percentile (0..=100) of `samples` in milliseconds; NaN when empty.
pub(crate) fn percentile_ms(samples: &mut [Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)].as_secs_f64() * 1000.0
}

/// One result line.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) bench: String,
    pub(crate) bytes: u64,
    pub(crate) requests: u64,
    pub(crate) seconds: f64,
    pub(crate) latencies: Vec<Duration>,
    /// CPU seconds at the start of the measured section.
    pub(crate) cpu_start: f64,
}

/// What a measured process used, read from `/proc` once it is done.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    pub(crate) cpu_s: f64,
    pub(crate) write_syscalls: Option<u64>,
    pub(crate) peak_rss_mib: f64,
}

impl Report {
    /// Prints the JSON line for this process (usage from `/proc/self`, CPU counted from
    /// `cpu_start`). Write calls count the whole process, setup included: a few dozen.
    pub(crate) fn print(self) {
        let usage = Usage {
            cpu_s: cpu_seconds() - self.cpu_start,
            write_syscalls: write_syscalls_of("self"),
            peak_rss_mib: peak_rss_mib(),
        };
        self.print_with(usage);
    }

    /// Prints the JSON line (flat object, numbers with fixed precision) with `usage` measured
    /// elsewhere (a child process).
    pub(crate) fn print_with(mut self, usage: Usage) {
        let cpu = usage.cpu_s;
        let gib = self.bytes as f64 / (1u64 << 30) as f64;
        let mib_s = self.bytes as f64 / (1u64 << 20) as f64 / self.seconds;
        let req_s = self.requests as f64 / self.seconds;
        let p50 = percentile_ms(&mut self.latencies, 50.0);
        let p99 = percentile_ms(&mut self.latencies, 99.0);
        let per_gib = if gib > 0.0 { cpu / gib } else { f64::NAN };
        let per_10k = cpu / self.requests.max(1) as f64 * 10_000.0;
        let writes = usage.write_syscalls.map_or(f64::NAN, |w| w as f64);
        let writes_per_gib = if gib > 0.0 { writes / gib } else { f64::NAN };
        println!(
            "{{\"bench\":\"{}\",\"bytes\":{},\"requests\":{},\"seconds\":{},\"mib_s\":{},\"req_s\":{},\"p50_ms\":{},\"p99_ms\":{},\"cpu_s\":{},\"cpu_s_per_gib\":{},\"cpu_s_per_10k\":{},\"peak_rss_mib\":{},\"write_calls\":{},\"write_calls_per_gib\":{}}}",
            self.bench,
            self.bytes,
            self.requests,
            num(self.seconds),
            num(mib_s),
            num(req_s),
            num(p50),
            num(p99),
            num(cpu),
            num(per_gib),
            num(per_10k),
            num(usage.peak_rss_mib),
            num(writes),
            num(writes_per_gib),
        );
    }
}

/// JSON has no NaN: `null` then.
pub(crate) fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "null".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile_ms(&mut s, 50.0).round(), 51.0);
        assert_eq!(percentile_ms(&mut s, 99.0).round(), 99.0);
        assert!(percentile_ms(&mut [], 50.0).is_nan());
    }

    #[test]
    fn proc_readings() {
        assert!(cpu_seconds() >= 0.0);
        assert!(peak_rss_mib() > 0.0);
    }
}
