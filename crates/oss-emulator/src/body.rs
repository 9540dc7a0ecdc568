//! Response bodies: whole byte buffers or a stored object streamed chunk by chunk, and reading
//! request bodies with a size cap.

use std::io;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};

use crate::error::ApiError;
use crate::storage::ObjectBody;

/// The body type of every response.
pub(crate) type ResBody = UnsyncBoxBody<Bytes, io::Error>;

/// A body of known bytes.
pub(crate) fn full(data: impl Into<Bytes>) -> ResBody {
    Full::new(data.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty body.
pub(crate) fn empty() -> ResBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// Streams a stored object without holding it in memory.
pub(crate) fn stream(body: ObjectBody) -> ResBody {
    let s = futures_util::stream::unfold(body, |mut b| async move {
        match b.chunk().await {
            Ok(Some(chunk)) => Some((Ok(Frame::data(chunk)), b)),
            Ok(None) => None,
            Err(e) => Some((Err(e), b)),
        }
    });
    StreamBody::new(s).boxed_unsync()
}

/// Reads a small request body (XML, forms) whole, refusing more than `limit` bytes.
pub(crate) async fn read_small(mut body: Incoming, limit: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| client_body_error(&e))?;
        if let Ok(data) = frame.into_data() {
            if out.len() + data.len() > limit {
                return Err(ApiError::new(
                    http::StatusCode::BAD_REQUEST,
                    "EntityTooLarge",
                    None,
                    "Your proposed upload exceeds the maximum allowed size.",
                ));
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(out))
}

/// A request body that broke off mid-way.
pub(crate) fn client_body_error(e: &hyper::Error) -> ApiError {
    ApiError::new(
        http::StatusCode::BAD_REQUEST,
        "IncompleteBody",
        None,
        format!("The request body could not be read: {e}"),
    )
}
