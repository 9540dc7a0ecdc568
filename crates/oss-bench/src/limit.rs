//! The machine's limit: unsigned PUTs of an in-memory buffer over N blocking sockets, each
//! HTTP/1.1 request written by hand. No HTTP library, no file reads, no signing, no checksum, no
//! async runtime: what the server and the kernel allow, the yardstick every large-upload ratio
//! is taken against. Over `https://` the same loop runs through a rustls (ring) client.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::args::Args;
use crate::metrics::{cpu_seconds, Report};

/// The in-memory buffer is at most this large; longer uploads send it again (the data is never
/// read from anywhere, so repeating it costs nothing extra).
const MAX_BUFFER: u64 = 1 << 30;

/// A plain or TLS connection, used through `Read + Write`.
trait Conn: Read + Write + Send {}
impl<T: Read + Write + Send> Conn for T {}

/// Where and how to connect.
#[derive(Debug, Clone)]
struct Target {
    authority: String,
    tls: Option<(Arc<rustls::ClientConfig>, ServerName<'static>)>,
}

impl Target {
    fn from_args(args: &Args) -> Result<Self, String> {
        let endpoint = args.required("endpoint")?.trim_end_matches('/');
        if let Some(authority) = endpoint.strip_prefix("http://") {
            return Ok(Self {
                authority: authority.to_owned(),
                tls: None,
            });
        }
        let authority = endpoint
            .strip_prefix("https://")
            .ok_or_else(|| format!("endpoint must be http(s)://host:port, got {endpoint}"))?;
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .to_owned();
        let name = ServerName::try_from(host).map_err(|e| e.to_string())?;
        let config = client_config(args.required("ca-file")?)?;
        Ok(Self {
            authority: authority.to_owned(),
            tls: Some((Arc::new(config), name)),
        })
    }

    fn connect(&self) -> Result<Box<dyn Conn>, String> {
        let stream = TcpStream::connect(&self.authority)
            .map_err(|e| format!("connect {}: {e}", self.authority))?;
        let _ = stream.set_nodelay(true);
        Ok(match &self.tls {
            None => Box::new(stream),
            Some((config, name)) => {
                let conn = rustls::ClientConnection::new(Arc::clone(config), name.clone())
                    .map_err(|e| e.to_string())?;
                Box::new(rustls::StreamOwned::new(conn, stream))
            }
        })
    }
}

/// A rustls client (ring) that trusts only the bench's own root certificate.
pub(crate) fn client_config(ca_file: &str) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| format!("{ca_file}: {e}"))? {
        roots
            .add(cert.map_err(|e| format!("{ca_file}: {e}"))?)
            .map_err(|e| format!("{ca_file}: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Sends one request (head and body as given) and reads the response, head and body; returns
/// the status. The discard server always answers with a `content-length`.
fn exchange(
    conn: &mut dyn Conn,
    head: &[u8],
    body: &[u8],
    buf: &mut Vec<u8>,
) -> Result<u16, String> {
    conn.write_all(head).map_err(|e| e.to_string())?;
    if !body.is_empty() {
        conn.write_all(body).map_err(|e| e.to_string())?;
    }
    conn.flush().map_err(|e| e.to_string())?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = conn.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed before the response".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = std::str::from_utf8(&buf[..end]).map_err(|e| e.to_string())?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line in {head:?}"))?;
        let length: usize = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.trim().parse().ok())
            .unwrap_or(0);
        let mut remaining = length.saturating_sub(buf.len() - end - 4);
        while remaining > 0 {
            let n = conn
                .read(&mut chunk[..remaining.min(4096)])
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed inside the response body".into());
            }
            remaining -= n;
        }
        return Ok(status);
    }
}

/// `raw-mem`: `--size` bytes in `--part-size` PUTs over `--parallel` connections, from memory.
pub(crate) fn put_memory(args: &Args) -> Result<(), String> {
    let target = Target::from_args(args)?;
    let size = args.number("size", 1 << 30)?.max(1);
    let part_size = args.number("part-size", 6 << 20)?.max(1);
    let parallel = args.number("parallel", 4)?.max(1);
    let parts = size.div_ceil(part_size);
    let buffer_parts = (MAX_BUFFER / part_size).clamp(1, parts);
    // Distinct bytes (not zeros) so nothing along the way can shortcut them.
    let buffer: Vec<u8> = (0..buffer_parts * part_size)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let next = AtomicU64::new(0);
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..parallel)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<Duration>, String> {
                    let mut conn = target.connect()?;
                    let mut buf = Vec::new();
                    let mut latencies = Vec::new();
                    loop {
                        let part = next.fetch_add(1, Ordering::Relaxed);
                        if part >= parts {
                            return Ok(latencies);
                        }
                        let len = part_size.min(size - part * part_size) as usize;
                        let start = ((part % buffer_parts) * part_size) as usize;
                        let head = format!(
                            "PUT /bench/limit.bin?partNumber={}&uploadId=limit HTTP/1.1\r\nhost: {}\r\ncontent-length: {len}\r\n\r\n",
                            part + 1,
                            target.authority
                        );
                        let t = Instant::now();
                        let status =
                            exchange(&mut *conn, head.as_bytes(), &buffer[start..start + len], &mut buf)?;
                        if !(200..300).contains(&status) {
                            return Err(format!("PUT part {}: HTTP {status}", part + 1));
                        }
                        latencies.push(t.elapsed());
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().map_err(|_| "worker panicked".to_owned())??);
        }
        Ok::<_, String>(all)
    })?;
    Report {
        bench: format!(
            "limit-{}-p{parallel}",
            if target.tls.is_some() { "tls" } else { "tcp" }
        ),
        bytes: size,
        requests: parts,
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        cpu_start,
    }
    .print();
    Ok(())
}

/// `small --mode raw-std`: `--count` PUTs of `--size` bytes over `--concurrency` blocking
/// `std::net` keep-alive connections, one thread each, each request one write.
pub(crate) fn small(args: &Args) -> Result<(), String> {
    let target = Target::from_args(args)?;
    let count = args.number("count", 2000)?;
    let size = args.number("size", 4096)? as usize;
    let concurrency = args.number("concurrency", 16)?.max(1);
    let body = vec![b'x'; size];
    let next = AtomicU64::new(0);
    let cpu_start = cpu_seconds();
    let started = Instant::now();
    let latencies = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<Duration>, String> {
                    let mut conn = target.connect()?;
                    let mut buf = Vec::new();
                    let mut request = Vec::with_capacity(size + 128);
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(latencies);
                        }
                        let t = Instant::now();
                        request.clear();
                        let _ = write!(
                            request,
                            "PUT /bench/small/{i} HTTP/1.1\r\nhost: {}\r\ncontent-length: {size}\r\n\r\n",
                            target.authority
                        );
                        request.extend_from_slice(&body);
                        let status = exchange(&mut *conn, &request, &[], &mut buf)?;
                        if !(200..300).contains(&status) {
                            return Err(format!("PUT small {i}: HTTP {status}"));
                        }
                        latencies.push(t.elapsed());
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().map_err(|_| "worker panicked".to_owned())??);
        }
        Ok::<_, String>(all)
    })?;
    Report {
        bench: format!("small-rawstd-{}k-c{concurrency}", size / 1024),
        bytes: count * size as u64,
        requests: count,
        seconds: started.elapsed().as_secs_f64(),
        latencies,
        cpu_start,
    }
    .print();
    Ok(())
}
