//! A transport for tests that stops at protocol events: a hook sees every request before it is
//! sent and may hold it (until the test releases it), fail it without sending it, or send it and
//! then lose the answer (the server acted; the client never learns it, as when a run is killed).
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use oss_transport::{HttpSend, Request, Response};

/// Which protocol call a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Initiate,
    UploadPart(u32),
    Complete,
    Other,
}

pub fn call_of(req: &Request) -> Call {
    let q = |name: &str| req.query().iter().find(|(n, _)| n == name).map(|(_, v)| v);
    if let Some(n) = q("partNumber") {
        return Call::UploadPart(n.parse().unwrap_or(0));
    }
    match (
        req.method().as_str(),
        q("uploads").is_some(),
        q("uploadId").is_some(),
    ) {
        ("POST", true, _) => Call::Initiate,
        ("POST", false, true) => Call::Complete,
        _ => Call::Other,
    }
}

/// What the hook does with one request.
pub enum Action {
    /// Send it.
    Pass,
    /// Fail it without sending it (a local failure the transport does not retry).
    Fail,
    /// Send it, then report a failure instead of the answer.
    LoseAnswer,
    /// Wait for this future, then send it.
    Hold(BoxFuture<'static, ()>),
}

type HookFn = dyn Fn(Call, u32, &Request) -> Action + Send + Sync;

/// The hooked transport. The hook gets the call, how many calls of that kind came before (0 for
/// the first), and the request.
pub struct Hooked {
    inner: oss_transport::Client,
    hook: Box<HookFn>,
    initiates: AtomicU32,
    parts: AtomicU32,
    completes: AtomicU32,
}

impl std::fmt::Debug for Hooked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hooked")
    }
}

fn injected() -> oss_transport::Error {
    oss_transport::Error::RequestBody {
        source: std::io::Error::other("injected failure"),
    }
}

impl HttpSend for Hooked {
    fn send(&self, req: Request) -> BoxFuture<'_, Result<Response, oss_transport::Error>> {
        let call = call_of(&req);
        let counter = match call {
            Call::Initiate => Some(&self.initiates),
            Call::UploadPart(_) => Some(&self.parts),
            Call::Complete => Some(&self.completes),
            Call::Other => None,
        };
        let seen = counter.map_or(0, |c| c.fetch_add(1, Ordering::SeqCst));
        match (self.hook)(call, seen, &req) {
            Action::Pass => Box::pin(self.inner.send(req)),
            Action::Fail => Box::pin(async { Err(injected()) }),
            Action::LoseAnswer => Box::pin(async move {
                let _ = self.inner.send(req).await;
                Err(injected())
            }),
            Action::Hold(wait) => Box::pin(async move {
                wait.await;
                self.inner.send(req).await
            }),
        }
    }
}

/// An upload client for `emu` whose requests pass through `hook`.
pub fn client(
    emu: &oss_emulator::Emulator,
    bucket: &str,
    hook: impl Fn(Call, u32, &Request) -> Action + Send + Sync + 'static,
) -> oss_upload::Client {
    let endpoint = oss_transport::Endpoint::custom(emu.endpoint())
        .unwrap()
        .with_addressing(oss_transport::Addressing::PathStyle);
    let inner = oss_transport::Client::builder()
        .with_endpoint(endpoint)
        .with_region(emu.region())
        .with_credentials_provider(oss_sign::StaticCredentialsProvider::new(
            oss_sign::Credentials::new("ak", "sk"),
        ))
        .build()
        .unwrap();
    oss_upload::Client::builder(bucket)
        .with_endpoint(emu.endpoint())
        .with_region(emu.region())
        .with_static_credentials("ak", "sk")
        .with_path_style(true)
        .with_http_send(Arc::new(Hooked {
            inner,
            hook: Box::new(hook),
            initiates: AtomicU32::new(0),
            parts: AtomicU32::new(0),
            completes: AtomicU32::new(0),
        }))
        .build()
        .unwrap()
}

/// The open multipart uploads of `key`, as the emulator's admin view lists them.
pub async fn open_uploads(emu: &oss_emulator::Emulator, key: &str) -> Vec<serde_json::Value> {
    let url = format!("{}/__emulator/uploads", emu.endpoint());
    let (status, body) =
        tokio::task::spawn_blocking(move || oss_test_support::http_request(&url, "GET", &[], b""))
            .await
            .unwrap();
    assert_eq!(status, 200, "GET /__emulator/uploads: {body}");
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    list.as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|u| u["key"] == key)
        .collect()
}
