//! Peak memory of `oss-rs cp` on a large file (issue 24): a child `oss-rs cp` of 1 GiB (256 MiB
//! in debug builds) to a discard server in this test, at the CLI's defaults, must stay within
//! (parallel + 1) × part size + 32 MiB of peak RSS, read with `getrusage(RUSAGE_CHILDREN)`
//! after the child is reaped. This binary has this one test, so the only child it waits for is
//! that `oss-rs`. Nothing is timed.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use oss_test_support::isolated_command;

const BIN: &str = env!("CARGO_BIN_EXE_oss-rs");
const MIB: u64 = 1 << 20;
/// `oss-rs cp`'s defaults (`cp --help`).
const PART_SIZE: u64 = 6 * MIB;
const PARALLEL: u64 = 3;

/// Answers Initiate, UploadPart and Complete like OSS (without checking signatures) and
/// throws every body away; counts the body bytes it read.
fn discard_server(received: Arc<AtomicU64>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let received = Arc::clone(&received);
            std::thread::spawn(move || {
                let _ = serve(stream, &received);
            });
        }
    });
    format!("http://{addr}")
}

fn serve(stream: TcpStream, received: &AtomicU64) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(1 << 20, stream);
    let mut id = 0u64;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut len = 0u64;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line)?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    len = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let copied = std::io::copy(&mut (&mut reader).take(len), &mut std::io::sink())?;
        received.fetch_add(copied, Ordering::Relaxed);
        id += 1;
        let target = request_line.split(' ').nth(1).unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let key = path.trim_start_matches('/');
        let has = |name: &str| query.split('&').any(|p| p.split('=').next() == Some(name));
        let etag = "\"5B3E4D2C1A0F9E8D7C6B5A4938271605\"";
        let body = if request_line.starts_with("POST") && has("uploads") {
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult><Bucket>rss</Bucket><Key>{key}</Key><UploadId>UPLOAD{id}</UploadId></InitiateMultipartUploadResult>")
        } else if request_line.starts_with("POST") && has("uploadId") {
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CompleteMultipartUploadResult><Location>{key}</Location><Bucket>rss</Bucket><Key>{key}</Key><ETag>{etag}</ETag></CompleteMultipartUploadResult>")
        } else {
            String::new()
        };
        write!(
            writer,
            "HTTP/1.1 200 OK\r\nx-oss-request-id: RSS{id}\r\netag: {etag}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )?;
        writer.flush()?;
    }
}

/// Peak RSS in bytes of the reaped children of this process.
fn children_peak_rss() -> u64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage: {}", std::io::Error::last_os_error());
    // SAFETY: initialised by the successful call above.
    let kib = unsafe { usage.assume_init() }.ru_maxrss;
    u64::try_from(kib).unwrap_or(0) * 1024
}

#[test]
fn cp_of_a_large_file_stays_within_the_memory_bound() {
    let size: u64 = if cfg!(debug_assertions) {
        256 * MIB
    } else {
        1024 * MIB
    };
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("large.bin");
    {
        let mut f =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&file).unwrap());
        let block: Vec<u8> = (0..MIB as u32).map(|i| (i * 131 % 251) as u8).collect();
        for _ in 0..size / MIB {
            f.write_all(&block).unwrap();
        }
        f.flush().unwrap();
    }
    let received = Arc::new(AtomicU64::new(0));
    let endpoint = discard_server(Arc::clone(&received));

    let before = children_peak_rss();
    let out = isolated_command(BIN)
        .args([
            "--endpoint",
            &endpoint,
            "--region",
            "cn-hangzhou",
            "--path-style",
        ])
        .args(["cp", "-q", file.to_str().unwrap(), "oss://rss/large.bin"])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peak = children_peak_rss();
    assert_eq!(before, 0, "no other child was reaped before");
    let bound = (PARALLEL + 1) * PART_SIZE + 32 * MIB;
    let sent = received.load(Ordering::Relaxed);
    println!(
        "oss-rs cp of {} MiB: peak RSS {:.1} MiB, bound {} MiB, {} MiB received",
        size / MIB,
        peak as f64 / MIB as f64,
        bound / MIB,
        sent / MIB
    );
    assert!(sent >= size, "the server read {sent} of {size} bytes");
    assert!(peak > 0, "getrusage reported no peak");
    assert!(
        peak <= bound,
        "peak RSS {peak} bytes is over the bound {bound} ((parallel + 1) × part size + 32 MiB)"
    );
}
