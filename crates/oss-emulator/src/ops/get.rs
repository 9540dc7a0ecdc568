//! GetObject (with `Range`), HeadObject and DeleteObject.

use http::{Response, StatusCode};

use crate::body::{self, ResBody};
use crate::error::ApiError;
use crate::request::header;
use crate::router::{add_dynamic_headers, respond, Ctx};
use crate::storage::ObjectMeta;

/// A satisfiable byte range `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteRange {
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// Parses `Range: bytes=a-b | a- | -n` against `size`. `Ok(None)`: serve the whole object (no
/// header, or one OSS ignores: malformed or multi-range). `Err`: 416 `InvalidRange`.
pub(crate) fn parse_range(value: Option<&str>, size: u64) -> Result<Option<ByteRange>, ApiError> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ok(None),
        (true, false) => {
            let Ok(n) = b.parse::<u64>() else {
                return Ok(None);
            };
            if n == 0 || size == 0 {
                return Err(invalid_range(size));
            }
            ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            }
        }
        (false, _) => {
            let Ok(start) = a.parse::<u64>() else {
                return Ok(None);
            };
            let end = if b.is_empty() {
                size.saturating_sub(1)
            } else {
                match b.parse::<u64>() {
                    Ok(e) if e >= start => e.min(size.saturating_sub(1)),
                    _ => return Ok(None),
                }
            };
            if start >= size {
                return Err(invalid_range(size));
            }
            ByteRange { start, end }
        }
    };
    Ok(Some(range))
}

fn invalid_range(size: u64) -> ApiError {
    ApiError::new(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "InvalidRange",
        Some("0017-00000301"),
        "The requested range cannot be satisfied",
    )
    .with("ObjectSize", size.to_string())
}

fn object_headers(meta: &ObjectMeta) -> Vec<(&'static str, String)> {
    let last_modified = std::time::UNIX_EPOCH + std::time::Duration::from_secs(meta.last_modified);
    let mut h = vec![
        ("content-type", meta.content_type.clone()),
        ("etag", meta.etag.clone()),
        ("last-modified", httpdate::fmt_http_date(last_modified)),
        ("x-oss-hash-crc64ecma", meta.crc64.to_string()),
        ("accept-ranges", "bytes".into()),
        ("x-oss-storage-class", "Standard".into()),
        (
            "x-oss-object-type",
            if meta.etag.contains('-') {
                "Multipart"
            } else {
                "Normal"
            }
            .into(),
        ),
    ];
    if let Some(md5) = &meta.content_md5 {
        h.push(("content-md5", md5.clone()));
    }
    h
}

async fn lookup(ctx: &Ctx<'_>) -> Result<ObjectMeta, ApiError> {
    ctx.state
        .storage
        .head(&ctx.bucket, &ctx.key)
        .await?
        .ok_or_else(|| ApiError::no_such_key(&ctx.key))
}

/// `GET /bucket/key`: the headers and the bytes come from one opened version, so an overwrite
/// during the GET (even mid-stream) never mixes two objects.
pub(crate) async fn get(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let (meta, stored) = ctx
        .state
        .storage
        .open_object(&ctx.bucket, &ctx.key)
        .await?
        .ok_or_else(|| ApiError::no_such_key(&ctx.key))?;
    check_if_match(ctx, &meta)?;
    let range = parse_range(header(ctx.headers, "range"), meta.size)?;
    let (status, start, len) = match range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r.start, r.end - r.start + 1),
        None => (StatusCode::OK, 0, meta.size),
    };
    let body = stored.range(start, len).await?;
    let mut headers = object_headers(&meta);
    headers.push(("content-length", len.to_string()));
    if let Some(r) = range {
        headers.push((
            "content-range",
            format!("bytes {}-{}/{}", r.start, r.end, meta.size),
        ));
    }
    let mut resp = respond(status, headers, body::stream(body));
    add_dynamic_headers(&mut resp, &meta.headers);
    Ok(resp)
}

/// `If-Match` (spec §5.1): 412 `PreconditionFailed` unless it names this version's ETag (or `*`).
fn check_if_match(ctx: &Ctx<'_>, meta: &ObjectMeta) -> Result<(), ApiError> {
    let Some(wanted) = header(ctx.headers, "if-match") else {
        return Ok(());
    };
    let matches = wanted.split(',').any(|t| {
        let t = t.trim();
        t == "*" || t.trim_matches('"') == meta.etag.trim_matches('"')
    });
    if matches {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        Some("0026-00000001"),
        "At least one of the pre-conditions you specified did not hold.",
    )
    .with("Condition", "If-Match"))
}

/// `HEAD /bucket/key`.
pub(crate) async fn head(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let meta = lookup(ctx).await?;
    check_if_match(ctx, &meta)?;
    let mut headers = object_headers(&meta);
    headers.push(("content-length", meta.size.to_string()));
    let mut resp = respond(StatusCode::OK, headers, body::empty());
    add_dynamic_headers(&mut resp, &meta.headers);
    Ok(resp)
}

/// `DELETE /bucket/key`: 204 whether or not the object existed.
pub(crate) async fn delete(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    ctx.state.storage.delete(&ctx.bucket, &ctx.key).await?;
    Ok(respond(StatusCode::NO_CONTENT, vec![], body::empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |v: &str| parse_range(Some(v), 10);
        assert_eq!(
            r("bytes=2-5").unwrap(),
            Some(ByteRange { start: 2, end: 5 })
        );
        assert_eq!(r("bytes=7-").unwrap(), Some(ByteRange { start: 7, end: 9 }));
        assert_eq!(r("bytes=-3").unwrap(), Some(ByteRange { start: 7, end: 9 }));
        assert_eq!(
            r("bytes=5-100").unwrap(),
            Some(ByteRange { start: 5, end: 9 })
        );
        assert_eq!(r("bytes=5-2").unwrap(), None);
        assert_eq!(r("items=1-2").unwrap(), None);
        assert_eq!(r("bytes=10-").unwrap_err().code, "InvalidRange");
        assert_eq!(parse_range(None, 10).unwrap(), None);
    }
}
