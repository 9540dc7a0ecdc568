//! `oss-rs callback-server`: verifies each callback's signature with `oss-callback`, prints what
//! it received and answers JSON (200 when verified, 403 with the reason otherwise).

use std::convert::Infallible;
use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use oss_callback::{CallbackVerifier, HyperKeyFetcher, DEFAULT_ALLOWED_KEY_URL_PREFIXES};
use tokio::net::TcpListener;

use crate::args::CallbackServerArgs;
use crate::Error;

/// Largest callback body read, in bytes (OSS sends small bodies).
const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug)]
struct State {
    verifier: CallbackVerifier,
    fetcher: HyperKeyFetcher,
}

/// Serves until Ctrl-C or SIGTERM.
pub(crate) async fn run(args: CallbackServerArgs) -> Result<(), Error> {
    let prefixes: Vec<String> = DEFAULT_ALLOWED_KEY_URL_PREFIXES
        .iter()
        .map(|p| (*p).to_owned())
        .chain(args.trust_key_url_prefix.iter().cloned())
        .collect();
    // Entries are parsed and checked here, before anything listens.
    let verifier = CallbackVerifier::builder()
        .with_allowed_prefixes(prefixes)
        .build()
        .map_err(|e| Error::InvalidArgument {
            name: "--trust-key-url-prefix",
            message: e.to_string(),
        })?;
    let state = Arc::new(State {
        verifier,
        fetcher: HyperKeyFetcher::new(),
    });
    let stop =
        crate::shutdown::signal().map_err(|e| Error::io("cannot install signal handlers", e))?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|e| Error::io(format!("cannot listen on {}", args.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("cannot read the bound address", e))?;
    print_block(&format!(
        "oss-rs callback-server listening on http://{addr}\n"
    ));
    let accept = async {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(handle(&state, req).await) }
                });
                if let Err(e) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
    };
    tokio::select! {
        () = stop => {}
        () = accept => {}
    }
    Ok(())
}

async fn handle(
    state: &State,
    request: http::Request<hyper::body::Incoming>,
) -> http::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            let reason = format!("body could not be read: {e}");
            print_block(&format!(
                "callback {} {target} REJECTED: {reason}\n",
                parts.method
            ));
            return answer(http::StatusCode::BAD_REQUEST, &rejection(&reason));
        }
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    match state
        .verifier
        .verify(&parts.uri, &parts.headers, &body, &state.fetcher)
        .await
    {
        Ok(verified) => {
            let received = serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|_| serde_json::Value::String(text.clone()));
            let reply = serde_json::json!({
                "Status": "OK",
                "verified": true,
                "path": verified.path,
                "query": verified.query,
                "received": received,
            })
            .to_string();
            print_block(&format!(
                "callback {} {target} verified\n  content-type: {content_type}\n  body: {text}\n  answered: {reply}\n",
                parts.method
            ));
            answer(http::StatusCode::OK, &reply)
        }
        Err(e) => {
            let mut reason = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                reason.push_str(&format!(": {s}"));
                source = s.source();
            }
            print_block(&format!(
                "callback {} {target} REJECTED: {reason}\n  content-type: {content_type}\n  body: {text}\n",
                parts.method
            ));
            answer(http::StatusCode::FORBIDDEN, &rejection(&reason))
        }
    }
}

fn rejection(reason: &str) -> String {
    serde_json::json!({"Status": "rejected", "verified": false, "reason": reason}).to_string()
}

fn answer(status: http::StatusCode, json: &str) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::new(Full::new(Bytes::from(json.to_owned())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Writes a block to stdout at once (and flushes: stdout is often a pipe).
fn print_block(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
