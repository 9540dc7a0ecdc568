//! PutBucketCors, GetBucketCors, DeleteBucketCors, and the unsigned preflight `OPTIONS`.

use http::{HeaderMap, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::body::{self, ResBody};
use crate::cors::CorsConfig;
use crate::error::ApiError;
use crate::router::{respond, Ctx};
use crate::state::State;

/// Largest PutBucketCors body read.
const MAX_BODY: usize = 64 * 1024;

/// `PUT /?cors`: replaces every rule.
pub(crate) async fn put(ctx: &Ctx<'_>, body: Incoming) -> Result<Response<ResBody>, ApiError> {
    let bytes = Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map_err(|_| ApiError::malformed_xml("0006-00000101", "the CORS body could not be read"))?
        .to_bytes();
    let config = CorsConfig::parse(&bytes)?;
    ctx.state.cors.put(&ctx.bucket, config);
    Ok(respond(
        StatusCode::OK,
        vec![("content-length", "0".into())],
        body::empty(),
    ))
}

/// `GET /?cors`: the rules, or 404 `NoSuchCORSConfiguration` when none are set.
pub(crate) fn get(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    let config = ctx.state.cors.get(&ctx.bucket).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NoSuchCORSConfiguration",
            None,
            "The CORS configuration does not exist.",
        )
        .with("BucketName", ctx.bucket.as_str())
    })?;
    let xml = config.to_xml();
    Ok(respond(
        StatusCode::OK,
        vec![
            ("content-type", "application/xml".into()),
            ("content-length", xml.len().to_string()),
        ],
        body::full(xml),
    ))
}

/// `DELETE /?cors`: CORS off (204 also when it was off).
pub(crate) fn delete(ctx: &Ctx<'_>) -> Result<Response<ResBody>, ApiError> {
    ctx.state.cors.delete(&ctx.bucket);
    Ok(respond(StatusCode::NO_CONTENT, Vec::new(), body::empty()))
}

/// A preflight `OPTIONS` (unsigned, as on OSS): 200 with the matching rule's headers, else 403
/// without any `Access-Control-*` header.
pub(crate) fn preflight(
    state: &State,
    bucket: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response<ResBody>, ApiError> {
    let allowed = bucket
        .and_then(|b| state.cors.get(b))
        .and_then(|config| config.preflight(headers));
    match allowed {
        Some(mut out) => {
            out.push(("content-length", "0".into()));
            Ok(respond(StatusCode::OK, out, body::empty()))
        }
        None => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessForbidden",
            None,
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Requet-Headers are not whitelisted by the resource's CORS spec.",
        )),
    }
}
