//! The identity side: a mock ECS metadata service (IMDS) and a mock STS on a listener of their
//! own, the temporary keys they issue (which the OSS side accepts until they expire), and the
//! admin endpoints that expire or rotate those keys on demand.
//!
//! One port serves both: a connection whose first byte is a TLS handshake (`0x16`) is STS over
//! HTTPS with the emulator's self-signed CA; anything else is plain-HTTP IMDS, like the real
//! `100.100.100.200`. STS is refused over plain HTTP so clients really trust the CA.

mod imds;
mod keys;
mod sts;
mod tls;

use std::collections::HashSet;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use oss_sign::Secret;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub(crate) use keys::{SessionPolicy, TempKey};

use crate::body::{self, ResBody};
use crate::error::Error;
use crate::router::respond;
use crate::server::Emulator;

/// Default of [`IdentityConfig::with_role_name`].
pub const DEFAULT_ROLE_NAME: &str = "oss-emulator-role";
/// The account id in the role ARNs the emulator makes up.
const ACCOUNT_ID: &str = "1234567890123456";
/// Default of [`IdentityConfig::with_key_lifetime`]: one hour, like STS's default duration.
pub const DEFAULT_KEY_LIFETIME: Duration = Duration::from_secs(3600);
/// STS request bodies are small forms.
const MAX_STS_BODY: usize = 64 * 1024;
/// A connection to the identity side lives at most this long (clients are local and quick).
const CONNECTION_LIMIT: Duration = Duration::from_secs(120);
/// Bound on remembered IMDS tokens and STS nonces (cleared when reached).
const MAX_REMEMBERED: usize = 100_000;

/// Settings of the identity side ([`EmulatorBuilder::with_identity`](crate::EmulatorBuilder::with_identity)).
#[derive(Clone)]
#[non_exhaustive]
pub struct IdentityConfig {
    listen: SocketAddr,
    role_name: String,
    oidc_token: Option<Secret>,
    key_lifetime: Duration,
    ca_file: Option<PathBuf>,
}

impl fmt::Debug for IdentityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityConfig")
            .field("listen", &self.listen)
            .field("role_name", &self.role_name)
            .field("oidc_token", &self.oidc_token.as_ref().map(|_| "***"))
            .field("key_lifetime", &self.key_lifetime)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            role_name: DEFAULT_ROLE_NAME.to_owned(),
            oidc_token: None,
            key_lifetime: DEFAULT_KEY_LIFETIME,
            ca_file: None,
        }
    }
}

impl IdentityConfig {
    /// Every default: listen on `127.0.0.1:0`, role `oss-emulator-role`, keys live one hour,
    /// no OIDC token accepted, the CA not written anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Address of the identity listener. Default `127.0.0.1:0` (a free port).
    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// The instance's RAM role name the IMDS reports. Default `oss-emulator-role`.
    pub fn with_role_name(mut self, name: impl Into<String>) -> Self {
        self.role_name = name.into();
        self
    }

    /// The OIDC token AssumeRoleWithOIDC accepts. Default: none (every OIDC call is refused).
    pub fn with_oidc_token(mut self, token: impl Into<String>) -> Self {
        self.oidc_token = Some(Secret::new(token.into()));
        self
    }

    /// Lifetime of IMDS keys (STS keys live their `DurationSeconds`). Default one hour.
    pub fn with_key_lifetime(mut self, lifetime: Duration) -> Self {
        self.key_lifetime = lifetime;
        self
    }

    /// Write the mock STS's CA certificate (PEM) to this file at start, for clients to trust
    /// (`OSS_RS_CA_FILE`, `REQUESTS_CA_BUNDLE`, …). Default: not written.
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }
}

/// The running identity side.
pub(crate) struct Identity {
    pub(crate) keys: keys::TempKeys,
    access_key_id: String,
    access_key_secret: Secret,
    role_name: String,
    oidc_token: Option<Secret>,
    max_skew: Duration,
    tls: tls::Tls,
    addr: SocketAddr,
    imds_tokens: Mutex<HashSet<String>>,
    nonces: Mutex<HashSet<String>>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("addr", &self.addr)
            .field("role_name", &self.role_name)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// 24 upper-case hex characters, like the ids OSS and STS answer with.
pub(crate) fn request_id() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn remember(set: &Mutex<HashSet<String>>, value: &str) -> bool {
    let mut set = set.lock().unwrap_or_else(|p| p.into_inner());
    if set.len() >= MAX_REMEMBERED {
        set.clear();
    }
    set.insert(value.to_owned())
}

impl Identity {
    /// Makes the CA, writes it when asked, and binds the listener.
    pub(crate) async fn bind(
        config: IdentityConfig,
        access_key_id: &str,
        access_key_secret: &Secret,
        max_skew: Duration,
    ) -> Result<(Arc<Self>, TcpListener), Error> {
        if config.role_name.trim().is_empty() || config.role_name.contains('/') {
            return Err(Error::Config(
                "the IMDS role name must be a non-empty name without '/'".into(),
            ));
        }
        if config.key_lifetime.is_zero() {
            return Err(Error::Config(
                "the temporary key lifetime must be greater than zero".into(),
            ));
        }
        let tls = tls::Tls::generate()?;
        if let Some(path) = &config.ca_file {
            std::fs::write(path, &tls.ca_pem).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: config.listen.to_string(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: config.listen.to_string(),
            source,
        })?;
        let identity = Self {
            keys: keys::TempKeys::new(config.key_lifetime),
            access_key_id: access_key_id.to_owned(),
            access_key_secret: access_key_secret.clone(),
            role_name: config.role_name,
            oidc_token: config.oidc_token,
            max_skew,
            tls,
            addr,
            imds_tokens: Mutex::new(HashSet::new()),
            nonces: Mutex::new(HashSet::new()),
        };
        Ok((Arc::new(identity), listener))
    }

    fn role_arn(&self) -> String {
        format!("acs:ram::{ACCOUNT_ID}:role/{}", self.role_name)
    }

    fn new_imds_token(&self) -> String {
        let token = format!("imds-{}", request_id());
        remember(&self.imds_tokens, &token);
        token
    }

    fn imds_token_known(&self, token: &str) -> bool {
        self.imds_tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(token)
    }

    /// `true` the first time a nonce is seen.
    fn fresh_nonce(&self, nonce: &str) -> bool {
        remember(&self.nonces, nonce)
    }

    /// Serves the listener until `stop` turns true.
    pub(crate) fn spawn(self: Arc<Self>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => {
                            let me = Arc::clone(&self);
                            let stop = stop.clone();
                            tokio::spawn(async move { me.serve(stream, stop).await });
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "identity accept failed");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    },
                    _ = stop.changed() => break,
                }
            }
        });
    }

    async fn serve(self: Arc<Self>, stream: TcpStream, mut stop: watch::Receiver<bool>) {
        let mut first = [0u8; 1];
        let is_tls = match tokio::time::timeout(CONNECTION_LIMIT, stream.peek(&mut first)).await {
            Ok(Ok(1)) => first[0] == 0x16,
            _ => return,
        };
        let me = Arc::clone(&self);
        let svc = service_fn(move |req| {
            let me = Arc::clone(&me);
            async move { Ok::<_, Infallible>(me.handle(req, is_tls).await) }
        });
        let run = async {
            if is_tls {
                match self.tls.acceptor.accept(stream).await {
                    Ok(tls) => {
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(tls), svc)
                            .await;
                    }
                    Err(e) => tracing::debug!(error = %e, "mock STS TLS handshake failed"),
                }
            } else {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            }
        };
        tokio::select! {
            _ = tokio::time::timeout(CONNECTION_LIMIT, run) => {}
            _ = stop.changed() => {}
        }
    }

    async fn handle(&self, req: Request<Incoming>, is_tls: bool) -> Response<ResBody> {
        let (parts, incoming) = req.into_parts();
        let path = parts.uri.path();
        if path.starts_with("/latest/") {
            let resp = imds::handle(self, &parts.method, path, &parts.headers);
            tracing::info!(method = %parts.method, path, status = resp.status().as_u16(), "IMDS request");
            return resp;
        }
        if !is_tls {
            return plain(
                StatusCode::BAD_REQUEST,
                "the mock STS is served over HTTPS only",
            );
        }
        if path != "/" || !(parts.method == Method::POST || parts.method == Method::GET) {
            return plain(StatusCode::NOT_FOUND, "STS answers GET or POST on /");
        }
        let body = match Limited::new(incoming, MAX_STS_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "the STS request body is too large",
                )
            }
        };
        let resp = sts::handle(self, &parts.method, parts.uri.query(), &body);
        tracing::info!(method = %parts.method, status = resp.status().as_u16(), "STS request");
        resp
    }
}

fn plain(status: StatusCode, message: &str) -> Response<ResBody> {
    respond(
        status,
        vec![
            ("content-type", "text/plain".to_owned()),
            ("content-length", message.len().to_string()),
        ],
        body::full(Bytes::copy_from_slice(message.as_bytes())),
    )
}

fn json(status: StatusCode, value: serde_json::Value) -> Response<ResBody> {
    let text = value.to_string();
    respond(
        status,
        vec![
            ("content-type", "application/json".to_owned()),
            ("content-length", text.len().to_string()),
        ],
        body::full(text),
    )
}

/// The admin endpoints under `/__emulator/identity/` (on the OSS listener):
///
/// - `GET keys`: every temporary key issued (id, origin, role, expiration, expired), no secrets;
/// - `POST expire[?access-key-id=ID]`: expires that key, or every live one;
/// - `POST rotate`: expires every live key and has the IMDS issue a new one at once;
/// - `POST expire-after?operation=OP&count=K`: expires the temporary key that signs the K-th
///   successful OP request (e.g. `UploadPart`) from now, right after it is answered, so a test
///   can expire a key at a protocol event instead of a time.
pub(crate) fn admin(
    identity: Option<&Identity>,
    method: &Method,
    path: &str,
    query: Option<&str>,
) -> Response<ResBody> {
    let Some(identity) = identity else {
        return plain(
            StatusCode::NOT_FOUND,
            "the identity side is off (start the emulator with --identity)",
        );
    };
    let params = sts::decode_form(query.unwrap_or(""));
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let now = SystemTime::now();
    let action = path.trim_start_matches("/__emulator/identity/");
    match (method.as_str(), action) {
        ("GET", "keys") => json(StatusCode::OK, serde_json::json!(identity.keys.list(now))),
        ("POST", "expire") => {
            let wanted = param("access-key-id");
            if let Some(id) = wanted {
                if identity.keys.get(id).is_none() {
                    return plain(StatusCode::NOT_FOUND, "no temporary key has this id");
                }
            }
            let expired = identity.keys.expire(wanted, now);
            json(StatusCode::OK, serde_json::json!({ "expired": expired }))
        }
        ("POST", "rotate") => {
            let expired = identity.keys.expire(None, now);
            let fresh = identity.keys.imds_current(&identity.role_arn(), now);
            json(
                StatusCode::OK,
                serde_json::json!({ "expired": expired, "imds_access_key_id": fresh.access_key_id }),
            )
        }
        ("POST", "expire-after") => {
            let count = param("count")
                .and_then(|c| c.parse::<u32>().ok())
                .filter(|c| *c >= 1);
            match (param("operation"), count) {
                (Some(op), Some(count)) => {
                    identity.keys.arm(op, count);
                    json(
                        StatusCode::OK,
                        serde_json::json!({ "armed": op, "count": count }),
                    )
                }
                _ => plain(
                    StatusCode::BAD_REQUEST,
                    "expire-after needs operation=<Operation> and count=<at least 1>",
                ),
            }
        }
        (_, "keys" | "expire" | "rotate" | "expire-after") => plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "see the emulator's docs for the method",
        ),
        _ => plain(StatusCode::NOT_FOUND, "unknown identity admin endpoint"),
    }
}

impl Emulator {
    /// The mock IMDS base URL, `http://127.0.0.1:PORT` (for `OSS_RS_IMDS_ENDPOINT`), when the
    /// identity side is on.
    pub fn imds_endpoint(&self) -> Option<String> {
        self.identity().map(|i| format!("http://{}", i.addr))
    }

    /// The mock STS URL, `https://127.0.0.1:PORT` (for `ALIBABA_CLOUD_STS_ENDPOINT`), when the
    /// identity side is on. Its certificate is signed by [`sts_ca_pem`](Self::sts_ca_pem).
    pub fn sts_endpoint(&self) -> Option<String> {
        self.identity().map(|i| format!("https://{}", i.addr))
    }

    /// The PEM of the CA that signed the mock STS's certificate.
    pub fn sts_ca_pem(&self) -> Option<&str> {
        self.identity().map(|i| i.tls.ca_pem.as_str())
    }

    /// Expires one temporary key (or every live one with `None`), as
    /// `POST /__emulator/identity/expire` does; returns the ids expired.
    pub fn expire_temporary_keys(&self, access_key_id: Option<&str>) -> Vec<String> {
        self.identity()
            .map(|i| i.keys.expire(access_key_id, SystemTime::now()))
            .unwrap_or_default()
    }

    fn identity(&self) -> Option<&Identity> {
        self.state().config.identity.as_deref()
    }
}
