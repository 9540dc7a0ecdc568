//! Test harness: an in-process emulator, a client for it, and a callback server that verifies
//! every callback's RSA signature with `oss-callback` before answering JSON.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use oss_callback::{Callback, CallbackBodyType, CallbackVars};
use oss_emulator::Emulator;
use oss_upload::Client;
use tokio::net::TcpListener;

pub const BUCKET: &str = "test-bucket";

/// JSON template with system values and two custom variables.
pub const JSON_TEMPLATE: &str = r#"{"bucket":${bucket},"object":${object},"size":${size},"mimeType":${mimeType},"etag":${etag},"crc64":${crc64},"var1":${x:var1},"var2":${x:var2}}"#;
/// Form template with the same values.
pub const FORM_TEMPLATE: &str = "bucket=${bucket}&object=${object}&size=${size}&mimeType=${mimeType}&etag=${etag}&var1=${x:var1}&var2=${x:var2}";

/// One callback the server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    pub body: String,
    /// The signature verified against the emulator's public key, fetched from the URL in
    /// `x-oss-pub-key-url` (checked to be the emulator's).
    pub verified: bool,
}

#[derive(Debug)]
pub struct CallbackServer {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    fail: Arc<AtomicBool>,
}

impl CallbackServer {
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Answer 500 from now on (OSS then reports 203 CallbackFailed).
    pub fn fail(&self, on: bool) {
        self.fail.store(on, Ordering::SeqCst);
    }

    async fn start(pub_key_pem: String, pub_key_url: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let key = Arc::new(oss_callback::CallbackPublicKey::from_pem(&pub_key_pem).unwrap());
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let fail: Arc<AtomicBool> = Arc::default();
        let (r, f) = (Arc::clone(&received), Arc::clone(&fail));
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (key, r, f, url) = (
                    Arc::clone(&key),
                    Arc::clone(&r),
                    Arc::clone(&f),
                    pub_key_url.clone(),
                );
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                        let (key, r, f, url) = (
                            Arc::clone(&key),
                            Arc::clone(&r),
                            Arc::clone(&f),
                            url.clone(),
                        );
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let h = |n: &str| {
                                parts
                                    .headers
                                    .get(n)
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or("")
                                    .to_owned()
                            };
                            let url_ok = oss_callback::decode_pub_key_url(&h("x-oss-pub-key-url"))
                                .map(|u| u == url)
                                .unwrap_or(false);
                            let path = parts.uri.path().to_owned();
                            let query = parts
                                .uri
                                .query()
                                .map(|q| format!("?{q}"))
                                .unwrap_or_default();
                            let verified = url_ok
                                && oss_callback::verify_callback(
                                    &key,
                                    &path,
                                    &query,
                                    &body,
                                    &h("authorization"),
                                )
                                .is_ok();
                            let text = String::from_utf8_lossy(&body).into_owned();
                            r.lock().unwrap().push(Received {
                                path,
                                content_type: h("content-type"),
                                body: text.clone(),
                                verified,
                            });
                            let (status, answer) = if !verified {
                                (403, r#"{"error":"bad signature"}"#.to_owned())
                            } else if f.load(Ordering::SeqCst) {
                                (500, r#"{"error":"refused"}"#.to_owned())
                            } else {
                                (
                                    200,
                                    serde_json::json!({"ok": true, "received": text}).to_string(),
                                )
                            };
                            Ok::<_, Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .header("content-type", "application/json")
                                    .body(Full::new(Bytes::from(answer)))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self {
            url: format!("http://{addr}/callback"),
            received,
            fail,
        }
    }
}

#[derive(Debug)]
pub struct Harness {
    pub emu: Emulator,
    pub client: Client,
    pub cb: CallbackServer,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../oss-callback/testdata/emulator_test_key.pem"
        ))
        .unwrap();
        let emu = Emulator::builder()
            .with_region("cn-hangzhou")
            .with_credentials("ak", "sk")
            .with_rsa_key_pem(pem)
            .start()
            .await
            .unwrap();
        let client = Client::builder(BUCKET)
            .with_endpoint(emu.endpoint())
            .with_region(emu.region())
            .with_static_credentials("ak", "sk")
            .with_path_style(true)
            .build()
            .unwrap();
        let cb = CallbackServer::start(emu.public_key_pem().to_owned(), emu.public_key_url()).await;
        Self {
            emu,
            client,
            cb,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn callback(&self, body_type: CallbackBodyType) -> Callback {
        let template = match body_type {
            CallbackBodyType::Json => JSON_TEMPLATE,
            _ => FORM_TEMPLATE,
        };
        Callback::builder()
            .with_url(self.cb.url.clone())
            .with_body(template)
            .with_body_type(body_type)
            .build()
            .unwrap()
    }

    pub fn write_file(&self, name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// The object's bytes as stored.
    pub async fn stored(&self, key: &str) -> Bytes {
        self.client
            .get_object(key)
            .send()
            .await
            .unwrap()
            .body
            .bytes()
            .await
            .unwrap()
    }
}

pub fn vars() -> CallbackVars {
    CallbackVars::new()
        .with("x:var1", "value one")
        .unwrap()
        .with("x:var2", "a/b&c=d")
        .unwrap()
}

/// Deterministic test data.
pub fn data(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The values a callback body carried, for either body type.
pub fn parse_body(r: &Received) -> std::collections::BTreeMap<String, String> {
    if r.content_type.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    } else {
        url::form_urlencoded::parse(r.body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// Checks the one callback the server received for an upload of `data` to `key` and the answer
/// the uploader got back.
pub fn assert_callback(
    h: &Harness,
    out: &oss_upload::UploadOutput,
    key: &str,
    data: &[u8],
    mime: &str,
    body_type: CallbackBodyType,
) {
    let received = h.cb.received();
    let r = received.last().expect("a callback was received");
    assert!(r.verified, "callback signature verified");
    let expected_ct = match body_type {
        CallbackBodyType::Json => "application/json",
        _ => "application/x-www-form-urlencoded",
    };
    assert!(
        r.content_type.starts_with(expected_ct),
        "{}",
        r.content_type
    );
    let v = parse_body(r);
    assert_eq!(v["bucket"], BUCKET);
    assert_eq!(v["object"], key);
    assert_eq!(v["size"], data.len().to_string());
    assert_eq!(v["mimeType"], mime);
    assert_eq!(v["var1"], "value one");
    assert_eq!(v["var2"], "a/b&c=d");
    let etag = out.etag.as_deref().expect("etag").trim_matches('"');
    assert!(
        v["etag"].eq_ignore_ascii_case(etag),
        "{} vs {etag}",
        v["etag"]
    );
    // The uploader got the callback server's answer.
    let answer = out
        .callback
        .as_ref()
        .expect("callback answer")
        .json_value()
        .unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["received"], r.body.as_str());
    let crc = oss_upload::Crc64::checksum(data);
    assert_eq!(out.crc64, Some(crc));
}
