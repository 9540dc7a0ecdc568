//! Request bodies on the wire: bytes, file ranges read from disk, caller streams; with progress
//! reporting, activity tracking for the read timeout, and a mark once the whole body was handed
//! to the connection (the callback rule: after that, OSS may have the whole request).

use std::fmt;
use std::io::SeekFrom;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, StreamBody};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::error::Error;
use crate::request::Body;

/// The progress hook of one attempt: bytes so far (the attempt number is already bound).
pub(crate) type ProgressHook = Arc<dyn Fn(u64) + Send + Sync>;

/// The body type of every request the pool sends.
pub(crate) type OutBody = UnsyncBoxBody<Bytes, LocalBodyError>;

/// Size of the chunks read from a file, and of the frames a body in memory is handed out in.
const FILE_CHUNK: usize = 64 * 1024;

/// A failure reading the request body from its local source; travels through hyper so the client
/// can tell it apart from a network failure.
#[derive(Debug)]
pub(crate) struct LocalBodyError(pub(crate) std::io::Error);

impl fmt::Display for LocalBodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not read the request body")
    }
}

impl std::error::Error for LocalBodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// What moved on one attempt: the last time any byte did (request body sent or response data
/// received), and whether the whole request body was handed to the connection.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
    body_sent: Arc<AtomicBool>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
            body_sent: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether hyper took the body to its end on this attempt. Set before the last bytes reach
    /// the socket (they may still sit in hyper's or the kernel's buffers), never after the peer
    /// could have read them all: `false` means OSS cannot have the whole body.
    pub(crate) fn body_sent(&self) -> bool {
        self.body_sent.load(Ordering::Acquire)
    }

    fn mark_body_sent(&self) {
        self.body_sent.store(true, Ordering::Release);
    }

    pub(crate) fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.fetch_max(ms, Ordering::Relaxed);
    }

    pub(crate) fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Opens the body for one attempt. `None` when a stream body was already consumed.
///
/// `declared` is the request's `Content-Length`, when it has one: hyper stops polling a body
/// once that many bytes were written, so the end is marked there too.
pub(crate) async fn open(
    body: &Body,
    progress: Option<ProgressHook>,
    activity: Activity,
    declared: Option<u64>,
) -> Result<Option<OutBody>, Error> {
    let inner: OutBody = match body {
        Body::Empty => Empty::new().map_err(|never| match never {}).boxed_unsync(),
        // In frames, so that "handed to the connection" follows the socket (hyper buffers a
        // bounded number of frames ahead) instead of being true as soon as sending starts.
        Body::Bytes(b) => Chunks { rest: b.clone() }.boxed_unsync(),
        Body::File { path, offset, len } => {
            let mut file = tokio::fs::File::open(path)
                .await
                .map_err(|source| Error::RequestBody { source })?;
            file.seek(SeekFrom::Start(*offset))
                .await
                .map_err(|source| Error::RequestBody { source })?;
            file_body(file, *len)
        }
        Body::FileRange(range) => crate::file_body::open(range),
        Body::Stream(once) => match once.take() {
            Some(stream) => {
                StreamBody::new(stream.map_ok(Frame::data).map_err(LocalBodyError)).boxed_unsync()
            }
            None => return Ok(None),
        },
    };
    let expected = declared.or_else(|| http_body::Body::size_hint(&inner).exact());
    Ok(Some(
        Tracked {
            inner,
            sent: 0,
            expected,
            progress,
            activity,
        }
        .boxed_unsync(),
    ))
}

/// Bytes in memory, handed out [`FILE_CHUNK`] at a time (slices of the one buffer, no copy).
struct Chunks {
    rest: Bytes,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = LocalBodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, LocalBodyError>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        let n = self.rest.len().min(FILE_CHUNK);
        Poll::Ready(Some(Ok(Frame::data(self.rest.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(u64::try_from(self.rest.len()).unwrap_or(u64::MAX))
    }
}

/// Exactly `len` bytes of `file`; a file that ends early is an error, never a short body.
fn file_body(file: tokio::fs::File, len: u64) -> OutBody {
    let stream =
        futures_util::stream::try_unfold((file, len), |(mut file, remaining)| async move {
            if remaining == 0 {
                return Ok(None);
            }
            let want = usize::try_from(remaining).map_or(FILE_CHUNK, |r| r.min(FILE_CHUNK));
            let mut buf = vec![0u8; want];
            let n = file.read(&mut buf).await.map_err(LocalBodyError)?;
            if n == 0 {
                return Err(LocalBodyError(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "file is shorter than the requested range",
                )));
            }
            buf.truncate(n);
            let n = u64::try_from(n).unwrap_or(remaining);
            Ok(Some((Frame::data(Bytes::from(buf)), (file, remaining - n))))
        });
    ExactLen {
        inner: StreamBody::new(stream).boxed_unsync(),
        len,
    }
    .boxed_unsync()
}

/// Gives a body an exact size hint (so hyper sends `Content-Length`).
struct ExactLen {
    inner: OutBody,
    len: u64,
}

impl http_body::Body for ExactLen {
    type Data = Bytes;
    type Error = LocalBodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, LocalBodyError>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// Counts bytes handed to hyper, reports progress, marks activity, and marks the body sent when
/// hyper took its end: the final `None`, a frame after which the body says it ended (hyper then
/// stops polling), or the declared length reached (hyper stops at `Content-Length`).
struct Tracked {
    inner: OutBody,
    sent: u64,
    expected: Option<u64>,
    progress: Option<ProgressHook>,
    activity: Activity,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = LocalBodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, LocalBodyError>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let n = u64::try_from(data.len()).unwrap_or(u64::MAX);
                    self.sent = self.sent.saturating_add(n);
                    self.activity.touch();
                    if let Some(hook) = &self.progress {
                        hook(self.sent);
                    }
                }
                let at_length = self.expected.is_some_and(|len| self.sent >= len);
                if at_length || self.inner.is_end_stream() {
                    self.activity.mark_body_sent();
                }
            }
            Poll::Ready(None) => self.activity.mark_body_sent(),
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let ended = self.inner.is_end_stream();
        if ended {
            // An empty body is never polled: hyper asks this first and sends the head alone.
            self.activity.mark_body_sent();
        }
        ended
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test]
    async fn file_range_is_streamed_exactly_with_progress() {
        let dir = std::env::temp_dir().join(format!("oss-transport-body-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("range.bin");
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();

        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = Arc::clone(&seen);
        let hook: ProgressHook = Arc::new(move |n| seen2.lock().unwrap().push(n));
        let body = open(
            &Body::file(&path, 1000, 150_000),
            Some(hook),
            Activity::new(),
            None,
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(150_000));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], &data[1000..151_000]);
        assert_eq!(seen.lock().unwrap().last(), Some(&150_000));

        // A range past the end of the file fails instead of sending a short body.
        let body = open(
            &Body::file(&path, 150_000, 100_000),
            None,
            Activity::new(),
            None,
        )
        .await
        .unwrap()
        .unwrap();
        assert!(body.collect().await.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn missing_file_is_a_request_body_error() {
        let err = open(
            &Body::file("/nonexistent/oss-transport", 0, 1),
            None,
            Activity::new(),
            None,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::RequestBody { .. }));
        assert!(!err.is_retryable());
    }
}
