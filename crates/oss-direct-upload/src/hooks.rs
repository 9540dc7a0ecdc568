//! The application's two async hooks: who may upload (and under what constraints), and what
//! to do once OSS reports a stored object.

use std::future::Future;
use std::pin::Pin;

use http::Request;

use crate::{Rejection, UploadGrant, UploadedObject};

/// A boxed, `Send` future, so the hooks stay object-safe without a macro crate.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Authenticates a token request and grants the caller's constraints.
///
/// Implemented for any `Fn(Request<()>) -> impl Future<Output = Result<UploadGrant, Rejection>>`.
/// The request carries the method, URI, headers and extensions the service received (the body
/// of a `GET` is not read). Return [`Rejection::unauthorized`] or [`Rejection::forbidden`] to
/// refuse; the caller gets that status and JSON.
pub trait Authorize: Send + Sync + 'static {
    /// Decides for one request.
    fn authorize(&self, request: Request<()>) -> BoxFuture<Result<UploadGrant, Rejection>>;
}

impl<F, Fut> Authorize for F
where
    F: Fn(Request<()>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<UploadGrant, Rejection>> + Send + 'static,
{
    fn authorize(&self, request: Request<()>) -> BoxFuture<Result<UploadGrant, Rejection>> {
        Box::pin(self(request))
    }
}

/// Handles a verified upload callback. Its JSON answer is what OSS relays to the page; a
/// [`Rejection`] makes OSS report `CallbackFailed` (203) to the page, the object stays stored.
///
/// Implemented for any `Fn(UploadedObject) -> impl Future<Output = Result<serde_json::Value, Rejection>>`.
/// The signature carries no nonce, so a replayed callback verifies again: make it idempotent.
pub trait HandleUpload: Send + Sync + 'static {
    /// Handles one stored object.
    fn handle(&self, upload: UploadedObject) -> BoxFuture<Result<serde_json::Value, Rejection>>;
}

impl<F, Fut> HandleUpload for F
where
    F: Fn(UploadedObject) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<serde_json::Value, Rejection>> + Send + 'static,
{
    fn handle(&self, upload: UploadedObject) -> BoxFuture<Result<serde_json::Value, Rejection>> {
        Box::pin(self(upload))
    }
}
