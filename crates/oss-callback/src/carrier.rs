//! The three ways a callback travels with an upload: headers, URL query, PostObject form.

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::{Callback, CallbackVars, Error};

/// Header carrying the base64 callback JSON.
pub const HEADER_CALLBACK: HeaderName = HeaderName::from_static("x-oss-callback");
/// Header carrying the base64 custom-variable JSON.
pub const HEADER_CALLBACK_VAR: HeaderName = HeaderName::from_static("x-oss-callback-var");
/// Query parameter / form field carrying the base64 callback JSON.
pub const PARAM_CALLBACK: &str = "callback";
/// Query parameter carrying the base64 custom-variable JSON.
pub const PARAM_CALLBACK_VAR: &str = "callback-var";

/// Where a callback is carried. OSS accepts exactly one carrier per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Carrier {
    /// `x-oss-callback` / `x-oss-callback-var` request headers (PutObject,
    /// CompleteMultipartUpload, presigned URLs whose signed headers include them).
    Header,
    /// `callback` / `callback-var` URL query parameters (presigned URLs).
    Query,
    /// PostObject form fields: `callback`, plus one `x:name` field per custom variable.
    Form,
}

/// A callback decoded from a request, with the carrier it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodedCallback {
    /// Where it was found.
    pub carrier: Carrier,
    /// The callback.
    pub callback: Callback,
    /// The custom variables (empty when none were sent).
    pub vars: CallbackVars,
}

/// Sets `x-oss-callback` and, when `vars` is non-empty, `x-oss-callback-var` (replacing any
/// earlier values). Both start with `x-oss-`, so a V4 signer signs them: call this before signing.
///
/// # Errors
///
/// [`Error::InvalidHeaderValue`] (cannot happen with base64 values; kept so the signature can
/// grow checks without breaking callers).
pub fn encode_headers(
    callback: &Callback,
    vars: Option<&CallbackVars>,
    headers: &mut HeaderMap,
) -> Result<(), Error> {
    let var_value = encode_vars(vars);
    let cb = HeaderValue::try_from(callback.encode()).map_err(|_| Error::InvalidHeaderValue {
        name: "x-oss-callback",
    })?;
    let var_value = var_value
        .map(HeaderValue::try_from)
        .transpose()
        .map_err(|_| Error::InvalidHeaderValue {
            name: "x-oss-callback-var",
        })?;
    headers.insert(HEADER_CALLBACK, cb);
    match var_value {
        Some(v) => {
            headers.insert(HEADER_CALLBACK_VAR, v);
        }
        None => {
            headers.remove(HEADER_CALLBACK_VAR);
        }
    }
    Ok(())
}

fn encode_vars(vars: Option<&CallbackVars>) -> Option<String> {
    vars.filter(|v| !v.is_empty()).map(CallbackVars::encode)
}

/// The query parameters `callback` and (when `vars` is non-empty) `callback-var`, as decoded
/// name/value pairs; the caller (presigner) percent-encodes them into the URL.
pub fn encode_query(callback: &Callback, vars: Option<&CallbackVars>) -> Vec<(String, String)> {
    let mut out = vec![(PARAM_CALLBACK.to_owned(), callback.encode())];
    if let Some(v) = encode_vars(vars) {
        out.push((PARAM_CALLBACK_VAR.to_owned(), v));
    }
    out
}

/// The PostObject form fields: `callback`, then one `x:name` field per custom variable
/// (PostObject has no `callback-var` field).
pub fn encode_form(callback: &Callback, vars: Option<&CallbackVars>) -> Vec<(String, String)> {
    let mut out = vec![(PARAM_CALLBACK.to_owned(), callback.encode())];
    if let Some(vars) = vars {
        out.extend(vars.iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
    }
    out
}

fn single_header<'a>(
    headers: &'a HeaderMap,
    name: &HeaderName,
    label: &'static str,
) -> Result<Option<&'a str>, Error> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Error::ConflictingCarriers { name: label });
    }
    first
        .to_str()
        .map(Some)
        .map_err(|_| Error::InvalidHeaderValue { name: label })
}

/// Decodes `x-oss-callback` / `x-oss-callback-var` from request headers. `Ok(None)` when there
/// is no `x-oss-callback` header (a lone `x-oss-callback-var` is ignored, as it has no effect).
///
/// # Errors
///
/// [`Error::ConflictingCarriers`] for a repeated header, [`Error::InvalidHeaderValue`], and
/// the decoding errors of [`Callback::decode`] and [`CallbackVars::decode`].
pub fn decode_headers(headers: &HeaderMap) -> Result<Option<(Callback, CallbackVars)>, Error> {
    let cb = single_header(headers, &HEADER_CALLBACK, "x-oss-callback")?;
    let var = single_header(headers, &HEADER_CALLBACK_VAR, "x-oss-callback-var")?;
    decode_pair(cb, var)
}

fn decode_pair(
    cb: Option<&str>,
    var: Option<&str>,
) -> Result<Option<(Callback, CallbackVars)>, Error> {
    let Some(cb) = cb else {
        return Ok(None);
    };
    let callback = Callback::decode(cb)?;
    let vars = match var {
        Some(v) => CallbackVars::decode(v)?,
        None => CallbackVars::new(),
    };
    Ok(Some((callback, vars)))
}

fn single_param<'a>(
    pairs: &'a [(String, String)],
    name: &'static str,
) -> Result<Option<&'a str>, Error> {
    let mut found = pairs.iter().filter(|(k, _)| k == name);
    let first = found.next();
    if found.next().is_some() {
        return Err(Error::ConflictingCarriers { name });
    }
    Ok(first.map(|(_, v)| v.as_str()))
}

/// Decodes `callback` / `callback-var` from decoded query pairs. `Ok(None)` when there is no
/// `callback` parameter.
///
/// # Errors
///
/// [`Error::ConflictingCarriers`] for a repeated parameter, and the decoding errors of
/// [`Callback::decode`] and [`CallbackVars::decode`].
pub fn decode_query(pairs: &[(String, String)]) -> Result<Option<(Callback, CallbackVars)>, Error> {
    let cb = single_param(pairs, PARAM_CALLBACK)?;
    let var = single_param(pairs, PARAM_CALLBACK_VAR)?;
    decode_pair(cb, var)
}

/// Decodes a PostObject callback from form fields: `callback`, and every field whose name
/// starts with `x:` as a custom variable. `Ok(None)` when there is no `callback` field.
///
/// # Errors
///
/// [`Error::ConflictingCarriers`] for a repeated `callback` field, [`Error::InvalidVarKey`]
/// for an `x:` field that is not lower-case, and the decoding errors of [`Callback::decode`].
pub fn decode_form(fields: &[(String, String)]) -> Result<Option<(Callback, CallbackVars)>, Error> {
    let Some(cb) = single_param(fields, PARAM_CALLBACK)? else {
        return Ok(None);
    };
    let callback = Callback::decode(cb)?;
    let mut vars = CallbackVars::new();
    for (k, v) in fields {
        if k.starts_with("x:") {
            vars.insert(k.clone(), v.clone())?;
        }
    }
    Ok(Some((callback, vars)))
}

/// Decodes the callback of a PutObject / CompleteMultipartUpload request from its headers
/// or its URL query, rejecting requests that use both (OSS `0007-00000027`).
///
/// # Errors
///
/// [`Error::ConflictingCarriers`] when headers and query both carry `callback` (or both carry
/// `callback-var`), and the errors of [`decode_headers`] / [`decode_query`].
pub fn decode_request(
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Option<DecodedCallback>, Error> {
    if headers.contains_key(HEADER_CALLBACK) && query.iter().any(|(k, _)| k == PARAM_CALLBACK) {
        return Err(Error::ConflictingCarriers { name: "callback" });
    }
    if headers.contains_key(HEADER_CALLBACK_VAR)
        && query.iter().any(|(k, _)| k == PARAM_CALLBACK_VAR)
    {
        return Err(Error::ConflictingCarriers {
            name: "callback-var",
        });
    }
    if let Some((callback, vars)) = decode_headers(headers)? {
        return Ok(Some(DecodedCallback {
            carrier: Carrier::Header,
            callback,
            vars,
        }));
    }
    Ok(
        decode_query(query)?.map(|(callback, vars)| DecodedCallback {
            carrier: Carrier::Query,
            callback,
            vars,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Callback, CallbackVars) {
        let cb = Callback::builder()
            .with_url("http://example.com/cb")
            .with_body("a=${x:v}")
            .build()
            .unwrap();
        let vars = CallbackVars::new().with("x:v", "1").unwrap();
        (cb, vars)
    }

    #[test]
    fn headers_round_trip() {
        let (cb, vars) = sample();
        let mut h = HeaderMap::new();
        encode_headers(&cb, Some(&vars), &mut h).unwrap();
        assert_eq!(decode_headers(&h).unwrap(), Some((cb.clone(), vars)));
        encode_headers(&cb, None, &mut h).unwrap();
        assert!(!h.contains_key(HEADER_CALLBACK_VAR));
        assert_eq!(decode_headers(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn query_and_form_round_trip() {
        let (cb, vars) = sample();
        let q = encode_query(&cb, Some(&vars));
        assert_eq!(q[0].0, "callback");
        assert_eq!(q[1].0, "callback-var");
        assert_eq!(decode_query(&q).unwrap(), Some((cb.clone(), vars.clone())));
        let f = encode_form(&cb, Some(&vars));
        assert_eq!(f[1], ("x:v".to_owned(), "1".to_owned()));
        assert_eq!(decode_form(&f).unwrap(), Some((cb, vars)));
    }

    #[test]
    fn conflicts() {
        let (cb, vars) = sample();
        let mut h = HeaderMap::new();
        encode_headers(&cb, Some(&vars), &mut h).unwrap();
        let q = encode_query(&cb, None);
        assert!(matches!(
            decode_request(&h, &q),
            Err(Error::ConflictingCarriers { name: "callback" })
        ));
        let mut dup = q.clone();
        dup.extend(q.clone());
        assert!(matches!(
            decode_query(&dup),
            Err(Error::ConflictingCarriers { .. })
        ));
        h.append(HEADER_CALLBACK, HeaderValue::from_static("e30="));
        assert!(matches!(
            decode_headers(&h),
            Err(Error::ConflictingCarriers { .. })
        ));
        let decoded = decode_request(&HeaderMap::new(), &q).unwrap().unwrap();
        assert_eq!(decoded.carrier, Carrier::Query);
        assert!(decoded.vars.is_empty());
    }
}
