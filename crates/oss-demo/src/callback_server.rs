//! The user's side of a callback: a hyper server whose only route sits behind
//! `oss-callback`'s `CallbackVerifyLayer`, so a forged callback never reaches it.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use oss_callback::{CallbackVerifier, CallbackVerifyLayer, HyperKeyFetcher};
use tokio::net::TcpListener;
use tower::{service_fn, ServiceBuilder, ServiceExt};

/// A callback that passed signature verification.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub body: String,
}

/// A running callback server.
#[derive(Debug)]
pub struct CallbackServer {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl CallbackServer {
    /// Starts on 127.0.0.1:0, trusting public keys served under `trusted_key_prefix` (the
    /// emulator's own URL: real OSS keys live under `gosspublic.alicdn.com`).
    pub async fn start(trusted_key_prefix: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let verifier = CallbackVerifier::builder()
            .with_allowed_prefixes([trusted_key_prefix.to_owned()])
            .build()
            .map_err(std::io::Error::other)?;
        let layer = CallbackVerifyLayer::new(verifier, HyperKeyFetcher::new());
        let log = Arc::clone(&received);
        let app = service_fn(move |req: http::Request<Full<Bytes>>| {
            let log = Arc::clone(&log);
            async move {
                let path = req.uri().to_string();
                let body = req.into_body().collect().await.map(|b| b.to_bytes());
                let body = String::from_utf8_lossy(&body.unwrap_or_default()).into_owned();
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Received {
                        path,
                        body: body.clone(),
                    });
                let answer =
                    serde_json::json!({"status": "ok", "verified": true, "received": body});
                let response = http::Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(answer.to_string())))
                    .unwrap_or_default();
                Ok::<_, Infallible>(response)
            }
        });
        let service = ServiceBuilder::new().layer(layer).service(app);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = service.clone();
                // hyper drives a `hyper::service::Service`; hand each request to the tower stack.
                let service = hyper::service::service_fn(move |req| service.clone().oneshot(req));
                tokio::spawn(async move {
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { url, received })
    }

    /// Callbacks that passed verification, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
