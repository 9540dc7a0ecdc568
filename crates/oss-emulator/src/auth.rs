//! Request authentication: V4 header signatures and V4 presigned URLs, verified with oss-sign's
//! own stages (`CanonicalRequest`, `StringToSign`, `SigningKey`), never a copy of them.
//!
//! Failures carry OSS's status, code and EC (errors.md §3); `SignatureDoesNotMatch` includes the
//! string-to-sign and canonical request the emulator expected.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, StatusCode};
use oss_sign::{
    parse_authorization, parse_presigned_query, verify_signature, CanonicalRequest, PresignedQuery,
    Product, Scope, SigningKey, StringToSign, MAX_PRESIGN_EXPIRES_SECS, UNSIGNED_PAYLOAD,
};

use crate::error::ApiError;
use crate::request::{header, Query};
use crate::state::Config;

fn iso_ms(t: SystemTime) -> String {
    let unix = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    crate::storage::iso8601(unix)
}

fn arg(ec: &'static str, message: &str, name: &str, value: &str) -> ApiError {
    ApiError::invalid_argument(Some(ec), message, name, value)
}

/// The access key id a request claims (header or presigned query), verified or not, for the
/// request log.
pub(crate) fn claimed_access_key_id(headers: &HeaderMap, query: &Query) -> Option<String> {
    if let Some(credential) = query.get("x-oss-credential") {
        return credential.split('/').next().map(str::to_owned);
    }
    let auth = header(headers, "authorization")?;
    parse_authorization(auth).ok().map(|a| a.access_key_id)
}

/// What a verified request may do: for a temporary key, its session policy.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub(crate) policy: Option<std::sync::Arc<crate::identity::SessionPolicy>>,
}

impl Principal {
    /// `AccessDenied` unless the session policy (if any) allows writing `bucket/key`.
    pub(crate) fn check_write(&self, bucket: &str, key: &str) -> Result<(), ApiError> {
        match &self.policy {
            Some(p) if !p.allows_write(bucket, key) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                None,
                "You are denied by the session policy of this security token.",
            )
            .with("AuthAction", "oss:PutObject")
            .with("AuthResource", format!("acs:oss:*:*:{bucket}/{key}"))),
            _ => Ok(()),
        }
    }
}

/// The key a request names: the configured long-term one, or a temporary key the identity
/// side issued.
pub(crate) enum SigningKeyRef {
    LongTerm,
    Temporary(Box<crate::identity::TempKey>),
}

impl SigningKeyRef {
    /// Finds `access_key_id`.
    ///
    /// # Errors
    /// `InvalidAccessKeyId` for a key nobody issued.
    pub(crate) fn find(config: &Config, access_key_id: &str) -> Result<Self, ApiError> {
        if access_key_id == config.access_key_id {
            return Ok(Self::LongTerm);
        }
        config
            .identity
            .as_ref()
            .and_then(|i| i.keys.get(access_key_id))
            .map(|k| Self::Temporary(Box::new(k)))
            .ok_or_else(|| ApiError::invalid_access_key_id(access_key_id))
    }

    /// The secret to verify with.
    pub(crate) fn secret<'a>(&'a self, config: &'a Config) -> &'a str {
        match self {
            Self::LongTerm => config.access_key_secret.expose(),
            Self::Temporary(k) => k.secret.expose(),
        }
    }

    /// Checks the security token sent: the configured one for the long-term key; for a
    /// temporary key, its own token while the key is live. An expired key gets 403
    /// `InvalidSecurityToken` "The security token you provided has expired." (the emulator's
    /// choice, docs/decisions.md).
    pub(crate) fn check_token(
        &self,
        config: &Config,
        given: Option<&str>,
        now: SystemTime,
    ) -> Result<(), ApiError> {
        match self {
            Self::LongTerm => check_token(config, given),
            Self::Temporary(k) => {
                if k.is_expired_at(now) {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        "InvalidSecurityToken",
                        None,
                        "The security token you provided has expired.",
                    ));
                }
                match given {
                    Some(t) if verify_signature(k.token.expose(), t) => Ok(()),
                    _ => Err(invalid_token()),
                }
            }
        }
    }

    /// The principal, once verified.
    pub(crate) fn principal(&self) -> Principal {
        Principal {
            policy: match self {
                Self::LongTerm => None,
                Self::Temporary(k) => k.policy.clone(),
            },
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "InvalidSecurityToken",
        None,
        "The security token you provided is invalid.",
    )
}

/// Checks that a request is signed by the configured credentials or a live temporary key.
///
/// # Errors
/// The OSS error reply for the first problem found.
pub(crate) fn verify(
    config: &Config,
    method: &Method,
    bucket: Option<&str>,
    key: Option<&str>,
    query: &Query,
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<Principal, ApiError> {
    if PresignedQuery::is_presigned(&query.0) {
        return verify_presigned(config, method, bucket, key, query, headers, now);
    }
    let Some(auth) = header(headers, "authorization") else {
        return Err(ApiError::access_denied(
            "0003-00000001",
            "You have no right to access this object because of bucket acl.",
        ));
    };
    verify_header(config, method, bucket, key, query, headers, auth, now)
}

fn check_scope(config: &Config, scope: &Scope, authorization: &str) -> Result<(), ApiError> {
    if scope.region() != config.region || scope.product() != Product::Oss {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            Some("0002-00000226"),
            "Invalid signing region in Authorization header.",
        )
        .with("Authorization", authorization));
    }
    Ok(())
}

fn check_token(config: &Config, given: Option<&str>) -> Result<(), ApiError> {
    let ok = match (&config.sts_token, given) {
        (None, None) => true,
        (Some(want), Some(got)) => verify_signature(want.expose(), got),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(invalid_token())
    }
}

/// The request time: `x-oss-date`, else `Date` (ISO form as one SDK sends it, or RFC 1123).
fn request_time(headers: &HeaderMap) -> Result<(String, SystemTime), ApiError> {
    let bad_date = |v: &str| {
        ApiError::access_denied(
            "0002-00000502",
            "Invalid date format in x-oss-date or Date header.",
        )
        .with("Date", v)
    };
    if let Some(v) = header(headers, "x-oss-date") {
        let t = oss_sign::parse_datetime(v).map_err(|_| bad_date(v))?;
        return Ok((v.to_owned(), t));
    }
    if let Some(v) = header(headers, "date") {
        if let Ok(t) = oss_sign::parse_datetime(v) {
            return Ok((v.to_owned(), t));
        }
        let t = httpdate::parse_http_date(v).map_err(|_| bad_date(v))?;
        return Ok((oss_sign::format_datetime(t), t));
    }
    Err(ApiError::access_denied(
        "0002-00000503",
        "The request must contain x-oss-date or Date header.",
    ))
}

/// 403 `RequestTimeTooSkewed` for a request signed at `time`.
fn too_skewed(time: SystemTime, now: SystemTime, config: &Config) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "RequestTimeTooSkewed",
        Some("0002-00000504"),
        "The difference between the request time and the current time is too large.",
    )
    .with("RequestTime", iso_ms(time))
    .with("ServerTime", iso_ms(now))
    .with(
        "MaxAllowedSkewMilliseconds",
        config.max_skew.as_millis().to_string(),
    )
}

fn skew(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b)
        .or_else(|_| b.duration_since(a))
        .unwrap_or_default()
}

fn compare(
    secret: &str,
    ak: &str,
    scope: &Scope,
    datetime: &str,
    canonical: &CanonicalRequest,
    given: &str,
) -> Result<(), ApiError> {
    let sts = StringToSign::new(datetime, scope, canonical);
    let expected = SigningKey::derive(secret, scope).sign(sts.as_str());
    if verify_signature(&expected, given) {
        Ok(())
    } else {
        Err(ApiError::signature_mismatch(
            ak,
            given,
            sts.as_str(),
            canonical.as_str(),
        ))
    }
}

#[allow(clippy::too_many_arguments)]
fn verify_header(
    config: &Config,
    method: &Method,
    bucket: Option<&str>,
    key: Option<&str>,
    query: &Query,
    headers: &HeaderMap,
    authorization: &str,
    now: SystemTime,
) -> Result<Principal, ApiError> {
    let auth = parse_authorization(authorization).map_err(|e| {
        let text = authorization.trim_start();
        if text.starts_with("OSS ") || text.starts_with("OSS2 ") {
            arg(
                "0002-00000061",
                "The emulator only accepts OSS4-HMAC-SHA256 (V4) signatures.",
                "Authorization",
                authorization,
            )
        } else if !text.starts_with(oss_sign::ALGORITHM) {
            arg(
                "0002-00000061",
                "Authorization header is invalid.",
                "Authorization",
                authorization,
            )
        } else if matches!(e, oss_sign::Error::InvalidScope { reason, .. } if reason.contains("date")) {
            arg(
                "0002-00000212",
                "Invalid date in Credential of Authorization header.",
                "Authorization",
                authorization,
            )
        } else if matches!(e, oss_sign::Error::InvalidScope { .. }) {
            arg(
                "0002-00000213",
                "Invalid credential in Authorization header.",
                "Authorization",
                authorization,
            )
        } else {
            arg(
                "0002-00000202",
                "Authorization header is invalid.",
                "Authorization",
                authorization,
            )
        }
    })?;
    let signing_key = SigningKeyRef::find(config, &auth.access_key_id)?;
    check_scope(config, &auth.scope, authorization)?;
    let (datetime, time) = request_time(headers)?;
    if skew(now, time) > config.max_skew {
        return Err(too_skewed(time, now, config));
    }
    if !datetime.starts_with(auth.scope.date()) {
        return Err(arg(
            "0002-00000212",
            "The date in Credential does not match the request date.",
            "Authorization",
            authorization,
        ));
    }
    let payload = header(headers, "x-oss-content-sha256").unwrap_or(UNSIGNED_PAYLOAD);
    if payload != UNSIGNED_PAYLOAD {
        return Err(arg(
            "0002-00000214",
            "x-oss-content-sha256 must be UNSIGNED-PAYLOAD.",
            "x-oss-content-sha256",
            payload,
        ));
    }
    signing_key.check_token(config, header(headers, "x-oss-security-token"), now)?;
    let canonical = CanonicalRequest::new(
        method,
        bucket,
        key,
        &query.0,
        headers,
        &auth.additional_headers,
        payload,
    );
    compare(
        signing_key.secret(config),
        &auth.access_key_id,
        &auth.scope,
        &datetime,
        &canonical,
        &auth.signature,
    )?;
    Ok(signing_key.principal())
}

fn presign_error(e: &oss_sign::Error) -> ApiError {
    use oss_sign::Error as E;
    match e {
        E::MissingQueryParameter { name } if *name == "x-oss-signature" => arg(
            "0002-00000219",
            "The x-oss-signature parameter is missing.",
            "x-oss-signature",
            "",
        ),
        E::MissingQueryParameter { name } => arg(
            "0002-00000224",
            &format!("The {name} parameter is missing."),
            name,
            "",
        ),
        E::InvalidQueryParameter { name, reason } if *name == "x-oss-signature-version" => arg(
            "0002-00000066",
            &format!("x-oss-signature-version {reason}."),
            name,
            "",
        ),
        E::InvalidQueryParameter { name, .. } if *name == "x-oss-expires" => {
            ApiError::access_denied(
                "0002-00000070",
                "x-oss-expires must be an integer number of seconds.",
            )
        }
        E::InvalidScope { reason, value } if reason.contains("date") => arg(
            "0002-00000223",
            "Invalid date in x-oss-credential.",
            "x-oss-credential",
            value,
        ),
        other => arg(
            "0002-00000224",
            &format!("Invalid x-oss-credential: {other}."),
            "x-oss-credential",
            "",
        ),
    }
}

fn verify_presigned(
    config: &Config,
    method: &Method,
    bucket: Option<&str>,
    key: Option<&str>,
    query: &Query,
    headers: &HeaderMap,
    now: SystemTime,
) -> Result<Principal, ApiError> {
    let p = parse_presigned_query(&query.0).map_err(|e| presign_error(&e))?;
    let signing_key = SigningKeyRef::find(config, &p.access_key_id)?;
    let credential = query.get("x-oss-credential").unwrap_or("");
    check_scope(config, &p.scope, credential)?;
    if p.expires == 0 || p.expires > MAX_PRESIGN_EXPIRES_SECS {
        return Err(arg(
            "0002-00000232",
            "x-oss-expires must be between 1 and 604800 seconds.",
            "x-oss-expires",
            &p.expires.to_string(),
        ));
    }
    let signed_at = oss_sign::parse_datetime(&p.datetime).map_err(|_| {
        ApiError::access_denied("0002-00000502", "Invalid x-oss-date.")
            .with("Date", p.datetime.clone())
    })?;
    if !p.datetime.starts_with(p.scope.date()) {
        return Err(arg(
            "0002-00000223",
            "The date in x-oss-credential does not match x-oss-date.",
            "x-oss-credential",
            credential,
        ));
    }
    let expires_at = signed_at + Duration::from_secs(p.expires);
    if now > expires_at {
        return Err(
            ApiError::access_denied("0002-00000236", "Request has expired.")
                .with("Expires", iso_ms(expires_at))
                .with("ServerTime", iso_ms(now)),
        );
    }
    if signed_at > now + config.max_skew {
        return Err(too_skewed(signed_at, now, config));
    }
    signing_key.check_token(config, p.security_token.as_ref().map(|s| s.expose()), now)?;
    let signed_query = PresignedQuery::signed_query(&query.0);
    let canonical = CanonicalRequest::new(
        method,
        bucket,
        key,
        &signed_query,
        headers,
        &p.additional_headers,
        UNSIGNED_PAYLOAD,
    );
    compare(
        signing_key.secret(config),
        &p.access_key_id,
        &p.scope,
        &p.datetime,
        &canonical,
        &p.signature,
    )?;
    Ok(signing_key.principal())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const VECTORS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/vectors/official.json"
    ));

    fn config(v: &Value) -> Config {
        let input = &v["input"];
        Config {
            region: input["region"].as_str().unwrap_or_default().to_owned(),
            access_key_id: input["access_key_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            access_key_secret: oss_sign::Secret::new(
                input["access_key_secret"].as_str().unwrap_or_default(),
            ),
            sts_token: input["security_token"].as_str().map(oss_sign::Secret::new),
            callback_timeout: Duration::from_secs(5),
            strict_callback_urls: false,
            max_skew: Duration::from_secs(900),
            identity: None,
        }
    }

    fn headers_of(obj: &Value, into: &mut HeaderMap) {
        for (k, val) in obj.as_object().into_iter().flatten() {
            let name = http::HeaderName::from_bytes(k.to_ascii_lowercase().as_bytes()).unwrap();
            into.insert(name, val.as_str().unwrap().parse().unwrap());
        }
    }

    /// The emulator accepts every official V4 header and presign vector (product `oss`,
    /// `use_for_conformance`), at the vector's own signing time, and rejects it one second
    /// of signature later.
    #[test]
    fn accepts_official_vectors() {
        let all: Vec<Value> = serde_json::from_str(VECTORS).unwrap();
        let mut checked = 0;
        for v in &all {
            let kind = v["kind"].as_str().unwrap_or("");
            if !(kind == "sign_header" || kind == "presign_query")
                || v["use_for_conformance"] != Value::Bool(true)
                || v["input"]["product"] != "oss"
            {
                continue;
            }
            let id = v["id"].as_str().unwrap();
            let input = &v["input"];
            let now =
                UNIX_EPOCH + Duration::from_secs(input["signing_time_unix"].as_u64().unwrap());
            let mut headers = HeaderMap::new();
            headers_of(&input["headers"], &mut headers);
            let mut query: Vec<(String, String)> = input["query"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap().to_owned(),
                        p[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            if kind == "sign_header" {
                headers_of(&v["signer_adds_headers"], &mut headers);
                if !headers.contains_key("x-oss-date") {
                    // The SDK that omits x-oss-date writes the ISO time into Date.
                    headers.insert("date", oss_sign::format_datetime(now).parse().unwrap());
                }
                headers.insert(
                    "authorization",
                    v["expected"]["authorization"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap(),
                );
            } else {
                for (k, val) in v["expected"]["query_params_decoded"].as_object().unwrap() {
                    query.push((k.clone(), val.as_str().unwrap().to_owned()));
                }
            }
            let method = Method::from_bytes(input["method"].as_str().unwrap().as_bytes()).unwrap();
            let bucket = input["bucket"].as_str().unwrap();
            let key = input["key"].as_str();
            let cfg = config(v);
            let q = Query(query.clone());
            verify(&cfg, &method, Some(bucket), key, &q, &headers, now)
                .unwrap_or_else(|e| panic!("{id}: {e:?}"));
            // The same request for another key must fail.
            let err = verify(
                &cfg,
                &method,
                Some(bucket),
                Some("other"),
                &q,
                &headers,
                now,
            )
            .unwrap_err();
            assert_eq!(err.code, "SignatureDoesNotMatch", "{id}");
            checked += 1;
        }
        assert!(checked >= 12, "only {checked} vectors checked");
    }
}
