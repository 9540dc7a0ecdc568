//! What the client hands back: a fully read response, or a streaming one.

use std::fmt;
use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;

use crate::error::Error;
use crate::pool::Conn;

/// A successful (2xx) response whose body has been read to the end; its connection is already
/// back in the pool, so dropping it costs nothing.
#[derive(Clone)]
#[non_exhaustive]
pub struct Response {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body (for an upload with a callback: the application server's answer).
    pub body: Bytes,
}

impl Response {
    /// A response from parts (for tests and mock transports).
    pub fn new(status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        Self {
            status,
            headers,
            body,
        }
    }

    /// A header value as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `x-oss-request-id` header.
    pub fn request_id(&self) -> Option<&str> {
        self.header("x-oss-request-id")
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &format_args!("{} bytes", self.body.len()))
            .finish()
    }
}

/// A successful (2xx) response whose body the caller reads incrementally (GetObject).
///
/// This is the one path where the caller owns the body. Reading it to the end returns the
/// connection to the pool; dropping it earlier **discards the connection** (it is closed, never
/// left half-read in the pool), so nothing leaks either way.
#[non_exhaustive]
pub struct StreamingResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: ResponseBody,
}

impl fmt::Debug for StreamingResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamingResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl From<Response> for StreamingResponse {
    /// A buffered response as a streaming one whose body yields the bytes in one chunk: how an
    /// [`HttpSend`](crate::HttpSend) without a streaming path answers
    /// [`send_streaming`](crate::HttpSend::send_streaming).
    fn from(response: Response) -> Self {
        Self {
            status: response.status,
            headers: response.headers,
            body: ResponseBody::from_bytes(response.body),
        }
    }
}

/// The body of a [`StreamingResponse`]: an [`http_body::Body`] of `Bytes`.
pub struct ResponseBody {
    /// `None` for a body already in memory ([`ResponseBody::from_bytes`]).
    incoming: Option<Incoming>,
    /// The in-memory body, until it is yielded.
    buffered: Option<Bytes>,
    conn: Option<Conn>,
    done: bool,
    /// Bounds the wait for the connection to become reusable after the last frame.
    release_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl ResponseBody {
    pub(crate) fn new(incoming: Incoming, conn: Conn) -> Self {
        Self {
            incoming: Some(incoming),
            buffered: None,
            conn: Some(conn),
            done: false,
            release_deadline: None,
        }
    }

    /// A body already in memory (for test doubles and senders without a streaming path).
    pub fn from_bytes(bytes: Bytes) -> Self {
        Self {
            incoming: None,
            buffered: Some(bytes).filter(|b| !b.is_empty()),
            conn: None,
            done: false,
            release_deadline: None,
        }
    }

    /// The next chunk of data, or `None` at the end.
    ///
    /// # Errors
    ///
    /// [`Error::Connection`] when the connection fails mid-body.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, Error>> {
        loop {
            match http_body_util::BodyExt::frame(self).await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some(Ok(data)),
                    Err(_trailers) => continue,
                },
                Err(e) => return Some(Err(e)),
            }
        }
    }

    /// After the last frame: waits until hyper can take the next request on this connection, puts
    /// it back into the pool, then reports the end. A connection that cannot be reused is dropped.
    fn poll_release(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if let Some(conn) = self.conn.as_mut() {
            match conn.poll_ready(cx) {
                Poll::Pending => {
                    let wait = conn.release_wait();
                    let deadline = self
                        .release_deadline
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(wait)));
                    if deadline.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    // Not reusable in time: drop (close) it and end the body anyway.
                    self.conn = None;
                }
                Poll::Ready(Ok(())) => {
                    if let Some(conn) = self.conn.take() {
                        conn.checkin();
                    }
                }
                Poll::Ready(Err(_)) => self.conn = None,
            }
        }
        self.done = true;
        Poll::Ready(None)
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let Some(incoming) = self.incoming.as_mut() else {
            return Poll::Ready(match self.buffered.take() {
                Some(bytes) => Some(Ok(Frame::data(bytes))),
                None => {
                    self.done = true;
                    None
                }
            });
        };
        if incoming.is_end_stream() {
            return self.poll_release(cx);
        }
        let polled = Pin::new(incoming).poll_frame(cx);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => self.poll_release(cx),
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                self.conn = None;
                Poll::Ready(Some(Err(Error::Connection {
                    response_started: true,
                    source: Box::new(e),
                })))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        match &self.incoming {
            Some(incoming) => incoming.size_hint(),
            None => SizeHint::with_exact(self.buffered.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        // Read to the end but the final `None` never polled: still reusable, release it in the
        // background. Otherwise dropping `conn` with the unread body closes the connection.
        if let (Some(conn), Some(incoming)) = (self.conn.take(), &self.incoming) {
            if http_body::Body::is_end_stream(incoming) {
                conn.release_when_ready();
            }
        }
    }
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
