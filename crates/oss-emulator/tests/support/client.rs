//! A tiny signing HTTP client for the emulator's tests: builds requests, signs them with
//! oss-sign (headers or presigned query) and sends them with hyper-util's legacy client.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use oss_emulator::Emulator;
use oss_sign::{percent_encode, Credentials, Signer, SigningParams};

pub const AK: &str = "test-ak";
pub const SK: &str = "test-sk";
pub const REGION: &str = oss_test_support::REGION;

/// An in-memory emulator with the test credentials and key.
pub async fn start() -> Emulator {
    builder().start().await.expect("emulator starts")
}

pub fn builder() -> oss_emulator::EmulatorBuilder {
    oss_test_support::emulator(AK, SK).with_callback_timeout(Duration::from_millis(300))
}

/// An unsigned request description.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: Method,
    pub bucket: String,
    pub key: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub time: SystemTime,
    pub additional: Vec<String>,
    pub host: Option<String>,
}

impl Req {
    pub fn new(method: Method, bucket: &str, key: Option<&str>) -> Self {
        Self {
            method,
            bucket: bucket.into(),
            key: key.map(Into::into),
            query: Vec::new(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            time: SystemTime::now(),
            additional: Vec::new(),
            host: None,
        }
    }
    pub fn put(bucket: &str, key: &str, body: impl Into<Bytes>) -> Self {
        Self::new(Method::PUT, bucket, Some(key)).body(body)
    }
    pub fn get(bucket: &str, key: &str) -> Self {
        Self::new(Method::GET, bucket, Some(key))
    }
    pub fn query(mut self, k: &str, v: &str) -> Self {
        self.query.push((k.into(), v.into()));
        self
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.insert(
            HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            HeaderValue::from_str(v).expect("header value"),
        );
        self
    }
    pub fn body(mut self, b: impl Into<Bytes>) -> Self {
        self.body = b.into();
        self
    }
    pub fn time(mut self, t: SystemTime) -> Self {
        self.time = t;
        self
    }
    pub fn additional(mut self, names: &[&str]) -> Self {
        self.additional = names.iter().map(|s| s.to_string()).collect();
        self
    }

    fn path_and_query(&self) -> String {
        let mut s = format!("/{}/", self.bucket);
        if let Some(k) = &self.key {
            s.push_str(&percent_encode(k, true));
        }
        if !self.query.is_empty() {
            s.push('?');
            let q: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| {
                    if v.is_empty() {
                        percent_encode(k, false)
                    } else {
                        format!("{}={}", percent_encode(k, false), percent_encode(v, false))
                    }
                })
                .collect();
            s.push_str(&q.join("&"));
        }
        s
    }

    pub fn parts(&self, endpoint: &str) -> http::request::Parts {
        let uri: Uri = format!("{endpoint}{}", self.path_and_query())
            .parse()
            .expect("uri");
        let mut req = Request::builder()
            .method(self.method.clone())
            .uri(uri)
            .body(())
            .expect("request");
        *req.headers_mut() = self.headers.clone();
        let (parts, ()) = req.into_parts();
        parts
    }

    pub fn params(&self, region: &str) -> SigningParams {
        let mut b = SigningParams::builder(region)
            .with_bucket(self.bucket.clone())
            .with_time(self.time)
            .with_additional_headers(self.additional.clone());
        if let Some(k) = &self.key {
            b = b.with_key(k.clone());
        }
        b.build().expect("params")
    }
}

/// A response read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The text of the first `<name>` element in the body.
    pub fn xml(&self, name: &str) -> Option<String> {
        xml_field(&self.text(), name)
    }
    pub fn code(&self) -> Option<String> {
        self.xml("Code")
    }
    pub fn ec(&self) -> Option<String> {
        self.xml("EC")
    }
}

pub fn xml_field(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let end = text[start..].find(&close)? + start;
    Some(text[start..end].to_owned())
}

#[derive(Debug, Clone)]
pub struct TestClient {
    pub endpoint: String,
    pub creds: Credentials,
    pub region: String,
    signer: Signer,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl TestClient {
    pub fn new(emu: &Emulator) -> Self {
        Self::with(emu.endpoint(), Credentials::new(AK, SK), REGION)
    }

    pub fn with(endpoint: &str, creds: Credentials, region: &str) -> Self {
        Self {
            endpoint: endpoint.into(),
            creds,
            region: region.into(),
            signer: Signer::new(),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Header-signed parts for `req`.
    pub fn sign(&self, req: &Req) -> http::request::Parts {
        let mut parts = req.parts(&self.endpoint);
        self.signer
            .sign_headers(&mut parts, &self.creds, &req.params(&self.region))
            .expect("sign");
        parts
    }

    /// A presigned URI plus the headers to send.
    pub fn presign(&self, req: &Req, expires: Duration) -> (Uri, HeaderMap) {
        let parts = req.parts(&self.endpoint);
        let p = self
            .signer
            .presign(&parts, &self.creds, &req.params(&self.region), expires)
            .expect("presign");
        (p.uri, p.signed_headers)
    }

    pub async fn send_parts(&self, parts: http::request::Parts, body: Bytes) -> Resp {
        let req = Request::from_parts(parts, Full::new(body));
        let resp = self.http.request(req).await.expect("http exchange");
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// Signs `req` with header authentication and sends it.
    pub async fn send(&self, req: Req) -> Resp {
        let parts = self.sign(&req);
        self.send_parts(parts, req.body.clone()).await
    }

    /// Sends without any signature.
    pub async fn send_raw(
        &self,
        method: Method,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("{}{}", self.endpoint, path_and_query));
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let (parts, ()) = b.body(()).expect("request").into_parts();
        self.send_parts(parts, body).await
    }

    pub async fn put(&self, bucket: &str, key: &str, body: &[u8]) -> Resp {
        self.send(Req::put(bucket, key, Bytes::copy_from_slice(body)))
            .await
    }

    pub async fn get(&self, bucket: &str, key: &str) -> Resp {
        self.send(Req::get(bucket, key)).await
    }
}
