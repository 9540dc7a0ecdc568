//! Per-connection timeouts: a connection that does not finish its request head within the
//! header-read timeout, or sits between requests longer than the idle timeout, is closed.
//!
//! hyper's own `header_read_timeout` starts its clock whenever the connection waits for a
//! head, so on a kept-alive connection it also bounds the idle time between requests: the two
//! limits could not differ. Instead each connection tracks its phase here. Its I/O wrapper
//! ([`TrackedIo`]) sees the first byte of a head, the service marks the request busy, and the
//! response body's guard ([`TrackedBody`]) marks it done; a watchdog future next to the
//! connection closes it when the phase's deadline passes. While a request is being handled (its
//! body read, the operation run, the response written) no timeout applies.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::body::ResBody;
use crate::builder::Limits;

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// No byte of the next head yet: since accept (`first`) or since the last response.
    Waiting { since: Instant, first: bool },
    /// Some bytes of a head arrived at `since`, the head is not complete.
    Head { since: Instant },
    /// This many requests are being handled (more than one only when pipelined).
    Busy { requests: usize },
}

/// The phase of one connection, shared by its I/O, its service and its watchdog.
#[derive(Debug)]
pub(crate) struct Activity {
    phase: Mutex<Phase>,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            phase: Mutex::new(Phase::Waiting {
                since: Instant::now(),
                first: true,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn bytes_read(&self) {
        let mut p = self.lock();
        if let Phase::Waiting { .. } = *p {
            *p = Phase::Head {
                since: Instant::now(),
            };
        }
    }

    /// A request head was parsed and handed to the service; the returned guard, carried by the
    /// response body, ends the request when it is dropped.
    pub(crate) fn begin_request(self: &Arc<Self>) -> BusyGuard {
        let mut p = self.lock();
        *p = match *p {
            Phase::Busy { requests } => Phase::Busy {
                requests: requests + 1,
            },
            _ => Phase::Busy { requests: 1 },
        };
        BusyGuard(Arc::clone(self))
    }

    /// When the connection must be closed, or `None` while a request is busy.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        match *self.lock() {
            Phase::Waiting { since, first: true } | Phase::Head { since } => {
                Some(since + limits.header_read_timeout)
            }
            Phase::Waiting {
                since,
                first: false,
            } => Some(since + limits.idle_timeout),
            Phase::Busy { .. } => None,
        }
    }
}

/// Marks one request done when dropped.
#[derive(Debug)]
pub(crate) struct BusyGuard(Arc<Activity>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        let mut p = self.0.lock();
        *p = match *p {
            Phase::Busy { requests } if requests > 1 => Phase::Busy {
                requests: requests - 1,
            },
            _ => Phase::Waiting {
                since: Instant::now(),
                first: false,
            },
        };
    }
}

/// Resolves when the connection has overstayed its phase's timeout.
pub(crate) async fn watchdog(activity: Arc<Activity>, limits: Limits) {
    // While busy nothing expires; look again after the shorter timeout.
    let recheck = limits.header_read_timeout.min(limits.idle_timeout);
    loop {
        match activity.deadline(&limits) {
            Some(d) if Instant::now() >= d => return,
            Some(d) => tokio::time::sleep_until(d.into()).await,
            None => tokio::time::sleep(recheck.max(Duration::from_millis(1))).await,
        }
    }
}

/// A socket that tells its [`Activity`] when bytes arrive.
#[derive(Debug)]
pub(crate) struct TrackedIo<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T> TrackedIo<T> {
    pub(crate) fn new(inner: T, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TrackedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        res
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TrackedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A response body that ends its request (drops its [`BusyGuard`]) when hyper is done with it.
#[derive(Debug)]
pub(crate) struct TrackedBody {
    inner: ResBody,
    _guard: BusyGuard,
}

impl TrackedBody {
    pub(crate) fn new(inner: ResBody, guard: BusyGuard) -> Self {
        Self {
            inner,
            _guard: guard,
        }
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1,
        }
    }

    #[test]
    fn phases_pick_their_timeout() {
        let a = Activity::new();
        let l = limits();
        let d = a.deadline(&l).unwrap();
        assert!(d <= Instant::now() + l.header_read_timeout);
        let guard = a.begin_request();
        let second = a.begin_request();
        assert_eq!(a.deadline(&l), None);
        drop(guard);
        assert_eq!(a.deadline(&l), None, "still one request in flight");
        drop(second);
        let idle = a.deadline(&l).unwrap();
        assert!(idle > Instant::now() + l.header_read_timeout);
        a.bytes_read();
        assert!(a.deadline(&l).unwrap() <= Instant::now() + l.header_read_timeout);
    }
}
