//! Admin endpoints under `/__emulator/` (no signature needed; the emulator is a local test tool):
//!
//! - `GET /__emulator/callbacks`: JSON list of delivered callbacks;
//! - `GET /__emulator/pubkey.pem`: the callback public key;
//! - `GET /__emulator/requests`: the request log as JSON;
//! - `GET /__emulator/stats`: `{"requests": S, "callbacks": S}`, each `S` being
//!   `{"capacity", "retained", "evicted"}` of that log;
//! - `GET /__emulator/uploads[?bucket=NAME]`: the multipart uploads still open (initiated,
//!   neither completed nor aborted), as a JSON list of
//!   `{"bucket", "key", "upload_id", "parts", "initiated", "initiated_unix"}` (`parts` is the
//!   number of parts stored, `initiated` RFC 3339 UTC, `initiated_unix` seconds), ordered by
//!   bucket, key, initiation, id. A suite asserts it is `[]` to prove no upload was left
//!   behind.
//!
//! The two logs are bounded ([`Ring`](crate::ring)); their list answers also carry
//! `x-oss-emulator-log-capacity` and `x-oss-emulator-log-evicted`.

use http::{Method, Response, StatusCode};

use crate::body::{self, ResBody};
use crate::request::Query;
use crate::ring::LogStats;
use crate::router::respond;
use crate::state::State;
use crate::storage::iso8601;

fn json(value: String, stats: Option<LogStats>) -> Response<ResBody> {
    let mut headers = vec![
        ("content-type", "application/json".into()),
        ("content-length", value.len().to_string()),
    ];
    if let Some(s) = stats {
        headers.push(("x-oss-emulator-log-capacity", s.capacity.to_string()));
        headers.push(("x-oss-emulator-log-evicted", s.evicted.to_string()));
    }
    respond(StatusCode::OK, headers, body::full(value))
}

/// The open uploads, as `GET /__emulator/uploads` lists them.
async fn uploads(state: &State, query: Option<&str>) -> Response<ResBody> {
    let query = Query::parse(query);
    let bucket = query.get("bucket").filter(|b| !b.is_empty());
    match state.storage.open_uploads(bucket).await {
        Ok(list) => {
            let list: Vec<_> = list
                .into_iter()
                .map(|(u, parts)| {
                    serde_json::json!({
                        "bucket": u.bucket,
                        "key": u.key,
                        "upload_id": u.upload_id,
                        "parts": parts,
                        "initiated": iso8601(u.initiated),
                        "initiated_unix": u.initiated,
                    })
                })
                .collect();
            json(serde_json::Value::from(list).to_string(), None)
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not list the open uploads");
            respond(StatusCode::INTERNAL_SERVER_ERROR, vec![], body::empty())
        }
    }
}

/// Answers an admin request.
pub(crate) async fn handle(
    state: &State,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> Response<ResBody> {
    if method != Method::GET && method != Method::HEAD {
        return respond(StatusCode::METHOD_NOT_ALLOWED, vec![], body::empty());
    }
    match path {
        "/__emulator/callbacks" => json(
            serde_json::to_string(&state.callbacks()).unwrap_or_else(|_| "[]".into()),
            Some(state.callback_stats()),
        ),
        "/__emulator/requests" => {
            let (entries, stats) = state.requests();
            json(
                serde_json::to_string(&entries).unwrap_or_else(|_| "[]".into()),
                Some(stats),
            )
        }
        "/__emulator/stats" => json(
            serde_json::json!({
                "requests": state.requests().1,
                "callbacks": state.callback_stats(),
            })
            .to_string(),
            None,
        ),
        "/__emulator/uploads" => uploads(state, query).await,
        "/__emulator/pubkey.pem" => respond(
            StatusCode::OK,
            vec![
                ("content-type", "application/x-pem-file".into()),
                ("content-length", state.public_key_pem.len().to_string()),
            ],
            body::full(state.public_key_pem.clone()),
        ),
        _ => respond(StatusCode::NOT_FOUND, vec![], body::empty()),
    }
}
