//! A real callback server for tests: it records every callback, verifies its RSA signature with
//! `oss-callback` against the emulator's public key (given, never fetched) and answers by path.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use oss_callback::CallbackPublicKey;
use oss_emulator::Emulator;
use tokio::net::TcpListener;

/// What the server answers to a verified callback on an ordinary path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `{"Status":"OK"}`, the answer of OSS's own examples.
    StatusOk,
    /// `{"ok":true,"received":BODY}`: echoing the body lets a test compare the answer the
    /// uploader got back with the callback the server saw.
    Echo,
}

/// One callback the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query as requested, e.g. `/notify?id=1`.
    pub path_and_query: String,
    /// The `Host` header.
    pub host: String,
    /// The `Content-Type` header.
    pub content_type: String,
    /// The decoded `x-oss-pub-key-url` (empty when missing or not base64).
    pub pub_key_url: String,
    /// The body, lossily decoded as UTF-8.
    pub body: String,
    /// The key URL is the emulator's and the signature verifies against its public key.
    pub verified: bool,
}

/// A callback server on `127.0.0.1:0`, served from the test's tokio runtime until it ends.
///
/// Answers by path: `/slow…` never answers (for callback timeouts), `/fail…` is 500,
/// `/text…` is 200 with the non-JSON body `OK`; any other path is 400 when the callback did
/// not verify and the [`Answer`] otherwise. Every callback is recorded before it is answered.
#[derive(Debug, Clone)]
pub struct CallbackServer {
    /// `http://127.0.0.1:PORT`; a test appends the path it wants answered.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    fail: Arc<AtomicBool>,
}

impl CallbackServer {
    /// Starts a server that trusts only `emulator`'s key and key URL.
    ///
    /// # Panics
    ///
    /// When it cannot bind or the emulator's key does not parse.
    pub async fn start(emulator: &Emulator, answer: Answer) -> Self {
        let key = CallbackPublicKey::from_pem(emulator.public_key_pem()).expect("emulator key");
        let key_url: Arc<str> = emulator.public_key_url().into();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let fail = Arc::new(AtomicBool::new(false));
        let server = Self {
            url,
            received: Arc::clone(&received),
            fail: Arc::clone(&fail),
        };
        let state = Arc::new(State {
            key,
            key_url,
            answer,
            received,
            fail,
        });
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let state = Arc::clone(&state);
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(req, Arc::clone(&state)));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        server
    }

    /// Every callback received so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The latest callback.
    ///
    /// # Panics
    ///
    /// When none has arrived.
    pub fn last(&self) -> Received {
        self.received().pop().expect("a callback arrived")
    }

    /// From now on, answer every path with 500 as `/fail` does (OSS then reports a 203
    /// `CallbackFailed`), or stop doing so.
    pub fn fail(&self, on: bool) {
        self.fail.store(on, Ordering::SeqCst);
    }
}

struct State {
    key: CallbackPublicKey,
    key_url: Arc<str>,
    answer: Answer,
    received: Arc<Mutex<Vec<Received>>>,
    fail: Arc<AtomicBool>,
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let h = |n: &str| {
        parts
            .headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("");
    let pub_key_url = oss_callback::decode_pub_key_url(&h("x-oss-pub-key-url")).unwrap_or_default();
    let verified = pub_key_url == *state.key_url
        && oss_callback::verify_callback(&state.key, &path, query, &body, &h("authorization"))
            .is_ok();
    let text = String::from_utf8_lossy(&body).into_owned();
    state.received.lock().unwrap().push(Received {
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        host: h("host"),
        content_type: h("content-type"),
        pub_key_url,
        body: text.clone(),
        verified,
    });
    let reply = |status: StatusCode, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        Ok(r)
    };
    if path.starts_with("/slow") {
        std::future::pending::<()>().await;
    }
    if path.starts_with("/fail") || state.fail.load(Ordering::SeqCst) {
        return reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            r#"{"Status":"Broken"}"#.into(),
        );
    }
    if path.starts_with("/text") {
        return reply(StatusCode::OK, "OK".into());
    }
    if !verified {
        return reply(
            StatusCode::BAD_REQUEST,
            r#"{"Status":"BadSignature"}"#.into(),
        );
    }
    let answer = match state.answer {
        Answer::StatusOk => r#"{"Status":"OK"}"#.to_owned(),
        Answer::Echo => serde_json::json!({"ok": true, "received": text}).to_string(),
    };
    reply(StatusCode::OK, answer)
}
