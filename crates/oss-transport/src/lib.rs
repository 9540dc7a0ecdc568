//! HTTP transport for Alibaba Cloud OSS: hyper 1 over rustls (ring), a connection pool that never
//! leaks a connection, V4 signing on every attempt, retries with full-jitter backoff, and typed
//! errors.
//!
//! - [`Client`] (built by [`ClientBuilder`]) sends a [`Request`] and returns a [`Response`] whose
//!   body has already been read to the end (bounded, default 4 MiB) and whose connection is back
//!   in the pool, so a caller that ignores the body cannot leak the connection. The one exception
//!   is [`Client::send_streaming`], where the caller owns the body ([`StreamingResponse`]).
//! - [`Endpoint`] resolves bucket and key to a URL: region endpoints, custom endpoints,
//!   virtual-hosted, path-style or CNAME addressing, `http` or `https`.
//! - Requests with [`Auth::Sign`] are signed by `oss-sign` just before each attempt with a fresh
//!   time (corrected by the server's `Date` after `RequestTimeTooSkewed`); [`Auth::None`] sends a
//!   presigned URL or a PostObject form as it is.
//! - [`Error`] is one enum; [`Error::is_retryable`] is the single retry classification; a 203
//!   `CallbackFailed` on a request carrying a callback is [`Error::CallbackFailed`] (the object was
//!   stored). [`RetryConfig`] holds the retry settings. A request carrying a callback is retried
//!   like any other until its whole body was sent; a retryable failure after that (reset,
//!   timeout, 5xx, 429) is [`Error::Unconfirmed`], not resent: OSS may have stored the object and
//!   run the callback, and the caller asks OSS before sending again (see [`Request`]).
//!
//! ```
//! use http::Method;
//! use oss_transport::{Auth, Client, Endpoint, Addressing, Request};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A tiny local server answering one request.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! tokio::spawn(async move {
//!     let (mut socket, _) = listener.accept().await.unwrap();
//!     let mut buf = [0u8; 4096];
//!     let _ = socket.read(&mut buf).await.unwrap();
//!     let reply = "HTTP/1.1 200 OK\r\nx-oss-request-id: r1\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";
//!     socket.write_all(reply.as_bytes()).await.unwrap();
//! });
//!
//! let endpoint = Endpoint::custom(&format!("http://{addr}"))?.with_addressing(Addressing::PathStyle);
//! let client = Client::builder().with_endpoint(endpoint).build()?;
//! let request = Request::new(Method::GET)
//!     .with_bucket("examplebucket")
//!     .with_key("a.txt")
//!     .with_auth(Auth::None);
//! let response = client.send(request).await?;
//! assert_eq!(response.status, 200);
//! assert_eq!(response.request_id(), Some("r1"));
//! assert_eq!(&response.body[..], b"{\"ok\":true}");
//! # Ok(())
//! # }
//! ```
//!
//! # Design notes
//!
//! The pool is this crate's own, over `hyper::client::conn::http1` (dialing through
//! `hyper-rustls`), rather than `hyper-util`'s legacy client: there a connection returns to the
//! pool from a background task after the body ends, so the next request can race it and open a
//! second connection. Here the connection is back in the pool before [`Client::send`] returns.
//! HTTP/2 is not offered (OSS speaks HTTP/1.1 for uploads; ALPN advertises `http/1.1` only).
//!
//! # Features
//!
//! - `fuzzing` (off by default, enabled by `fuzz/`): the entry point the cargo-fuzz target
//!   calls. Not part of the API; a default build has no such module:
//!
//! ```compile_fail
//! use oss_transport::fuzzing;
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, unreachable_pub)]

mod backoff;
mod body;
mod builder;
mod client;
mod connect;
mod error;
mod file_body;
// Only for `fuzz/` (which enables the feature) and for this crate's unit tests.
#[cfg(any(feature = "fuzzing", test))]
#[doc(hidden)]
pub mod fuzzing;
mod pool;
mod request;
mod response;
mod retry;
mod send;
mod wire;

pub use backoff::Backoff;
pub use builder::{ClientBuilder, DEFAULT_MAX_RESPONSE_BODY, DEFAULT_USER_AGENT};
pub use client::Client;
pub use error::{BoxError, Error, ServiceError, TimeoutPhase};
pub use file_body::{FileRange, DEFAULT_FILE_CHUNK};
pub use oss_types::{Addressing, Endpoint, Scheme};
pub use oss_types::{CallbackFailure, ServiceFields};
pub use request::{
    Auth, Body, ByteStream, CallbackCarrier, ExpectedCrc64, OnceStream, ProgressHook, Request,
};
pub use response::{Response, ResponseBody, StreamingResponse};
pub use retry::RetryConfig;
pub use send::HttpSend;
