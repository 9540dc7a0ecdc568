//! Entry point for the cargo-fuzz target `transport_error_parse` in `fuzz/` and for the test
//! that replays its corpus. Not a stable API.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

use crate::wire::{callback_failed, service_error, SNIPPET_LIMIT};
use crate::Error;

/// Input layout: byte 0 picks the status (`400 + b % 200`, so 4xx and 5xx), then `name: value`
/// header lines, an empty line, and the body. Parses it as OSS error response and as a 203
/// callback failure.
///
/// # Panics
///
/// When a parse breaks an invariant: a `BadErrorResponse` quoting more than 256 bytes of body, or
/// a service error that lost its status.
pub fn error_response(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let status =
        StatusCode::from_u16(400 + u16::from(first) % 200).unwrap_or(StatusCode::BAD_REQUEST);
    let (head, body) = rest
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or((rest, &b""[..]), |i| (&rest[..i], &rest[i + 2..]));
    let mut headers = HeaderMap::new();
    for line in head.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    match service_error(status, &headers, body) {
        Error::Service(service) => assert_eq!(service.status, status),
        Error::BadErrorResponse { snippet, .. } => {
            assert!(snippet.len() <= SNIPPET_LIMIT, "{}", snippet.len());
        }
        other => panic!("unexpected error kind {other:?}"),
    }
    match callback_failed(
        "b",
        "k",
        StatusCode::NON_AUTHORITATIVE_INFORMATION,
        &headers,
        body,
    ) {
        Error::CallbackFailed(failed) => assert!(!failed.code.is_empty()),
        other => panic!("unexpected error kind {other:?}"),
    }
}

#[cfg(test)]
mod replay;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_xml_header_and_garbage_inputs() {
        error_response(
            b"\x03content-type: application/xml\n\n<Error><Code>NoSuchKey</Code></Error>",
        );
        error_response(b"\x00x-oss-err: PEVycm9yPjxDb2RlPkE8L0NvZGU+PC9FcnJvcj4=\n\n");
        error_response(b"\x01content-type: application/json\n\n{\"Error\":{\"Code\":\"X\"}}");
        error_response(&[7; 4096]);
        error_response(b"");
    }
}
