//! Request bodies on the wire: bytes, file ranges read from disk, caller streams; with progress
//! reporting and activity tracking for the read timeout.

use std::fmt;
use std::io::SeekFrom;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::TryStreamExt as _;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, Full, StreamBody};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::error::Error;
use crate::request::Body;

/// The progress hook of one attempt: bytes so far (the attempt number is already bound).
pub(crate) type ProgressHook = Arc<dyn Fn(u64) + Send + Sync>;

/// The body type of every request the pool sends.
pub(crate) type OutBody = UnsyncBoxBody<Bytes, LocalBodyError>;

/// Size of the chunks read from a file.
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

/// The last time any byte moved on an attempt (request body sent or response data received).
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
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
pub(crate) async fn open(
    body: &Body,
    progress: Option<ProgressHook>,
    activity: Activity,
) -> Result<Option<OutBody>, Error> {
    let inner: OutBody = match body {
        Body::Empty => Empty::new().map_err(|never| match never {}).boxed_unsync(),
        Body::Bytes(b) => Full::new(b.clone())
            .map_err(|never| match never {})
            .boxed_unsync(),
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
    Ok(Some(
        Tracked {
            inner,
            sent: 0,
            progress,
            activity,
        }
        .boxed_unsync(),
    ))
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

/// Counts bytes handed to hyper, reports progress, marks activity.
struct Tracked {
    inner: OutBody,
    sent: u64,
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
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let n = u64::try_from(data.len()).unwrap_or(u64::MAX);
                self.sent = self.sent.saturating_add(n);
                self.activity.touch();
                if let Some(hook) = &self.progress {
                    hook(self.sent);
                }
            }
        }
        polled
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
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(150_000));
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], &data[1000..151_000]);
        assert_eq!(seen.lock().unwrap().last(), Some(&150_000));

        // A range past the end of the file fails instead of sending a short body.
        let body = open(&Body::file(&path, 150_000, 100_000), None, Activity::new())
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
        )
        .await
        .unwrap_err();
        assert!(matches!(err, Error::RequestBody { .. }));
        assert!(!err.is_retryable());
    }
}
