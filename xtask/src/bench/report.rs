//! The report: one table per kind of row, each large upload as a ratio to the limit measured
//! in the same run with the same number of connections, then the targets of issue 24, met or
//! missed and by how much.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::rows::{parse_quantity, Estimate, Row, Section, WRITE_SIDE};
use super::{size_label, Bins, Plan, ACCESS_KEY, GIB, MIB, PARALLEL, PART_SIZE};

/// What the report says about the machine and the run.
#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) cores: usize,
    pub(crate) load_start: String,
    pub(crate) load_end: String,
    pub(crate) seconds: u64,
    pub(crate) tls: bool,
}

/// The 1-, 5- and 15-minute load averages.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Today's UTC date, `YYYY-MM-DD` (days to civil date: H. Hinnant's algorithm).
pub(crate) fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Which profiler this machine allows, and the top of one profile of `oss-rs cp`.
#[derive(Debug)]
pub(crate) struct Profile {
    pub(crate) tool: String,
    pub(crate) top: Vec<String>,
}

impl Profile {
    pub(crate) fn skipped() -> Self {
        Self {
            tool: format!("skipped in `--quick` ({})", perf_status().1),
            top: Vec::new(),
        }
    }
}

/// Whether `perf` can count here: `perf stat -e instructions true` says `<not supported>` in a
/// VM without a virtual PMU.
fn perf_status() -> (bool, String) {
    match Command::new("perf")
        .args(["stat", "-e", "instructions", "true"])
        .output()
    {
        Err(_) => (false, "perf is not installed".into()),
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stderr);
            if out.status.success() && !text.contains("not supported") {
                (true, "perf counts hardware events here".into())
            } else {
                (
                    false,
                    "perf cannot count here: `perf stat -e instructions true` reports the event as not supported".into(),
                )
            }
        }
    }
}

/// Profiles one `oss-rs cp` of `file` against `endpoint`: `perf record` where the kernel allows
/// it, else `valgrind --tool=callgrind` (user space only: kernel copies are not in it).
pub(crate) fn profile(bins: &Bins, file: &str, endpoint: &str, out_dir: &Path) -> Profile {
    let (perf, status) = perf_status();
    let cli: Vec<&str> = vec![
        &bins.cli,
        "--endpoint",
        endpoint,
        "--region",
        "cn-hangzhou",
        "--path-style",
        "cp",
        file,
        "oss://bench/bench/profile.bin",
    ];
    let (tool, mut record, mut annotate) = if perf {
        let data = out_dir.join("perf.cp.data").display().to_string();
        let mut record = Command::new("perf");
        record.args(["record", "-g", "-o", &data, "--"]).args(&cli);
        let mut report = Command::new("perf");
        report.args(["report", "--stdio", "--no-children", "-i", &data]);
        (format!("perf record -g ({status})"), record, report)
    } else {
        let data = out_dir.join("callgrind.cp.out").display().to_string();
        let mut record = Command::new("valgrind");
        record
            .args([
                "--tool=callgrind",
                &format!("--callgrind-out-file={data}"),
                "--",
            ])
            .args(&cli);
        let mut report = Command::new("callgrind_annotate");
        report.arg(&data);
        (
            format!("valgrind --tool=callgrind, user space only ({status})"),
            record,
            report,
        )
    };
    record
        .env("OSS_ACCESS_KEY_ID", ACCESS_KEY.0)
        .env("OSS_ACCESS_KEY_SECRET", ACCESS_KEY.1);
    println!("==> profile of `oss-rs cp` of 64 MiB: {tool}");
    let recorded = record
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let top = if recorded {
        annotate
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .lines()
                    .filter(|l| l.contains('%') && !l.trim_start().starts_with('#'))
                    .filter(|l| !l.contains("PROGRAM TOTALS"))
                    .take(12)
                    .map(short_profile_line)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        vec!["(the profiler failed; run the command by hand)".into()]
    };
    Profile { tool, top }
}

/// `18,880,137 (35.58%)  ./string/…/memset.S:__memset_avx2 [libc.so.6]` → the count, the share
/// and the function with its object, without the source path.
fn short_profile_line(line: &str) -> String {
    let line = line.trim();
    match line.split_once(")  ") {
        Some((share, rest)) => {
            let function = match rest.split_once(" [") {
                Some((place, object)) => {
                    let name = place.rsplit_once(':').map_or(place, |(_, f)| f);
                    let object = object.trim_end_matches(']');
                    let object = object.rsplit('/').next().unwrap_or(object);
                    format!("{name} [{object}]")
                }
                None => rest.rsplit_once(':').map_or(rest, |(_, f)| f).to_owned(),
            };
            format!("{share})  {function}")
        }
        None => line.to_owned(),
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or("–".into(), |v| format!("{v:.digits$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn find<'a>(rows: &'a [Row], key: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.key == key)
}

/// The limit row with the same size and connection count (plain or TLS).
fn limit_for(rows: &[Row], tls: bool, size: u64, parallel: u64) -> Option<&Row> {
    let kind = if tls { "tls" } else { "tcp" };
    find(rows, &format!("limit-{kind}-{}-p{parallel}", size / MIB))
}

fn rate(row: Option<&Row>) -> Option<f64> {
    row.and_then(|r| r.num("mib_s"))
}

/// A large-upload table: each non-limit row as a ratio to the limit of the same size and N.
fn upload_table(out: &mut String, rows: &[Row], section: Section, with_ratio: bool) {
    let _ = writeln!(
        out,
        "| row | size | parallel | runs | MiB/s | ÷ the limit, same N | CPU s/GiB | peak RSS MiB |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|");
    for row in rows.iter().filter(|r| r.section == section) {
        let limit = limit_for(rows, section == Section::Tls, row.size, row.parallel);
        let vs = if with_ratio && !row.key.starts_with("limit-") {
            fmt(ratio(row.num("mib_s"), rate(limit)), 2)
        } else {
            "–".into()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {vs} | {} | {} |",
            row.label,
            size_label(row.size),
            row.parallel,
            row.runs,
            fmt(row.num("mib_s"), 0),
            fmt(row.num("cpu_s_per_gib"), 2),
            fmt(row.num("peak_rss_mib"), 1),
        );
    }
}

/// System calls per GiB from the `strace -f -c` pass of the rows that have one.
fn syscall_table(out: &mut String, rows: &[Row]) {
    let traced: Vec<&Row> = rows
        .iter()
        .filter(|r| r.fields.contains_key("sys_traced"))
        .collect();
    if traced.is_empty() {
        let _ = writeln!(
            out,
            "## System calls\n\nNot counted: `strace` is not installed.\n"
        );
        return;
    }
    let _ = writeln!(
        out,
        "## System calls per GiB (one more run of each row under `strace -f -c`)\n"
    );
    let _ = writeln!(
        out,
        "| row | size | write-side calls per GiB | by call, per GiB |"
    );
    let _ = writeln!(out, "|---|---|---:|---|");
    for row in traced {
        let gib = row.size as f64 / GIB as f64;
        let per_gib = |calls: u64| calls as f64 / gib;
        let mut writes = 0u64;
        let mut by_call = Vec::new();
        for (name, value) in &row.fields {
            let Some(call) = name.strip_prefix("sys_") else {
                continue;
            };
            let Ok(calls) = value.parse::<u64>() else {
                continue;
            };
            if call == "traced" {
                continue;
            }
            if WRITE_SIDE.contains(&call) {
                writes += calls;
            }
            by_call.push(format!("{call} {:.0}", per_gib(calls)));
        }
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} |",
            row.label,
            size_label(row.size),
            per_gib(writes),
            by_call.join(", ")
        );
    }
    let _ = writeln!(out, "\nPlain `read` is not traced (`oss-bench child` polls `/proc` with it); `/proc/<pid>/io`'s `syscw` misses `sendto`, which `std::net` sends with, so it is not used.\n");
}

/// One targets-table line: met or missed, and by how much.
#[allow(clippy::too_many_arguments)]
fn target(
    out: &mut String,
    kind: &str,
    what: &str,
    measured: Option<f64>,
    goal: f64,
    higher_is_better: bool,
    unit: &str,
    digits: usize,
) {
    let sign = if higher_is_better { "≥" } else { "≤" };
    let goal_text = format!("{sign} {goal} {unit}").trim_end().to_owned();
    let _ = match measured.filter(|m| m.is_finite()) {
        None => writeln!(out, "| {kind} | {what} | – | {goal_text} | not measured |"),
        Some(m) => {
            let met = if higher_is_better {
                m >= goal
            } else {
                m <= goal
            };
            let by = ((m - goal) / goal).abs() * 100.0;
            let verdict = if met {
                format!("met, {by:.0} % to spare")
            } else {
                format!("**missed** by {by:.0} %")
            };
            let shown = format!("{m:.digits$} {unit}").trim_end().to_owned();
            writeln!(
                out,
                "| {kind} | {what} | {shown} | {goal_text} | {verdict} |"
            )
        }
    };
}

fn criterion_time(criterion: &[Estimate], prefix: &str) -> Option<f64> {
    criterion
        .iter()
        .find(|e| e.name.starts_with(prefix))
        .and_then(|e| e.time.as_deref())
        .and_then(parse_quantity)
}

pub(crate) fn render(
    plan: &Plan,
    rows: &[Row],
    criterion: &[Estimate],
    machine: &Machine,
    profile: &Profile,
    today: &str,
) -> String {
    let mut out = String::new();
    let main = size_label(plan.main_size);
    let _ = writeln!(
        out,
        "# oss-rs bench report, {today}{}\n",
        if plan.quick { " (--quick)" } else { "" }
    );
    let _ = writeln!(
        out,
        "{} cores, shared by client and server; load average (1, 5, 15 min) {} at the start and {} at the end; {} s of measuring. Part size {} MiB and parallel {PARALLEL} (the CLI's defaults) unless a row says otherwise. Each row is the median by rate of its runs, each run its own process: CPU seconds (`/proc/<pid>/stat`, 10 ms ticks) and peak RSS are the client's alone (for `oss-rs cp`, the CLI process's, read before it is reaped). System calls are counted in one more run under `strace`. Rows above 1 GiB run once.\n",
        machine.cores,
        machine.load_start,
        machine.load_end,
        machine.seconds,
        PART_SIZE / MIB,
    );
    let _ = writeln!(out, "**The limit** is a raw unsigned PUT of an in-memory buffer over the same number of connections to the same server, each HTTP/1.1 request written by hand over blocking sockets (`oss-bench raw-mem`): no HTTP library, no file, no signing, no checksum. Every large-upload ratio is to it. The hyper PUT reading the file (the old baseline) is a labelled reference row.\n");

    let _ = writeln!(out, "## Large uploads (discard server, HTTP)\n");
    upload_table(&mut out, rows, Section::Large, true);
    let _ = writeln!(out, "\n\"CRC off\" (`oss-rs cp --no-crc`, `with_crc_check(false)`) skips the CRC-64 computation as well as the comparison. The \"design\" rows send the same parts through the bare transport (no `oss_upload`): `pread` reads each part from the file in chunks of the size shown, hashing each chunk as it is sent (what the library does, at `oss_transport::DEFAULT_FILE_CHUNK`): chunks in the page cache on the connection's thread (`preadv2` with `RWF_NOWAIT`), others on a reader thread; `pread-thread` reads every chunk on the reader thread; `mmap` maps the file and sends each part as one slice of the map after hashing it. The library does not map files: a file truncated under a map raises SIGBUS (docs/decisions.md). A mapped file's pages count in the peak RSS.\n");

    let _ = writeln!(out, "## HTTPS (TLS discard server, rustls with ring)\n");
    if machine.tls {
        upload_table(&mut out, rows, Section::Tls, true);
        let _ = writeln!(out, "\nThe server's certificate is made at run time under a throw-away root that only the bench's clients trust (`oss-transport`'s `with_root_certificate`). The CLI has no flag to trust an extra root, so the oss-rs row is the library loop.\n");
    } else {
        let _ = writeln!(
            out,
            "Skipped: `openssl` could not make the test certificate.\n"
        );
    }

    syscall_table(&mut out, rows);

    let _ = writeln!(out, "## Emulator ingest (memory storage)\n");
    upload_table(&mut out, rows, Section::Emulator, false);

    let _ = writeln!(out, "\n## CRC-64\n");
    let crc = rows.iter().find(|r| r.section == Section::Crc);
    let combine_criterion = criterion_time(criterion, "crc64/combine_171");
    let _ = writeln!(out, "| measurement | ms per GiB |");
    let _ = writeln!(out, "|---|---:|");
    let _ = writeln!(
        out,
        "| checksum of 171 parts of 6 MiB on fresh data (`oss-bench crc`) | {} |",
        fmt(crc.and_then(|r| r.num("checksum_ms_per_gib")), 1)
    );
    let _ = writeln!(
        out,
        "| combine of the 171 part CRCs (`oss-bench crc`) | {} |",
        fmt(crc.and_then(|r| r.num("combine_ms_per_gib")), 2)
    );
    let _ = writeln!(
        out,
        "| combine of the 171 part CRCs (criterion `crc64/combine_171_parts_of_6MiB`) | {} |",
        fmt(combine_criterion.map(|s| s * 1e3), 2)
    );
    let _ = writeln!(
        out,
        "| checksum and combine together (`oss-bench crc`) | {} |",
        fmt(crc.and_then(|r| r.num("total_ms_per_gib")), 1)
    );
    let _ = writeln!(out, "\nThe criterion `crc64/ecma_8MiB` throughput below is one 8 MiB buffer that stays in cache: an upper bound, not what an upload sees.\n");

    let _ = writeln!(out, "## Small objects (discard server)\n");
    let _ = writeln!(out, "| row | size | concurrency | runs | req/s | p50 ms | p99 ms | CPU s per 10 000 req | ÷ raw `std::net` loop | ÷ hyper loop |");
    let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows.iter().filter(|r| r.section == Section::Small) {
        let suffix = ["small-raw-std-", "small-raw-", "small-ours-"]
            .iter()
            .find_map(|p| row.key.strip_prefix(p))
            .unwrap_or_default();
        let of = |mode: &str| {
            let base = find(rows, &format!("small-{mode}-{suffix}"));
            ratio(row.num("req_s"), base.and_then(|r| r.num("req_s")))
        };
        let (vs_std, vs_hyper) = if row.key.starts_with("small-raw-std-") {
            (None, None)
        } else if row.key.starts_with("small-raw-") {
            (of("raw-std"), None)
        } else {
            (of("raw-std"), of("raw"))
        };
        let _ = writeln!(
            out,
            "| {} | {} KiB | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.size / 1024,
            row.parallel,
            row.runs,
            fmt(row.num("req_s"), 0),
            fmt(row.num("p50_ms"), 2),
            fmt(row.num("p99_ms"), 2),
            fmt(row.num("cpu_s_per_10k"), 2),
            fmt(vs_std, 2),
            fmt(vs_hyper, 2),
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
    let sign_cached = criterion_time(criterion, "sign/put_object_key_cached");
    let sign_uncached = criterion_time(criterion, "sign/put_object_key_uncached");
    if let Some(aws) = criterion_time(criterion, "aws_sigv4/") {
        let _ = writeln!(
            out,
            "\nThe aws-sigv4 yardstick (no key cache) takes {:.2} µs: oss-sign is {} × faster with the key cached and {} × faster without.",
            aws * 1e6,
            fmt(ratio(Some(aws), sign_cached), 1),
            fmt(ratio(Some(aws), sign_uncached), 1),
        );
    }

    targets(&mut out, plan, rows, criterion, &main);

    let _ = writeln!(out, "\n## Profile\n");
    let _ = writeln!(out, "{}.", profile.tool);
    if !profile.top.is_empty() {
        let _ = writeln!(out, "\n```text");
        for line in &profile.top {
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(out, "```");
    }
    if plan.quick {
        let _ = writeln!(out, "\n`--quick`: {main} instead of 1 GiB and 4 GiB, a shorter parallel sweep, one run per row; the targets are defined for the full run (`cargo xtask bench`).");
    }
    out
}

/// The targets of issue 24 (§Targets), as ratios to the limit of the same run.
fn targets(out: &mut String, plan: &Plan, rows: &[Row], criterion: &[Estimate], main: &str) {
    let _ = writeln!(out, "\n## Targets (issue 24)\n");
    let _ = writeln!(out, "| kind | target | measured | goal | verdict |");
    let _ = writeln!(out, "|---|---|---:|---:|---|");
    let cp = |size: u64| find(rows, &format!("cli-{}-default-discard", size / MIB));
    let vs_limit = |row: Option<&Row>, size: u64| {
        ratio(rate(row), rate(limit_for(rows, false, size, PARALLEL)))
    };
    let main_cp = cp(plan.main_size);
    let main_ratio = vs_limit(main_cp, plan.main_size);
    let what = format!("{main} `oss-rs cp`, defaults, CRC on, ÷ the limit");
    target(out, "hard", &what, main_ratio, 0.65, true, "", 2);
    target(out, "should", &what, main_ratio, 0.75, true, "", 2);
    target(
        out,
        "target",
        &format!("{main} `oss-rs cp`, defaults: client CPU"),
        main_cp.and_then(|r| r.num("cpu_s_per_gib")),
        0.25,
        false,
        "s/GiB",
        2,
    );
    let no_crc = |size: u64| find(rows, &format!("cli-{}-default-nocrc-discard", size / MIB));
    target(
        out,
        "target",
        &format!("{main} `oss-rs cp --no-crc`, defaults otherwise, ÷ the limit"),
        vs_limit(no_crc(plan.main_size), plan.main_size),
        0.8,
        true,
        "",
        2,
    );
    let big = 4 * GIB;
    let big_cp = cp(big);
    let what = "4 GiB `oss-rs cp`, defaults, CRC on, ÷ the limit";
    target(out, "hard", what, vs_limit(big_cp, big), 0.65, true, "", 2);
    target(
        out,
        "should",
        what,
        vs_limit(big_cp, big),
        0.75,
        true,
        "",
        2,
    );
    target(
        out,
        "target",
        "4 GiB `oss-rs cp`, defaults: client CPU",
        big_cp.and_then(|r| r.num("cpu_s_per_gib")),
        0.25,
        false,
        "s/GiB",
        2,
    );
    target(
        out,
        "target",
        "4 GiB `oss-rs cp --no-crc`, defaults otherwise, ÷ the limit",
        vs_limit(no_crc(big), big),
        0.8,
        true,
        "",
        2,
    );
    let bound = ((PARALLEL + 1) * PART_SIZE + 32 * MIB) as f64 / MIB as f64;
    target(
        out,
        "target",
        &format!("{main} `oss-rs cp`, defaults: peak RSS (bound (parallel + 1) × part + 32 MiB)"),
        main_cp.and_then(|r| r.num("peak_rss_mib")),
        bound,
        false,
        "MiB",
        1,
    );
    target(
        out,
        "target",
        "4 GiB `oss-rs cp`, defaults: flat RSS (peak ÷ the 1 GiB peak)",
        ratio(
            big_cp.and_then(|r| r.num("peak_rss_mib")),
            cp(GIB).and_then(|r| r.num("peak_rss_mib")),
        ),
        1.1,
        false,
        "",
        2,
    );
    target(
        out,
        "hard",
        "CRC-64 combine of 171 parts of 6 MiB (criterion), per GiB",
        criterion_time(criterion, "crc64/combine_171").map(|s| s * 1e3),
        1.0,
        false,
        "ms",
        2,
    );
    target(
        out,
        "target",
        &format!(
            "{} over TLS, library loop ÷ the raw rustls limit",
            size_label(plan.tls_size)
        ),
        ratio(
            rate(find(rows, "lib-tls-on")),
            rate(limit_for(rows, true, plan.tls_size, PARALLEL)),
        ),
        0.8,
        true,
        "",
        2,
    );
    let ingest = rate(rows.iter().find(|r| r.section == Section::Emulator));
    let what = format!(
        "emulator ingest, {} from `oss-rs cp --parallel 4`",
        size_label(plan.emulator_size)
    );
    target(out, "hard", &what, ingest, 450.0, true, "MiB/s", 0);
    target(out, "target", &what, ingest, 600.0, true, "MiB/s", 0);
    target(
        out,
        "should",
        &format!(
            "4 KiB PutObject, c16, ÷ the raw `std::net` loop (median of {} runs)",
            plan.small_repeats
        ),
        ratio(
            find(rows, "small-ours-4k-c16").and_then(|r| r.num("req_s")),
            find(rows, "small-raw-std-4k-c16").and_then(|r| r.num("req_s")),
        ),
        0.65,
        true,
        "",
        2,
    );
    target(
        out,
        "should",
        "V4 header signing, key cached (criterion)",
        criterion_time(criterion, "sign/put_object_key_cached").map(|s| s * 1e6),
        1.5,
        false,
        "µs",
        2,
    );
}
