//! Admin endpoints under `/__emulator/` (no signature needed; the emulator is a local test tool):
//! `GET /__emulator/callbacks` (JSON list of delivered callbacks), `GET /__emulator/pubkey.pem`
//! (the callback public key), `GET /__emulator/requests` (the request log as JSON) and
//! `GET /__emulator/stats` (capacity, retained and evicted entries of both logs). The two logs
//! are bounded ([`Ring`](crate::ring)); their list answers also carry
//! `x-oss-emulator-log-capacity` and `x-oss-emulator-log-evicted`.

use http::{Method, Response, StatusCode};

use crate::body::{self, ResBody};
use crate::ring::LogStats;
use crate::router::respond;
use crate::state::State;

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

/// Answers an admin request.
pub(crate) fn handle(state: &State, method: &Method, path: &str) -> Response<ResBody> {
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
