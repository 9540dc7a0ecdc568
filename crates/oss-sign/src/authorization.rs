//! Parsing signatures from the wire (for servers and the emulator) and comparing them.

use subtle::ConstantTimeEq;

use crate::names::{
    ALGORITHM, X_OSS_ADDITIONAL_HEADERS, X_OSS_CREDENTIAL, X_OSS_DATE, X_OSS_EXPIRES,
    X_OSS_SECURITY_TOKEN, X_OSS_SIGNATURE, X_OSS_SIGNATURE_VERSION,
};
use crate::{Error, Scope, Secret};

/// A parsed V4 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authorization {
    /// The access key id from `Credential=`.
    pub access_key_id: String,
    /// The scope from `Credential=`.
    pub scope: Scope,
    /// The `AdditionalHeaders=` names, in the order given (empty when absent).
    pub additional_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

/// Parses `OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=<a;b>],Signature=<hex>`.
///
/// Whitespace around the `,`-separated pairs is tolerated.
///
/// # Errors
///
/// [`Error::MalformedAuthorization`] for another scheme, missing/duplicate/unknown pairs or an
/// empty access key id or signature; [`Error::InvalidScope`] for a bad scope.
///
/// ```
/// let a = oss_sign::parse_authorization(
///     "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=abc;zabc,Signature=4a41",
/// )?;
/// assert_eq!(a.access_key_id, "ak");
/// assert_eq!(a.scope.region(), "cn-hangzhou");
/// assert_eq!(a.additional_headers, ["abc", "zabc"]);
/// assert_eq!(a.signature, "4a41");
/// # Ok::<(), oss_sign::Error>(())
/// ```
pub fn parse_authorization(header: &str) -> Result<Authorization, Error> {
    let malformed = |reason| Error::MalformedAuthorization { reason };
    let rest = header
        .trim()
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| malformed("scheme is not OSS4-HMAC-SHA256"))?;
    if !rest.starts_with(' ') {
        return Err(malformed("scheme is not OSS4-HMAC-SHA256"));
    }
    let (mut credential, mut additional, mut signature) = (None, None, None);
    for pair in rest.split(',') {
        let pair = pair.trim();
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| malformed("expected key=value pairs separated by `,`"))?;
        let slot = match name.trim() {
            "Credential" => &mut credential,
            "AdditionalHeaders" => &mut additional,
            "Signature" => &mut signature,
            _ => {
                return Err(malformed(
                    "unknown key (expected Credential, AdditionalHeaders, Signature)",
                ))
            }
        };
        if slot.replace(value.trim()).is_some() {
            return Err(malformed("duplicate key"));
        }
    }
    let credential = credential.ok_or_else(|| malformed("missing Credential"))?;
    let signature = signature.ok_or_else(|| malformed("missing Signature"))?;
    if signature.is_empty() {
        return Err(malformed("empty Signature"));
    }
    let (access_key_id, scope) = split_credential(credential)
        .ok_or_else(|| malformed("Credential must be <AccessKeyId>/<scope>"))?;
    Ok(Authorization {
        access_key_id: access_key_id.to_owned(),
        scope: Scope::parse(scope)?,
        additional_headers: split_additional(additional.unwrap_or("")),
        signature: signature.to_owned(),
    })
}

/// Splits `<ak>/<scope>`; `None` for an empty or malformed access key id.
fn split_credential(credential: &str) -> Option<(&str, &str)> {
    let (ak, scope) = credential.split_once('/')?;
    let ak_ok = !ak.is_empty() && ak.bytes().all(|b| b.is_ascii_graphic());
    ak_ok.then_some((ak, scope))
}

fn split_additional(list: &str) -> Vec<String> {
    list.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The signature parameters of a V4 presigned URL.
///
/// `Debug` hides the STS token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresignedQuery {
    /// The access key id from `x-oss-credential`.
    pub access_key_id: String,
    /// The scope from `x-oss-credential`.
    pub scope: Scope,
    /// `x-oss-date`, `yyyyMMdd'T'HHmmss'Z'` as sent (validate with [`parse_datetime`](crate::parse_datetime)).
    pub datetime: String,
    /// `x-oss-expires` in seconds (not range-checked: OSS answers 1..=604800 with an error code).
    pub expires: u64,
    /// `x-oss-additional-headers` names (empty when absent).
    pub additional_headers: Vec<String>,
    /// `x-oss-security-token`, if present.
    pub security_token: Option<Secret>,
    /// `x-oss-signature`.
    pub signature: String,
}

impl PresignedQuery {
    /// Whether decoded query pairs carry a V4 query signature (`x-oss-signature-version`).
    pub fn is_presigned(query: &[(String, String)]) -> bool {
        query.iter().any(|(n, _)| n == X_OSS_SIGNATURE_VERSION)
    }

    /// The pairs that were signed: all of `query` except `x-oss-signature`.
    pub fn signed_query(query: &[(String, String)]) -> Vec<(String, String)> {
        query
            .iter()
            .filter(|(n, _)| n != X_OSS_SIGNATURE)
            .cloned()
            .collect()
    }
}

/// Reads the V4 signature parameters from decoded query pairs (see [`decode_query`](crate::decode_query)).
///
/// # Errors
///
/// [`Error::MissingQueryParameter`] when `x-oss-signature-version`, `x-oss-date`,
/// `x-oss-expires`, `x-oss-credential` or `x-oss-signature` is absent;
/// [`Error::InvalidQueryParameter`] for a wrong algorithm, a non-numeric expiry, an empty
/// signature or a malformed credential; [`Error::InvalidScope`] for a bad scope.
///
/// ```
/// let q = oss_sign::decode_query(
///     "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20231217T025437Z&x-oss-expires=599\
///      &x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-signature=a399",
/// );
/// let p = oss_sign::parse_presigned_query(&q)?;
/// assert_eq!((p.access_key_id.as_str(), p.expires), ("ak", 599));
/// # Ok::<(), oss_sign::Error>(())
/// ```
pub fn parse_presigned_query(query: &[(String, String)]) -> Result<PresignedQuery, Error> {
    let get = |name: &'static str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let required = |name: &'static str| get(name).ok_or(Error::MissingQueryParameter { name });
    let invalid = |name, reason| Error::InvalidQueryParameter { name, reason };

    if required(X_OSS_SIGNATURE_VERSION)? != ALGORITHM {
        return Err(invalid(X_OSS_SIGNATURE_VERSION, "must be OSS4-HMAC-SHA256"));
    }
    let datetime = required(X_OSS_DATE)?.to_owned();
    let expires = required(X_OSS_EXPIRES)?
        .parse::<u64>()
        .map_err(|_| invalid(X_OSS_EXPIRES, "must be a whole number of seconds"))?;
    let (access_key_id, scope) = split_credential(required(X_OSS_CREDENTIAL)?)
        .ok_or_else(|| invalid(X_OSS_CREDENTIAL, "must be <AccessKeyId>/<scope>"))?;
    let scope = Scope::parse(scope)?;
    let signature = required(X_OSS_SIGNATURE)?;
    if signature.is_empty() {
        return Err(invalid(X_OSS_SIGNATURE, "is empty"));
    }
    Ok(PresignedQuery {
        access_key_id: access_key_id.to_owned(),
        scope,
        datetime,
        expires,
        additional_headers: split_additional(get(X_OSS_ADDITIONAL_HEADERS).unwrap_or("")),
        security_token: get(X_OSS_SECURITY_TOKEN).map(Secret::new),
        signature: signature.to_owned(),
    })
}

/// Compares two signatures in constant time (for equal lengths).
///
/// ```
/// assert!(oss_sign::verify_signature("abc", "abc"));
/// assert!(!oss_sign::verify_signature("abc", "abd"));
/// assert!(!oss_sign::verify_signature("abc", "ab"));
/// ```
pub fn verify_signature(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_malformed_headers() {
        for bad in [
            "",
            "OSS ak:sig",
            "OSS4-HMAC-SHA256Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=x",
            "OSS4-HMAC-SHA256 Signature=x",
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request",
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=",
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=a,Signature=b",
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Foo=1,Signature=a",
            "OSS4-HMAC-SHA256 Credential=/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=a",
            "OSS4-HMAC-SHA256 Credential=ak/20231216/oss-cn-hangzhou/s3/aliyun_v4_request,Signature=a",
        ] {
            assert!(parse_authorization(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tolerates_spaces() {
        let a = parse_authorization(
            " OSS4-HMAC-SHA256  Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request, Signature=ab ",
        )
        .expect("parses");
        assert_eq!(a.signature, "ab");
        assert!(a.additional_headers.is_empty());
    }

    #[test]
    fn presigned_query_errors_and_token() {
        let mut q = crate::decode_query(
            "x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20231217T025437Z&x-oss-expires=599&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-signature=a399&x-oss-security-token=Sts-T0ken&x-oss-additional-headers=abc%3Bzabc",
        );
        assert!(PresignedQuery::is_presigned(&q));
        let p = parse_presigned_query(&q).expect("parses");
        assert_eq!(p.additional_headers, ["abc", "zabc"]);
        assert_eq!(
            p.security_token.as_ref().map(Secret::expose),
            Some("Sts-T0ken")
        );
        assert!(!format!("{p:?}").contains("Sts-T0ken"));
        assert_eq!(PresignedQuery::signed_query(&q).len(), q.len() - 1);
        q.retain(|(n, _)| n != "x-oss-signature");
        assert!(matches!(
            parse_presigned_query(&q),
            Err(Error::MissingQueryParameter {
                name: "x-oss-signature"
            })
        ));
    }
}
