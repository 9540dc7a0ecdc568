//! Presigned URLs: V4 query signing (protocol §2).

use std::fmt;
use std::time::{Duration, SystemTime};

use http::request::Parts;
use http::{HeaderMap, Uri};

use crate::canonical::{self, Strictness};
use crate::datetime::Stamp;
use crate::encoding::{decode_component, encode_into};
use crate::names::{
    ALGORITHM, DEFAULT_PRESIGN_EXPIRES, MAX_PRESIGN_EXPIRES_SECS, UNSIGNED_PAYLOAD,
    X_OSS_ADDITIONAL_HEADERS, X_OSS_CREDENTIAL, X_OSS_DATE, X_OSS_EXPIRES, X_OSS_SECURITY_TOKEN,
    X_OSS_SIGNATURE, X_OSS_SIGNATURE_VERSION,
};
use crate::string_to_sign::push_scope;
use crate::{
    effective_additional_headers, is_default_signed_header, CanonicalRequest, Credentials, Error,
    Signer, SigningParams, StringToSign,
};

/// The query parameters a presign adds (any already in the URI are replaced).
const RESERVED: [&str; 7] = [
    X_OSS_SIGNATURE_VERSION,
    X_OSS_DATE,
    X_OSS_EXPIRES,
    X_OSS_CREDENTIAL,
    X_OSS_SECURITY_TOKEN,
    X_OSS_ADDITIONAL_HEADERS,
    X_OSS_SIGNATURE,
];

/// A presigned request: the URL and the headers the uploader must send with it.
#[derive(Clone)]
#[non_exhaustive]
pub struct Presigned {
    /// The request URI with the `x-oss-*` signature parameters appended.
    pub uri: Uri,
    /// Signed headers of the request (`content-type`, `content-md5`, `x-oss-*`, additional):
    /// send exactly these, with these values, or OSS answers `SignatureDoesNotMatch`.
    pub signed_headers: HeaderMap,
    /// Signing time + expiry: the URL is refused after this instant.
    pub expires_at: SystemTime,
    /// The canonical request that was signed (for debugging).
    pub canonical_request: CanonicalRequest,
    /// The string that was signed (for debugging).
    pub string_to_sign: StringToSign,
}

impl Presigned {
    /// Expiry used when `None` is passed to [`Signer::presign`]: 900 s.
    pub const DEFAULT_EXPIRES: Duration = DEFAULT_PRESIGN_EXPIRES;
}

impl fmt::Debug for Presigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The query holds the signature and possibly an STS token: show the URI without it.
        let mut shown = String::new();
        if let Some(scheme) = self.uri.scheme_str() {
            shown.push_str(scheme);
            shown.push_str("://");
        }
        if let Some(authority) = self.uri.authority() {
            shown.push_str(authority.as_str());
        }
        shown.push_str(self.uri.path());
        shown.push_str("?…");
        f.debug_struct("Presigned")
            .field("uri", &shown)
            .field("signed_headers", &self.signed_headers)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// Presigns a request: returns its URI with `x-oss-signature-version`, `x-oss-date`,
    /// `x-oss-expires`, `x-oss-credential`, `x-oss-security-token` (STS only), `x-oss-additional-headers` (when any)
    /// and `x-oss-signature` appended, and the headers the uploader must send.
    ///
    /// `expires` is the lifetime (whole seconds); `None` means
    /// [`Presigned::DEFAULT_EXPIRES`] (900 s). The URI's existing query is kept as written; any
    /// of the parameters above already in it are replaced. Headers in `parts` that are signed
    /// (`content-type`, `content-md5`, `x-oss-*`, additional) become part of the signature.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidExpiry`] for 0 s or more than 604800 s;
    /// - [`Error::TimeOutOfRange`] for a signing time before 1970 or after 9999;
    /// - [`Error::InvalidHeaderValue`] for a signed header value that is not UTF-8;
    /// - [`Error::InvalidUri`] when the URI cannot hold the new query.
    pub fn presign(
        &self,
        parts: &Parts,
        creds: &Credentials,
        params: &SigningParams,
        expires: impl Into<Option<Duration>>,
    ) -> Result<Presigned, Error> {
        let expires = expires.into().unwrap_or(DEFAULT_PRESIGN_EXPIRES);
        let seconds = expires.as_secs();
        if seconds == 0 || seconds > MAX_PRESIGN_EXPIRES_SECS {
            return Err(Error::InvalidExpiry { seconds });
        }
        let stamp = Stamp::new(params.time())?;
        let expires_at = params
            .time()
            .checked_add(Duration::from_secs(seconds))
            .ok_or(Error::TimeOutOfRange)?;
        let (date, region, product) = (stamp.date(), params.region(), params.product());

        // Keep the caller's query segments verbatim, minus our reserved names.
        let kept: Vec<&str> = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter(|seg| !seg.is_empty())
            .filter(|seg| {
                let name = seg.split_once('=').map_or(*seg, |(n, _)| n);
                !RESERVED.contains(&decode_component(name).as_str())
            })
            .collect();

        let additional = effective_additional_headers(params.additional_headers(), &parts.headers);
        let mut credential = String::with_capacity(creds.access_key_id().len() + 64);
        credential.push_str(creds.access_key_id());
        credential.push('/');
        push_scope(&mut credential, date, region, product.as_str());

        let mut added: Vec<(&str, String)> = vec![
            (X_OSS_SIGNATURE_VERSION, ALGORITHM.to_owned()),
            (X_OSS_DATE, stamp.datetime().to_owned()),
            (X_OSS_EXPIRES, seconds.to_string()),
            (X_OSS_CREDENTIAL, credential),
        ];
        if let Some(token) = creds.security_token() {
            added.push((X_OSS_SECURITY_TOKEN, token.expose().to_owned()));
        }
        if !additional.is_empty() {
            added.push((X_OSS_ADDITIONAL_HEADERS, additional.join(";")));
        }

        let mut query: Vec<(String, String)> = kept
            .iter()
            .map(|seg| match seg.split_once('=') {
                Some((n, v)) => (decode_component(n), decode_component(v)),
                None => (decode_component(seg), String::new()),
            })
            .collect();
        query.extend(added.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));

        let canonical_request = CanonicalRequest::build(
            canonical::Parts {
                method: parts.method.as_str(),
                bucket: params.bucket(),
                key: params.key(),
                query: &query,
                headers: &parts.headers,
                overrides: &[],
                additional: &additional,
                hashed_payload: UNSIGNED_PAYLOAD,
            },
            Strictness::Strict,
        )?;
        let string_to_sign = StringToSign::from_parts(
            stamp.datetime(),
            date,
            region,
            product.as_str(),
            &canonical_request.hash(),
        );
        let key = self.cache.get(creds, date, region, product);
        let signature = crate::encoding::hex32(&key.sign_bytes(string_to_sign.as_str().as_bytes()));

        // The new query: the caller's segments, then ours in the Python SDK's order.
        let mut new_query = kept.join("&");
        for (name, value) in added
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .chain(std::iter::once((X_OSS_SIGNATURE, signature.as_str())))
        {
            if !new_query.is_empty() {
                new_query.push('&');
            }
            new_query.push_str(name);
            new_query.push('=');
            encode_into(&mut new_query, value, false);
        }
        let mut path_and_query =
            String::with_capacity(parts.uri.path().len() + 1 + new_query.len());
        path_and_query.push_str(parts.uri.path());
        path_and_query.push('?');
        path_and_query.push_str(&new_query);
        let mut builder = Uri::builder();
        if let Some(scheme) = parts.uri.scheme() {
            builder = builder.scheme(scheme.clone());
        }
        if let Some(authority) = parts.uri.authority() {
            builder = builder.authority(authority.clone());
        }
        let uri = builder
            .path_and_query(path_and_query)
            .build()
            .map_err(|_| Error::InvalidUri {
                reason: "the URI with the signature query is not a valid URI",
            })?;

        let mut signed_headers = HeaderMap::new();
        for (name, value) in &parts.headers {
            let n = name.as_str();
            if is_default_signed_header(n) || additional.iter().any(|a| a == n) {
                signed_headers.append(name.clone(), value.clone());
            }
        }

        Ok(Presigned {
            uri,
            signed_headers,
            expires_at,
            canonical_request,
            string_to_sign,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn parts(uri: &str) -> Parts {
        let (parts, ()) = http::Request::builder()
            .method("PUT")
            .uri(uri)
            .header("content-type", "text/plain")
            .header("x-oss-callback", "e30=")
            .header("user-agent", "ua")
            .body(())
            .expect("request")
            .into_parts();
        parts
    }

    fn params() -> SigningParams {
        SigningParams::builder("cn-hangzhou")
            .with_bucket("bucket")
            .with_key("a b.txt")
            .with_time(UNIX_EPOCH + Duration::from_secs(1_702_781_677))
            .build()
            .expect("params")
    }

    #[test]
    fn origin_form_uri_stays_origin_form() {
        let out = Signer::new()
            .presign(
                &parts("/a%20b.txt?uploadId=1%2B2"),
                &Credentials::new("ak", "sk"),
                &params(),
                Duration::from_secs(60),
            )
            .expect("presign");
        assert!(out.uri.scheme().is_none() && out.uri.authority().is_none());
        let q = out.uri.query().expect("query");
        assert!(
            q.starts_with("uploadId=1%2B2&x-oss-signature-version="),
            "{q}"
        );
        assert!(out
            .canonical_request
            .as_str()
            .contains("\nuploadId=1%2B2&x-oss-credential="));
    }

    #[test]
    fn rejects_bad_expiry() {
        let s = Signer::new();
        let c = Credentials::new("ak", "sk");
        let p = parts("https://bucket.oss-cn-hangzhou.aliyuncs.com/a%20b.txt");
        for (d, secs) in [
            (Duration::ZERO, 0),
            (Duration::from_millis(999), 0),
            (Duration::from_secs(604_801), 604_801),
        ] {
            match s.presign(&p, &c, &params(), d) {
                Err(Error::InvalidExpiry { seconds }) => assert_eq!(seconds, secs),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(s
            .presign(&p, &c, &params(), Duration::from_secs(604_800))
            .is_ok());
    }

    #[test]
    fn default_expiry_and_signed_headers() {
        let s = Signer::new();
        let c = Credentials::new("ak", "sk").with_security_token("Sts-T0ken");
        let p = parts(
            "https://bucket.oss-cn-hangzhou.aliyuncs.com/a%20b.txt?x-oss-signature=old&uploads",
        );
        let out = s.presign(&p, &c, &params(), None).expect("presign");
        assert_eq!(
            out.expires_at,
            UNIX_EPOCH + Duration::from_secs(1_702_781_677 + 900)
        );
        let q = out.uri.query().expect("query");
        assert!(q.starts_with("uploads&x-oss-signature-version=OSS4-HMAC-SHA256&x-oss-date=20231217T025437Z&x-oss-expires=900&x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request&x-oss-security-token=Sts-T0ken&x-oss-signature="), "{q}");
        assert!(!q.contains("old"));
        assert_eq!(out.uri.path(), "/a%20b.txt");
        assert_eq!(out.uri.host(), Some("bucket.oss-cn-hangzhou.aliyuncs.com"));
        let names: Vec<&str> = out.signed_headers.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["content-type", "x-oss-callback"]);
        let dbg = format!("{out:?}");
        assert!(!dbg.contains("Sts-T0ken"), "{dbg}");
    }
}
