//! The crate's single error type.

/// Largest decoded `callback` / `callback-var` JSON OSS accepts, in bytes (5 KB).
pub const MAX_CALLBACK_JSON_LEN: usize = 5 * 1024;

/// Everything that can go wrong while building, encoding, decoding, resolving, signing or
/// verifying an upload callback.
///
/// Validation variants mirror the OSS `0007-*` error codes (see each variant); they are raised
/// on the client before anything is sent, and by the emulator when it decodes what it received.
/// `Display` describes this level only; causes are available through
/// [`std::error::Error::source`]. No variant ever contains key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The callback has no URL, or one of the `;`-separated URLs is empty (`0007-00000004`).
    #[error("callback URL is empty")]
    EmptyUrl,

    /// More than five `;`-separated callback URLs (`0007-00000005`).
    #[error("callback has {count} URLs; at most 5 are allowed")]
    TooManyUrls {
        /// How many URLs were given.
        count: usize,
    },

    /// A callback URL is malformed: bad port, unsupported scheme, IPv6 literal, spaces or
    /// non-ASCII characters (`0007-00000004`).
    #[error("callback URL {url:?} is malformed: {reason}")]
    InvalidUrl {
        /// The offending URL.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// `callbackHost` is empty or not a host name / IP address (`0007-00000009`).
    #[error("callback host {host:?} is invalid")]
    InvalidHost {
        /// The offending host value.
        host: String,
    },

    /// The body template (`callbackBody`) is empty (`0007-00000011`).
    #[error("callback body template is empty")]
    EmptyBody,

    /// `callbackBodyType` is neither `application/x-www-form-urlencoded` nor
    /// `application/json` (`0007-00000013`).
    #[error("unsupported callback body type {0:?}")]
    UnsupportedBodyType(String),

    /// A `${…}` placeholder in the body template is malformed (`0007-00000105`).
    #[error("malformed placeholder at byte {offset} of the callback body template: {reason}")]
    MalformedPlaceholder {
        /// Byte offset of the placeholder's `$` in the template.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A `${name}` placeholder names neither a known system variable nor a custom `x:`
    /// variable. System variable names are case-sensitive (`mimeType`, not `mimetype`).
    #[error("unknown callback variable ${{{name}}}")]
    UnknownVariable {
        /// The unknown name.
        name: String,
    },

    /// A custom variable key is not `x:` followed by lower-case text.
    #[error("custom callback variable key {key:?} must be `x:` followed by lower-case text")]
    InvalidVarKey {
        /// The offending key.
        key: String,
    },

    /// The decoded `callback` or `callback-var` JSON exceeds 5 KB
    /// (`0007-00000001`, `0007-00000101`).
    #[error("{field} JSON is {len} bytes; at most 5120 are allowed")]
    TooLarge {
        /// `callback` or `callback-var`.
        field: &'static str,
        /// Size in bytes (an estimate from the base64 length when the value was too long to decode).
        len: usize,
    },

    /// A JSON body template is not valid JSON once its placeholders are filled with JSON strings.
    #[error("JSON callback body template is not valid JSON once placeholders are filled")]
    InvalidJsonTemplate {
        /// The JSON parser's complaint.
        #[source]
        source: serde_json::Error,
    },

    /// An `additionalHeaders` entry is invalid: empty key, characters outside `0-9a-z-`, an
    /// `x-oss-` prefix, CR/LF in the value, or more than 10 entries (`0007-00000021`..`26`).
    #[error("additional callback header {name:?} is invalid: {reason}")]
    InvalidAdditionalHeader {
        /// The offending header name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A bucket callback-policy name is empty.
    #[error("callback policy name is empty")]
    EmptyPolicyName,

    /// A base64 value could not be decoded (`0007-00000002`, `0007-00000102`, or the callback
    /// `authorization` / `x-oss-pub-key-url` headers).
    #[error("{field} is not valid base64")]
    Base64 {
        /// Which value.
        field: &'static str,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },

    /// A decoded value is not valid (UTF-8) JSON (`0007-00000003`, `0007-00000103`).
    #[error("{field} is not valid JSON")]
    Json {
        /// `callback` or `callback-var`.
        field: &'static str,
        /// The JSON parser's complaint.
        #[source]
        source: serde_json::Error,
    },

    /// A JSON field has the wrong type or the document has the wrong shape (for example
    /// `callbackSNI` that is not a boolean, or a `callback-var` value that is not a string).
    #[error("{field} has an invalid shape: {reason}")]
    InvalidField {
        /// The field or document concerned.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },

    /// A required field is missing from the decoded `callback` JSON.
    #[error("callback JSON lacks required field {field}")]
    MissingField {
        /// The missing field.
        field: &'static str,
    },

    /// The same callback parameter appears twice, or two carriers (headers and URL query) were
    /// used at once (`0007-00000027`).
    #[error("callback parameter {name} is given more than once or through two carriers")]
    ConflictingCarriers {
        /// The duplicated parameter.
        name: &'static str,
    },

    /// A header that must be visible ASCII is not.
    #[error("header {name} is not visible ASCII")]
    InvalidHeaderValue {
        /// The header's name.
        name: &'static str,
    },

    /// A header needed to verify a callback request is missing.
    #[error("callback request lacks header {name}")]
    MissingHeader {
        /// The header's name.
        name: &'static str,
    },

    /// An RSA key could not be parsed.
    #[error("RSA key is invalid: {reason}")]
    InvalidKey {
        /// Which formats were tried (never the key material itself).
        reason: &'static str,
    },

    /// RSA signing failed.
    #[error("RSA signing failed")]
    Signing {
        /// The RSA library's complaint.
        #[source]
        source: rsa::Error,
    },

    /// The callback request's signature does not verify.
    #[error("callback signature does not verify")]
    SignatureMismatch,

    /// The public-key URL is refused before anything is fetched: it is not canonical, has
    /// userinfo, a query, a fragment or a non-http(s) scheme, or no allow-list entry covers it.
    #[error("public key URL {url:?} is not allowed: {reason}")]
    KeyUrlNotAllowed {
        /// The decoded URL.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// An allow-list entry given to
    /// [`CallbackVerifierBuilder`](crate::CallbackVerifierBuilder) is not an `http(s)` URL with
    /// a host, or carries userinfo, a query or a fragment.
    #[error("key URL allow-list entry {prefix:?} is invalid: {reason}")]
    InvalidKeyUrlPrefix {
        /// The entry as given.
        prefix: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// Fetching the public key failed.
    #[error("fetching the callback public key from {url:?} failed")]
    KeyFetch {
        /// The URL fetched.
        url: String,
        /// The fetcher's complaint.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl Error {
    /// Builds a [`Error::KeyFetch`] from any error; for [`KeyFetcher`](crate::KeyFetcher)
    /// implementations.
    pub fn key_fetch(
        url: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::KeyFetch {
            url: url.into(),
            source: source.into(),
        }
    }

    /// The OSS error code (`EC`) OSS returns for the same validation failure, when one is
    /// documented; the emulator uses it in its error replies.
    pub fn oss_ec(&self) -> Option<&'static str> {
        Some(match self {
            Self::EmptyUrl | Self::InvalidUrl { .. } => "0007-00000004",
            Self::TooManyUrls { .. } => "0007-00000005",
            Self::InvalidHost { .. } => "0007-00000009",
            Self::EmptyBody => "0007-00000011",
            Self::MalformedPlaceholder { .. } | Self::UnknownVariable { .. } => "0007-00000105",
            Self::TooLarge { field, .. } => {
                if *field == "callback" {
                    "0007-00000001"
                } else {
                    "0007-00000101"
                }
            }
            Self::Base64 { field, .. } => match *field {
                "callback" => "0007-00000002",
                "callback-var" => "0007-00000102",
                _ => return None,
            },
            Self::Json { field, .. } => match *field {
                "callback" => "0007-00000003",
                "callback-var" => "0007-00000103",
                _ => return None,
            },
            Self::InvalidJsonTemplate { .. } => "0007-00000003",
            Self::InvalidAdditionalHeader { reason, .. } => {
                if *reason == REASON_X_OSS_PREFIX {
                    "0007-00000026"
                } else if *reason == REASON_CRLF {
                    "0007-00000025"
                } else if *reason == REASON_EMPTY_NAME {
                    "0007-00000023"
                } else {
                    return None;
                }
            }
            Self::ConflictingCarriers { .. } => "0007-00000027",
            _ => return None,
        })
    }
}

pub(crate) const REASON_X_OSS_PREFIX: &str = "names starting with `x-oss-` are reserved";
pub(crate) const REASON_CRLF: &str = "value contains CR or LF";
pub(crate) const REASON_EMPTY_NAME: &str = "name is empty";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn ec_mapping() {
        assert_eq!(
            Error::TooManyUrls { count: 6 }.oss_ec(),
            Some("0007-00000005")
        );
        assert_eq!(
            Error::TooLarge {
                field: "callback-var",
                len: 6000
            }
            .oss_ec(),
            Some("0007-00000101")
        );
        assert_eq!(Error::SignatureMismatch.oss_ec(), None);
    }
}
