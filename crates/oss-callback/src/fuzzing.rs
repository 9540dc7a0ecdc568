//! Entry points shared by the `fuzz/` cargo-fuzz targets and the corpus replay (`replay.rs`,
//! a unit test so it runs without the `fuzzing` feature), so CI exercises the same code
//! without a fuzzer.
//!
//! Each function accepts arbitrary bytes and must never panic except on a broken invariant,
//! which is what the fuzzer looks for. Not part of the stable API.

use crate::{
    decode_headers, Callback, CallbackBodyType, CallbackPublicKey, CallbackVars, CallbackVerifier,
    SystemValues, Template, SYSTEM_VARIABLES,
};

/// DER (base64) of OSS's published 512-bit callback public key.
const OSS_PUBLIC_KEY_DER_B64: &str = "MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKs/JBGzwUB2aVht4crBx3oIPBLNsjGsC0fTXv+nvlmklvkcolvpvXLTjaxUHR3W9LXxQ2EHXAJfCB+6H2YF1k8CAwEAAQ==";

/// Input: byte 0 selects the body type (odd = JSON), then `template \0 value \0 value ...`;
/// values fill the system variables in [`SYSTEM_VARIABLES`] order, then `x:v0`, `x:v1`, ....
/// Checks: success does not depend on the values; JSON output parses; form output has only
/// the template's own `&`, `=` and spaces.
pub fn template_resolve(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let body_type = if selector & 1 == 1 {
        CallbackBodyType::Json
    } else {
        CallbackBodyType::FormUrlEncoded
    };
    let text = String::from_utf8_lossy(rest);
    let mut pieces = text.split('\0');
    let source = pieces.next().unwrap_or_default();
    let Ok(template) = Template::parse(source) else {
        return;
    };
    let mut values = SystemValues::default();
    let mut vars = CallbackVars::new();
    for (i, value) in pieces.enumerate() {
        match SYSTEM_VARIABLES.get(i) {
            Some(name) => {
                let _ = values.set(name, value);
            }
            None => {
                let _ = vars.insert(format!("x:v{}", i - SYSTEM_VARIABLES.len()), value);
            }
        }
    }
    let resolved = template.resolve(&values, &vars, body_type);
    // Values are inserted as JSON strings, so whether resolution succeeds cannot depend on them.
    let bare = template.resolve(&SystemValues::default(), &CallbackVars::new(), body_type);
    assert_eq!(resolved.is_ok(), bare.is_ok());
    let Ok(out) = resolved else {
        assert_eq!(
            body_type,
            CallbackBodyType::Json,
            "form resolution cannot fail"
        );
        return;
    };
    match body_type {
        CallbackBodyType::Json => {
            assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
        }
        _ => {
            let bare = bare.unwrap_or_default();
            for sep in ['&', '=', ' '] {
                assert_eq!(out.matches(sep).count(), bare.matches(sep).count());
            }
        }
    }
}

/// Input: `callback-b64 \n callback-var-b64` (the second part optional), decoded both directly
/// and through a header map; also the whole input as callback JSON text. Checks: whatever
/// decodes re-encodes to a value that decodes to the same thing.
pub fn callback_header_decode(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (cb_part, var_part) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(cb) = Callback::decode(cb_part) {
        assert_eq!(Callback::decode(&cb.encode()).ok().as_ref(), Some(&cb));
    }
    if let Ok(vars) = CallbackVars::decode(var_part) {
        assert_eq!(
            CallbackVars::decode(&vars.encode()).ok().as_ref(),
            Some(&vars)
        );
    }
    if let Ok(cb) = Callback::from_json(&text) {
        assert_eq!(Callback::from_json(&cb.to_json()).ok().as_ref(), Some(&cb));
    }
    let mut headers = http::HeaderMap::new();
    if let Ok(v) = http::HeaderValue::from_str(cb_part) {
        headers.insert(crate::HEADER_CALLBACK, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(var_part) {
        headers.insert(crate::HEADER_CALLBACK_VAR, v);
    }
    let _ = decode_headers(&headers);
}

/// Input: `path-and-query \n authorization \n body` (body may contain newlines), verified
/// against OSS's public key directly and through [`CallbackVerifier::verify_with_key`].
/// Checks: no panic, and both paths agree.
pub fn callback_verify(data: &[u8]) {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let target = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let auth = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default();
    let Ok(der) = crate::codec::decode_base64("key", OSS_PUBLIC_KEY_DER_B64) else {
        return;
    };
    let Ok(key) = CallbackPublicKey::from_der(&der) else {
        return;
    };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let _ = crate::verify_callback(&key, path, query, body, &auth);
    let Ok(uri) = target.parse::<http::Uri>() else {
        return;
    };
    let mut headers = http::HeaderMap::new();
    let Ok(value) = http::HeaderValue::from_str(&auth) else {
        return;
    };
    headers.insert(crate::HEADER_AUTHORIZATION, value);
    let verified = CallbackVerifier::new()
        .verify_with_key(&key, &uri, &headers, body)
        .is_ok();
    let direct =
        crate::verify_callback(&key, uri.path(), uri.query().unwrap_or(""), body, &auth).is_ok();
    assert_eq!(verified, direct);
}

#[cfg(test)]
mod replay;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_points_accept_empty_and_garbage() {
        for data in [&b""[..], b"\0", b"\x01{", b"\n\n\n", &[0xff; 32]] {
            template_resolve(data);
            callback_header_decode(data);
            callback_verify(data);
        }
    }
}
