//! [`Signer`] and header signing (protocol §1).

use std::sync::Arc;

use hmac::Mac;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, DATE};
use http::request::Parts;
use sha2::{Digest, Sha256};

use crate::canonical::{self, Strictness};
use crate::datetime::Stamp;
use crate::encoding::hex_digits;
use crate::key::KeyCache;
use crate::names::{
    ALGORITHM, UNSIGNED_PAYLOAD, X_OSS_CONTENT_SHA256, X_OSS_DATE, X_OSS_SECURITY_TOKEN,
};
use crate::string_to_sign::{self, push_scope};
use crate::{
    decode_query, effective_additional_headers, CanonicalRequest, Credentials, Error,
    SigningParams, StringToSign,
};

const X_OSS_DATE_NAME: HeaderName = HeaderName::from_static(X_OSS_DATE);
const X_OSS_CONTENT_SHA256_NAME: HeaderName = HeaderName::from_static(X_OSS_CONTENT_SHA256);
const X_OSS_SECURITY_TOKEN_NAME: HeaderName = HeaderName::from_static(X_OSS_SECURITY_TOKEN);

/// Signs requests with OSS Signature V4. No I/O, no clock: the time comes from [`SigningParams`].
///
/// Derived signing keys are cached per (secret, date, region, product), so signing many
/// requests on one day costs one derivation. Clones share the cache.
#[derive(Debug, Clone, Default)]
pub struct Signer {
    pub(crate) cache: Arc<KeyCache>,
}

/// The stages of one header signature, for debugging and demos.
///
/// `Debug` of the canonical request hides an STS token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SigningStages {
    /// The canonical request that was hashed.
    pub canonical_request: CanonicalRequest,
    /// The string that was signed.
    pub string_to_sign: StringToSign,
    /// The lower-case hex signature.
    pub signature: String,
}

impl Signer {
    /// A signer with an empty key cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Signs `parts` in place with header authentication.
    ///
    /// Sets `x-oss-date`, `x-oss-content-sha256: UNSIGNED-PAYLOAD`, `x-oss-security-token` (with an
    /// STS token), `Date` and `Authorization` (the last two and the token marked sensitive).
    /// The canonical URI comes from the bucket and key in `params`, not from `parts.uri`; the
    /// query comes from `parts.uri`. On error `parts` is left unchanged.
    ///
    /// This is the lean path: the canonical request and the string to sign are streamed into
    /// their hashes and never built as strings. Use [`Signer::sign_headers_with_stages`] to see
    /// them.
    ///
    /// # Errors
    ///
    /// - [`Error::TimeOutOfRange`] for a signing time before 1970 or after 9999;
    /// - [`Error::InvalidHeaderValue`] when a signed header value is not UTF-8, or the access key
    ///   id or token cannot be a header value.
    pub fn sign_headers(
        &self,
        parts: &mut Parts,
        creds: &Credentials,
        params: &SigningParams,
    ) -> Result<(), Error> {
        self.sign_headers_inner(parts, creds, params, false)
            .map(drop)
    }

    /// Like [`Signer::sign_headers`], and also returns the canonical request, string to sign and
    /// signature.
    ///
    /// # Errors
    ///
    /// As [`Signer::sign_headers`].
    pub fn sign_headers_with_stages(
        &self,
        parts: &mut Parts,
        creds: &Credentials,
        params: &SigningParams,
    ) -> Result<SigningStages, Error> {
        self.sign_headers_inner(parts, creds, params, true)?
            .ok_or(Error::InvalidParams {
                reason: "signing stages were not recorded",
            })
    }

    fn sign_headers_inner(
        &self,
        parts: &mut Parts,
        creds: &Credentials,
        params: &SigningParams,
        keep_stages: bool,
    ) -> Result<Option<SigningStages>, Error> {
        let stamp = Stamp::new(params.time())?;
        let token = creds.security_token().map(|t| t.expose());

        // Everything fallible happens before `parts` is touched.
        let token_value = token
            .map(|t| {
                HeaderValue::from_str(t).map_err(|_| Error::InvalidHeaderValue {
                    name: X_OSS_SECURITY_TOKEN.to_owned(),
                })
            })
            .transpose()?;
        let query = parts.uri.query().map(decode_query).unwrap_or_default();
        let overrides_buf = [
            (X_OSS_CONTENT_SHA256, UNSIGNED_PAYLOAD),
            (X_OSS_DATE, stamp.datetime()),
            (X_OSS_SECURITY_TOKEN, token.unwrap_or_default()),
        ];
        let overrides = if token.is_some() {
            &overrides_buf[..]
        } else {
            &overrides_buf[..2]
        };
        let additional = effective_additional_headers(params.additional_headers(), &parts.headers);
        let canonical = canonical::Parts {
            method: parts.method.as_str(),
            bucket: params.bucket(),
            key: params.key(),
            query: &query,
            headers: &parts.headers,
            overrides,
            additional: &additional,
            hashed_payload: UNSIGNED_PAYLOAD,
        };
        let (date, region, product) = (stamp.date(), params.region(), params.product());
        let key = self.cache.get(creds, date, region, product);

        let (signature, stages) = if keep_stages {
            let canonical_request = CanonicalRequest::build(canonical, Strictness::Strict)?;
            let string_to_sign = StringToSign::from_parts(
                stamp.datetime(),
                date,
                region,
                product.as_str(),
                &canonical_request.hash(),
            );
            let signature = key.sign_bytes(string_to_sign.as_str().as_bytes());
            (signature, Some((canonical_request, string_to_sign)))
        } else {
            let mut hasher = Sha256::new();
            canonical::write(&canonical, Strictness::Strict, &mut hasher)?;
            let hash: [u8; 32] = hasher.finalize().into();
            let mut mac = key.mac();
            string_to_sign::write(
                &mut mac,
                stamp.datetime(),
                date,
                region,
                product.as_str(),
                &hash,
            );
            (mac.finalize().into_bytes().into(), None)
        };
        let signature_hex = hex_digits(&signature);
        let signature_hex = std::str::from_utf8(&signature_hex).unwrap_or_default();

        let mut auth = String::with_capacity(
            ALGORITHM.len()
                + creds.access_key_id().len()
                + region.len()
                + additional.iter().map(|a| a.len() + 1).sum::<usize>()
                + 160,
        );
        auth.push_str(ALGORITHM);
        auth.push_str(" Credential=");
        auth.push_str(creds.access_key_id());
        auth.push('/');
        push_scope(&mut auth, date, region, product.as_str());
        if !additional.is_empty() {
            auth.push_str(",AdditionalHeaders=");
            for (i, name) in additional.iter().enumerate() {
                if i > 0 {
                    auth.push(';');
                }
                auth.push_str(name);
            }
        }
        auth.push_str(",Signature=");
        auth.push_str(signature_hex);
        let mut auth_value =
            HeaderValue::try_from(auth).map_err(|_| Error::InvalidHeaderValue {
                name: AUTHORIZATION.as_str().to_owned(),
            })?;
        auth_value.set_sensitive(true);
        let date_value =
            HeaderValue::from_str(stamp.http_date()).map_err(|_| Error::TimeOutOfRange)?;
        let x_date_value =
            HeaderValue::from_str(stamp.datetime()).map_err(|_| Error::TimeOutOfRange)?;

        let stages = stages.map(|(canonical_request, string_to_sign)| SigningStages {
            canonical_request,
            string_to_sign,
            signature: signature_hex.to_owned(),
        });

        // Apply: nothing below can fail.
        let headers = &mut parts.headers;
        headers.insert(X_OSS_DATE_NAME, x_date_value);
        headers.insert(
            X_OSS_CONTENT_SHA256_NAME,
            HeaderValue::from_static(UNSIGNED_PAYLOAD),
        );
        if let Some(mut token_value) = token_value {
            token_value.set_sensitive(true);
            headers.insert(X_OSS_SECURITY_TOKEN_NAME, token_value);
        }
        headers.insert(DATE, date_value);
        headers.insert(AUTHORIZATION, auth_value);
        Ok(stages)
    }
}
