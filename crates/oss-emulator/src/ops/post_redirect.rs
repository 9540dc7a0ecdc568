//! PostObject `success_action_redirect`: 303 to the page's URL with `bucket`, `key` and `etag`
//! appended as query parameters (S3's convention; whether OSS appends them is unverified, see
//! docs/decisions.md).

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::ApiError;

/// Query values keep only RFC 3986 unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The validated redirect target (checked before anything is stored).
#[derive(Debug, Clone)]
pub(crate) struct Redirect(String);

impl Redirect {
    /// Parses the field: an absolute `http(s)` URL, else 400 `InvalidArgument`.
    pub(crate) fn parse(value: &str) -> Result<Self, ApiError> {
        let rest = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"));
        let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
        let clean =
            !value.contains('#') && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        match host {
            Some(h) if !h.is_empty() && clean => Ok(Self(value.to_owned())),
            _ => Err(ApiError::invalid_argument(
                None,
                "success_action_redirect is not an absolute http(s) URL.",
                "success_action_redirect",
                value,
            )),
        }
    }

    /// The `Location` for a stored object (ETag without quotes).
    pub(crate) fn location(&self, bucket: &str, key: &str, etag: &str) -> String {
        let enc = |v: &str| utf8_percent_encode(v, QUERY_VALUE).to_string();
        let sep = if self.0.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}bucket={}&key={}&etag={}",
            self.0,
            enc(bucket),
            enc(key),
            enc(etag.trim_matches('"'))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_the_object() {
        let r = Redirect::parse("https://app.example/done?x=1").unwrap();
        assert_eq!(
            r.location("b", "a b/c", "\"E1\""),
            "https://app.example/done?x=1&bucket=b&key=a%20b%2Fc&etag=E1"
        );
        assert_eq!(
            Redirect::parse("/relative").unwrap_err().code,
            "InvalidArgument"
        );
        assert!(Redirect::parse("javascript:alert(1)").is_err());
        assert!(Redirect::parse("https:///x").is_err());
    }
}
