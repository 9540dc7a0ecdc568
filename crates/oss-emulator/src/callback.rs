//! Upload callbacks: decoding what the uploader sent (with oss-callback's carrier decoding),
//! resolving the body template with the stored object's values, and delivering a signed POST to
//! each URL in turn, the way OSS does (RSA MD5withRSA `authorization`, base64 `x-oss-pub-key-url`,
//! a 200 JSON answer of at most 3 MB within the timeout, else 203 `CallbackFailed`).

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use oss_callback::{Callback, CallbackBodyType, CallbackVars, SystemValues};
use serde::Serialize;

use crate::error::ApiError;
use crate::router::Ctx;
use crate::state::State;

/// Largest callback answer accepted, in bytes (OSS documents 3 MB).
pub const MAX_CALLBACK_RESPONSE: usize = 3 * 1024 * 1024;

/// Outcome of one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CallbackOutcome {
    /// The server answered 200 with a JSON body.
    Delivered,
    /// Anything else: connection failure, timeout, non-200, non-JSON, too large.
    Failed,
}

/// One callback POST the emulator made (one entry per URL tried), as listed by
/// [`Emulator::callbacks`](crate::Emulator::callbacks) and `GET /__emulator/callbacks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DeliveredCallback {
    /// The callback URL.
    pub url: String,
    /// The request body sent (the resolved template).
    pub body: String,
    /// The callback server's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Delivered or failed.
    pub outcome: CallbackOutcome,
    /// Why it failed (the `CallbackFailed` message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The callback server's answer, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    /// Bucket of the upload.
    pub bucket: String,
    /// Key of the upload.
    pub key: String,
    /// `PutObject`, `PostObject` or `CompleteMultipartUpload`.
    pub operation: String,
}

/// A validated callback waiting for its object to be stored.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    callback: Callback,
    vars: CallbackVars,
}

fn to_api_error(e: &oss_callback::Error, field: &str, raw: &str) -> ApiError {
    // oss-callback leaves the ECs errors.md marks "likely" unset; the emulator picks them.
    let ec = e.oss_ec().or(match e {
        oss_callback::Error::UnsupportedBodyType(_) => Some("0007-00000013"),
        _ => None,
    });
    let message = match ec {
        Some("0007-00000003") => "The callback configuration is not json format.".to_owned(),
        _ => e.to_string(),
    };
    ApiError::invalid_argument(ec, message, field, raw)
}

fn raw_callback(ctx: &Ctx<'_>) -> String {
    crate::request::header(ctx.headers, "x-oss-callback")
        .or_else(|| ctx.query.get("callback"))
        .unwrap_or("")
        .to_owned()
}

/// The callback of a PutObject / CompleteMultipartUpload (headers or query), validated before
/// anything is stored.
pub(crate) fn from_request(ctx: &Ctx<'_>) -> Result<Option<Plan>, ApiError> {
    let decoded = oss_callback::decode_request(ctx.headers, &ctx.query.0)
        .map_err(|e| to_api_error(&e, "callback", &raw_callback(ctx)))?;
    match decoded {
        Some(d) => validate(ctx.state, d.callback, d.vars).map(Some),
        None => Ok(None),
    }
}

/// The callback of a PostObject (form fields). A `callback` header or query parameter next to
/// form fields is a mix of carriers (400 `InvalidArgument`).
pub(crate) fn from_form(
    ctx: &Ctx<'_>,
    fields: &[(String, String)],
) -> Result<Option<Plan>, ApiError> {
    let in_form = fields.iter().any(|(k, _)| k == "callback");
    let elsewhere = ctx.headers.contains_key("x-oss-callback") || ctx.query.has("callback");
    if in_form && elsewhere {
        return Err(ApiError::invalid_argument(
            Some("0007-00000027"),
            "The callback is given by more than one of header, URL and form.",
            "callback",
            "",
        ));
    }
    if !in_form && elsewhere {
        return from_request(ctx);
    }
    let raw = fields
        .iter()
        .find(|(k, _)| k == "callback")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    match oss_callback::decode_form(fields).map_err(|e| to_api_error(&e, "callback", raw))? {
        Some((callback, vars)) => validate(ctx.state, callback, vars).map(Some),
        None => Ok(None),
    }
}

fn validate(state: &State, callback: Callback, vars: CallbackVars) -> Result<Plan, ApiError> {
    let Some(template) = callback.template() else {
        return Err(ApiError::invalid_argument(
            None,
            "The emulator does not support bucket callback policies.",
            "callback",
            callback.policy_name().unwrap_or(""),
        ));
    };
    if callback.body_type() == CallbackBodyType::Json {
        template
            .check_json()
            .map_err(|e| to_api_error(&e, "callback", &callback.to_json()))?;
    }
    if state.config.strict_callback_urls {
        for url in callback.urls() {
            if is_private_host(url) {
                return Err(ApiError::invalid_argument(
                    Some("0007-00000008"),
                    "The callback url host is a private or loopback address.",
                    "callbackUrl",
                    url,
                ));
            }
        }
    }
    Ok(Plan { callback, vars })
}

fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    authority
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(authority)
}

fn is_private_host(url: &str) -> bool {
    let host = url_host(url);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => {
            ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified()
        }
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => false,
    }
}

/// Where the callback is for, to fill the delivery log.
#[derive(Debug)]
pub(crate) struct Upload<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) operation: &'a str,
}

/// Resolves the body and POSTs it to each URL until one accepts. `Ok(answer)` is the callback
/// server's body (the uploader gets it with 200); `Err` is the 203 `CallbackFailed` reply.
pub(crate) async fn execute(
    state: &State,
    plan: &Plan,
    values: &SystemValues,
    upload: &Upload<'_>,
) -> Result<Bytes, ApiError> {
    let Some(template) = plan.callback.template() else {
        return Err(ApiError::callback_failed(
            "0007-00000203",
            "No callback body.",
        ));
    };
    let body_type = plan.callback.body_type();
    let body = template
        .resolve(values, &plan.vars, body_type)
        .map_err(|e| ApiError::callback_failed("0007-00000203", e.to_string()))?;
    let mut last = ApiError::callback_failed("0007-00000203", "No callback URL.");
    for url in plan.callback.urls() {
        let attempt = deliver(state, &plan.callback, url, &body).await;
        let record = DeliveredCallback {
            url: url.clone(),
            body: body.clone(),
            status: attempt.status,
            outcome: if attempt.result.is_ok() {
                CallbackOutcome::Delivered
            } else {
                CallbackOutcome::Failed
            },
            error: attempt.result.as_ref().err().map(|e| e.message.clone()),
            response_body: attempt
                .response
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            bucket: upload.bucket.to_owned(),
            key: upload.key.to_owned(),
            operation: upload.operation.to_owned(),
        };
        tracing::info!(url = %url, outcome = ?record.outcome, status = ?record.status, "callback");
        state.record_callback(record);
        match attempt.result {
            Ok(()) => return Ok(attempt.response.unwrap_or_default()),
            Err(e) => last = e,
        }
    }
    Err(last)
}

struct Attempt {
    status: Option<u16>,
    response: Option<Bytes>,
    result: Result<(), ApiError>,
}

fn cannot_connect() -> ApiError {
    ApiError::callback_failed(
        "0007-00000203",
        "Error status : -1. OSS can not connect to your callbackUrl, please check it.",
    )
}

async fn deliver(state: &State, callback: &Callback, url: &str, body: &str) -> Attempt {
    let failed = |e: ApiError| Attempt {
        status: None,
        response: None,
        result: Err(e),
    };
    let full_url = if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let Ok(uri) = full_url.parse::<http::Uri>() else {
        return failed(cannot_connect());
    };
    if uri.scheme_str() != Some("http") {
        // The emulator's client speaks plain HTTP only.
        return failed(cannot_connect());
    }
    let Some(authority) = uri.authority().map(|a| a.as_str().to_owned()) else {
        return failed(cannot_connect());
    };
    let path = uri.path().to_owned();
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    let signature =
        match oss_callback::sign_callback(&state.rsa_key, &path, &query, body.as_bytes()) {
            Ok(s) => s,
            Err(e) => return failed(ApiError::callback_failed("0007-00000203", e.to_string())),
        };
    let pub_key_url = base64::engine::general_purpose::STANDARD.encode(state.public_key_url());
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("host", callback.host().unwrap_or(&authority))
        .header("content-type", callback.body_type().as_mime())
        .header("content-length", body.len().to_string())
        .header("authorization", signature)
        .header("x-oss-pub-key-url", pub_key_url)
        .header("user-agent", "ehttp-client/0.0.1")
        .header("connection", "close");
    for (name, value) in callback.additional_headers() {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let Ok(request) = builder.body(Full::new(Bytes::from(body.to_owned()))) else {
        return failed(cannot_connect());
    };
    let timeout = state.config.callback_timeout;
    match tokio::time::timeout(timeout, exchange(state, request)).await {
        Err(_) => failed(too_slow(timeout)),
        Ok(Err(e)) => failed(e),
        Ok(Ok((status, answer))) => judge(status, answer),
    }
}

fn too_slow(timeout: Duration) -> ApiError {
    let _ = timeout;
    ApiError::callback_failed("0007-00000202", "Cost too long time")
}

async fn exchange(
    state: &State,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Result<Bytes, ()>), ApiError> {
    let resp = state.client.request(request).await.map_err(|e| {
        tracing::debug!(error = %e, "callback connection failed");
        cannot_connect()
    })?;
    let status = resp.status();
    let body = Limited::new(resp.into_body(), MAX_CALLBACK_RESPONSE)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|_| ());
    Ok((status, body))
}

fn judge(status: StatusCode, answer: Result<Bytes, ()>) -> Attempt {
    let code = Some(status.as_u16());
    let Ok(answer) = answer else {
        return Attempt {
            status: code,
            response: None,
            result: Err(ApiError::callback_failed(
                "0007-00000203",
                "Error Status : 400.User server return too long content-length value",
            )),
        };
    };
    let result = if status != StatusCode::OK {
        Err(ApiError::callback_failed(
            "0007-00000203",
            format!("Error status : {}.", status.as_u16()),
        ))
    } else if serde_json::from_slice::<serde::de::IgnoredAny>(&answer).is_err() {
        Err(ApiError::callback_failed(
            "0007-00000205",
            "Response body is not valid json format.",
        ))
    } else {
        Ok(())
    };
    Attempt {
        status: code,
        response: Some(answer),
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_hosts() {
        assert!(is_private_host("http://127.0.0.1:8080/cb"));
        assert!(is_private_host("10.1.2.3/x"));
        assert!(is_private_host("http://localhost/"));
        assert!(!is_private_host("http://example.com/cb"));
        assert!(!is_private_host("8.8.8.8:9090"));
    }

    #[test]
    fn judge_rules() {
        assert!(judge(StatusCode::OK, Ok(Bytes::from_static(b"{\"a\":1}")))
            .result
            .is_ok());
        let e = judge(StatusCode::OK, Ok(Bytes::from_static(b"OK")))
            .result
            .unwrap_err();
        assert_eq!(e.ec, Some("0007-00000205"));
        let e = judge(StatusCode::INTERNAL_SERVER_ERROR, Ok(Bytes::new()))
            .result
            .unwrap_err();
        assert_eq!(e.message, "Error status : 500.");
        assert_eq!(e.status, StatusCode::NON_AUTHORITATIVE_INFORMATION);
    }
}
