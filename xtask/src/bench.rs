//! `cargo xtask bench [--quick]`: the criterion benches, then end-to-end runs (release builds,
//! one process per measurement) against a local discard server, its TLS twin and the emulator.
//!
//! The yardstick of every large upload is the machine's limit measured in the same run: a raw
//! unsigned PUT of an in-memory buffer over the same number of plain (or TLS) connections, the
//! HTTP/1.1 request written by hand (`oss-bench raw-mem`). `oss-rs cp` runs as a user runs it
//! (the release CLI binary, defaults). The report, with its targets table, goes to
//! `target/bench/report.md`; a full run also writes `docs/bench/<date>.md`.

mod report;
mod rows;
mod tls;

use std::path::Path;
use std::process::Command;

use crate::command::run as run_cmd;
use report::Machine;
use rows::{count_syscalls, criterion_benches, measure, write_data_file, Row, Section, Server};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// The CLI's defaults (`oss-rs cp --help`): every "defaults" row and the library loop use them.
const PART_SIZE: u64 = 6 * MIB;
const PARALLEL: u64 = 3;
/// `oss-rs cp --parallel` of the emulator ingest row (issue 23: 4 parallel parts).
const EMULATOR_PARALLEL: u64 = 4;
/// The emulator's default credentials, which the bench's clients sign with.
const ACCESS_KEY: (&str, &str) = ("ak", "sk");

/// Sizes, counts and repetitions of one bench run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) quick: bool,
    /// Every size gets a limit row and an `oss-rs cp` defaults row.
    pub(crate) sizes: Vec<u64>,
    /// The size of the parallel sweep, the library loop, the reference rows and the targets.
    pub(crate) main_size: u64,
    pub(crate) sweep: Vec<u64>,
    pub(crate) tls_size: u64,
    pub(crate) emulator_size: u64,
    /// Runs per large-upload row (the median by rate is kept); rows above 1 GiB run once.
    pub(crate) repeats: usize,
    pub(crate) small_repeats: usize,
    pub(crate) small_count: u64,
    pub(crate) small_count_c1: u64,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                sizes: vec![64 * MIB],
                main_size: 64 * MIB,
                sweep: vec![1, 4],
                tls_size: 64 * MIB,
                emulator_size: 64 * MIB,
                repeats: 1,
                small_repeats: 1,
                small_count: 2_000,
                small_count_c1: 500,
            }
        } else {
            Self {
                quick,
                sizes: vec![64 * MIB, GIB, 4 * GIB],
                main_size: GIB,
                sweep: vec![1, 2, 4, 8],
                tls_size: GIB,
                emulator_size: GIB,
                repeats: 3,
                small_repeats: 5,
                small_count: 20_000,
                small_count_c1: 5_000,
            }
        }
    }

    /// Runs for a row of `size` bytes.
    fn repeats_for(&self, size: u64) -> usize {
        if size > GIB {
            1
        } else {
            self.repeats
        }
    }
}

/// `1024` MiB → `1 GiB`, `64` MiB → `64 MiB`.
pub(crate) fn size_label(bytes: u64) -> String {
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{} GiB", bytes / GIB)
    } else {
        format!("{} MiB", bytes / MIB)
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
    let load_start = report::load_average();

    println!("==> cargo build --release (oss-bench, oss-cli)");
    run_cmd(
        "cargo build --release",
        Command::new(&cargo).current_dir(&root).args([
            "build",
            "--release",
            "-p",
            "oss-bench",
            "-p",
            "oss-cli",
            "--bins",
        ]),
    )?;
    let release = root.join("target").join("release");
    let bins = Bins {
        bench: release.join("oss-bench").display().to_string(),
        cli: release.join("oss-rs").display().to_string(),
    };

    let started = std::time::Instant::now();
    let criterion = criterion_benches(&root, &cargo, quick)?;

    let out_dir = root.join("target").join("bench");
    let data_dir = out_dir.join("data");
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
    let mut sizes = plan.sizes.clone();
    sizes.extend([plan.main_size, plan.tls_size, plan.emulator_size]);
    sizes.sort_unstable();
    sizes.dedup();
    for &size in &sizes {
        write_data_file(&data_file(&data_dir, size), size)?;
    }

    let certs = match tls::make_certs(&out_dir.join("tls")) {
        Ok(c) => Some(c),
        Err(e) => {
            println!("==> TLS rows skipped: {e}");
            None
        }
    };
    let discard = Server::start(
        &bins.bench,
        &["discard-server"],
        "discard-server listening on ",
    )?;
    let discard_tls = match &certs {
        Some(c) => Some(Server::start(
            &bins.bench,
            &["discard-server", "--tls-cert", &c.cert, "--tls-key", &c.key],
            "discard-server listening on ",
        )?),
        None => None,
    };
    // `oss-rs emulator`, as users start it: memory storage (no `--data-dir`), the bench's
    // bucket made at start (an emulator without buckets takes any name).
    let emulator_args = [
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--access-key-id",
        ACCESS_KEY.0,
        "--access-key-secret",
        ACCESS_KEY.1,
    ];
    let banner = "oss-emulator listening on ";
    let emulator = Server::start(
        &bins.cli,
        &[&emulator_args[..], &["--create-bucket", "bench"]].concat(),
        banner,
    )
    .or_else(|_| Server::start(&bins.cli, &emulator_args, banner))?;
    let strace = rows::have_strace();
    if !strace {
        println!("==> strace is not installed: no syscall counts");
    }
    let ctx = Ctx {
        plan: &plan,
        bins: &bins,
        data_dir: &data_dir,
        out_dir: &out_dir,
        strace,
    };
    let mut rows = Vec::new();
    large_rows(&ctx, &discard.endpoint, &mut rows)?;
    if let (Some(server), Some(certs)) = (&discard_tls, &certs) {
        tls_rows(&ctx, &server.endpoint, &certs.ca, &mut rows)?;
    }
    emulator_rows(&ctx, &emulator.endpoint, &mut rows)?;
    println!("==> CRC-64 of 171 parts of 6 MiB on fresh data, and their combine");
    rows.push(measure(
        Section::Crc,
        "crc",
        "CRC-64 per part on fresh data, then the combine (`oss-bench crc`)",
        GIB,
        1,
        1,
        || {
            let mut cmd = Command::new(&bins.bench);
            cmd.args(["crc", "--parts", "171", "--part-size"])
                .arg(PART_SIZE.to_string());
            cmd
        },
    )?);
    small_rows(&ctx, &discard.endpoint, &mut rows)?;
    let profile = if quick {
        report::Profile::skipped()
    } else {
        report::profile(
            &bins,
            &data_file(&data_dir, 64 * MIB),
            &discard.endpoint,
            &out_dir,
        )
    };
    drop(discard);
    drop(discard_tls);
    drop(emulator);

    let machine = Machine {
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_start,
        load_end: report::load_average(),
        seconds: started.elapsed().as_secs(),
        tls: certs.is_some(),
    };
    let today = report::today();
    let text = report::render(&plan, &rows, &criterion, &machine, &profile, &today);
    println!("\n{text}");
    let path = out_dir.join("report.md");
    std::fs::write(&path, &text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    println!("==> wrote {}", path.display());
    if !quick {
        let dated = root.join("docs").join("bench");
        std::fs::create_dir_all(&dated).map_err(|e| e.to_string())?;
        let path = dated.join(format!("{today}.md"));
        std::fs::write(&path, &text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        println!(
            "==> wrote {} (commit it, and quote it in docs/performance.md)",
            path.display()
        );
    }
    Ok(())
}

/// The release binaries the rows run.
#[derive(Debug)]
pub(crate) struct Bins {
    pub(crate) bench: String,
    pub(crate) cli: String,
}

struct Ctx<'a> {
    plan: &'a Plan,
    bins: &'a Bins,
    data_dir: &'a Path,
    out_dir: &'a Path,
    strace: bool,
}

fn data_file(dir: &Path, size: u64) -> String {
    dir.join(format!("upload-{}MiB.bin", size / MIB))
        .display()
        .to_string()
}

impl Ctx<'_> {
    /// [`measure`], then for the rows of the syscall table (the defaults at the main size, and
    /// every TLS row) one more run under `strace`.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        section: Section,
        key: &str,
        label: &str,
        size: u64,
        parallel: u64,
        make: impl Fn() -> Command,
        trace: impl FnOnce() -> Command,
    ) -> Result<Row, String> {
        let mut row = measure(
            section,
            key,
            label,
            size,
            parallel,
            self.plan.repeats_for(size),
            &make,
        )?;
        let wanted = parallel == PARALLEL
            && (section == Section::Tls
                || (section == Section::Large && size == self.plan.main_size));
        if self.strace && wanted {
            count_syscalls(&mut row, trace(), self.out_dir)?;
        }
        Ok(row)
    }

    /// `oss-bench raw-mem`: the limit for `size` bytes over `parallel` connections.
    fn limit(
        &self,
        section: Section,
        endpoint: &str,
        ca: Option<&str>,
        size: u64,
        parallel: u64,
    ) -> Result<Row, String> {
        let tls = if ca.is_some() { "TLS" } else { "TCP" };
        let make = || {
            let mut cmd = Command::new(&self.bins.bench);
            cmd.args(["raw-mem", "--endpoint", endpoint])
                .args(["--size", &size.to_string()])
                .args(["--part-size", &PART_SIZE.to_string()])
                .args(["--parallel", &parallel.to_string()]);
            if let Some(ca) = ca {
                cmd.args(["--ca-file", ca]);
            }
            cmd
        };
        self.run(
            section,
            &format!("limit-{}-{}-p{parallel}", tls.to_lowercase(), size / MIB),
            &format!("the limit: raw PUT from memory, hand-written HTTP/1.1, {tls}"),
            size,
            parallel,
            make,
            make,
        )
    }

    /// `oss-rs cp` as a user runs it, through `oss-bench child` (CPU, write calls and peak RSS
    /// of the CLI process itself). `parallel: None` is the CLI's default; `no_crc` adds
    /// `--no-crc` (only with the default parallelism).
    fn cli(
        &self,
        section: Section,
        endpoint: &str,
        size: u64,
        parallel: Option<u64>,
        no_crc: bool,
    ) -> Result<Row, String> {
        let file = data_file(self.data_dir, size);
        let shown = parallel.unwrap_or(PARALLEL);
        let (key, label) = match parallel {
            None if no_crc => (
                format!("cli-{}-default-nocrc", size / MIB),
                "`oss-rs cp --no-crc`, defaults otherwise".to_owned(),
            ),
            None => (
                format!("cli-{}-default", size / MIB),
                "`oss-rs cp`, defaults".to_owned(),
            ),
            Some(p) => (
                format!("cli-{}-p{p}", size / MIB),
                format!("`oss-rs cp --parallel {p}`"),
            ),
        };
        let key = format!("{key}-{}", section.key());
        let cli = || {
            let mut cmd = Command::new(&self.bins.cli);
            cmd.args([
                "--endpoint",
                endpoint,
                "--region",
                "cn-hangzhou",
                "--path-style",
            ])
            .args(["cp", &file, "oss://bench/bench/cli.bin"])
            .env("OSS_ACCESS_KEY_ID", ACCESS_KEY.0)
            .env("OSS_ACCESS_KEY_SECRET", ACCESS_KEY.1);
            if let Some(p) = parallel {
                cmd.args(["--parallel", &p.to_string()]);
            }
            if no_crc {
                cmd.arg("--no-crc");
            }
            cmd
        };
        let make = || {
            let cli = cli();
            let mut cmd = Command::new(&self.bins.bench);
            cmd.args(["child", "--bench", &key, "--bytes", &size.to_string()])
                .args(["--requests", &(size.div_ceil(PART_SIZE) + 2).to_string()])
                .arg("--")
                .arg(cli.get_program())
                .args(cli.get_args())
                .env("OSS_ACCESS_KEY_ID", ACCESS_KEY.0)
                .env("OSS_ACCESS_KEY_SECRET", ACCESS_KEY.1);
            cmd
        };
        self.run(section, &key, &label, size, shown, make, cli)
    }

    /// `oss-bench ours`: the library's multipart loop in one process, at the CLI's defaults.
    fn library(
        &self,
        section: Section,
        endpoint: &str,
        ca: Option<&str>,
        crc: bool,
    ) -> Result<Row, String> {
        let size = if ca.is_some() {
            self.plan.tls_size
        } else {
            self.plan.main_size
        };
        let file = data_file(self.data_dir, size);
        let tls = if ca.is_some() { "TLS" } else { "TCP" };
        let (key, what) = if crc {
            ("on", "CRC on")
        } else {
            ("off", "CRC off (`with_crc_check(false)`)")
        };
        let make = || {
            let mut cmd = Command::new(&self.bins.bench);
            cmd.args(["ours", "--endpoint", endpoint, "--file", &file])
                .args(["--part-size", &PART_SIZE.to_string()])
                .args(["--parallel", &PARALLEL.to_string()])
                .args(["--crc", if crc { "on" } else { "off" }]);
            if let Some(ca) = ca {
                cmd.args(["--ca-file", ca]);
            }
            cmd
        };
        self.run(
            section,
            &format!("lib-{}-{key}", tls.to_lowercase()),
            &format!("library loop (`oss-bench ours`), {what}, {tls}"),
            size,
            PARALLEL,
            make,
            make,
        )
    }

    /// `oss-bench parts`: one way of reading a file's parts (`pread` in `chunk`-byte chunks, or
    /// `mmap`) under the bare transport, at the main size and the CLI's defaults, CRC on.
    fn design(&self, endpoint: &str, design: &str, chunk: Option<u64>) -> Result<Row, String> {
        let size = self.plan.main_size;
        let file = data_file(self.data_dir, size);
        let (key, label) = match chunk {
            Some(c) => (
                format!("parts-{design}-{}k", c / 1024),
                format!(
                    "design: `{design}` in {} KiB chunks, CRC on the chunks (`oss-bench parts`)",
                    c / 1024
                ),
            ),
            None => (
                format!("parts-{design}"),
                format!("design: `{design}` of the file, CRC per part slice (`oss-bench parts`)"),
            ),
        };
        let make = || {
            let mut cmd = Command::new(&self.bins.bench);
            cmd.args(["parts", "--endpoint", endpoint, "--file", &file])
                .args(["--design", design])
                .args(["--part-size", &PART_SIZE.to_string()])
                .args(["--parallel", &PARALLEL.to_string()]);
            if let Some(c) = chunk {
                cmd.args(["--chunk", &c.to_string()]);
            }
            cmd
        };
        self.run(Section::Large, &key, &label, size, PARALLEL, make, make)
    }
}

/// Chunk sizes of the `pread` design rows; the library's is `oss_transport::DEFAULT_FILE_CHUNK`.
const DESIGN_CHUNKS: [u64; 4] = [128 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024];

fn large_rows(ctx: &Ctx<'_>, endpoint: &str, rows: &mut Vec<Row>) -> Result<(), String> {
    let plan = ctx.plan;
    println!(
        "==> large uploads, discard server: sizes {}, parallel sweep {:?} at {}",
        plan.sizes
            .iter()
            .map(|s| size_label(*s))
            .collect::<Vec<_>>()
            .join(", "),
        plan.sweep,
        size_label(plan.main_size)
    );
    for &size in &plan.sizes {
        rows.push(ctx.limit(Section::Large, endpoint, None, size, PARALLEL)?);
        rows.push(ctx.cli(Section::Large, endpoint, size, None, false)?);
        if size >= plan.main_size {
            rows.push(ctx.cli(Section::Large, endpoint, size, None, true)?);
        }
    }
    for &p in &plan.sweep {
        rows.push(ctx.limit(Section::Large, endpoint, None, plan.main_size, p)?);
        rows.push(ctx.cli(Section::Large, endpoint, plan.main_size, Some(p), false)?);
    }
    rows.push(ctx.library(Section::Large, endpoint, None, true)?);
    rows.push(ctx.library(Section::Large, endpoint, None, false)?);
    for chunk in DESIGN_CHUNKS {
        rows.push(ctx.design(endpoint, "pread", Some(chunk))?);
    }
    rows.push(ctx.design(endpoint, "pread-thread", Some(256 * 1024))?);
    rows.push(ctx.design(endpoint, "mmap", None)?);
    let size = plan.main_size;
    let file = data_file(ctx.data_dir, size);
    let make = || {
        let mut cmd = Command::new(&ctx.bins.bench);
        cmd.args(["raw-put", "--endpoint", endpoint, "--file", &file])
            .args(["--part-size", &PART_SIZE.to_string()])
            .args(["--parallel", &PARALLEL.to_string()]);
        cmd
    };
    rows.push(ctx.run(
        Section::Large,
        "reference-hyper-file",
        "reference: hyper PUT reading the file (`oss-bench raw-put`)",
        size,
        PARALLEL,
        make,
        make,
    )?);
    Ok(())
}

fn tls_rows(ctx: &Ctx<'_>, endpoint: &str, ca: &str, rows: &mut Vec<Row>) -> Result<(), String> {
    println!(
        "==> HTTPS: TLS discard server, {}",
        size_label(ctx.plan.tls_size)
    );
    rows.push(ctx.limit(
        Section::Tls,
        endpoint,
        Some(ca),
        ctx.plan.tls_size,
        PARALLEL,
    )?);
    rows.push(ctx.library(Section::Tls, endpoint, Some(ca), true)?);
    Ok(())
}

fn emulator_rows(ctx: &Ctx<'_>, endpoint: &str, rows: &mut Vec<Row>) -> Result<(), String> {
    println!(
        "==> emulator ingest (memory storage): {} from `oss-rs cp --parallel {EMULATOR_PARALLEL}`",
        size_label(ctx.plan.emulator_size)
    );
    rows.push(ctx.cli(
        Section::Emulator,
        endpoint,
        ctx.plan.emulator_size,
        Some(EMULATOR_PARALLEL),
        false,
    )?);
    Ok(())
}

fn small_rows(ctx: &Ctx<'_>, endpoint: &str, rows: &mut Vec<Row>) -> Result<(), String> {
    let plan = ctx.plan;
    println!("==> small objects: raw std::net loop, hyper loop (reference), one shared client");
    for (size, concurrency, count) in [
        (4096u64, 16u64, plan.small_count),
        (65536, 16, plan.small_count),
        (4096, 1, plan.small_count_c1),
    ] {
        for (mode, label) in [
            ("raw-std", "raw `std::net` keep-alive loop"),
            ("raw", "reference: hyper keep-alive loop"),
            ("ours", "oss-rs PutObject, one shared client"),
        ] {
            rows.push(measure(
                Section::Small,
                &format!("small-{mode}-{}k-c{concurrency}", size / 1024),
                label,
                size,
                concurrency,
                plan.small_repeats,
                || {
                    let mut cmd = Command::new(&ctx.bins.bench);
                    cmd.args(["small", "--endpoint", endpoint, "--mode", mode])
                        .args(["--count", &count.to_string()])
                        .args(["--size", &size.to_string()])
                        .args(["--concurrency", &concurrency.to_string()]);
                    cmd
                },
            )?);
        }
    }
    Ok(())
}
