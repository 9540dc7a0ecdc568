//! `cargo xtask bench [--quick]`: the criterion benches, then end-to-end runs of `oss-bench`
//! (release build, one process per measurement) against a local discard server and the
//! emulator, with the raw unsigned baseline and the official Python SDK uploader in the same run.
//! Prints a table and writes it to `target/bench/report.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::command::{run as run_cmd, run_teed};

const MIB: u64 = 1 << 20;
const PART_SIZE: u64 = 8 * MIB;
const PARALLEL: u64 = 4;
/// Server label of the run with glibc's mmap threshold pinned to [`MMAP_THRESHOLD`].
const PINNED_MALLOC: &str = "discard, MALLOC_MMAP_THRESHOLD_=1MiB";
const MMAP_THRESHOLD: u64 = MIB;
/// Runs per measurement; the median is reported.
const REPEATS: usize = 3;

/// Sizes and counts of one bench run.
struct Plan {
    quick: bool,
    file_size: u64,
    small_count: u64,
    small_count_c1: u64,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                file_size: 64 * MIB,
                small_count: 2_000,
                small_count_c1: 500,
            }
        } else {
            Self {
                quick,
                file_size: 1024 * MIB,
                small_count: 20_000,
                small_count_c1: 5_000,
            }
        }
    }
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut quick = false;
    for a in args {
        match a.as_str() {
            "--quick" => quick = true,
            other => {
                return Err(format!(
                    "bench: unknown argument `{other}` (usage: bench [--quick])"
                ))
            }
        }
    }
    let plan = Plan::new(quick);
    let root = crate::workspace_root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());

    println!("==> cargo build --release (oss-bench, oss-emulator)");
    run_cmd(
        "cargo build --release",
        Command::new(&cargo).current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "oss-bench",
            "-p",
            "oss-emulator",
            "--bins",
        ]),
    )?;
    let release = root.join("target").join("release");
    let bench_bin = release.join("oss-bench");
    let emulator_bin = release.join("oss-emulator");

    let criterion = criterion_benches(&root, &cargo, quick)?;

    let out_dir = root.join("target").join("bench");
    let data_dir = out_dir.join("data");
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
    let file = data_dir.join(format!("upload-{}MiB.bin", plan.file_size / MIB));
    write_data_file(&file, plan.file_size)?;
    let file_arg = file.display().to_string();

    let discard = Server::start(
        &bench_bin,
        &["discard-server"],
        "discard-server listening on ",
    )?;
    let emulator = Server::start(
        &emulator_bin,
        &["--listen", "127.0.0.1:0"],
        "oss-emulator listening on ",
    )?;
    let python = match crate::python::ensure_venv(&root) {
        Ok(p) => Some(p),
        Err(e) => {
            println!("==> Python SDK unavailable ({e}); its rows are skipped");
            None
        }
    };
    let script = root.join("crates/oss-bench/python/upload.py");

    let part = PART_SIZE.to_string();
    let parallel = PARALLEL.to_string();
    let upload = |endpoint: &str| -> Vec<String> {
        [
            "--endpoint",
            endpoint,
            "--file",
            &file_arg,
            "--part-size",
            &part,
            "--parallel",
            &parallel,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    };

    let mut rows = Vec::new();
    println!(
        "==> end-to-end: {} MiB, part {} MiB, parallel {PARALLEL}",
        plan.file_size / MIB,
        PART_SIZE / MIB
    );
    for (label, server) in [("discard", &discard), ("emulator", &emulator)] {
        if label == "discard" {
            rows.push(measure(
                &bench_bin,
                "raw-put",
                label,
                &upload(&server.endpoint),
                &[],
            )?);
            rows.push(measure(
                &bench_bin,
                "ours",
                label,
                &upload(&server.endpoint),
                &["--crc", "off"],
            )?);
        }
        rows.push(measure(
            &bench_bin,
            "ours",
            label,
            &upload(&server.endpoint),
            &["--crc", "on"],
        )?);
        if label == "discard" {
            // The same upload with glibc's dynamic mmap threshold pinned: shows how much of the
            // peak RSS is the allocator keeping freed part buffers (see docs/performance.md).
            let args = upload(&server.endpoint);
            let make = || {
                let mut cmd = Command::new(&bench_bin);
                cmd.arg("ours")
                    .args(&args)
                    .args(["--crc", "on"])
                    .env("MALLOC_MMAP_THRESHOLD_", MMAP_THRESHOLD.to_string());
                cmd
            };
            rows.push(measure_cmd(make, "ours", PINNED_MALLOC)?);
        }
        if let Some(python) = &python {
            let args = upload(&server.endpoint);
            let make = || {
                let mut cmd = Command::new(python);
                cmd.arg(&script).args(&args);
                cmd
            };
            rows.push(measure_cmd(make, "python-sdk", label)?);
        }
    }
    println!("==> small objects through one shared client vs raw keep-alive PUTs");
    for (size, concurrency, count) in [
        (4096u64, 16u64, plan.small_count),
        (65536, 16, plan.small_count),
        (4096, 1, plan.small_count_c1),
    ] {
        for mode in ["raw", "ours"] {
            let args: Vec<String> = [
                "--endpoint",
                &discard.endpoint,
                "--mode",
                mode,
                "--count",
                &count.to_string(),
                "--size",
                &size.to_string(),
                "--concurrency",
                &concurrency.to_string(),
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
            rows.push(measure(&bench_bin, "small", "discard", &args, &[])?);
        }
    }
    drop(discard);
    drop(emulator);

    let report = render(&plan, &rows, &criterion);
    println!("\n{report}");
    std::fs::create_dir_all(&out_dir).map_err(|e| e.to_string())?;
    let path = out_dir.join("report.md");
    std::fs::write(&path, &report).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("==> wrote {}", path.display());
    Ok(())
}

/// One measured process's JSON line, flattened.
#[derive(Debug, Clone)]
struct Row {
    server: String,
    fields: BTreeMap<String, String>,
}

impl Row {
    fn bench(&self) -> &str {
        self.fields.get("bench").map_or("?", String::as_str)
    }

    fn num(&self, name: &str) -> Option<f64> {
        self.fields.get(name).and_then(|v| v.parse().ok())
    }
}

fn measure(
    bin: &Path,
    sub: &str,
    server: &str,
    args: &[String],
    extra: &[&str],
) -> Result<Row, String> {
    let make = || {
        let mut cmd = Command::new(bin);
        cmd.arg(sub).args(args).args(extra);
        cmd
    };
    measure_cmd(make, sub, server)
}

/// Runs the measurement [`REPEATS`] times and keeps the median run by its rate (MiB/s, or
/// req/s for small objects): one slow or lucky run on a shared machine does not decide a ratio.
fn measure_cmd(make: impl Fn() -> Command, what: &str, server: &str) -> Result<Row, String> {
    let mut runs = Vec::new();
    for _ in 0..REPEATS {
        runs.push(measure_once(make(), what, server)?);
    }
    let key = |r: &Row| {
        if r.bench().starts_with("small") {
            r.num("req_s")
        } else {
            r.num("mib_s")
        }
        .unwrap_or(0.0)
    };
    runs.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let median = runs.swap_remove(runs.len() / 2);
    Ok(median)
}

fn measure_once(mut cmd: Command, what: &str, server: &str) -> Result<Row, String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{what}: could not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{what} against {server} failed ({}): {stdout}",
            out.status
        ));
    }
    let line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| format!("{what}: no JSON line in {stdout:?}"))?;
    println!("    {server:9} {line}");
    Ok(Row {
        server: server.to_owned(),
        fields: parse_flat_json(line),
    })
}

/// `{"a":1,"b":"x","c":null}` → a map of raw values (strings unquoted). Enough for the flat
/// objects oss-bench and upload.py print (no nested values, no commas inside strings).
fn parse_flat_json(line: &str) -> BTreeMap<String, String> {
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
struct Server {
    child: Child,
    endpoint: String,
}

impl Server {
    fn start(bin: &Path, args: &[&str], prefix: &str) -> Result<Self, String> {
        let mut child = Command::new(bin)
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
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
            .ok_or_else(|| format!("{}: unexpected first line {line:?}", bin.display()));
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
fn write_data_file(path: &Path, size: u64) -> Result<(), String> {
    if std::fs::metadata(path)
        .map(|m| m.len() == size)
        .unwrap_or(false)
    {
        return Ok(());
    }
    println!("==> writing {} ({} MiB)", path.display(), size / MIB);
    let err = |e: std::io::Error| format!("writing {}: {e}", path.display());
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
struct Estimate {
    name: String,
    time: Option<String>,
    thrpt: Option<String>,
}

/// Runs every `[[bench]]` of the workspace crates (`--quick` passes criterion's quick mode).
fn criterion_benches(root: &Path, cargo: &str, quick: bool) -> Result<Vec<Estimate>, String> {
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
    // The yardstick outside the workspace (optional: it needs crates CI never builds).
    let manifest = root.join("bench-compare").join("Cargo.toml");
    if manifest.exists() {
        println!("==> cargo bench --manifest-path bench-compare/Cargo.toml (aws-sigv4 yardstick)");
        let mut cmd = Command::new(cargo);
        cmd.current_dir(root)
            .arg("bench")
            .arg("--manifest-path")
            .arg(&manifest)
            .args(["--bench", "aws_sigv4", "--"]);
        if quick {
            cmd.arg("--quick");
        }
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
fn parse_criterion(lines: &[String]) -> Vec<Estimate> {
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
fn parse_quantity(text: &str) -> Option<f64> {
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

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn find<'a>(rows: &'a [Row], bench: &str, server: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.bench() == bench && r.server == server)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// A target line: met or missed, and by how much.
fn target(
    out: &mut String,
    what: &str,
    measured: Option<f64>,
    goal: f64,
    higher_is_better: bool,
    unit: &str,
) {
    let _ = match measured {
        None => writeln!(out, "| {what} | – | {goal} {unit} | not measured |"),
        Some(m) => {
            let met = if higher_is_better {
                m >= goal
            } else {
                m <= goal
            };
            let verdict = if met {
                "met".to_owned()
            } else {
                let by = if higher_is_better {
                    (goal - m) / goal
                } else {
                    (m - goal) / goal
                };
                format!("**missed by {:.0} %**", by * 100.0)
            };
            writeln!(
                out,
                "| {what} | {m:.2} {unit} | {goal} {unit} | {verdict} |"
            )
        }
    };
}

fn render(plan: &Plan, rows: &[Row], criterion: &[Estimate]) -> String {
    let mut out = String::new();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let _ = writeln!(
        out,
        "# oss-rs bench report{}\n\n{cores} cores; upload file {} MiB, part {} MiB, parallel {PARALLEL}; small-object counts {} (concurrency 16) and {} (concurrency 1). Client and server share the machine. Each row is the median of {REPEATS} runs (by rate), each its own process: CPU seconds and peak RSS are the client's alone.\n",
        if plan.quick { " (--quick)" } else { "" },
        plan.file_size / MIB,
        PART_SIZE / MIB,
        plan.small_count,
        plan.small_count_c1,
    );

    let raw = find(rows, "raw-put", "discard");
    let _ = writeln!(out, "## Throughput\n");
    let _ = writeln!(out, "| run | server | MiB/s | p50 ms | p99 ms | CPU s/GiB | peak RSS MiB | ours/baseline | ours/Python |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows.iter().filter(|r| !r.bench().starts_with("small")) {
        let is_ours = row.bench().starts_with("ours");
        let python = find(rows, "python-sdk", &row.server);
        let vs_raw = if is_ours && row.server == "discard" {
            ratio(row.num("mib_s"), raw.and_then(|r| r.num("mib_s")))
        } else {
            None
        };
        let vs_py = if is_ours {
            ratio(row.num("mib_s"), python.and_then(|r| r.num("mib_s")))
        } else {
            None
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.bench(),
            row.server,
            fmt(row.num("mib_s"), 0),
            fmt(row.num("p50_ms"), 1),
            fmt(row.num("p99_ms"), 1),
            fmt(row.num("cpu_s_per_gib"), 2),
            fmt(row.num("peak_rss_mib"), 1),
            vs_raw.map_or("–".into(), |r| format!("{:.0} %", r * 100.0)),
            vs_py.map_or("–".into(), |r| format!("{r:.1}×")),
        );
    }

    let _ = writeln!(
        out,
        "\n## Small objects (PutObject through one shared client vs raw keep-alive PUT)\n"
    );
    let _ = writeln!(
        out,
        "| run | req/s | p50 ms | p99 ms | CPU s per 10 000 req | peak RSS MiB | ours/baseline |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
    for row in rows.iter().filter(|r| r.bench().starts_with("small")) {
        let baseline = row.bench().replace("small-ours-", "small-raw-");
        let vs_raw = if row.bench().starts_with("small-ours") {
            ratio(
                row.num("req_s"),
                find(rows, &baseline, "discard").and_then(|r| r.num("req_s")),
            )
        } else {
            None
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.bench(),
            fmt(row.num("req_s"), 0),
            fmt(row.num("p50_ms"), 2),
            fmt(row.num("p99_ms"), 2),
            fmt(row.num("cpu_s_per_10k"), 2),
            fmt(row.num("peak_rss_mib"), 1),
            vs_raw.map_or("–".into(), |r| format!("{:.0} %", r * 100.0)),
        );
    }

    let _ = writeln!(out, "\n## Criterion (middle estimate)\n");
    let _ = writeln!(out, "| bench | time | throughput |");
    let _ = writeln!(out, "|---|---:|---:|");
    for e in criterion {
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            e.name,
            e.time.as_deref().unwrap_or("–"),
            e.thrpt.as_deref().unwrap_or("–")
        );
    }

    let _ = writeln!(out, "\n## Targets\n");
    let _ = writeln!(out, "| target | measured | goal | verdict |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    let raw_rate = raw.and_then(|r| r.num("mib_s"));
    let off = find(rows, "ours-crc-off", "discard");
    let on = find(rows, "ours-crc-on", "discard");
    let pct = |r: Option<&Row>| ratio(r.and_then(|r| r.num("mib_s")), raw_rate).map(|x| x * 100.0);
    target(
        &mut out,
        "uploader, CRC-64 off, vs raw baseline",
        pct(off),
        90.0,
        true,
        "%",
    );
    target(
        &mut out,
        "uploader, CRC-64 on, vs raw baseline",
        pct(on),
        80.0,
        true,
        "%",
    );
    target(
        &mut out,
        "uploader vs Python SDK uploader (discard server)",
        ratio(
            on.and_then(|r| r.num("mib_s")),
            find(rows, "python-sdk", "discard").and_then(|r| r.num("mib_s")),
        ),
        10.0,
        true,
        "×",
    );
    let extra_cpu = match (
        on.and_then(|r| r.num("cpu_s_per_gib")),
        raw.and_then(|r| r.num("cpu_s_per_gib")),
    ) {
        (Some(a), Some(b)) => Some(a - b),
        _ => None,
    };
    target(
        &mut out,
        "client CPU above raw, CRC-64 on",
        extra_cpu,
        0.15,
        false,
        "s/GiB",
    );
    let small_ours = find(rows, "small-ours-4k-c16", "discard");
    let small_raw = find(rows, "small-raw-4k-c16", "discard");
    target(
        &mut out,
        "4 KiB PutObject at concurrency 16 vs raw keep-alive",
        ratio(
            small_ours.and_then(|r| r.num("req_s")),
            small_raw.and_then(|r| r.num("req_s")),
        )
        .map(|x| x * 100.0),
        50.0,
        true,
        "%",
    );
    target(
        &mut out,
        "client CPU per 10 000 small requests",
        small_ours.and_then(|r| r.num("cpu_s_per_10k")),
        0.3,
        false,
        "s",
    );
    let crc = criterion
        .iter()
        .find(|e| e.name.starts_with("crc64"))
        .and_then(|e| e.thrpt.as_deref())
        .and_then(parse_quantity);
    target(
        &mut out,
        "CRC-64/ECMA on one core",
        crc.map(|b| b / (1u64 << 30) as f64),
        8.0,
        true,
        "GiB/s",
    );
    let sign = criterion
        .iter()
        .find(|e| e.name.starts_with("sign_header/put_object"))
        .and_then(|e| e.time.as_deref())
        .and_then(parse_quantity);
    target(
        &mut out,
        "V4 header signing, key cached",
        sign.map(|s| s * 1e6),
        1.5,
        false,
        "µs",
    );
    let yardstick = criterion
        .iter()
        .find(|e| e.name.starts_with("aws_sigv4/"))
        .and_then(|e| e.time.as_deref())
        .and_then(parse_quantity);
    if let Some(aws) = yardstick {
        let _ = writeln!(
            out,
            "| (yardstick) aws-sigv4 signing a comparable S3 PUT | {:.2} µs | – | ours is {:.1}× faster |",
            aws * 1e6,
            sign.map_or(f64::NAN, |s| aws / s)
        );
    }
    let bound = ((PARALLEL + 1) * PART_SIZE + 32 * MIB) as f64 / MIB as f64;
    target(
        &mut out,
        &format!("peak RSS, multipart part {} MiB × parallel {PARALLEL} (bound (parallel+1)×part+32 MiB)", PART_SIZE / MIB),
        on.and_then(|r| r.num("peak_rss_mib")),
        bound,
        false,
        "MiB",
    );
    target(
        &mut out,
        "the same, glibc mmap threshold pinned to 1 MiB",
        find(rows, "ours-crc-on", PINNED_MALLOC).and_then(|r| r.num("peak_rss_mib")),
        bound,
        false,
        "MiB",
    );
    if plan.quick {
        let _ = writeln!(out, "\n`--quick`: small sizes and counts; the targets are defined for the full run (`cargo xtask bench`).");
    }
    out
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
