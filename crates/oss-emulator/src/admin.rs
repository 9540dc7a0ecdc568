//! Admin endpoints under `/__emulator/` (no signature needed; the emulator is a local test tool):
//! `GET /__emulator/callbacks` (JSON list of delivered callbacks), `GET /__emulator/pubkey.pem`
//! (the callback public key), `GET /__emulator/requests` (the request log as JSON).

use http::{Method, Response, StatusCode};

use crate::body::{self, ResBody};
use crate::router::respond;
use crate::state::State;

fn json(value: String) -> Response<ResBody> {
    respond(
        StatusCode::OK,
        vec![
            ("content-type", "application/json".into()),
            ("content-length", value.len().to_string()),
        ],
        body::full(value),
    )
}

/// Answers an admin request.
pub(crate) fn handle(state: &State, method: &Method, path: &str) -> Response<ResBody> {
    if method != Method::GET && method != Method::HEAD {
        return respond(StatusCode::METHOD_NOT_ALLOWED, vec![], body::empty());
    }
    match path {
        "/__emulator/callbacks" => {
            json(serde_json::to_string(&state.callbacks()).unwrap_or_else(|_| "[]".into()))
        }
        "/__emulator/requests" => {
            json(serde_json::to_string(&state.requests()).unwrap_or_else(|_| "[]".into()))
        }
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
