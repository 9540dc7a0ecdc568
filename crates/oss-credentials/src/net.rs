//! What the network providers share: sending through the context with typed errors, reading
//! the credentials JSON and its `Expiration`, and clipping service error messages.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use oss_sign::Credentials;
use serde::Deserialize;

use crate::{Context, Error, FetchTimeout};

/// Longest service `Message` kept in an error.
const MAX_MESSAGE: usize = 300;

/// A URL fit for an error message: scheme, authority and path, no query (a credentials URI
/// may carry a token in it).
pub(crate) fn display_url(url: &str) -> String {
    let cut = url.find(['?', '#']).unwrap_or(url.len());
    url[..cut].to_owned()
}

/// Sends `request` with `timeout`, mapping transport failures to [`Error::Network`].
pub(crate) async fn send(
    ctx: &Context,
    source_name: &'static str,
    mut request: http::Request<Bytes>,
    timeout: Duration,
) -> Result<http::Response<Bytes>, Error> {
    let url = display_url(&request.uri().to_string());
    request.extensions_mut().insert(FetchTimeout(timeout));
    ctx.http()
        .fetch(request)
        .await
        .map_err(|source| Error::Network {
            source_name,
            url,
            source,
        })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    code: Option<String>,
    message: Option<String>,
    request_id: Option<String>,
}

/// The error for a non-2xx (or otherwise refused) answer: the status plus the error JSON's
/// fields when the body is one.
pub(crate) fn service_error(
    source_name: &'static str,
    url: &str,
    response: &http::Response<Bytes>,
) -> Error {
    let body: Option<ErrorBody> = serde_json::from_slice(response.body()).ok();
    let (code, message, request_id) = match body {
        Some(b) => (
            b.code.map(clip),
            b.message.map(|m| clip(cut_string_to_sign(&m))),
            b.request_id.map(clip),
        ),
        None => (None, None, None),
    };
    Error::Service {
        source_name,
        url: display_url(url),
        status: response.status().as_u16(),
        code,
        message,
        request_id,
    }
}

/// STS's `SignatureDoesNotMatch` message echoes the server's string to sign, which holds the
/// caller's `SecurityToken` when the source credentials are STS ones: keep what comes before.
fn cut_string_to_sign(message: &str) -> &str {
    let lower = message.to_ascii_lowercase();
    match lower.find("string to sign") {
        Some(i) => message[..i].trim_end(),
        None => message,
    }
}

fn clip(s: impl AsRef<str>) -> String {
    let s = s.as_ref();
    if s.chars().count() <= MAX_MESSAGE {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(MAX_MESSAGE).collect();
        out.push('…');
        out
    }
}

/// The credential fields common to IMDS, STS (`Credentials`) and the credentials URI.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CredentialsBody {
    pub(crate) code: Option<String>,
    pub(crate) access_key_id: Option<String>,
    pub(crate) access_key_secret: Option<String>,
    pub(crate) security_token: Option<String>,
    pub(crate) expiration: Option<String>,
}

impl CredentialsBody {
    /// Parses `bytes`; the serde message is not kept because it can quote a value.
    pub(crate) fn parse(source_name: &'static str, url: &str, bytes: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(bytes).map_err(|e| bad(source_name, url, not_json(&e)))
    }

    /// Requires `Code == "Success"` (when `require_code`), the three keys and an `Expiration`.
    pub(crate) fn into_credentials(
        self,
        source_name: &'static str,
        url: &str,
        require_code: bool,
    ) -> Result<Credentials, Error> {
        if require_code && self.code.as_deref() != Some("Success") {
            let reason = match self.code {
                Some(c) => format!("Code is {:?}, not \"Success\"", clip(c)),
                None => "no Code".to_owned(),
            };
            return Err(bad(source_name, url, reason));
        }
        let need = |v: Option<String>, key: &str| {
            v.filter(|v| !v.is_empty())
                .ok_or_else(|| bad(source_name, url, format!("no {key}")))
        };
        let id = need(self.access_key_id, "AccessKeyId")?;
        let secret = need(self.access_key_secret, "AccessKeySecret")?;
        let token = need(self.security_token, "SecurityToken")?;
        let expiration = need(self.expiration, "Expiration")?;
        let expires = parse_iso8601(&expiration).ok_or_else(|| {
            bad(
                source_name,
                url,
                format!(
                    "Expiration {:?} is not yyyy-MM-ddTHH:mm:ssZ",
                    clip(&expiration)
                ),
            )
        })?;
        Ok(Credentials::new(id, secret)
            .with_security_token(token)
            .with_expiration(expires))
    }
}

pub(crate) fn bad(source_name: &'static str, url: &str, reason: impl Into<String>) -> Error {
    Error::BadResponse {
        source_name,
        url: display_url(url),
        reason: reason.into(),
    }
}

pub(crate) fn not_json(e: &serde_json::Error) -> String {
    format!(
        "not the expected JSON (line {}, column {})",
        e.line(),
        e.column()
    )
}

/// `yyyy-MM-ddTHH:mm:ssZ` (UTC), the format of every `Expiration` (spec §1.3).
pub(crate) fn parse_iso8601(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    if !shape {
        return None;
    }
    let compact: String = s.chars().filter(|c| !matches!(c, '-' | ':')).collect();
    oss_sign::parse_datetime(&compact).ok()
}

/// `t` as `yyyy-MM-ddTHH:mm:ssZ`, the RPC `Timestamp` format.
pub(crate) fn format_iso8601(t: SystemTime) -> String {
    let c = oss_sign::format_datetime(t); // yyyyMMddTHHmmssZ
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &c[0..4],
        &c[4..6],
        &c[6..8],
        &c[9..11],
        &c[11..13],
        &c[13..15]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn iso_round_trip_and_rejects() {
        let t = parse_iso8601("2023-12-16T16:20:57Z").unwrap();
        assert_eq!(t, UNIX_EPOCH + Duration::from_secs(1_702_743_657));
        assert_eq!(format_iso8601(t), "2023-12-16T16:20:57Z");
        for bad in [
            "20231216T162057Z",
            "2023-13-16T16:20:57Z",
            "2023-12-16 16:20:57Z",
            "",
        ] {
            assert!(parse_iso8601(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn urls_lose_their_query() {
        assert_eq!(
            display_url("http://127.0.0.1:9/creds?token=s3cret"),
            "http://127.0.0.1:9/creds"
        );
    }

    #[test]
    fn signature_mismatch_message_is_cut_before_the_string_to_sign() {
        let resp = http::Response::builder()
            .status(400)
            .body(Bytes::from_static(
                br#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:POST&%2F&SecurityToken%3DTOPSECRET","RequestId":"R1"}"#,
            ))
            .unwrap();
        let e = service_error("sts", "https://sts.aliyuncs.com/", &resp).to_string();
        assert!(!e.contains("TOPSECRET"), "{e}");
        assert!(
            e.contains("SignatureDoesNotMatch") && e.contains("R1"),
            "{e}"
        );
    }
}
