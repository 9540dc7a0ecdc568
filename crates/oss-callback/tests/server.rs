//! The `server` feature: the tower layer and the hyper key fetcher, over loopback.
#![cfg(feature = "server")]

#[path = "support/shared.rs"]
mod common;

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use oss_callback::{
    signature_headers, CallbackPrivateKey, CallbackVerifier, CallbackVerifyLayer, Error,
    HyperKeyFetcher, KeyFetcher, StaticKeyFetcher,
};
use tower::{Layer as _, ServiceExt as _};

const KEY_URL: &str = "http://127.0.0.1:9/callback_pub_key.pem";

fn handler() -> impl tower::Service<
    Request<Full<Bytes>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    tower::service_fn(|req: Request<Full<Bytes>>| async move {
        let body = req.into_body().collect().await.unwrap().to_bytes();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(format!(
            "{{\"Status\":\"OK\",\"got\":{}}}",
            body.len()
        )))))
    })
}

fn signed(path_and_query: &str, body: &'static str) -> Request<Full<Bytes>> {
    let key = CallbackPrivateKey::from_pem(common::TEST_KEY_1024).unwrap();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let headers = signature_headers(&key, KEY_URL, path, query, body.as_bytes()).unwrap();
    let mut req = Request::post(path_and_query)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    req.headers_mut().extend(headers);
    req
}

fn layer() -> CallbackVerifyLayer {
    let key = CallbackPrivateKey::from_pem(common::TEST_KEY_1024).unwrap();
    let pem = key.public_key().to_pem().unwrap();
    CallbackVerifyLayer::new(
        CallbackVerifier::builder()
            .with_allowed_prefix("http://127.0.0.1:9/")
            .build()
            .unwrap(),
        StaticKeyFetcher::new().with_key(KEY_URL, pem),
    )
}

#[tokio::test]
async fn layer_passes_genuine_and_rejects_forged_callbacks() {
    let svc = layer().layer(handler());

    let ok = svc
        .clone()
        .oneshot(signed("/cb?id=1", "bucket=b&object=o"))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body = ok.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"Status":"OK","got":17}"#);

    // Same headers, different body: forged.
    let mut forged = signed("/cb?id=1", "bucket=b&object=o");
    *forged.body_mut() = Full::new(Bytes::from_static(b"bucket=b&object=evil"));
    let resp = svc.clone().oneshot(forged).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // No signature at all.
    let bare = Request::post("/cb").body(Full::new(Bytes::new())).unwrap();
    assert_eq!(
        svc.clone().oneshot(bare).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );

    // Key URL outside the allow-list.
    let strict =
        CallbackVerifyLayer::new(CallbackVerifier::new(), StaticKeyFetcher::new()).layer(handler());
    let resp = strict.oneshot(signed("/cb", "x=1")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // Allowed URL whose key cannot be fetched.
    let unfetchable = CallbackVerifyLayer::new(
        CallbackVerifier::builder()
            .with_allowed_prefix("http://127.0.0.1:9/")
            .build()
            .unwrap(),
        StaticKeyFetcher::new(),
    )
    .layer(handler());
    let resp = unfetchable.oneshot(signed("/cb", "x=1")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);

    // Body over the cap.
    let small = layer().with_max_body_bytes(4).layer(handler());
    let resp = small.oneshot(signed("/cb", "x=12345")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

/// Serves `pem` at `/key.pem` (and 404 elsewhere) on 127.0.0.1:0 for exactly `n` connections.
async fn key_server(pem: String, n: usize) -> std::net::SocketAddr {
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..n {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let pem = pem.clone();
            let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                let pem = pem.clone();
                async move {
                    let mut resp = Response::new(Full::new(Bytes::from(pem)));
                    if req.uri().path() != "/key.pem" {
                        *resp.status_mut() = StatusCode::NOT_FOUND;
                    }
                    Ok::<_, Infallible>(resp)
                }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .keep_alive(false)
                    .serve_connection(TokioIo::new(stream), svc),
            );
        }
    });
    addr
}

#[tokio::test]
async fn hyper_fetcher_fetches_keys_over_loopback() {
    let key = CallbackPrivateKey::from_pem(common::TEST_KEY_1024).unwrap();
    let pem = key.public_key().to_pem().unwrap();
    let addr = key_server(pem.clone(), 2).await;
    let fetcher = HyperKeyFetcher::new();

    let got = fetcher
        .fetch(&format!("http://{addr}/key.pem"))
        .await
        .unwrap();
    assert_eq!(got, pem.as_bytes());

    let missing = fetcher.fetch(&format!("http://{addr}/nope.pem")).await;
    assert!(matches!(missing, Err(Error::KeyFetch { .. })));

    let tls = fetcher.fetch("https://gosspublic.alicdn.com/x.pem").await;
    assert!(matches!(tls, Err(Error::KeyFetch { .. })));
}

/// End to end: the layer fetches the signer's key from a loopback key server with hyper.
#[tokio::test]
async fn layer_with_hyper_fetcher() {
    let key = CallbackPrivateKey::from_pem(common::TEST_KEY_512).unwrap();
    let pem = key.public_key().to_pem().unwrap();
    let addr = key_server(pem, 1).await;
    let key_url = format!("http://{addr}/key.pem");
    let headers = signature_headers(&key, &key_url, "/hook", "", b"a=1").unwrap();
    let mut req = Request::post("/hook")
        .body(Full::new(Bytes::from_static(b"a=1")))
        .unwrap();
    req.headers_mut().extend(headers);

    let layer = CallbackVerifyLayer::new(
        CallbackVerifier::builder()
            .with_allowed_prefix(format!("http://{addr}/"))
            .build()
            .unwrap(),
        HyperKeyFetcher::new(),
    );
    let resp = layer.layer(handler()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

/// The handler gets what was verified as a request extension. `/cb%3Ftag=1` carries the same
/// signature as `/cb?tag=1`; the extension tells the handler which one it received and the
/// target both have in common.
#[tokio::test]
async fn layer_hands_the_verified_path_and_query_to_the_handler() {
    use oss_callback::VerifiedCallback;
    let echo = tower::service_fn(|req: Request<Full<Bytes>>| async move {
        let v = req.extensions().get::<VerifiedCallback>().cloned();
        let text = match v {
            Some(v) => format!("{}|{}|{}", v.path, v.query, v.signed_target()),
            None => "missing".to_owned(),
        };
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
    });
    let svc = layer().layer(echo);
    let body_of = |resp: Response<Full<Bytes>>| async move {
        assert_eq!(resp.status(), StatusCode::OK);
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    };

    let genuine = signed("/cb?tag=1", "a=1");
    let replayed_as_path = {
        let mut req = Request::post("/cb%3Ftag=1")
            .body(Full::new(Bytes::from_static(b"a=1")))
            .unwrap();
        *req.headers_mut() = genuine.headers().clone();
        req
    };
    let got = body_of(svc.clone().oneshot(genuine).await.unwrap()).await;
    assert_eq!(got, "/cb|tag=1|/cb?tag=1");
    let got = body_of(svc.clone().oneshot(replayed_as_path).await.unwrap()).await;
    assert_eq!(got, "/cb%3Ftag=1||/cb?tag=1");
}
