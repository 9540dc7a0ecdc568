//! The mock STS (credentials spec §5): AssumeRole verified with RPC signature v1 against the
//! emulator's long-term AccessKey (or a temporary key with its `SecurityToken`, for role
//! chaining), and AssumeRoleWithOIDC accepted with the configured token. Parameters come from
//! the query and a form body alike, as the official libraries send either.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::StatusCode;
use oss_credentials::rpc;
use percent_encoding::percent_decode_str;

use super::keys::{oss_credentials_iso, Origin, SessionPolicy};
use super::Identity;
use crate::body::{self, ResBody};
use crate::router::respond;

const MIN_DURATION: u64 = 900;
const MAX_DURATION: u64 = 43200;

/// An STS error: HTTP status, `Code` and `Message`.
struct StsError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn err(status: StatusCode, code: &'static str, message: impl Into<String>) -> StsError {
    StsError {
        status,
        code,
        message: message.into(),
    }
}

fn json_response(status: StatusCode, value: &serde_json::Value) -> http::Response<ResBody> {
    let text = value.to_string();
    respond(
        status,
        vec![
            ("content-type", "application/json;charset=utf-8".to_owned()),
            ("content-length", text.len().to_string()),
        ],
        body::full(text),
    )
}

/// Decodes `application/x-www-form-urlencoded` pairs (`+` is a space).
pub(crate) fn decode_form(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &'static str) -> Result<&str, StsError> {
        self.get(name).ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                "MissingParameter",
                format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
            )
        })
    }
}

/// Answers one STS request (`method` `GET` or `POST` on `/`).
pub(crate) fn handle(
    identity: &Identity,
    method: &http::Method,
    query: Option<&str>,
    body: &Bytes,
) -> http::Response<ResBody> {
    let request_id = crate::identity::request_id();
    let mut params = decode_form(query.unwrap_or(""));
    if let Ok(text) = std::str::from_utf8(body) {
        params.extend(decode_form(text));
    }
    let params = Params(params);
    let result = match params.get("Action") {
        Some("AssumeRole") => assume_role(identity, method, &params),
        Some("AssumeRoleWithOIDC") => assume_role_with_oidc(identity, &params),
        Some(other) => Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidAction.NotFound",
            format!("Specified api {other} is not found, please check your url and method."),
        )),
        None => params.require("Action").map(|_| serde_json::Value::Null),
    };
    match result {
        Ok(mut value) => {
            value["RequestId"] = serde_json::Value::String(request_id);
            json_response(StatusCode::OK, &value)
        }
        Err(e) => {
            tracing::info!(
                code = e.code,
                status = e.status.as_u16(),
                "mock STS refused a request"
            );
            json_response(
                e.status,
                &serde_json::json!({
                    "RequestId": request_id,
                    "HostId": "sts.aliyuncs.com",
                    "Code": e.code,
                    "Message": e.message,
                }),
            )
        }
    }
}

fn check_role_arn(arn: &str) -> Result<(), StsError> {
    let ok = arn
        .strip_prefix("acs:ram::")
        .and_then(|r| r.split_once(":role/"))
        .is_some_and(|(account, role)| {
            !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) && !role.is_empty()
        });
    if ok {
        Ok(())
    } else {
        Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        ))
    }
}

fn duration(params: &Params) -> Result<Duration, StsError> {
    let secs = match params.get("DurationSeconds") {
        None => 3600,
        Some(v) => v.parse::<u64>().map_err(|_| {
            err(
                StatusCode::BAD_REQUEST,
                "InvalidParameter.DurationSeconds",
                "The parameter DurationSeconds is not a number.",
            )
        })?,
    };
    if !(MIN_DURATION..=MAX_DURATION).contains(&secs) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidParameter.DurationSeconds",
            format!(
                "The DurationSeconds must be between {MIN_DURATION} and {MAX_DURATION} seconds."
            ),
        ));
    }
    Ok(Duration::from_secs(secs))
}

fn policy(params: &Params) -> Result<Option<SessionPolicy>, StsError> {
    params
        .get("Policy")
        .map(|p| {
            SessionPolicy::parse(p).map_err(|e| {
                err(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameter.PolicyGrammar",
                    format!(
                        "The parameter Policy has not passed grammar check: {}.",
                        e.0
                    ),
                )
            })
        })
        .transpose()
}

fn issued(
    identity: &Identity,
    origin: Origin,
    role_arn: &str,
    session: &str,
    lifetime: Duration,
    policy: Option<SessionPolicy>,
) -> serde_json::Value {
    let key = identity
        .keys
        .issue(origin, role_arn, Some(lifetime), policy, SystemTime::now());
    serde_json::json!({
        "AssumedRoleUser": {
            "Arn": format!("{role_arn}/{session}"),
            "AssumedRoleId": format!("300000000000000000:{session}"),
        },
        "Credentials": {
            "AccessKeyId": key.access_key_id,
            "AccessKeySecret": key.secret.expose(),
            "SecurityToken": key.token.expose(),
            "Expiration": oss_credentials_iso(key.expires_at),
        },
    })
}

fn assume_role(
    identity: &Identity,
    method: &http::Method,
    params: &Params,
) -> Result<serde_json::Value, StsError> {
    let ak = params.require("AccessKeyId")?;
    let given = params.require("Signature")?;
    if params.get("SignatureMethod") != Some(rpc::SIGNATURE_METHOD)
        || params.get("SignatureVersion") != Some(rpc::SIGNATURE_VERSION)
    {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidSignatureMethod",
            "The mock STS verifies SignatureMethod HMAC-SHA1, SignatureVersion 1.0 only.",
        ));
    }
    let nonce = params.require("SignatureNonce")?;
    let timestamp = params.require("Timestamp")?;
    let signed_at =
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .map(SystemTime::from)
            .map_err(|_| {
                err(
                    StatusCode::BAD_REQUEST,
                    "InvalidTimeStamp.Format",
                    "Specified time stamp or date value is not well formatted.",
                )
            })?;
    let now = SystemTime::now();
    let skew = now
        .duration_since(signed_at)
        .or_else(|_| signed_at.duration_since(now))
        .unwrap_or_default();
    if skew > identity.max_skew {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    let secret = signing_secret(identity, ak, params.get("SecurityToken"), now)?;
    let signed = params
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect::<Vec<_>>();
    let string_to_sign = rpc::string_to_sign(
        method.as_str(),
        &rpc::canonicalized_query(signed.iter().copied()),
    );
    let expected = rpc::signature(secret.expose(), &string_to_sign);
    if !oss_sign::verify_signature(&expected, given) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
        ));
    }
    if !identity.fresh_nonce(nonce) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    let role_arn = params.require("RoleArn")?;
    check_role_arn(role_arn)?;
    let session = params.require("RoleSessionName")?;
    let lifetime = duration(params)?;
    let policy = policy(params)?;
    Ok(issued(
        identity,
        Origin::AssumeRole,
        role_arn,
        session,
        lifetime,
        policy,
    ))
}

fn assume_role_with_oidc(
    identity: &Identity,
    params: &Params,
) -> Result<serde_json::Value, StsError> {
    let role_arn = params.require("RoleArn")?;
    check_role_arn(role_arn)?;
    params.require("OIDCProviderArn")?;
    let token = params.require("OIDCToken")?;
    let accepted = identity
        .oidc_token
        .as_ref()
        .is_some_and(|want| oss_sign::verify_signature(want.expose(), token));
    if !accepted {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "AuthenticationFail.OIDCToken.Invalid",
            "The OIDC token is not valid.",
        ));
    }
    let session = params.require("RoleSessionName")?;
    let lifetime = duration(params)?;
    let policy = policy(params)?;
    let mut value = issued(
        identity,
        Origin::AssumeRoleWithOidc,
        role_arn,
        session,
        lifetime,
        policy,
    );
    value["OIDCTokenInfo"] = serde_json::json!({
        "Issuer": "https://oss-emulator.invalid",
        "Subject": session,
        "ClientIds": "sts.aliyuncs.com",
    });
    Ok(value)
}

/// The secret `ak` signs with: the long-term key's, or a live temporary key's when the
/// request carries its `SecurityToken` (role chaining).
fn signing_secret(
    identity: &Identity,
    ak: &str,
    token: Option<&str>,
    now: SystemTime,
) -> Result<oss_sign::Secret, StsError> {
    if ak == identity.access_key_id {
        return Ok(identity.access_key_secret.clone());
    }
    let not_found = || {
        err(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    };
    let key = identity.keys.get(ak).ok_or_else(not_found)?;
    if key.is_expired_at(now) {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        ));
    }
    match token {
        Some(t) if oss_sign::verify_signature(key.token.expose(), t) => Ok(key.secret),
        _ => Err(err(
            StatusCode::BAD_REQUEST,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding_turns_plus_into_space() {
        assert_eq!(
            decode_form("a=b+c&d=%2B%20&e"),
            vec![
                ("a".into(), "b c".into()),
                ("d".into(), "+ ".into()),
                ("e".into(), "".into())
            ]
        );
    }
}
