//! `parts`: the two ways issue 24 compares of getting a file's parts onto the socket, through
//! the same `oss_transport::Client` (signing, pool, hyper) and nothing of `oss_upload`:
//!
//! - `--design pread`: each part an `oss_transport::FileRange`, read in `--chunk` bytes with
//!   positional reads and hashed chunk by chunk as it is sent (what the library ships: cached
//!   chunks read on the connection's thread with `RWF_NOWAIT`, a reader thread otherwise);
//! - `--design pread-thread`: the same with every chunk read on a reader thread
//!   (`FileRange::with_cached_reads_inline(false)`);
//! - `--design mmap`: the file mapped once, each part a `Bytes` slice of the map (no copy in
//!   our code), its CRC-64 computed over the slice before it is sent. Measured only: a file
//!   truncated under a map raises SIGBUS, so the library does not map.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::Method;
use oss_transport::{Body, ExpectedCrc64, FileRange, Request};
use oss_upload::Crc64;

use crate::args::Args;
use crate::metrics::{cpu_seconds, Report};

/// How the parts are read.
#[derive(Debug, Clone)]
enum Design {
    Pread { chunk: usize, inline: bool },
    Mmap(Bytes),
}

pub(crate) async fn run(args: &Args) -> Result<(), String> {
    let path = args.required("file")?.to_owned();
    let file = Arc::new(File::open(&path).map_err(|e| format!("{path}: {e}"))?);
    let size = file.metadata().map_err(|e| format!("{path}: {e}"))?.len();
    let part_size = args.number("part-size", 6 << 20)?;
    let parallel = args.number("parallel", 3)?.max(1);
    let crc = args.flag("crc", true);
    let chunk = usize::try_from(args.number("chunk", oss_transport::DEFAULT_FILE_CHUNK as u64)?)
        .map_err(|e| e.to_string())?;
    let design = match args.get("design").unwrap_or("pread") {
        "pread" => Design::Pread {
            chunk,
            inline: true,
        },
        "pread-thread" => Design::Pread {
            chunk,
            inline: false,
        },
        "mmap" => Design::Mmap(map::map(&file, size).map_err(|e| format!("{path}: {e}"))?),
        other => {
            return Err(format!(
                "unknown --design {other} (pread, pread-thread or mmap)"
            ))
        }
    };
    let name = match &design {
        Design::Pread { chunk, inline } => format!(
            "pread{}-{}k",
            if *inline { "" } else { "-thread" },
            chunk / 1024
        ),
        Design::Mmap(_) => "mmap".to_owned(),
    };
    let endpoint = oss_transport::Endpoint::custom(args.required("endpoint")?)
        .map_err(|e| e.to_string())?
        .with_addressing(oss_transport::Addressing::PathStyle);
    let client = oss_transport::Client::builder()
        .with_endpoint(endpoint)
        .with_region("cn-hangzhou")
        .with_credentials_provider(oss_sign::StaticCredentialsProvider::new(
            oss_sign::Credentials::new("ak", "sk"),
        ))
        .build()
        .map_err(|e| e.to_string())?;
    let parts = size.div_ceil(part_size);
    let next = Arc::new(AtomicU64::new(0));
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..parallel {
        let (client, next, design, file, path) = (
            client.clone(),
            Arc::clone(&next),
            design.clone(),
            Arc::clone(&file),
            path.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= parts {
                    return Ok::<_, String>(());
                }
                let offset = i * part_size;
                let len = part_size.min(size - offset);
                let (body, expected) = match &design {
                    Design::Pread { chunk, inline } => {
                        let mut range = FileRange::new(Arc::clone(&file), &path, offset, len)
                            .with_chunk_size(*chunk)
                            .with_cached_reads_inline(*inline);
                        let slot = crc.then(|| Arc::new(Mutex::new(Crc64::new())));
                        if let Some(s) = &slot {
                            range = range.with_crc64(Arc::clone(s));
                        }
                        (Body::FileRange(range), slot.map(ExpectedCrc64::Running))
                    }
                    Design::Mmap(map) => {
                        let part = map.slice(offset as usize..(offset + len) as usize);
                        let known = crc.then(|| ExpectedCrc64::Known(Crc64::checksum(&part)));
                        (Body::Bytes(part), known)
                    }
                };
                let mut req = Request::new(Method::PUT)
                    .with_bucket("bench")
                    .with_key("bench/parts.bin")
                    .with_query("partNumber", (i + 1).to_string())
                    .with_query("uploadId", "bench")
                    .with_header(http::header::CONTENT_LENGTH, http::HeaderValue::from(len))
                    .with_body(body);
                if let Some(e) = expected {
                    req = req.with_expected_crc64(e);
                }
                client.send(req).await.map_err(|e| e.to_string())?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Report {
        bench: format!(
            "parts-{name}-crc-{}-p{parallel}",
            if crc { "on" } else { "off" }
        ),
        bytes: size,
        requests: parts,
        seconds: started.elapsed().as_secs_f64(),
        latencies: Vec::new(),
        cpu_start,
    }
    .print();
    Ok(())
}

/// The one place this crate maps a file.
#[allow(unsafe_code)]
mod map {
    use std::fs::File;
    use std::os::fd::AsRawFd as _;

    use bytes::Bytes;

    /// A read-only shared mapping, unmapped when the last `Bytes` of it is dropped.
    struct Map {
        ptr: *mut libc::c_void,
        len: usize,
    }

    // SAFETY: the mapping is read-only and owned by this value alone; nothing writes through it.
    unsafe impl Send for Map {}
    unsafe impl Sync for Map {}

    impl AsRef<[u8]> for Map {
        fn as_ref(&self) -> &[u8] {
            // SAFETY: `ptr` maps `len` readable bytes until `drop`. A truncation of the file
            // under the map would fault (SIGBUS): the bench's data file is not changed while it
            // runs, which is exactly the guarantee a library cannot have.
            unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
        }
    }

    impl Drop for Map {
        fn drop(&mut self) {
            // SAFETY: unmaps exactly the region `map` mapped, once.
            unsafe {
                libc::munmap(self.ptr, self.len);
            }
        }
    }

    /// Maps `len` bytes of `file` (len > 0).
    pub(super) fn map(file: &File, len: u64) -> std::io::Result<Bytes> {
        let len = usize::try_from(len).map_err(std::io::Error::other)?;
        if len == 0 {
            return Ok(Bytes::new());
        }
        // SAFETY: a fresh read-only shared mapping of an open file; checked for MAP_FAILED.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Bytes::from_owner(Map { ptr, len }))
    }
}
