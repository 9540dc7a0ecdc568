//! The transport seam the upload crates program against.

use futures_util::future::BoxFuture;

use crate::client::Client;
use crate::error::Error;
use crate::request::Request;
use crate::response::{Response, StreamingResponse};

/// Sends a [`Request`]: implemented by [`Client`], and by test doubles in the crates built on
/// this one.
///
/// **The expected-CRC contract.** A request may carry an expected CRC-64
/// ([`Request::with_expected_crc64`]). A sender either compares it itself, on every 2xx
/// answer and before deciding to retry, and says so with [`HttpSend::compares_crc64`]
/// returning `true` (then a mismatch is [`Error::CrcMismatch`]); or it returns `false` (the
/// default) and the caller compares the answer once itself. Either way each answer is compared
/// exactly once.
pub trait HttpSend: Send + Sync + std::fmt::Debug {
    /// Sends the request (with whatever retries the implementation applies) and returns the
    /// fully read 2xx answer.
    ///
    /// # Errors
    ///
    /// The implementation's failure, as an [`Error`] (see [`Client::send`]).
    fn send(&self, request: Request) -> BoxFuture<'_, Result<Response, Error>>;

    /// Sends the request and returns the 2xx answer with a body the caller reads (GetObject,
    /// downloads). Default: [`HttpSend::send`], its body yielded in one chunk.
    ///
    /// # Errors
    ///
    /// As [`HttpSend::send`].
    fn send_streaming(&self, request: Request) -> BoxFuture<'_, Result<StreamingResponse, Error>> {
        Box::pin(async move { self.send(request).await.map(StreamingResponse::from) })
    }

    /// Whether [`HttpSend::send`] compares the request's expected CRC-64 itself (see the
    /// trait's contract). Default: `false`.
    fn compares_crc64(&self) -> bool {
        false
    }
}

impl HttpSend for Client {
    fn send(&self, request: Request) -> BoxFuture<'_, Result<Response, Error>> {
        Box::pin(Client::send(self, request))
    }

    fn send_streaming(&self, request: Request) -> BoxFuture<'_, Result<StreamingResponse, Error>> {
        Box::pin(Client::send_streaming(self, request))
    }

    /// `true`: the comparison happens in the attempt, so a mismatch is retried.
    fn compares_crc64(&self) -> bool {
        true
    }
}
