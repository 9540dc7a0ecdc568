//! Routing: addressing → authentication → operation, and turning results (or [`ApiError`]s)
//! into responses with OSS's common headers. Every request is logged without secrets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use base64::Engine as _;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::body::{self, ResBody};
use crate::error::ApiError;
use crate::ops;
use crate::request::{self, header, Operation, Query, RequestRecord};
use crate::state::State;
use crate::{admin, auth, identity};

/// Everything an operation handler needs about its request (the body travels separately).
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a State,
    pub(crate) request_id: &'a str,
    /// The `Host` the client used (for `HostId` and `Location`).
    pub(crate) host: &'a str,
    pub(crate) bucket: String,
    /// Empty for bucket-level requests (PostObject).
    pub(crate) key: String,
    pub(crate) query: &'a Query,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) peer: SocketAddr,
}

/// 24 upper-case hex characters, like OSS's request ids.
fn new_request_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Builds a response; a header that cannot be encoded yields a plain 500 instead of a panic.
pub(crate) fn respond(
    status: StatusCode,
    headers: Vec<(&'static str, String)>,
    body: ResBody,
) -> Response<ResBody> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    for (name, value) in headers {
        match HeaderValue::from_str(&value) {
            Ok(v) => {
                resp.headers_mut().append(name, v);
            }
            Err(_) => tracing::warn!(header = name, "dropped a header value that is not valid"),
        }
    }
    resp
}

/// Like [`respond`] but with dynamic (user metadata) header names.
pub(crate) fn add_dynamic_headers(resp: &mut Response<ResBody>, headers: &[(String, String)]) {
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (
            http::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
}

/// The error XML, or for HEAD an empty body and the XML in base64 `x-oss-err`.
pub(crate) fn error_response(
    e: &ApiError,
    request_id: &str,
    host: &str,
    head: bool,
) -> Response<ResBody> {
    let xml = e.to_xml(request_id, host);
    let mut headers = vec![("content-type", "application/xml".to_owned())];
    if let Some(ec) = e.ec {
        headers.push(("x-oss-ec", ec.to_owned()));
    }
    if head {
        headers.push((
            "x-oss-err",
            base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
        ));
        respond(e.status, headers, body::empty())
    } else {
        headers.push(("content-length", xml.len().to_string()));
        respond(e.status, headers, body::full(xml))
    }
}

/// Entry point for every request.
pub(crate) async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<ResBody> {
    let started = Instant::now();
    let request_id = new_request_id();
    let (parts, body) = req.into_parts();
    let own_host = state.endpoint.trim_start_matches("http://").to_owned();
    let host = header(&parts.headers, "host")
        .unwrap_or(&own_host)
        .to_owned();
    let head = parts.method == Method::HEAD;

    let mut record = RequestRecord {
        method: parts.method.to_string(),
        bucket: None,
        key: None,
        operation: None,
        status: 0,
        request_id: request_id.clone(),
        access_key_id: None,
        range: header(&parts.headers, "range").map(str::to_owned),
        bytes_served: None,
    };
    let result = if parts.uri.path().starts_with("/__emulator/identity/") {
        Ok(identity::admin(
            state.config.identity.as_deref(),
            &parts.method,
            parts.uri.path(),
            parts.uri.query(),
        ))
    } else if parts.uri.path().starts_with("/__emulator/") {
        Ok(admin::handle(&state, &parts.method, parts.uri.path(), parts.uri.query()).await)
    } else {
        route(
            &state,
            &parts,
            body,
            peer,
            &request_id,
            &host,
            &own_host,
            &mut record,
        )
        .await
    };
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => error_response(&e, &request_id, &host, head),
    };
    // CORS headers go on every answer for the bucket, errors included (a browser cannot read
    // an error it is not allowed to see).
    state.cors.decorate(
        record.bucket.as_deref(),
        &parts.method,
        &parts.headers,
        resp.headers_mut(),
    );
    let common = [
        ("x-oss-request-id", request_id.clone()),
        ("date", httpdate::fmt_http_date(SystemTime::now())),
        ("server", "AliyunOSS".to_owned()),
    ];
    for (name, value) in common {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    record.status = resp.status().as_u16();
    if record.operation == Some(Operation::GetObject) && !head {
        record.bytes_served = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
    }
    if let Some(k) = resp.extensions_mut().remove::<request::LoggedKey>() {
        record.key = Some(k.0);
    }
    tracing::info!(
        method = %record.method,
        bucket = record.bucket.as_deref().unwrap_or(""),
        key = record.key.as_deref().unwrap_or(""),
        operation = record.operation.map(Operation::as_str).unwrap_or("-"),
        status = record.status,
        bytes_out = resp.headers().get("content-length").and_then(|v| v.to_str().ok()).unwrap_or("-"),
        elapsed_ms = started.elapsed().as_millis() as u64,
        request_id = %request_id,
        "request"
    );
    if let (Some(identity), Some(op), Some(ak)) = (
        &state.config.identity,
        record.operation,
        record.access_key_id.as_deref(),
    ) {
        identity.keys.observe(op.as_str(), record.status, ak);
    }
    if !parts.uri.path().starts_with("/__emulator/") {
        state.record_request(record);
    }
    resp
}

/// Query parameters of ListObjects (v1); a bucket GET with any other is another operation.
const LIST_V1_PARAMS: &[&str] = &["prefix", "delimiter", "marker", "max-keys", "encoding-type"];

fn classify(method: &Method, has_key: bool, query: &Query) -> Operation {
    match (method.as_str(), has_key) {
        ("PUT", false) if query.has("cors") => Operation::PutBucketCors,
        ("GET", false) if query.has("cors") => Operation::GetBucketCors,
        ("DELETE", false) if query.has("cors") => Operation::DeleteBucketCors,
        ("PUT", true) if query.has("partNumber") || query.has("uploadId") => Operation::UploadPart,
        ("PUT", true) => Operation::PutObject,
        ("PUT", false) if query.0.is_empty() => Operation::PutBucket,
        ("DELETE", false) if query.0.is_empty() => Operation::DeleteBucket,
        ("GET", false) if query.has("bucketInfo") => Operation::GetBucketInfo,
        ("GET", false) if query.has("uploads") => Operation::ListMultipartUploads,
        ("GET", false) if query.get("list-type") == Some("2") => Operation::ListObjectsV2,
        ("GET", false)
            if query
                .0
                .iter()
                .all(|(k, _)| LIST_V1_PARAMS.contains(&k.as_str())) =>
        {
            Operation::ListObjects
        }
        ("POST", false) if query.has("delete") => Operation::DeleteMultipleObjects,
        ("GET", true) if query.has("uploadId") => Operation::ListParts,
        ("GET", true) => Operation::GetObject,
        ("HEAD", true) => Operation::HeadObject,
        ("DELETE", true) if query.has("uploadId") => Operation::AbortMultipartUpload,
        ("DELETE", true) => Operation::DeleteObject,
        ("POST", true) if query.has("uploads") => Operation::InitiateMultipartUpload,
        ("POST", true) if query.has("uploadId") => Operation::CompleteMultipartUpload,
        _ => Operation::Unsupported,
    }
}

/// 501 `NotImplemented`, answered only after the request's signature verified.
fn not_implemented(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "NotImplemented",
        None,
        format!("The emulator does not implement {what}."),
    )
}

/// Authenticates, then runs the operation. The only requests that skip the signature check are
/// the ones OSS itself answers unsigned: a CORS preflight and PostObject, whose signature is in
/// the form body and is checked there before anything is stored. Nothing else (not even a
/// "not implemented" answer) is decided before [`auth::verify`] passes.
#[allow(clippy::too_many_arguments)]
async fn route(
    state: &State,
    parts: &http::request::Parts,
    body: Incoming,
    peer: SocketAddr,
    request_id: &str,
    host: &str,
    own_host: &str,
    record: &mut RequestRecord,
) -> Result<Response<ResBody>, ApiError> {
    let target = request::resolve_target(Some(host), parts.uri.path(), own_host)?;
    let query = Query::parse(parts.uri.query());
    record.bucket = target.bucket.clone();
    record.key = target.key.clone();
    if parts.method == Method::OPTIONS
        && parts.headers.contains_key("access-control-request-method")
    {
        return ops::cors::preflight(state, target.bucket.as_deref(), &parts.headers);
    }
    let is_form = header(&parts.headers, "content-type")
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    if let Some(bucket) = &target.bucket {
        if parts.method == Method::POST && target.key.is_none() && is_form {
            record.operation = Some(Operation::PostObject);
            let ctx = Ctx {
                state,
                request_id,
                host,
                bucket: bucket.clone(),
                key: String::new(),
                query: &query,
                headers: &parts.headers,
                peer,
            };
            request::check_bucket(&ctx.bucket)?;
            state.buckets.require(&ctx.bucket)?;
            let mut signed_by = None;
            let result = ops::post_object::handle(&ctx, body, &mut signed_by).await;
            record.access_key_id = signed_by;
            return result;
        }
    }
    let op = match &target.bucket {
        None if parts.method == Method::GET => Operation::ListBuckets,
        _ => classify(&parts.method, target.key.is_some(), &query),
    };
    record.operation = Some(op);
    record.access_key_id = auth::claimed_access_key_id(&parts.headers, &query);
    let principal = auth::verify(
        &state.config,
        &parts.method,
        target.bucket.as_deref(),
        target.key.as_deref(),
        &query,
        &parts.headers,
        SystemTime::now(),
    )?;
    let Some(bucket) = target.bucket else {
        if op == Operation::ListBuckets {
            let ctx = Ctx {
                state,
                request_id,
                host,
                bucket: String::new(),
                key: String::new(),
                query: &query,
                headers: &parts.headers,
                peer,
            };
            return ops::bucket::list_buckets(&ctx);
        }
        return Err(not_implemented("service-level operations"));
    };
    let ctx = Ctx {
        state,
        request_id,
        host,
        bucket,
        key: target.key.clone().unwrap_or_default(),
        query: &query,
        headers: &parts.headers,
        peer,
    };
    request::check_bucket(&ctx.bucket)?;
    if target.key.is_some() {
        request::check_key(&ctx.key)?;
    }
    // A session policy limits object writes (OSS authorises every multipart step as
    // oss:PutObject).
    if matches!(
        op,
        Operation::PutObject
            | Operation::InitiateMultipartUpload
            | Operation::UploadPart
            | Operation::CompleteMultipartUpload
    ) {
        principal.check_write(&ctx.bucket, &ctx.key)?;
    }
    // Bucket operations decide for themselves what a missing bucket means.
    if !matches!(
        op,
        Operation::PutBucket | Operation::DeleteBucket | Operation::GetBucketInfo
    ) {
        state.buckets.require(&ctx.bucket)?;
    }
    match op {
        Operation::PutBucketCors => ops::cors::put(&ctx, body).await,
        Operation::GetBucketCors => ops::cors::get(&ctx),
        Operation::DeleteBucketCors => ops::cors::delete(&ctx),
        Operation::PutObject => ops::put::handle(&ctx, body).await,
        Operation::GetObject => ops::get::get(&ctx).await,
        Operation::HeadObject => ops::get::head(&ctx).await,
        Operation::DeleteObject => ops::get::delete(&ctx).await,
        Operation::InitiateMultipartUpload => ops::multipart::initiate(&ctx).await,
        Operation::UploadPart => ops::multipart::upload_part(&ctx, body).await,
        Operation::CompleteMultipartUpload => ops::multipart::complete(&ctx, body).await,
        Operation::AbortMultipartUpload => ops::multipart::abort(&ctx).await,
        Operation::ListParts => ops::multipart::list_parts(&ctx).await,
        Operation::PutBucket => ops::bucket::put_bucket(&ctx),
        Operation::DeleteBucket => ops::bucket::delete_bucket(&ctx).await,
        Operation::GetBucketInfo => ops::bucket::get_bucket_info(&ctx),
        Operation::ListObjects => ops::list::list_objects(&ctx, false).await,
        Operation::ListObjectsV2 => ops::list::list_objects(&ctx, true).await,
        Operation::ListMultipartUploads => ops::list::list_uploads(&ctx).await,
        Operation::DeleteMultipleObjects => ops::delete_multiple::handle(&ctx, body).await,
        _ if is_standard_method(&parts.method) => Err(not_implemented(&format!(
            "this {} operation",
            if target.key.is_some() {
                "object"
            } else {
                "bucket"
            }
        ))),
        _ => Err(ApiError::method_not_allowed(
            parts.method.as_str(),
            if target.key.is_some() {
                "Object"
            } else {
                "Bucket"
            },
        )),
    }
}

/// Methods OSS has operations for; any other method is 405 `MethodNotAllowed`.
fn is_standard_method(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::PUT,
        Method::POST,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method)
}
