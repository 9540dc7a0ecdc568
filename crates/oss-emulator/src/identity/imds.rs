//! The mock ECS instance metadata service (credentials spec §4): the hardened-mode token,
//! role discovery and the role's credentials JSON, over plain HTTP like the real one.

use std::time::SystemTime;

use http::{HeaderMap, Method, StatusCode};

use super::keys::oss_credentials_iso;
use super::Identity;
use crate::body::{self, ResBody};
use crate::request::header;
use crate::router::respond;

const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";
const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
const TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
/// The real service's maximum token lifetime.
const MAX_TTL: u32 = 21600;

fn text(status: StatusCode, body: impl Into<String>) -> http::Response<ResBody> {
    let body = body.into();
    respond(
        status,
        vec![
            ("content-type", "text/plain".to_owned()),
            ("content-length", body.len().to_string()),
        ],
        body::full(body),
    )
}

/// Answers one IMDS request.
pub(crate) fn handle(
    identity: &Identity,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> http::Response<ResBody> {
    if path == "/latest/api/token" {
        if method != Method::PUT {
            return text(StatusCode::METHOD_NOT_ALLOWED, "the token is issued by PUT");
        }
        let ttl = header(headers, TTL_HEADER).and_then(|v| v.trim().parse::<u32>().ok());
        return match ttl {
            Some(t) if (1..=MAX_TTL).contains(&t) => {
                text(StatusCode::OK, identity.new_imds_token())
            }
            _ => text(
                StatusCode::BAD_REQUEST,
                format!("{TTL_HEADER} must be 1..{MAX_TTL}"),
            ),
        };
    }
    if method != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET is served here");
    }
    // A token is optional (v1 mode), but one that was never issued is refused, as a stale
    // token is by the real service.
    if let Some(token) = header(headers, TOKEN_HEADER) {
        if !identity.imds_token_known(token) {
            return text(StatusCode::UNAUTHORIZED, "the metadata token is not valid");
        }
    }
    let Some(rest) = path.strip_prefix(CREDENTIALS_PATH) else {
        return text(StatusCode::NOT_FOUND, "not found");
    };
    if rest.is_empty() {
        return text(StatusCode::OK, identity.role_name.clone());
    }
    if rest != identity.role_name {
        return text(StatusCode::NOT_FOUND, "not found");
    }
    let now = SystemTime::now();
    let key = identity.keys.imds_current(&identity.role_arn(), now);
    let json = serde_json::json!({
        "AccessKeyId": key.access_key_id,
        "AccessKeySecret": key.secret.expose(),
        "Expiration": oss_credentials_iso(key.expires_at),
        "SecurityToken": key.token.expose(),
        "LastUpdated": oss_credentials_iso(now),
        "Code": "Success",
    })
    .to_string();
    respond(
        StatusCode::OK,
        vec![
            ("content-type", "application/json".to_owned()),
            ("content-length", json.len().to_string()),
        ],
        body::full(json),
    )
}
