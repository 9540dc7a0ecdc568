//! The object operations, one file per group, and what they share: receiving a body into
//! storage, `Content-MD5` checks, ETags, stored headers and callback system values.

pub(crate) mod bucket;
pub(crate) mod cors;
pub(crate) mod delete_multiple;
pub(crate) mod get;
pub(crate) mod list;
pub(crate) mod multipart;
pub(crate) mod post_object;
pub(crate) mod post_redirect;
pub(crate) mod put;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use oss_callback::SystemValues;

use crate::body::{self, client_body_error, ResBody};
use crate::callback::{self, Plan, Upload};
use crate::error::ApiError;
use crate::request::header;
use crate::router::{respond, Ctx};
use crate::storage::{Blob, ObjectMeta};

/// Largest single-request object (PutObject / PostObject / one part): 5 GiB.
pub(crate) const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// Streams a request body into a new blob (never held whole in memory on disk storage).
pub(crate) async fn receive(ctx: &Ctx<'_>, mut body: Incoming) -> Result<Blob, ApiError> {
    let mut writer = ctx.state.storage.blob_writer().await?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| client_body_error(&e))?;
        if let Ok(data) = frame.into_data() {
            if writer.size() + data.len() as u64 > MAX_OBJECT_SIZE {
                return Err(entity_too_large());
            }
            writer.write(data).await?;
        }
    }
    Ok(writer.finish().await?)
}

/// 400 `EntityTooLarge`.
pub(crate) fn entity_too_large() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "EntityTooLarge",
        None,
        "Your proposed upload exceeds the maximum allowed size.",
    )
}

/// Parses `Content-MD5` (400 `InvalidDigest` 0017-00000502 when malformed).
pub(crate) fn expected_md5(headers: &HeaderMap) -> Result<Option<[u8; 16]>, ApiError> {
    let Some(value) = header(headers, "content-md5") else {
        return Ok(None);
    };
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "InvalidDigest",
                Some("0017-00000502"),
                "The Content-MD5 you specified is not valid.",
            )
            .with("Content-MD5", value)
        })
}

/// Compares the body's MD5 with `Content-MD5` (400 `InvalidDigest` 0017-00000503).
pub(crate) fn check_md5(expected: Option<[u8; 16]>, blob: &Blob) -> Result<(), ApiError> {
    check_md5_digest(expected, &blob.md5)
}

/// Compares a body's MD5 with `Content-MD5` (400 `InvalidDigest` 0017-00000503).
pub(crate) fn check_md5_digest(expected: Option<[u8; 16]>, got: &[u8; 16]) -> Result<(), ApiError> {
    match expected {
        Some(want) if want != *got => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidDigest",
            Some("0017-00000503"),
            "The Content-MD5 you specified did not match what we received.",
        )
        .with("Content-MD5", base64_md5(&want))
        .with("CalculatedMD5", base64_md5(got))),
        _ => Ok(()),
    }
}

/// Base64 of an MD5 (`Content-MD5` form).
pub(crate) fn base64_md5(md5: &[u8; 16]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5)
}

/// Upper-case hex.
pub(crate) fn upper_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Headers stored with an object and returned by GET/HEAD.
pub(crate) fn stored_headers<'a>(
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    const KEPT: &[&str] = &[
        "cache-control",
        "content-disposition",
        "content-encoding",
        "content-language",
        "expires",
    ];
    pairs
        .filter(|(n, _)| n.starts_with("x-oss-meta-") || KEPT.contains(n))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// Stored headers of a request's header map.
pub(crate) fn stored_request_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    stored_headers(
        headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))),
    )
}

/// The callback system values of a stored object.
pub(crate) fn system_values(ctx: &Ctx<'_>, meta: &ObjectMeta, operation: &str) -> SystemValues {
    SystemValues {
        bucket: ctx.bucket.clone(),
        object: meta.key.clone(),
        etag: meta.etag.trim_matches('"').to_owned(),
        size: meta.size.to_string(),
        mime_type: meta.content_type.clone(),
        crc64: meta.crc64.to_string(),
        content_md5: meta.content_md5.clone().unwrap_or_default(),
        client_ip: ctx.peer.ip().to_string(),
        req_id: ctx.request_id.to_owned(),
        operation: operation.to_owned(),
        ..SystemValues::default()
    }
}

/// The reply of an upload that may carry a callback: `ok` (status + body) without one, the
/// callback server's JSON with 200 when it accepted, or 203 `CallbackFailed` XML. The upload's
/// headers are on all three.
pub(crate) async fn finish_upload(
    ctx: &Ctx<'_>,
    plan: Option<&Plan>,
    meta: &ObjectMeta,
    operation: &str,
    mut headers: Vec<(&'static str, String)>,
    ok: (StatusCode, Option<(String, &'static str)>),
) -> Response<ResBody> {
    let (status, reply) = match plan {
        None => {
            let (status, body) = ok;
            match body {
                Some((text, ctype)) => {
                    headers.push(("content-type", ctype.into()));
                    (status, Some(Bytes::from(text)))
                }
                None => (status, None),
            }
        }
        Some(plan) => {
            let values = system_values(ctx, meta, operation);
            let upload = Upload {
                bucket: &ctx.bucket,
                key: &meta.key,
                operation,
            };
            match callback::execute(ctx.state, plan, &values, &upload).await {
                Ok(answer) => {
                    headers.push(("content-type", "application/json".into()));
                    (StatusCode::OK, Some(answer))
                }
                Err(e) => {
                    let xml = e.to_xml(ctx.request_id, ctx.host);
                    headers.push(("content-type", "application/xml".into()));
                    if let Some(ec) = e.ec {
                        headers.push(("x-oss-ec", ec.into()));
                    }
                    (e.status, Some(Bytes::from(xml)))
                }
            }
        }
    };
    if status != StatusCode::NO_CONTENT {
        let len = reply.as_ref().map(Bytes::len).unwrap_or(0);
        headers.push(("content-length", len.to_string()));
    }
    let body = match reply {
        Some(b) if status != StatusCode::NO_CONTENT => body::full(b),
        _ => body::empty(),
    };
    respond(status, headers, body)
}
