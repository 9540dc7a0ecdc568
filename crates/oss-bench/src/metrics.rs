//! What each run reports: wall time, latencies, this process's CPU seconds and peak RSS.

use std::time::Duration;

/// Clock ticks per second of `/proc/self/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system CPU seconds of this process (all threads) so far.
pub(crate) fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
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

/// Peak resident set size (`VmHWM`) in MiB.
pub(crate) fn peak_rss_mib() -> f64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
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

impl Report {
    /// Prints the JSON line (flat object, numbers with fixed precision).
    pub(crate) fn print(mut self) {
        let cpu = cpu_seconds() - self.cpu_start;
        let gib = self.bytes as f64 / (1u64 << 30) as f64;
        let mib_s = self.bytes as f64 / (1u64 << 20) as f64 / self.seconds;
        let req_s = self.requests as f64 / self.seconds;
        let p50 = percentile_ms(&mut self.latencies, 50.0);
        let p99 = percentile_ms(&mut self.latencies, 99.0);
        let per_gib = if gib > 0.0 { cpu / gib } else { f64::NAN };
        let per_10k = cpu / self.requests.max(1) as f64 * 10_000.0;
        println!(
            "{{\"bench\":\"{}\",\"bytes\":{},\"requests\":{},\"seconds\":{},\"mib_s\":{},\"req_s\":{},\"p50_ms\":{},\"p99_ms\":{},\"cpu_s\":{},\"cpu_s_per_gib\":{},\"cpu_s_per_10k\":{},\"peak_rss_mib\":{}}}",
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
            num(peak_rss_mib()),
        );
    }
}

/// JSON has no NaN: `null` then.
fn num(v: f64) -> String {
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
