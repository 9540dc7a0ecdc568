//! One plain HTTP/1.1 exchange over loopback, for tests that must send exactly the bytes they
//! mean (a forged callback, a presigned URL as a browser would use it) without a client library
//! adding or normalising anything.

use std::io::{Read as _, Write as _};

use crate::LINE_DEADLINE;

/// Sends one request to `url` (`http://HOST:PORT/PATH?QUERY`) over a fresh connection with
/// `Connection: close` and `Content-Length`, then `headers` in order, and returns the status and
/// the body as text.
///
/// # Panics
///
/// When the server cannot be reached, does not answer within [`LINE_DEADLINE`], or the answer is
/// not HTTP.
pub fn http_request(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = std::net::TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(LINE_DEADLINE))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad response {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `GET` of one of the emulator's admin views (`/__emulator/uploads`, `/__emulator/requests`,
/// ...) at `endpoint` (`http://HOST:PORT`), parsed as JSON.
///
/// # Panics
///
/// As [`http_request`], and when the answer is not 200 or not JSON.
pub fn admin_json(endpoint: &str, path: &str) -> serde_json::Value {
    let (status, body) = http_request(&format!("{endpoint}{path}"), "GET", &[], b"");
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}
