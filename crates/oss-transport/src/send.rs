//! The transport seam the upload crates program against.

use futures_util::future::BoxFuture;

use crate::client::Client;
use crate::error::Error;
use crate::request::Request;
use crate::response::Response;

/// Sends a [`Request`] and returns the fully read [`Response`]: implemented by [`Client`], and by
/// test doubles in the crates built on this one.
pub trait HttpSend: Send + Sync + std::fmt::Debug {
    /// Sends the request (with whatever retries the implementation applies).
    ///
    /// # Errors
    ///
    /// The implementation's failure, as an [`Error`] (see [`Client::send`]).
    fn send(&self, request: Request) -> BoxFuture<'_, Result<Response, Error>>;
}

impl HttpSend for Client {
    fn send(&self, request: Request) -> BoxFuture<'_, Result<Response, Error>> {
        Box::pin(Client::send(self, request))
    }
}
