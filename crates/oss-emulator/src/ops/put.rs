//! PutObject.

use http::{Response, StatusCode};
use hyper::body::Incoming;

use super::{
    base64_md5, check_md5, expected_md5, finish_upload, receive, stored_request_headers, upper_hex,
};
use crate::body::ResBody;
use crate::callback;
use crate::error::ApiError;
use crate::request::header;
use crate::router::Ctx;
use crate::storage::{now_unix, ObjectMeta};

/// `PUT /bucket/key`: stores the body (streamed), answers `ETag`, `Content-MD5`,
/// `x-oss-hash-crc64ecma`, and runs the callback if one was sent.
pub(crate) async fn handle(ctx: &Ctx<'_>, body: Incoming) -> Result<Response<ResBody>, ApiError> {
    let plan = callback::from_request(ctx)?;
    let want_md5 = expected_md5(ctx.headers)?;
    let blob = receive(ctx, body).await?;
    check_md5(want_md5, &blob)?;
    let meta = ObjectMeta {
        key: ctx.key.clone(),
        size: blob.size,
        etag: format!("\"{}\"", upper_hex(&blob.md5)),
        crc64: blob.crc64,
        content_type: header(ctx.headers, "content-type")
            .unwrap_or("application/octet-stream")
            .to_owned(),
        content_md5: Some(base64_md5(&blob.md5)),
        last_modified: now_unix(),
        headers: stored_request_headers(ctx.headers),
    };
    ctx.state
        .storage
        .put_object(&ctx.bucket, meta.clone(), blob)
        .await?;
    let headers = vec![
        ("etag", meta.etag.clone()),
        ("content-md5", meta.content_md5.clone().unwrap_or_default()),
        ("x-oss-hash-crc64ecma", meta.crc64.to_string()),
    ];
    Ok(finish_upload(
        ctx,
        plan.as_ref(),
        &meta,
        "PutObject",
        headers,
        (StatusCode::OK, None),
    )
    .await)
}
