//! Running measurements: child servers, one `oss-bench` process per run, the median of the
//! repetitions, and the criterion benches with their estimates.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::command::run_teed;

use super::MIB;

/// Which table of the report a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Large,
    Tls,
    Emulator,
    Crc,
    Small,
}

impl Section {
    /// A short name for row keys.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Large => "discard",
            Self::Tls => "tls",
            Self::Emulator => "emulator",
            Self::Crc => "crc",
            Self::Small => "small",
        }
    }
}

/// One measured row: the median run's JSON line, flattened.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) section: Section,
    /// Unique within a run; the report looks rows up by it.
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) size: u64,
    pub(crate) parallel: u64,
    pub(crate) runs: usize,
    pub(crate) fields: BTreeMap<String, String>,
}

impl Row {
    pub(crate) fn num(&self, name: &str) -> Option<f64> {
        self.fields
            .get(name)
            .and_then(|v| v.parse().ok())
            .filter(|v: &f64| v.is_finite())
    }
}

/// Runs `make()` `runs` times and keeps the median run by its rate (MiB/s, or req/s for small
/// objects): one slow or lucky run on a shared machine does not decide a ratio.
#[allow(clippy::too_many_arguments)]
pub(crate) fn measure(
    section: Section,
    key: &str,
    label: &str,
    size: u64,
    parallel: u64,
    runs: usize,
    make: impl Fn() -> Command,
) -> Result<Row, String> {
    let rate = if section == Section::Small {
        "req_s"
    } else if section == Section::Crc {
        "total_ms_per_gib"
    } else {
        "mib_s"
    };
    let mut all = Vec::new();
    for _ in 0..runs.max(1) {
        all.push(measure_once(make(), key)?);
    }
    let value = |f: &BTreeMap<String, String>| {
        f.get(rate)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    all.sort_by(|a, b| value(a).total_cmp(&value(b)));
    let fields = all.swap_remove(all.len() / 2);
    Ok(Row {
        section,
        key: key.to_owned(),
        label: label.to_owned(),
        size,
        parallel,
        runs: runs.max(1),
        fields,
    })
}

/// The system calls `strace -c` counts in the syscall pass: the write side, and the reads of
/// files and sockets. Plain `read` is left out: `oss-bench child` polls `/proc` with it.
pub(crate) const TRACED: &str =
    "write,writev,sendto,sendmsg,pwrite64,pread64,preadv,recvfrom,recvmsg,readv";
/// Of [`TRACED`], the calls that send.
pub(crate) const WRITE_SIDE: [&str; 5] = ["write", "writev", "sendto", "sendmsg", "pwrite64"];

/// One extra run of `cmd` under `strace -f -c` (seccomp-filtered, so untraced calls run at full
/// speed): calls per traced system call, stored in `row` as `sys_<name>` fields.
pub(crate) fn count_syscalls(row: &mut Row, cmd: Command, out: &Path) -> Result<(), String> {
    let file = out.join(format!("strace-{}.txt", row.key));
    let mut traced = Command::new("strace");
    traced
        .args(["-f", "-c", "--seccomp-bpf", "-e"])
        .arg(format!("trace={TRACED}"))
        .arg("-o")
        .arg(&file)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            traced.env(k, v);
        }
    }
    let status = traced
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("strace: {e}"))?;
    if !status.success() {
        return Err(format!("{} under strace failed ({status})", row.key));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // `% time  seconds  usecs/call  calls  [errors]  syscall`
        if cols.len() >= 5 && cols[0].parse::<f64>().is_ok() {
            if let (Ok(calls), Some(name)) = (cols[3].parse::<u64>(), cols.last()) {
                if *name != "total" {
                    row.fields.insert(format!("sys_{name}"), calls.to_string());
                }
            }
        }
    }
    row.fields.insert("sys_traced".into(), "1".into());
    Ok(())
}

/// Whether `strace` is installed.
pub(crate) fn have_strace() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn measure_once(mut cmd: Command, key: &str) -> Result<BTreeMap<String, String>, String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{key}: could not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("{key} failed ({}): {stdout}", out.status));
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("{key}: no JSON line in {stdout:?}"))?;
    println!("    {key:34} {line}");
    Ok(parse_flat_json(line))
}

/// `{"a":1,"b":"x","c":null}` → a map of raw values (strings unquoted). Enough for the flat
/// objects oss-bench prints (no nested values, no commas inside strings).
pub(crate) fn parse_flat_json(line: &str) -> BTreeMap<String, String> {
    line.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .filter_map(|pair| {
            let (k, v) = pair.split_once(':')?;
            Some((
                k.trim().trim_matches('"').to_owned(),
                v.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect()
}

/// A child server killed when dropped; `endpoint` is read from its first stdout line.
pub(crate) struct Server {
    child: Child,
    pub(crate) endpoint: String,
}

impl Server {
    pub(crate) fn start(bin: &str, args: &[&str], prefix: &str) -> Result<Self, String> {
        let mut child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {bin}: {e}"))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let mut reader = BufReader::new(stdout);
            reader.read_line(&mut line).map_err(|e| e.to_string())?;
            // Keep draining so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in reader.lines() {});
        }
        let endpoint = line
            .trim()
            .strip_prefix(prefix)
            .map(str::to_owned)
            .ok_or_else(|| format!("{bin}: unexpected first line {line:?}"));
        match endpoint {
            Ok(endpoint) => Ok(Self { child, endpoint }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes `size` bytes of a pattern that changes every MiB (skipped when the file is already
/// there with that size).
pub(crate) fn write_data_file(path: &str, size: u64) -> Result<(), String> {
    if std::fs::metadata(path)
        .map(|m| m.len() == size)
        .unwrap_or(false)
    {
        return Ok(());
    }
    println!("==> writing {path} ({} MiB)", size / MIB);
    let err = |e: std::io::Error| format!("writing {path}: {e}");
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(err)?);
    let mut chunk = vec![0u8; MIB as usize];
    for i in 0..size / MIB {
        for (j, b) in chunk.iter_mut().enumerate() {
            *b = (j as u64)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(i * 97)
                .to_le_bytes()[3];
        }
        file.write_all(&chunk).map_err(err)?;
    }
    file.flush().map_err(err)
}

/// One criterion estimate: bench name, time per iteration, throughput.
#[derive(Debug, Default, Clone)]
pub(crate) struct Estimate {
    pub(crate) name: String,
    pub(crate) time: Option<String>,
    pub(crate) thrpt: Option<String>,
}

/// Runs every `[[bench]]` of the workspace crates (`--quick` passes criterion's quick mode),
/// and in a full run the aws-sigv4 yardstick outside the workspace (its first build takes
/// minutes, more than the quick run's budget).
pub(crate) fn criterion_benches(
    root: &Path,
    cargo: &str,
    quick: bool,
) -> Result<Vec<Estimate>, String> {
    let mut estimates = Vec::new();
    for (package, bench) in workspace_benches(root) {
        println!("==> cargo bench -p {package} --bench {bench}");
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root)
            .args(["bench", "-p", &package, "--bench", &bench, "--"]);
        if quick {
            cmd.arg("--quick");
        }
        let (ok, lines) = run_teed("cargo bench", &mut cmd)?;
        if !ok {
            return Err(format!("cargo bench -p {package} --bench {bench} failed"));
        }
        estimates.extend(parse_criterion(&lines));
    }
    let manifest = root.join("bench-compare").join("Cargo.toml");
    if quick {
        println!("==> aws-sigv4 yardstick: full run only");
    } else if manifest.exists() {
        println!("==> cargo bench --manifest-path bench-compare/Cargo.toml (aws-sigv4 yardstick)");
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root)
            .arg("bench")
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--bench", "aws_sigv4", "--"]);
        match run_teed("cargo bench (bench-compare)", &mut cmd) {
            Ok((true, lines)) => estimates.extend(parse_criterion(&lines)),
            Ok((false, _)) | Err(_) => println!("==> aws-sigv4 yardstick unavailable; skipped"),
        }
    }
    Ok(estimates)
}

/// `(package, bench)` for every `[[bench]]` in `crates/*/Cargo.toml` (the directory is the
/// package name in this workspace).
fn workspace_benches(root: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(root.join("crates")) else {
        return found;
    };
    let mut dirs: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let package = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut in_bench = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_bench = line == "[[bench]]";
            } else if in_bench {
                if let Some(v) = line
                    .strip_prefix("name")
                    .and_then(|r| r.trim().strip_prefix('='))
                {
                    found.push((package.clone(), v.trim().trim_matches('"').to_owned()));
                }
            }
        }
    }
    found
}

/// The middle estimates of criterion's `time:` / `thrpt:` lines, by bench name.
pub(crate) fn parse_criterion(lines: &[String]) -> Vec<Estimate> {
    let mut out: Vec<Estimate> = Vec::new();
    let mut name = String::new();
    for line in lines {
        let middle = |rest: &str| {
            let inner = rest.trim().trim_start_matches('[').trim_end_matches(']');
            let parts: Vec<&str> = inner.split_whitespace().collect();
            (parts.len() >= 4).then(|| format!("{} {}", parts[2], parts[3]))
        };
        if !line.starts_with(' ') && !line.trim().is_empty() {
            let head = line.split("time:").next().unwrap_or("").trim();
            if !head.is_empty() && !head.starts_with("Benchmarking") && !head.contains(':') {
                name = head.to_owned();
            }
        }
        // The `change:` block repeats `time:`/`thrpt:` with percentages: not estimates.
        if line.contains('%') {
            continue;
        }
        if let Some((_, rest)) = line.split_once("time:") {
            out.push(Estimate {
                name: name.clone(),
                time: middle(rest),
                thrpt: None,
            });
        } else if let Some((_, rest)) = line.split_once("thrpt:") {
            if let Some(last) = out.last_mut() {
                last.thrpt = middle(rest);
            }
        }
    }
    out
}

/// `1.23 µs` → seconds; `8.1 GiB/s` → bytes per second.
pub(crate) fn parse_quantity(text: &str) -> Option<f64> {
    let (value, unit) = text.split_once(' ')?;
    let value: f64 = value.parse().ok()?;
    let factor = match unit {
        "ps" => 1e-12,
        "ns" => 1e-9,
        "µs" | "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "B/s" => 1.0,
        "KiB/s" => 1024.0,
        "MiB/s" => 1024.0 * 1024.0,
        "GiB/s" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(value * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_json() {
        let m = parse_flat_json(r#"{"bench":"raw-put","mib_s":12.5,"p50_ms":null}"#);
        assert_eq!(m["bench"], "raw-put");
        assert_eq!(m["mib_s"], "12.5");
        assert_eq!(m["p50_ms"], "null");
    }

    #[test]
    fn criterion_lines() {
        let lines: Vec<String> = [
            "sign_header/put_object_3_x_oss_headers",
            "                        time:   [1.0100 µs 1.0200 µs 1.0300 µs]",
            "crc64/ecma_8MiB         time:   [700.00 µs 710.00 µs 720.00 µs]",
            "                        thrpt:  [11.000 GiB/s 11.100 GiB/s 11.200 GiB/s]",
            "                 change:",
            "                        time:   [-2.1% +0.4% +2.6%] (p = 0.70 > 0.05)",
            "                        thrpt:  [-2.5% -0.4% +2.2%]",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let e = parse_criterion(&lines);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "sign_header/put_object_3_x_oss_headers");
        assert_eq!(e[0].time.as_deref(), Some("1.0200 µs"));
        assert_eq!(e[1].name, "crc64/ecma_8MiB");
        assert_eq!(e[1].thrpt.as_deref(), Some("11.100 GiB/s"));
        assert!((parse_quantity("1.0200 µs").unwrap() - 1.02e-6).abs() < 1e-12);
    }
}
