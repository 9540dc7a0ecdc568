//! A real callback server for tests: verifies each callback's RSA signature with oss-callback
//! (fetching nothing: it is given the emulator's public key) and answers by path:
//! `/fail*` → 500, `/text*` → 200 with a non-JSON body, `/slow*` → never answers,
//! anything else → 200 `{"Status":"OK"}` when the signature verifies, 400 otherwise.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use oss_callback::CallbackPublicKey;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Received {
    pub path_and_query: String,
    pub host: String,
    pub content_type: String,
    pub pub_key_url: String,
    pub body: String,
    pub verified: bool,
}

#[derive(Debug, Clone)]
pub struct CallbackServer {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl CallbackServer {
    pub async fn start(key: CallbackPublicKey) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let rec = Arc::clone(&received);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let key = key.clone();
                let rec = Arc::clone(&rec);
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(req, key.clone(), Arc::clone(&rec)));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Self { url, received }
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn last(&self) -> Received {
        self.all().pop().expect("a callback arrived")
    }
}

async fn handle(
    req: Request<Incoming>,
    key: CallbackPublicKey,
    rec: Arc<Mutex<Vec<Received>>>,
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
    let query = parts.uri.query().unwrap_or("").to_owned();
    let verified =
        oss_callback::verify_callback(&key, &path, &query, &body, &h("authorization")).is_ok();
    let pub_key_url = oss_callback::decode_pub_key_url(&h("x-oss-pub-key-url")).unwrap_or_default();
    rec.lock().unwrap().push(Received {
        path_and_query: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        host: h("host"),
        content_type: h("content-type"),
        pub_key_url,
        body: String::from_utf8_lossy(&body).into_owned(),
        verified,
    });
    let reply = |status: StatusCode, body: &'static str| {
        let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
        *r.status_mut() = status;
        r.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        Ok(r)
    };
    if path.starts_with("/slow") {
        std::future::pending::<()>().await;
    }
    if path.starts_with("/fail") {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, "{\"Status\":\"Broken\"}");
    }
    if path.starts_with("/text") {
        return reply(StatusCode::OK, "OK");
    }
    if !verified {
        return reply(StatusCode::BAD_REQUEST, "{\"Status\":\"BadSignature\"}");
    }
    reply(StatusCode::OK, "{\"Status\":\"OK\"}")
}
