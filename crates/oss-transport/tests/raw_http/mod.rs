//! A hand-written HTTP/1.1 server side for tests that need exact control of the wire: how much of
//! a body is read, when the connection is reset, how many connections were accepted.

#![allow(dead_code)] // each test file uses a different part

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One accepted connection, with what was read past the last request head.
pub struct Conn {
    socket: TcpStream,
    buf: Vec<u8>,
}

/// A request head as received.
pub struct Head {
    /// Head lines, names lowercased (`name: value`).
    pub lines: Vec<String>,
    /// The request line, e.g. `PUT /bucket/k HTTP/1.1`.
    pub request_line: String,
}

impl Head {
    /// The first value of a header (name in lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.lines.iter().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            (n == name).then(|| v.trim())
        })
    }

    /// The declared `content-length`, 0 when absent.
    pub fn content_length(&self) -> usize {
        self.header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Conn {
    /// Wraps an accepted socket.
    pub fn new(socket: TcpStream) -> Self {
        Self {
            socket,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) -> Option<()> {
        let mut chunk = vec![0u8; 64 * 1024];
        let n = self.socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Some(())
    }

    /// Reads the next request head; `None` when the peer closed.
    pub async fn read_head(&mut self) -> Option<Head> {
        let end = loop {
            if let Some(pos) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            self.fill().await?;
        };
        let text = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end);
        let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
        let request_line = lines.next().unwrap_or_default().to_owned();
        let lines = lines
            .map(|l| match l.split_once(':') {
                Some((n, v)) => format!("{}:{v}", n.to_ascii_lowercase()),
                None => l.to_owned(),
            })
            .collect();
        Some(Head {
            lines,
            request_line,
        })
    }

    /// Reads (and discards) `n` bytes of body.
    pub async fn read_body(&mut self, n: usize) -> Option<()> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        self.buf.drain(..n);
        Some(())
    }

    /// Reads a whole request (head and `content-length` bytes of body).
    pub async fn read_request(&mut self) -> Option<Head> {
        let head = self.read_head().await?;
        self.read_body(head.content_length()).await?;
        Some(head)
    }

    /// Writes raw bytes.
    pub async fn write(&mut self, bytes: &[u8]) -> Option<()> {
        self.socket.write_all(bytes).await.ok()?;
        self.socket.flush().await.ok()
    }

    /// Closes the connection with a TCP reset (zero linger, then drop).
    pub fn reset(self) {
        let _ = self.socket.set_zero_linger();
    }
}

/// A full response with a body and extra header lines (each `name: value`).
pub fn response(status: &str, headers: &[String], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out.into_bytes()
}

/// An OSS error document.
pub fn error_xml(code: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{code}</Code>\n  <Message>{code}</Message>\n  <RequestId>RID-{code}</RequestId>\n  <HostId>127.0.0.1</HostId>\n</Error>"
    )
}

/// Binds 127.0.0.1:0 and runs `handle(connection index, conn)` for every accepted connection;
/// returns the address and the number of connections accepted so far.
pub async fn serve<F, Fut>(handle: F) -> (std::net::SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(usize, Conn) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    serve_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), handle)
}

/// As [`serve`], with a small fixed receive buffer on every accepted socket (no autotuning), so
/// a client cannot get far ahead of what the server has read.
pub async fn serve_small_buffer<F, Fut>(handle: F) -> (std::net::SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(usize, Conn) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    serve_on(socket.listen(64).unwrap(), handle)
}

fn serve_on<F, Fut>(listener: TcpListener, handle: F) -> (std::net::SocketAddr, Arc<AtomicUsize>)
where
    F: Fn(usize, Conn) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(handle(n, Conn::new(socket)));
        }
    });
    (addr, accepted)
}
