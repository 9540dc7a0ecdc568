//! A fault-injecting HTTP/1.1 proxy for tests: it forwards to one upstream (the emulator) and,
//! per request, applies a [`Fault`] drawn from a seeded mix; it reports protocol events in order
//! and can hold a matching request until the test releases it.
//!
//! Requests need a `Content-Length` (no chunked request bodies); responses may have a length,
//! be chunked, or end with the connection. Client connections are kept alive; each request gets
//! its own upstream connection, so a fault on one never leaves another upstream in doubt.
//!
//! Faults and what the server saw:
//!
//! | [`Fault`] | server saw the whole request | client got |
//! | --- | --- | --- |
//! | `None` | yes | the server's answer |
//! | `ResetMidBody` | no (part of the body, then a reset) | a reset while sending |
//! | `ResetBeforeResponse` | yes, and answered | a reset before any response byte |
//! | `Reject(e)` | no | `e` with OSS XML |
//! | `ReplaceResponse(e)` | yes, and answered | `e` with OSS XML |
//! | `DelayResponse` | yes, and answered | the answer after [`FaultConfig::with_delay`] |
//! | `TruncateResponse` | yes, and answered | a head promising more body than sent, then EOF |
//!
//! Events come in protocol order per request: [`EventKind::RequestHead`], then
//! [`EventKind::Fault`] when one is injected, [`EventKind::RequestBodyForwarded`],
//! [`EventKind::ResponseHead`] (from upstream) and [`EventKind::ResponseForwarded`]. A
//! [`Hold`] stalls the next matching request at a [`HoldStage`]: before anything is forwarded,
//! or after the server answered and before the client sees a byte of it.
//!
//! ```
//! use oss_test_support::{ErrorStatus, EventKind, Fault, FaultConfig, FaultProxy, HoldStage};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let emu = oss_test_support::emulator("ak", "sk").start().await.unwrap();
//! // One request in ten answered 503 without reaching the emulator, seed 42; anything under
//! // /__emulator/ is exempt (the default).
//! let config = FaultConfig::new(42)
//!     .with(Fault::None, 9)
//!     .with(Fault::Reject(ErrorStatus::ServiceUnavailable), 1);
//! let proxy = FaultProxy::start(emu.local_addr(), config).await.unwrap();
//! let mut events = proxy.events();
//! // Stall the request once the emulator answered, before the client hears. A kill test
//! // matches e.g. `h.method == "PUT" && h.has_query("partNumber")` instead.
//! let mut hold = proxy.hold(HoldStage::BeforeResponse, |h| h.path == "/__emulator/stats");
//! let url = format!("{}/__emulator/stats", proxy.url());
//! let client = tokio::task::spawn_blocking(move || {
//!     oss_test_support::http_request(&url, "GET", &[], b"")
//! });
//! let held = hold.arrived().await.unwrap();
//! assert_eq!(held.method, "GET");
//! // Here a test kills the client, or starts a second one; then:
//! hold.release();
//! assert_eq!(client.await.unwrap().0, 200);
//! let answered = events
//!     .wait_for(|e| matches!(e.kind, EventKind::ResponseHead { status: 200 }))
//!     .await
//!     .unwrap();
//! assert_eq!(answered.request, 0);
//! assert!(proxy.counts().is_empty(), "exempt requests are never faulted nor counted");
//! # }
//! ```

mod fault;
mod wire;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};

use fault::Chooser;
pub use fault::{ErrorStatus, Fault, FaultConfig};
use wire::{Conn, Framing, Head};

/// A request as the proxy saw its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// `PUT`, `POST`, ...
    pub method: String,
    /// The path as sent (still percent-encoded), e.g. `/bucket/key`.
    pub path: String,
    /// The raw query without `?` (empty when none), e.g. `partNumber=1&uploadId=…`.
    pub query: String,
    /// The headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body length (`content-length`, 0 when absent).
    pub content_length: u64,
}

impl RequestHead {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query has parameter `name` (`name` or `name=…`).
    pub fn has_query(&self, name: &str) -> bool {
        self.query
            .split('&')
            .any(|p| p == name || p.split_once('=').is_some_and(|(n, _)| n == name))
    }
}

/// One protocol event of one request.
#[derive(Debug, Clone)]
pub struct Event {
    /// The request's number in this proxy, from 0 in arrival order.
    pub request: u64,
    /// Its head.
    pub head: Arc<RequestHead>,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a request, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The client's request head was read.
    RequestHead,
    /// A fault other than [`Fault::None`] was chosen for it.
    Fault(Fault),
    /// The whole body was forwarded upstream (the server has the whole request).
    RequestBodyForwarded,
    /// The upstream answer's head arrived, with this status.
    ResponseHead {
        /// The upstream status.
        status: u16,
    },
    /// The upstream answer was written to the client unchanged.
    ResponseForwarded,
}

/// A subscription to a proxy's events from the moment it was made.
#[derive(Debug)]
pub struct Events {
    rx: mpsc::UnboundedReceiver<Event>,
}

impl Events {
    /// The next event; `None` once the proxy is gone.
    pub async fn next(&mut self) -> Option<Event> {
        self.rx.recv().await
    }

    /// The next event if one is already there, without waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Skips events until one matches.
    pub async fn wait_for(&mut self, mut matches: impl FnMut(&Event) -> bool) -> Option<Event> {
        while let Some(e) = self.rx.recv().await {
            if matches(&e) {
                return Some(e);
            }
        }
        None
    }
}

/// Where a [`Hold`] stalls its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldStage {
    /// After the request head was read, before anything is forwarded (the server has seen
    /// nothing; the body waits in the client's socket).
    BeforeRequest,
    /// After the server answered (head and body read), before any response byte reaches the
    /// client.
    BeforeResponse,
}

/// A stall of the next request that matched, released by [`release`](Self::release) or by
/// dropping it.
#[derive(Debug)]
pub struct Hold {
    arrived: Option<oneshot::Receiver<Arc<RequestHead>>>,
    release: Option<oneshot::Sender<()>>,
}

impl Hold {
    /// Waits until a request is held and returns its head; `None` if the proxy went away.
    /// Later calls return `None`.
    pub async fn arrived(&mut self) -> Option<Arc<RequestHead>> {
        self.arrived.take()?.await.ok()
    }

    /// Lets the held request go on (or lets the next match pass unheld if none arrived yet).
    pub fn release(mut self) {
        if let Some(tx) = self.release.take() {
            let _ = tx.send(());
        }
    }
}

type Matcher = Box<dyn Fn(&RequestHead) -> bool + Send + Sync>;

struct PendingHold {
    stage: HoldStage,
    matches: Matcher,
    arrived: oneshot::Sender<Arc<RequestHead>>,
    release: oneshot::Receiver<()>,
}

/// A non-exempt request and the fault it got.
#[derive(Debug, Clone)]
pub struct Injection {
    /// The request's number (as in [`Event::request`]).
    pub request: u64,
    /// Its head.
    pub head: Arc<RequestHead>,
    /// The fault applied ([`Fault::None`] included).
    pub fault: Fault,
}

struct Shared {
    upstream: SocketAddr,
    config: FaultConfig,
    next_request: AtomicU64,
    chooser: Mutex<Chooser>,
    injections: Mutex<Vec<Injection>>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<Event>>>,
    holds: Mutex<Vec<PendingHold>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn emit(&self, request: u64, head: &Arc<RequestHead>, kind: EventKind) {
        let event = Event {
            request,
            head: Arc::clone(head),
            kind,
        };
        lock(&self.subscribers).retain(|tx| tx.send(event.clone()).is_ok());
    }

    /// Stalls here while a hold for `stage` matching `head` is pending and not released.
    async fn hold_point(&self, stage: HoldStage, head: &Arc<RequestHead>) {
        let pending = {
            let mut holds = lock(&self.holds);
            let i = holds
                .iter()
                .position(|h| h.stage == stage && (h.matches)(head));
            i.map(|i| holds.remove(i))
        };
        if let Some(h) = pending {
            let _ = h.arrived.send(Arc::clone(head));
            // A dropped Hold ends the wait as a release does.
            let _ = h.release.await;
        }
    }
}

/// The proxy; it stops accepting and drops its connections when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` with `config`'s faults.
    ///
    /// # Errors
    ///
    /// When it cannot bind.
    pub async fn start(upstream: SocketAddr, config: FaultConfig) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            config,
            next_request: AtomicU64::new(0),
            chooser: Mutex::new(Chooser::default()),
            injections: Mutex::new(Vec::new()),
            subscribers: Mutex::new(Vec::new()),
            holds: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            // Connections live in this set, so aborting the accept task ends them all.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let shared = Arc::clone(&accept_shared);
                        conns.spawn(async move { serve(stream, shared).await });
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// A pass-through proxy ([`FaultConfig::none`]) in front of a server at `endpoint`
    /// (`http://127.0.0.1:PORT`, as a spawned emulator child prints it), for tests that only hold
    /// requests or watch its events.
    ///
    /// # Panics
    ///
    /// When `endpoint` is not `http://` + a socket address, or the proxy cannot bind.
    pub async fn in_front_of(endpoint: &str) -> Self {
        let upstream = endpoint
            .strip_prefix("http://")
            .and_then(|a| a.trim_end_matches('/').parse().ok())
            .unwrap_or_else(|| panic!("not an http://ADDR endpoint: {endpoint}"));
        Self::start(upstream, FaultConfig::none())
            .await
            .expect("bind the proxy")
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, an endpoint for a path-style client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many non-exempt requests got each fault so far ([`Fault::None`] included).
    pub fn counts(&self) -> BTreeMap<Fault, u64> {
        let mut counts = BTreeMap::new();
        for i in lock(&self.shared.injections).iter() {
            *counts.entry(i.fault).or_insert(0) += 1;
        }
        counts
    }

    /// Every non-exempt request so far and its fault, in arrival order.
    pub fn injections(&self) -> Vec<Injection> {
        lock(&self.shared.injections).clone()
    }

    /// Subscribes to every event from now on (unbounded: a test that never reads only costs
    /// memory).
    pub fn events(&self) -> Events {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.shared.subscribers).push(tx);
        Events { rx }
    }

    /// Holds the next request for which `matches` is true at `stage`, exempt or not.
    pub fn hold(
        &self,
        stage: HoldStage,
        matches: impl Fn(&RequestHead) -> bool + Send + Sync + 'static,
    ) -> Hold {
        let (arrived_tx, arrived_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        lock(&self.shared.holds).push(PendingHold {
            stage,
            matches: Box::new(matches),
            arrived: arrived_tx,
            release: release_rx,
        });
        Hold {
            arrived: Some(arrived_rx),
            release: Some(release_tx),
        }
    }
}

/// Why a connection ends: cleanly, or with a reset the fault asked for.
enum End {
    KeepAlive,
    Close,
    Reset,
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let mut client = Conn::new(stream);
    loop {
        let end = match client.read_head().await {
            Ok(Some(raw)) => exchange(&mut client, raw, &shared).await,
            Ok(None) | Err(_) => Ok(End::Close),
        };
        match end {
            Ok(End::KeepAlive) => {}
            Ok(End::Close) | Err(_) => {
                let _ = client.stream.shutdown().await;
                return;
            }
            Ok(End::Reset) => {
                reset(client.stream);
                return;
            }
        }
    }
}

/// Drops `stream` with an RST instead of a FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Handles one request whose head is `raw`.
async fn exchange(client: &mut Conn<TcpStream>, raw: Vec<u8>, shared: &Shared) -> io::Result<End> {
    let parsed = Head::parse(&raw)?;
    if parsed.is_chunked() {
        write_plain(client, 411, "chunked request bodies are not supported").await?;
        return Ok(End::Close);
    }
    let content_length = parsed.content_length()?.unwrap_or(0);
    let (path, query) = match parsed.start[1].split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (parsed.start[1].clone(), String::new()),
    };
    let head = Arc::new(RequestHead {
        method: parsed.start[0].clone(),
        path,
        query,
        headers: parsed.headers.clone(),
        content_length,
    });
    let request = shared.next_request.fetch_add(1, Ordering::SeqCst);
    let (fault, extra) = if (shared.config.exempt)(&head) {
        (Fault::None, 0)
    } else {
        let (fault, extra) = lock(&shared.chooser).choose(&shared.config, &head);
        lock(&shared.injections).push(Injection {
            request,
            head: Arc::clone(&head),
            fault,
        });
        (fault, extra)
    };
    let close_after = parsed.wants_close(&parsed.start[2]);
    let keep = if close_after {
        End::Close
    } else {
        End::KeepAlive
    };
    shared.emit(request, &head, EventKind::RequestHead);
    if fault != Fault::None {
        shared.emit(request, &head, EventKind::Fault(fault));
    }
    shared.hold_point(HoldStage::BeforeRequest, &head).await;

    if let Fault::Reject(e) = fault {
        let _ = client
            .read_exact_body(usize::try_from(content_length).unwrap_or(usize::MAX))
            .await?;
        write_error(client, e, request, &head.method).await?;
        return Ok(keep);
    }

    let Ok(upstream) = TcpStream::connect(shared.upstream).await else {
        write_plain(client, 502, "upstream unreachable").await?;
        return Ok(End::Close);
    };
    let mut upstream = Conn::new(upstream);
    upstream.stream.write_all(&raw).await?;
    if fault == Fault::ResetMidBody {
        // 0..content_length bytes: never the whole body.
        let part = extra % content_length.max(1);
        client.copy_body(&mut upstream.stream, part).await?;
        upstream.stream.flush().await?;
        reset(upstream.stream);
        return Ok(End::Reset);
    }
    client
        .copy_body(&mut upstream.stream, content_length)
        .await?;
    upstream.stream.flush().await?;
    shared.emit(request, &head, EventKind::RequestBodyForwarded);

    let Some(resp_raw) = upstream.read_head().await? else {
        return Ok(End::Reset);
    };
    let resp = Head::parse(&resp_raw)?;
    let status: u16 = resp.start[1].parse().unwrap_or(0);
    shared.emit(request, &head, EventKind::ResponseHead { status });
    let framing = resp.response_framing(&head.method)?;
    let body = upstream.read_body(framing).await?;
    let upstream_close = framing == Framing::UntilClose || resp.wants_close(&resp.start[0]);
    drop(upstream);
    shared.hold_point(HoldStage::BeforeResponse, &head).await;

    match fault {
        Fault::ResetBeforeResponse => return Ok(End::Reset),
        Fault::ReplaceResponse(e) => {
            write_error(client, e, request, &head.method).await?;
            return Ok(keep);
        }
        Fault::TruncateResponse => {
            let (head_bytes, cut) = match framing {
                Framing::Length(n) => (resp.to_bytes_with_length(n + 64), body.len() / 2),
                _ => (resp_raw, body.len() / 2),
            };
            client.stream.write_all(&head_bytes).await?;
            client.stream.write_all(&body[..cut]).await?;
            client.stream.flush().await?;
            return Ok(End::Close);
        }
        Fault::DelayResponse => tokio::time::sleep(shared.config.delay).await,
        Fault::None | Fault::ResetMidBody | Fault::Reject(_) => {}
    }
    client.stream.write_all(&resp_raw).await?;
    client.stream.write_all(&body).await?;
    client.stream.flush().await?;
    shared.emit(request, &head, EventKind::ResponseForwarded);
    Ok(if upstream_close { End::Close } else { keep })
}

async fn write_error(
    client: &mut Conn<TcpStream>,
    e: ErrorStatus,
    request: u64,
    method: &str,
) -> io::Result<()> {
    let request_id = format!("FAULTPROXY{request:014X}");
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{}</Code>\n  \
         <Message>injected by the test fault proxy</Message>\n  <RequestId>{request_id}</RequestId>\n  \
         <HostId>127.0.0.1</HostId>\n</Error>\n",
        e.code()
    );
    let head = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\
         x-oss-request-id: {request_id}\r\n\r\n",
        e.status(),
        e.code(),
        body.len()
    );
    client.stream.write_all(head.as_bytes()).await?;
    // An answer to HEAD has no body: bytes after its head would be read as the next answer
    // on the kept-alive connection, failing a request the proxy forwarded untouched.
    if method != "HEAD" {
        client.stream.write_all(body.as_bytes()).await?;
    }
    client.stream.flush().await
}

async fn write_plain(client: &mut Conn<TcpStream>, status: u16, text: &str) -> io::Result<()> {
    let reply = format!(
        "HTTP/1.1 {status} Proxy\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{text}",
        text.len()
    );
    client.stream.write_all(reply.as_bytes()).await?;
    client.stream.flush().await
}
