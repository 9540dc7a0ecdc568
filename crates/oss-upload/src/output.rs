//! What an upload returns: the object's identity and the callback server's answer.

use bytes::Bytes;
use serde::de::DeserializeOwned;

/// The callback server's answer, relayed by OSS as the upload's response body (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackResponse {
    /// Raw body bytes.
    pub body: Bytes,
}

impl CallbackResponse {
    /// Parses the body as JSON into `T`.
    ///
    /// # Errors
    /// `serde_json::Error` when the body is not JSON of that shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// Parses the body as a JSON value.
    ///
    /// # Errors
    /// `serde_json::Error` when the body is not JSON.
    pub fn json_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        self.json()
    }
}

/// Result of every upload path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadOutput {
    /// ETag of the stored object, with its quotes as OSS sent it.
    pub etag: Option<String>,
    /// `x-oss-request-id` of the final request (PutObject, Complete or PostObject).
    pub request_id: Option<String>,
    /// `x-oss-hash-crc64ecma` of the stored object.
    pub crc64: Option<u64>,
    /// `x-oss-version-id` (versioned buckets).
    pub version_id: Option<String>,
    /// The callback server's answer, when the upload carried a callback.
    pub callback: Option<CallbackResponse>,
}

impl UploadOutput {
    /// The output of a successful upload answer; its body is the callback server's answer when
    /// the upload carried a callback.
    pub(crate) fn from_response(resp: oss_transport::Response, has_callback: bool) -> Self {
        let mut out = Self::from_headers(&resp.headers);
        if has_callback {
            out.callback = Some(CallbackResponse { body: resp.body });
        }
        out
    }

    pub(crate) fn from_headers(headers: &http::HeaderMap) -> Self {
        let get = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        Self {
            etag: get("etag"),
            request_id: get("x-oss-request-id"),
            crc64: get("x-oss-hash-crc64ecma").and_then(|v| oss_types::Crc64::parse_header(&v)),
            version_id: get("x-oss-version-id"),
            callback: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_views() {
        let r = CallbackResponse {
            body: Bytes::from_static(br#"{"ok":true}"#),
        };
        assert_eq!(r.json_value().unwrap()["ok"], true);
        #[derive(serde::Deserialize)]
        struct Ok {
            ok: bool,
        }
        assert!(r.json::<Ok>().unwrap().ok);
        let bad = CallbackResponse {
            body: Bytes::from_static(b"<x/>"),
        };
        assert!(bad.json_value().is_err());
    }

    #[test]
    fn from_headers() {
        let mut h = http::HeaderMap::new();
        h.insert("etag", "\"AB\"".parse().unwrap());
        h.insert("x-oss-hash-crc64ecma", "42".parse().unwrap());
        let o = UploadOutput::from_headers(&h);
        assert_eq!(o.etag.as_deref(), Some("\"AB\""));
        assert_eq!(o.crc64, Some(42));
        assert_eq!(o.request_id, None);
    }
}
