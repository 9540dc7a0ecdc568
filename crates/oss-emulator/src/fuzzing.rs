//! Entry points for the cargo-fuzz targets in `fuzz/` and for the tests that replay their
//! corpus, so both run the same code. Not a stable API.
//!
//! The HTTP entry points send the input to one shared in-process emulator over loopback TCP and
//! panic if it answers 500 or not at all: whatever a client sends, the emulator must answer
//! with an OSS error or a result. Callback headers and parameters are stripped from signed
//! inputs so that a fuzzed callback URL can never make the emulator connect anywhere.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::policy::Policy;
use crate::request::resolve_target;
use crate::Emulator;

const ACCESS_KEY_ID: &str = "fuzz-ak";
const ACCESS_KEY_SECRET: &str = "fuzz-sk";
const REGION: &str = "cn-hangzhou";
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses a CompleteMultipartUpload XML body.
pub fn complete_xml(data: &[u8]) {
    let _ = crate::xml::parse_complete(data);
}

/// First line: a POST policy JSON document (base64-encoded here, so the fuzzer reaches the JSON
/// rules); further lines: `name=value` form fields checked against it.
pub fn post_policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (policy, fields) = text.split_once('\n').unwrap_or((&text, ""));
    let fields: Vec<(&str, &str)> = fields
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();
    let _ = Policy::parse(policy);
    let b64 = base64::engine::general_purpose::STANDARD.encode(policy);
    if let Ok(policy) = Policy::parse(&b64) {
        let _ = policy.check_expiry(SystemTime::now());
        let _ = policy.check_fields(|name| {
            fields
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| *v)
        });
        let _ = policy.check_length(data.len() as u64);
    }
}

/// Sends `data` as raw bytes on a fresh connection and returns the status code of the answer
/// (`None` when the bytes are not HTTP enough for a response).
///
/// # Panics
///
/// When the emulator answers 500, or does not answer within 10 s.
pub fn http_request(data: &[u8]) -> Option<u16> {
    let (runtime, emulator) = shared();
    runtime.block_on(exchange(emulator.local_addr(), data))
}

/// Interprets `data` as `METHOD /path?query`, header lines, an empty line and a body; signs it
/// for the shared emulator (so the fuzzer gets past authentication into routing, XML and
/// multipart handling) and sends it. Returns the answer's status code.
///
/// # Panics
///
/// As [`http_request`].
pub fn signed_request(data: &[u8]) -> Option<u16> {
    let (runtime, emulator) = shared();
    let raw = sign(data, emulator.local_addr().to_string())?;
    runtime.block_on(exchange(emulator.local_addr(), &raw))
}

fn shared() -> &'static (tokio::runtime::Runtime, Emulator) {
    static SHARED: OnceLock<(tokio::runtime::Runtime, Emulator)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the fuzzing emulator");
        let emulator = runtime
            .block_on(
                Emulator::builder()
                    .with_region(REGION)
                    .with_credentials(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
                    .with_rsa_key_pem(include_str!(
                        "../../oss-callback/testdata/emulator_test_key.pem"
                    ))
                    .with_callback_timeout(Duration::from_millis(200))
                    .with_strict_callback_urls(true)
                    .start(),
            )
            .expect("the fuzzing emulator starts");
        (runtime, emulator)
    })
}

async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> Option<u16> {
    let work = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        // The server may close early on bad input; a failed write is not a finding.
        let _ = stream.write_all(request).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        Some(answer)
    };
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, work)
        .await
        .expect("the emulator did not answer within 10 s")?;
    let status = parse_status(&answer)?;
    assert_ne!(
        status,
        500,
        "the emulator answered 500:\n{}",
        String::from_utf8_lossy(&answer)
    );
    Some(status)
}

fn parse_status(answer: &[u8]) -> Option<u16> {
    let line = answer.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Builds the signed wire form of the request `data` describes.
fn sign(data: &[u8], authority: String) -> Option<Vec<u8>> {
    let split = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .map_or((data, &b""[..]), |i| (&data[..i], &data[i + 2..]));
    let (head, body) = split;
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let (method, target) = lines.next()?.split_once(' ')?;
    let method = http::Method::from_bytes(method.as_bytes()).ok()?;
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if !path.starts_with('/') {
        return None;
    }
    // Never let a fuzzed callback leave the machine: drop every callback carrier.
    let query: Vec<(String, String)> = oss_sign::decode_query(query)
        .into_iter()
        .filter(|(name, _)| name != "callback" && name != "callback-var")
        .collect();
    let mut uri = path.to_owned();
    for (i, (name, value)) in query.iter().enumerate() {
        uri.push(if i == 0 { '?' } else { '&' });
        uri.push_str(&oss_sign::percent_encode(name, false));
        if !value.is_empty() {
            uri.push('=');
            uri.push_str(&oss_sign::percent_encode(value, false));
        }
    }
    let mut builder = http::Request::builder().method(method).uri(uri.as_str());
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim().to_ascii_lowercase();
        if name.starts_with("x-oss-callback")
            || matches!(
                name.as_str(),
                "host" | "content-length" | "transfer-encoding" | "connection"
            )
        {
            continue;
        }
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value.trim()),
        ) else {
            continue;
        };
        builder = builder.header(name, value);
    }
    let (mut parts, ()) = builder.body(()).ok()?.into_parts();
    let target = resolve_target(None, path, &authority).ok()?;
    let mut params = oss_sign::SigningParams::builder(REGION).with_time(SystemTime::now());
    if let Some(bucket) = target.bucket {
        params = params.with_bucket(bucket);
    }
    if let Some(key) = target.key {
        params = params.with_key(key);
    }
    let params = params.build().ok()?;
    let creds = oss_sign::Credentials::new(ACCESS_KEY_ID, ACCESS_KEY_SECRET);
    oss_sign::Signer::new()
        .sign_headers(&mut parts, &creds, &params)
        .ok()?;

    let mut raw =
        format!("{} {} HTTP/1.1\r\nhost: {authority}\r\n", parts.method, uri).into_bytes();
    for (name, value) in &parts.headers {
        raw.extend_from_slice(name.as_str().as_bytes());
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(value.as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(
        format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    raw.extend_from_slice(body);
    Some(raw)
}

#[cfg(test)]
mod replay;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_requests_reach_the_operations() {
        let put = signed_request(b"PUT /fuzz-bucket/a.txt\ncontent-type: text/plain\n\nhello");
        assert_eq!(put, Some(200));
        let get = signed_request(b"GET /fuzz-bucket/a.txt\n\n");
        assert_eq!(get, Some(200));
        // A fuzzed callback is stripped, so the PUT still succeeds without delivering anything.
        let cb = signed_request(b"PUT /fuzz-bucket/b.txt\nx-oss-callback: eyJ9\n\nx");
        assert_eq!(cb, Some(200));
        let bad_xml = signed_request(b"POST /fuzz-bucket/a.txt?uploadId=nope\n\n<Complete");
        assert!(matches!(bad_xml, Some(400) | Some(404)), "{bad_xml:?}");
    }

    #[test]
    fn unsigned_bytes_get_an_oss_error_not_a_crash() {
        assert_eq!(
            http_request(
                b"GET /fuzz-bucket/a.txt HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
            ),
            Some(403)
        );
        let _ = http_request(b"\x00\x01 not http at all");
    }

    #[test]
    fn policy_and_xml_parsers_take_any_bytes() {
        post_policy(b"{\"expiration\":\"2030-01-01T00:00:00.000Z\",\"conditions\":[[\"eq\",\"$key\",\"a\"]]}\nkey=a");
        post_policy(&[0xff, 0x00, b'\n', b'=']);
        complete_xml(b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>");
        complete_xml(&[0xff; 10]);
    }
}
