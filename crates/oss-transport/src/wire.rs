//! Error bodies on the wire: OSS's XML `<Error>` document, the base64 `x-oss-err` header of
//! bodiless responses, and the JSON variant (protocol §6.1, errors.md §1).

use std::collections::BTreeMap;

use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use quick_xml::events::Event;

use crate::error::{Error, ServiceError};
use oss_types::CallbackFailure;

/// How many bytes of an unparsable body [`Error::BadErrorResponse`] quotes.
pub(crate) const SNIPPET_LIMIT: usize = 256;

/// Why a body is not an error document.
#[derive(Debug)]
struct NotAnError;

/// Turns a non-2xx response into [`Error::Service`] or [`Error::BadErrorResponse`].
pub(crate) fn service_error(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    let fields = if body.iter().all(u8::is_ascii_whitespace) {
        match header_str(headers, "x-oss-err") {
            Some(encoded) => match base64::engine::general_purpose::STANDARD.decode(encoded.trim())
            {
                Ok(xml) => match parse_xml(&xml) {
                    Ok(f) => f,
                    Err(NotAnError) => return bad(status, headers, &xml),
                },
                Err(_) => return bad(status, headers, encoded.as_bytes()),
            },
            // No document at all (e.g. a HEAD without `x-oss-err`): keep status and headers.
            None => BTreeMap::new(),
        }
    } else {
        match parse_body(headers, body) {
            Ok(f) => f,
            Err(NotAnError) => return bad(status, headers, body),
        }
    };
    Error::Service(Box::new(build_service(status, headers, fields)))
}

/// Turns a 203 answer to a callback-carrying request on `bucket`/`key` into
/// [`Error::CallbackFailed`].
pub(crate) fn callback_failed(
    bucket: &str,
    key: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Error {
    let fields = parse_body(headers, body).unwrap_or_default();
    let service = build_service(status, headers, fields);
    let mut failure = CallbackFailure::new(bucket, key);
    failure.status = status;
    failure.code = if service.code.is_empty() {
        "CallbackFailed".to_owned()
    } else {
        service.code
    };
    failure.message = service.message;
    failure.request_id = service.request_id;
    failure.ec = service.ec;
    failure.etag = header_str(headers, "etag").map(str::to_owned);
    failure.crc64 =
        header_str(headers, "x-oss-hash-crc64ecma").and_then(oss_types::Crc64::parse_header);
    failure.version_id = header_str(headers, "x-oss-version-id").map(str::to_owned);
    failure.fields = service.fields;
    failure.headers = service.headers;
    Error::CallbackFailed(Box::new(failure))
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<BTreeMap<String, String>, NotAnError> {
    let json_type = header_str(headers, "content-type").is_some_and(|t| t.contains("json"));
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if json_type || first == Some(&b'{') {
        parse_json(body)
    } else {
        parse_xml(body)
    }
}

fn build_service(
    status: StatusCode,
    headers: &HeaderMap,
    fields: BTreeMap<String, String>,
) -> ServiceError {
    let get = |name: &str| fields.get(name).cloned();
    ServiceError {
        status,
        code: get("Code").unwrap_or_default(),
        message: get("Message").unwrap_or_default(),
        request_id: get("RequestId")
            .or_else(|| header_str(headers, "x-oss-request-id").map(str::to_owned)),
        ec: get("EC").or_else(|| header_str(headers, "x-oss-ec").map(str::to_owned)),
        host_id: get("HostId"),
        fields,
        headers: headers.clone(),
    }
}

fn bad(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    Error::BadErrorResponse {
        status,
        request_id: header_str(headers, "x-oss-request-id").map(str::to_owned),
        snippet: snippet(body),
    }
}

/// At most [`SNIPPET_LIMIT`] bytes of `body`, cut on a character boundary, lossy UTF-8.
pub(crate) fn snippet(body: &[u8]) -> String {
    let cut = &body[..body.len().min(SNIPPET_LIMIT)];
    let text = String::from_utf8_lossy(cut).into_owned();
    if text.len() <= SNIPPET_LIMIT {
        return text;
    }
    // Replacement characters can grow the text past the limit; trim back to a boundary.
    let mut end = SNIPPET_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Every leaf element below the root, by element name. The root must be an element; a `Code`
/// leaf is required so that arbitrary XML is not mistaken for an error document.
fn parse_xml(body: &[u8]) -> Result<BTreeMap<String, String>, NotAnError> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut fields = BTreeMap::new();
    let mut depth = 0usize;
    let mut current: Option<(String, String, bool)> = None; // (name, text, has_child)
    let mut saw_root = false;
    loop {
        match reader.read_event().map_err(|_| NotAnError)? {
            Event::Start(e) => {
                depth += 1;
                saw_root = true;
                if let Some((_, _, has_child)) = current.as_mut() {
                    *has_child = true;
                }
                if depth >= 2 {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    current = Some((name, String::new(), false));
                }
            }
            Event::Empty(e) => {
                saw_root = true;
                if depth >= 1 {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    fields.entry(name).or_insert_with(String::new);
                }
            }
            Event::Text(t) => {
                if let Some((_, text, _)) = current.as_mut() {
                    let raw = t.unescape().map_err(|_| NotAnError)?;
                    text.push_str(&raw);
                }
            }
            Event::CData(c) => {
                if let Some((_, text, _)) = current.as_mut() {
                    text.push_str(&String::from_utf8_lossy(&c.into_inner()));
                }
            }
            Event::End(_) => {
                if let Some((name, text, has_child)) = current.take() {
                    if !has_child {
                        fields.insert(name, text);
                    }
                }
                depth = depth.checked_sub(1).ok_or(NotAnError)?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root || depth != 0 || !fields.contains_key("Code") {
        return Err(NotAnError);
    }
    Ok(fields)
}

/// `{"Error":{...}}` or a flat object; string leaves kept as is, other scalars as JSON text.
fn parse_json(body: &[u8]) -> Result<BTreeMap<String, String>, NotAnError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| NotAnError)?;
    let object = match value.get("Error") {
        Some(inner @ serde_json::Value::Object(_)) => inner,
        _ => &value,
    };
    let serde_json::Value::Object(map) = object else {
        return Err(NotAnError);
    };
    let mut fields = BTreeMap::new();
    collect_json(map, &mut fields);
    if !fields.contains_key("Code") {
        return Err(NotAnError);
    }
    Ok(fields)
}

fn collect_json(
    map: &serde_json::Map<String, serde_json::Value>,
    out: &mut BTreeMap<String, String>,
) {
    for (name, value) in map {
        match value {
            serde_json::Value::Object(inner) => collect_json(inner, out),
            serde_json::Value::String(s) => {
                out.insert(name.clone(), s.clone());
            }
            serde_json::Value::Null => {
                out.insert(name.clone(), String::new());
            }
            other => {
                out.insert(name.clone(), other.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchBucket</Code>
  <Message>The specified bucket does not exist.</Message>
  <RequestId>5C3D9175B6FC201293AD****</RequestId>
  <HostId>test.oss-cn-hangzhou.aliyuncs.com</HostId>
  <BucketName>test</BucketName>
  <EC>0015-00000101</EC>
  <RecommendDoc>https://api.aliyun.com/troubleshoot?q=0015-00000101</RecommendDoc>
</Error>"#;

    fn service(e: Error) -> ServiceError {
        match e {
            Error::Service(s) => *s,
            other => panic!("expected Service, got {other:?}"),
        }
    }

    #[test]
    fn xml_keeps_every_leaf() {
        let e = service(service_error(
            StatusCode::NOT_FOUND,
            &HeaderMap::new(),
            XML.as_bytes(),
        ));
        assert_eq!(e.code, "NoSuchBucket");
        assert_eq!(e.message, "The specified bucket does not exist.");
        assert_eq!(e.request_id.as_deref(), Some("5C3D9175B6FC201293AD****"));
        assert_eq!(e.ec.as_deref(), Some("0015-00000101"));
        assert_eq!(
            e.host_id.as_deref(),
            Some("test.oss-cn-hangzhou.aliyuncs.com")
        );
        assert_eq!(e.field("BucketName"), Some("test"));
        assert_eq!(e.fields.len(), 7);
    }

    #[test]
    fn escaped_text_is_unescaped() {
        let xml = "<Error><Code>X</Code><StringToSign>a&amp;b\\n</StringToSign></Error>";
        let e = service(service_error(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            xml.as_bytes(),
        ));
        assert_eq!(e.field("StringToSign"), Some("a&b\\n"));
    }

    #[test]
    fn x_oss_err_header_on_empty_body() {
        let mut h = HeaderMap::new();
        let enc = base64::engine::general_purpose::STANDARD.encode(XML);
        h.insert("x-oss-err", HeaderValue::from_str(&enc).unwrap());
        let e = service(service_error(StatusCode::NOT_FOUND, &h, b""));
        assert_eq!(e.code, "NoSuchBucket");
    }

    #[test]
    fn empty_body_without_header_keeps_request_id() {
        let mut h = HeaderMap::new();
        h.insert("x-oss-request-id", HeaderValue::from_static("rid"));
        h.insert("x-oss-ec", HeaderValue::from_static("0026-00000001"));
        let e = service(service_error(StatusCode::NOT_FOUND, &h, b""));
        assert_eq!(e.code, "");
        assert_eq!(e.request_id.as_deref(), Some("rid"));
        assert_eq!(e.ec.as_deref(), Some("0026-00000001"));
    }

    #[test]
    fn json_nested_and_flat() {
        let nested =
            br#"{"Error":{"Code":"AccessDenied","Message":"no","RequestId":"r","EC":"0003-1"}}"#;
        let e = service(service_error(
            StatusCode::FORBIDDEN,
            &HeaderMap::new(),
            nested,
        ));
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("AccessDenied", "no")
        );
        assert_eq!(e.ec.as_deref(), Some("0003-1"));
        let flat = br#"{"Code":"InvalidArgument","Message":"m","Count":3}"#;
        let e = service(service_error(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            flat,
        ));
        assert_eq!(e.code, "InvalidArgument");
        assert_eq!(e.field("Count"), Some("3"));
    }

    #[test]
    fn garbage_is_bad_error_response_with_bounded_snippet() {
        let body = vec![b'z'; 1000];
        match service_error(StatusCode::BAD_GATEWAY, &HeaderMap::new(), &body) {
            Error::BadErrorResponse {
                status, snippet, ..
            } => {
                assert_eq!(status, StatusCode::BAD_GATEWAY);
                assert_eq!(snippet.len(), SNIPPET_LIMIT);
            }
            other => panic!("{other:?}"),
        }
        // XML without a Code is not an error document.
        assert!(matches!(
            service_error(
                StatusCode::BAD_REQUEST,
                &HeaderMap::new(),
                b"<html><b>x</b></html>"
            ),
            Error::BadErrorResponse { .. }
        ));
    }

    #[test]
    fn callback_failed_takes_object_headers() {
        let xml = "<Error><Code>CallbackFailed</Code><Message>Error status : 301.</Message><RequestId>r1</RequestId><EC>0007-00000203</EC></Error>";
        let mut h = HeaderMap::new();
        h.insert("etag", HeaderValue::from_static("\"E\""));
        h.insert("x-oss-hash-crc64ecma", HeaderValue::from_static("123"));
        h.insert("x-oss-version-id", HeaderValue::from_static("v1"));
        match callback_failed(
            "b",
            "k",
            StatusCode::NON_AUTHORITATIVE_INFORMATION,
            &h,
            xml.as_bytes(),
        ) {
            Error::CallbackFailed(c) => {
                assert_eq!(c.message, "Error status : 301.");
                assert_eq!(c.ec.as_deref(), Some("0007-00000203"));
                assert_eq!(c.request_id.as_deref(), Some("r1"));
                assert_eq!(c.etag.as_deref(), Some("\"E\""));
                assert_eq!(c.crc64, Some(123));
                assert_eq!((c.bucket.as_str(), c.key.as_str()), ("b", "k"));
                assert_eq!(c.version_id.as_deref(), Some("v1"));
            }
            other => panic!("{other:?}"),
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_snippet_is_bounded(body in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            if let Error::BadErrorResponse { snippet, .. } = service_error(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), &body) {
                proptest::prop_assert!(snippet.len() <= SNIPPET_LIMIT);
            }
        }
    }
}
