//! Opening connections: TCP (with a count of bytes received), then TLS through `hyper-rustls`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Bytes received on one connection since the counter was last reset. The client resets it when a
/// request starts, so "no byte of a response arrived" can be told apart from "the response broke
/// off" ([`crate::Error::Connection`]'s `response_started`). The callback rule does not read it:
/// it asks whether the whole body was sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadCounter(Arc<AtomicU64>);

impl ReadCounter {
    pub(crate) fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self, n: usize) {
        self.0
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// A TCP stream that counts received bytes.
#[derive(Debug)]
pub(crate) struct CountingTcp {
    stream: TcpStream,
    counter: ReadCounter,
}

impl AsyncRead for CountingTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            self.counter.add(buf.filled().len().saturating_sub(before));
        }
        polled
    }
}

impl AsyncWrite for CountingTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The plain connection handed to `hyper-rustls` (which may wrap it in TLS).
#[derive(Debug)]
pub(crate) struct TcpIo(TokioIo<CountingTcp>);

impl TcpIo {
    pub(crate) fn counter(&self) -> ReadCounter {
        self.0.inner().counter.clone()
    }
}

impl hyper::rt::Read for TcpIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for TcpIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

impl Connection for TcpIo {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

/// Dials TCP for `hyper-rustls`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TcpConnector;

impl tower_service::Service<Uri> for TcpConnector {
    type Response = TcpIo;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<TcpIo>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "URI has no host"))?;
            let host = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                Some("http") => 80,
                _ => 443,
            });
            let stream = TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            Ok(TcpIo(TokioIo::new(CountingTcp {
                stream,
                counter: ReadCounter::default(),
            })))
        })
    }
}

/// The full connector: TCP, then TLS for `https` URIs.
pub(crate) type Connector = HttpsConnector<TcpConnector>;

/// A connected stream.
pub(crate) type Stream = MaybeHttpsStream<TcpIo>;

/// The byte counter of a connected stream.
pub(crate) fn counter_of(stream: &Stream) -> ReadCounter {
    match stream {
        MaybeHttpsStream::Http(tcp) => tcp.counter(),
        MaybeHttpsStream::Https(tls) => tls.inner().get_ref().0.inner().counter(),
    }
}

/// Builds the connector from a rustls configuration.
pub(crate) fn connector(tls: rustls::ClientConfig) -> Connector {
    HttpsConnector::from((TcpConnector, tls))
}

/// The rustls configuration: ring, the webpki roots plus any extra DER roots.
pub(crate) fn tls_config(extra_roots: &[Vec<u8>]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| format!("invalid extra root certificate: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}
