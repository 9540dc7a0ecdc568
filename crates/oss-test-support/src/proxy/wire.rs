//! Just enough HTTP/1.1 for the proxy: read a head, parse a request line and headers, find a
//! response's framing and read it whole while keeping its raw bytes (so a pass-through answer
//! is forwarded byte for byte).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// A head larger than this is refused: no test sends one, and a bound keeps a bad peer from
/// growing the buffer without end.
const MAX_HEAD: usize = 64 * 1024;

/// A stream with the bytes read past the current message kept for the next one (keep-alive).
#[derive(Debug)]
pub(crate) struct Conn<S> {
    pub(crate) stream: S,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    pub(crate) fn new(stream: S) -> Self {
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// The next head through its blank line, or `None` on a clean end between messages.
    pub(crate) async fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let rest = self.buf.split_off(end + 4);
                return Ok(Some(std::mem::replace(&mut self.buf, rest)));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("head too large"));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    /// Reads exactly `n` body bytes.
    pub(crate) async fn read_exact_body(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        let rest = self.buf.split_off(n);
        Ok(std::mem::replace(&mut self.buf, rest))
    }

    /// Moves `n` body bytes to `to` as they arrive, without holding them all.
    pub(crate) async fn copy_body<W: AsyncWrite + Unpin>(
        &mut self,
        to: &mut W,
        mut n: u64,
    ) -> io::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let take = self.buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            to.write_all(&self.buf[..take]).await?;
            self.buf.drain(..take);
            n -= take as u64;
        }
        Ok(())
    }

    /// Reads one line through its CRLF (chunked framing).
    async fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let rest = self.buf.split_off(end + 2);
                return Ok(std::mem::replace(&mut self.buf, rest));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("line too long"));
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    /// The raw bytes of a chunked body, trailers and final CRLF included.
    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut raw = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size_text = std::str::from_utf8(&line)
                .map_err(|_| invalid("chunk size"))?
                .trim_end()
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            let size = usize::from_str_radix(&size_text, 16).map_err(|_| invalid("chunk size"))?;
            raw.extend_from_slice(&line);
            if size == 0 {
                loop {
                    let trailer = self.read_line().await?;
                    raw.extend_from_slice(&trailer);
                    if trailer == b"\r\n" {
                        return Ok(raw);
                    }
                }
            }
            raw.extend_from_slice(&self.read_exact_body(size + 2).await?);
        }
    }

    async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        while self.fill().await? > 0 {}
        Ok(std::mem::take(&mut self.buf))
    }

    /// Reads a response body framed as `framing` says.
    pub(crate) async fn read_body(&mut self, framing: Framing) -> io::Result<Vec<u8>> {
        match framing {
            Framing::Empty => Ok(Vec::new()),
            Framing::Length(n) => {
                self.read_exact_body(usize::try_from(n).map_err(|_| invalid("length"))?)
                    .await
            }
            Framing::Chunked => self.read_chunked().await,
            Framing::UntilClose => self.read_to_end().await,
        }
    }
}

/// How a message's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Empty,
    Length(u64),
    Chunked,
    UntilClose,
}

/// A parsed head: the start line's three parts and the headers in order.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) start: [String; 3],
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    pub(crate) fn parse(raw: &[u8]) -> io::Result<Self> {
        let text = std::str::from_utf8(raw).map_err(|_| invalid("head is not UTF-8"))?;
        let mut lines = text.split("\r\n");
        let first = lines.next().unwrap_or("");
        let mut parts = first.splitn(3, ' ');
        let mut next = || parts.next().unwrap_or("").to_owned();
        let start = [next(), next(), next()];
        if start[0].is_empty() || start[1].is_empty() {
            return Err(invalid("bad start line"));
        }
        let headers = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(':').ok_or_else(|| invalid("bad header"))?;
                Ok((n.trim().to_owned(), v.trim().to_owned()))
            })
            .collect::<io::Result<_>>()?;
        Ok(Self { start, headers })
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    pub(crate) fn is_chunked(&self) -> bool {
        self.has_token("transfer-encoding", "chunked")
    }

    pub(crate) fn content_length(&self) -> io::Result<Option<u64>> {
        self.header("content-length")
            .map(|v| v.parse().map_err(|_| invalid("content-length")))
            .transpose()
    }

    /// `Connection: close`, or HTTP/1.0 without keep-alive.
    pub(crate) fn wants_close(&self, version: &str) -> bool {
        self.has_token("connection", "close")
            || (version == "HTTP/1.0" && !self.has_token("connection", "keep-alive"))
    }

    /// The framing of a response to a request with `method`.
    pub(crate) fn response_framing(&self, method: &str) -> io::Result<Framing> {
        let status: u16 = self.start[1].parse().map_err(|_| invalid("status"))?;
        if method.eq_ignore_ascii_case("HEAD") || status < 200 || status == 204 || status == 304 {
            return Ok(Framing::Empty);
        }
        if self.is_chunked() {
            return Ok(Framing::Chunked);
        }
        Ok(match self.content_length()? {
            Some(n) => Framing::Length(n),
            None => Framing::UntilClose,
        })
    }

    /// The head as bytes again, with `content-length` set to `length`.
    pub(crate) fn to_bytes_with_length(&self, length: u64) -> Vec<u8> {
        let mut out = format!("{} {} {}\r\n", self.start[0], self.start[1], self.start[2]);
        for (n, v) in &self.headers {
            if !n.eq_ignore_ascii_case("content-length") {
                out.push_str(&format!("{n}: {v}\r\n"));
            }
        }
        out.push_str(&format!("content-length: {length}\r\n\r\n"));
        out.into_bytes()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_head_and_framing() {
        let h =
            Head::parse(b"PUT /b/k?partNumber=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n")
                .unwrap();
        assert_eq!(h.start[0], "PUT");
        assert_eq!(h.start[1], "/b/k?partNumber=1");
        assert_eq!(h.content_length().unwrap(), Some(5));
        assert!(!h.wants_close("HTTP/1.1"));
        let r = Head::parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
        assert_eq!(r.response_framing("GET").unwrap(), Framing::Chunked);
        assert_eq!(r.response_framing("HEAD").unwrap(), Framing::Empty);
        assert!(Head::parse(b"\r\n\r\n").is_err());
    }

    #[tokio::test]
    async fn reads_a_chunked_body_raw() {
        let (mut a, b) = tokio::io::duplex(1024);
        a.write_all(b"3\r\nabc\r\n0\r\n\r\nNEXT").await.unwrap();
        let mut conn = Conn::new(b);
        let raw = conn.read_body(Framing::Chunked).await.unwrap();
        assert_eq!(raw, b"3\r\nabc\r\n0\r\n\r\n");
        assert_eq!(conn.buf, b"NEXT");
    }
}
