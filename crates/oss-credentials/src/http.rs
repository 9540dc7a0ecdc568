//! The real HTTP client behind [`HttpFetch`]: hyper over rustls (ring), with the bundled
//! webpki roots plus any private CA, and a deadline per request.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::CertificateDer;

use crate::context::BoxFuture;
use crate::{Context, Error, HttpFetch};

/// Environment variable naming a PEM file of extra root certificates, trusted beside the
/// bundled roots by the STS client (and by the OSS transport of `oss-upload`). A project
/// variable, not an Alibaba one; the emulator's mock STS needs it.
pub const CA_FILE_VAR: &str = "OSS_RS_CA_FILE";

/// Deadline for one whole exchange (connect, send, read the body), set by a provider as a
/// request extension. Without one, [`HyperHttp`] uses its default (15 s).
///
/// ```
/// use std::time::Duration;
/// use oss_credentials::FetchTimeout;
/// let mut req = http::Request::new(bytes::Bytes::new());
/// req.extensions_mut().insert(FetchTimeout(Duration::from_secs(1)));
/// assert!(req.extensions().get::<FetchTimeout>().is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchTimeout(pub Duration);

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Credential answers are small; anything bigger is not one.
const MAX_BODY: usize = 1 << 20;

/// [`HttpFetch`] over hyper and rustls.
///
/// ```
/// use oss_credentials::{Context, HyperHttp};
/// let ctx = Context::new().with_http(HyperHttp::new());
/// # let _ = ctx;
/// ```
#[derive(Clone)]
pub struct HyperHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    extra_roots: usize,
}

impl fmt::Debug for HyperHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HyperHttp")
            .field("extra_roots", &self.extra_roots)
            .finish()
    }
}

impl Default for HyperHttp {
    fn default() -> Self {
        Self::new()
    }
}

impl HyperHttp {
    /// A client trusting the bundled webpki roots only.
    pub fn new() -> Self {
        Self::with_roots(&[]).expect("the bundled roots are valid")
    }

    /// A client trusting the bundled roots and every certificate in the PEM file at `path`.
    ///
    /// # Errors
    /// [`Error::ReadFile`] when the file cannot be read, [`Error::BadCaFile`] when it holds no
    /// certificate or one rustls refuses.
    pub fn with_ca_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let der = read_ca_file(path)?;
        Self::with_roots(&der).map_err(|reason| Error::BadCaFile {
            path: path.to_owned(),
            reason,
        })
    }

    /// A client trusting the bundled roots, plus the file named by [`CA_FILE_VAR`] in `ctx`
    /// when it is set.
    ///
    /// # Errors
    /// As [`with_ca_file`](Self::with_ca_file).
    pub fn from_context(ctx: &Context) -> Result<Self, Error> {
        match ctx.non_empty(CA_FILE_VAR) {
            Some(p) => Self::with_ca_file(ctx.expand_home(&p)),
            None => Ok(Self::new()),
        }
    }

    fn with_roots(extra: &[CertificateDer<'static>]) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for der in extra {
            roots
                .add(der.clone())
                .map_err(|e| format!("rustls refuses a certificate: {e}"))?;
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(https);
        Ok(Self {
            client,
            extra_roots: extra.len(),
        })
    }

    async fn send(&self, request: http::Request<Bytes>) -> io::Result<http::Response<Bytes>> {
        let deadline = request
            .extensions()
            .get::<FetchTimeout>()
            .map_or(DEFAULT_TIMEOUT, |t| t.0);
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(body));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(io::Error::other)?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(io::Error::other)?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body))
        };
        match tokio::time::timeout(deadline, exchange).await {
            Ok(r) => r,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no complete answer within {} ms", deadline.as_millis()),
            )),
        }
    }
}

impl HttpFetch for HyperHttp {
    fn fetch(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, io::Result<http::Response<Bytes>>> {
        Box::pin(self.send(request))
    }
}

/// The certificates (DER) of a PEM file, for this crate's client and for the OSS transport.
///
/// # Errors
/// [`Error::ReadFile`] when unreadable, [`Error::BadCaFile`] when no certificate parses.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::ReadFile {
        source_name: "CA file",
        path: path.to_owned(),
        source,
    })?;
    let bad = |reason: String| Error::BadCaFile {
        path: PathBuf::from(path),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no CERTIFICATE block".to_owned()));
    }
    Ok(certs)
}

/// The extra root certificates (DER) named by [`CA_FILE_VAR`] in `ctx`, empty when it is
/// unset: what a transport adds beside its bundled roots (for example with
/// `oss_transport::ClientBuilder::with_root_certificate`), so that the OSS side and the STS
/// client trust the same private CA.
///
/// # Errors
/// As [`read_ca_file`].
pub fn extra_roots_from_env(ctx: &Context) -> Result<Vec<Vec<u8>>, Error> {
    match ctx.non_empty(CA_FILE_VAR) {
        Some(p) => Ok(read_ca_file(&ctx.expand_home(&p))?
            .into_iter()
            .map(|c| c.as_ref().to_vec())
            .collect()),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hanging_server_times_out_with_the_deadline() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts and never answers.
        let server = tokio::spawn(async move {
            let (_sock, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await;
        });
        let mut req = http::Request::get(format!("http://{addr}/latest/api/token"))
            .body(Bytes::new())
            .unwrap();
        req.extensions_mut()
            .insert(FetchTimeout(Duration::from_millis(200)));
        let err = HyperHttp::new().fetch(req).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        server.abort();
    }

    #[test]
    fn extra_roots_from_env_reads_the_named_pem() {
        // PEM framing around bytes that are not a certificate.
        use base64::Engine as _;
        let fake = base64::engine::general_purpose::STANDARD.encode(b"not DER but PEM-framed");
        let dir = std::env::temp_dir().join(format!("oss-cred-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("ca.pem");
        std::fs::write(
            &f,
            format!("-----BEGIN CERTIFICATE-----\n{fake}\n-----END CERTIFICATE-----\n"),
        )
        .unwrap();
        let ctx = Context::new()
            .with_env(crate::StaticEnv::new().with_var(CA_FILE_VAR, f.to_str().unwrap()));
        // PEM framing is all this step checks; rustls judges the DER when the client is built.
        let roots = extra_roots_from_env(&ctx).unwrap();
        assert_eq!(roots, vec![b"not DER but PEM-framed".to_vec()]);
        assert!(matches!(
            HyperHttp::from_context(&ctx).unwrap_err(),
            Error::BadCaFile { .. }
        ));
        let unset = Context::new().with_env(crate::StaticEnv::new());
        assert!(extra_roots_from_env(&unset).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ca_file_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("oss-cred-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("empty.pem");
        std::fs::write(&f, "not a certificate").unwrap();
        let e = HyperHttp::with_ca_file(&f).unwrap_err();
        assert!(e.to_string().contains("empty.pem"), "{e}");
        let missing = dir.join("missing.pem");
        assert!(matches!(
            HyperHttp::with_ca_file(&missing).unwrap_err(),
            Error::ReadFile { .. }
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
