//! Byte-level encodings shared by the wire formats: base64 and percent-encoding.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use crate::{Error, MAX_CALLBACK_JSON_LEN};

/// Standard alphabet; writes padding, accepts input with or without it.
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Everything but the RFC 3986 unreserved characters `A-Z a-z 0-9 - . _ ~` is encoded.
pub(crate) const ENCODE_ALL_BUT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    STANDARD_LENIENT.encode(bytes)
}

/// Decodes standard base64 (surrounding ASCII whitespace ignored, padding optional).
pub(crate) fn decode_base64(field: &'static str, b64: &str) -> Result<Vec<u8>, Error> {
    STANDARD_LENIENT
        .decode(b64.trim_ascii())
        .map_err(|source| Error::Base64 { field, source })
}

/// Decodes a base64 `callback` / `callback-var` value, enforcing the 5 KB limit on the decoded
/// JSON before and after decoding (so a huge value is rejected without allocating for it).
pub(crate) fn decode_base64_json(field: &'static str, b64: &str) -> Result<Vec<u8>, Error> {
    let trimmed = b64.trim_ascii();
    let estimate = trimmed.len() / 4 * 3;
    if estimate > MAX_CALLBACK_JSON_LEN + 3 {
        return Err(Error::TooLarge {
            field,
            len: estimate,
        });
    }
    let bytes = decode_base64(field, trimmed)?;
    if bytes.len() > MAX_CALLBACK_JSON_LEN {
        return Err(Error::TooLarge {
            field,
            len: bytes.len(),
        });
    }
    Ok(bytes)
}

/// Percent-encodes a value for a form-urlencoded callback body: every byte except the RFC 3986
/// unreserved characters becomes `%XX` (upper-case hex); a space is `%20`, never `+`.
pub(crate) fn form_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, ENCODE_ALL_BUT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding() {
        assert_eq!(form_encode("text/plain"), "text%2Fplain");
        assert_eq!(
            form_encode("a b&c=d+e~f-g_h.i"),
            "a%20b%26c%3Dd%2Be~f-g_h.i"
        );
        assert_eq!(form_encode("中"), "%E4%B8%AD");
    }

    #[test]
    fn base64_lenient_decode() {
        assert_eq!(decode_base64("x", "YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("x", "YQ").unwrap(), b"a");
        assert_eq!(decode_base64("x", " YQ==\n").unwrap(), b"a");
        assert!(decode_base64("x", "Y-Q=").is_err());
        assert_eq!(encode_base64(b"a"), "YQ==");
    }
}
