//! Hostile `x-oss-pub-key-url` values: every one is refused before anything is fetched, and a
//! key server that counts its connections proves that nothing was.
#![cfg(feature = "server")]

#[path = "support/shared.rs"]
mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, Uri};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use oss_callback::{
    signature_headers, CallbackPrivateKey, CallbackVerifier, Error, FetchFuture, HyperKeyFetcher,
    KeyFetcher, KeyUrlPrefix,
};
use proptest::prelude::*;

/// A key server on 127.0.0.1:0 that serves `pem` at every path and counts the connections it
/// accepts.
struct KeyServer {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl KeyServer {
    async fn start(pem: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let pem = pem.clone();
                let svc = hyper::service::service_fn(
                    move |_req: Request<hyper::body::Incoming>| {
                        let pem = pem.clone();
                        async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(pem)))) }
                    },
                );
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc),
                );
            }
        });
        Self { addr, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Counts every fetch the verifier asks for. Loopback URLs go to the real hyper fetcher; any
/// other URL is recorded and refused here, so the test never leaves the machine.
#[derive(Debug, Default)]
struct CountingFetcher {
    inner: HyperKeyFetcher,
    fetches: Arc<std::sync::Mutex<Vec<String>>>,
}

impl KeyFetcher for CountingFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> FetchFuture<'a> {
        self.fetches.lock().unwrap().push(url.to_owned());
        if url.starts_with("http://127.0.0.1:") {
            self.inner.fetch(url)
        } else {
            Box::pin(std::future::ready(Err(Error::key_fetch(
                url,
                "test refuses non-loopback fetches",
            ))))
        }
    }
}

impl CountingFetcher {
    fn fetches(&self) -> Vec<String> {
        self.fetches.lock().unwrap().clone()
    }
}

/// A callback to `/cb` whose key URL is `key_url`, signed with the test's own key.
fn forged(key_url: &str) -> (Uri, HeaderMap) {
    let key = CallbackPrivateKey::from_pem(common::TEST_KEY_512).unwrap();
    let headers = signature_headers(&key, key_url, "/cb", "", b"a=1").unwrap();
    ("/cb".parse().unwrap(), headers)
}

fn verifier(entries: &[String]) -> CallbackVerifier {
    CallbackVerifier::builder()
        .with_allowed_prefixes(entries.iter().cloned())
        .build()
        .unwrap()
}

#[tokio::test]
async fn hostile_key_urls_are_refused_and_never_fetched() {
    let key = CallbackPrivateKey::from_pem(common::TEST_KEY_512).unwrap();
    let pem = key.public_key().to_pem().unwrap();
    // The operator trusts `trusted`; the attacker runs `attacker`.
    let trusted = KeyServer::start(pem.clone()).await;
    let attacker = KeyServer::start(pem).await;
    let t = trusted.addr.port();
    let a = attacker.addr.port();
    let official = || {
        vec![
            "http://gosspublic.alicdn.com/".to_owned(),
            "https://gosspublic.alicdn.com/".to_owned(),
        ]
    };
    let origin_lists = [
        vec![format!("http://127.0.0.1:{t}")],
        vec![format!("http://127.0.0.1:{t}/")],
    ];
    let path_lists = [
        vec![format!("http://127.0.0.1:{t}/keys")],
        vec![format!("http://127.0.0.1:{t}/keys/")],
    ];
    let official_lists = [
        official(),
        // The official hosts written without their trailing slash.
        vec![
            "http://gosspublic.alicdn.com".to_owned(),
            "https://gosspublic.alicdn.com".to_owned(),
        ],
    ];

    // Refused by every list above.
    let everywhere: Vec<String> = vec![
        // The forgery of issue 11: userinfo that looks like the trusted origin.
        format!("http://127.0.0.1:{t}@127.0.0.1:{a}/key.pem"),
        format!("http://127.0.0.1:{t}@127.0.0.1:{a}/keys/key.pem"),
        format!("http://u:p@127.0.0.1:{t}/keys/key.pem"),
        format!("http://127.0.0.1:{a}/keys/key.pem"),
        // Other spellings of 127.0.0.1.
        format!("http://2130706433:{t}/keys/key.pem"),
        format!("http://0x7f.1:{t}/keys/key.pem"),
        format!("http://127.1:{t}/keys/key.pem"),
        format!("http://0177.0.0.1:{t}/keys/key.pem"),
        format!("http://[::1]:{t}/keys/key.pem"),
        format!("http://[::ffff:127.0.0.1]:{t}/keys/key.pem"),
        format!("http://localhost:{t}/keys/key.pem"),
        format!("HTTP://127.0.0.1:{t}/keys/key.pem"),
        format!("https://127.0.0.1:{t}/keys/key.pem"),
        // Backslashes, dot segments and escapes that a parser or a key server rewrites.
        format!("http://127.0.0.1:{t}\\keys\\key.pem"),
        format!("http://127.0.0.1:{t}\\@127.0.0.1:{a}/keys/key.pem"),
        format!("http://127.0.0.1:{t}/keys/../../key.pem"),
        format!("http://127.0.0.1:{t}/keys/%2E%2E/key.pem"),
        format!("http://127.0.0.1:{t}/keys/..%2Fkey.pem"),
        format!("http://127.0.0.1:{t}/keys/%6Bey.pem"),
        format!("http://127.0.0.1:{t}/keys/key.pem#frag"),
        format!("http://127.0.0.1:{t}/keys/key.pem?v=1"),
        format!(" http://127.0.0.1:{t}/keys/key.pem"),
        format!("http://127.0.0.1:{t}/keys/key.pem\t"),
        format!("http://127.0.0.1:{t}/ke\nys/key.pem"),
        format!("//127.0.0.1:{t}/keys/key.pem"),
        format!("ftp://127.0.0.1:{t}/keys/key.pem"),
        "file:///etc/passwd".to_owned(),
        "data:text/plain,key".to_owned(),
        "javascript:alert(1)".to_owned(),
        // Look-alikes of the official host.
        "https://gosspublic.alicdn.com.evil.example/".to_owned(),
        "http://gosspublic.alicdn.com.evil.example/callback_pub_key_v1.pem".to_owned(),
        "https://gosspublic.alicdn.com:443@evil/".to_owned(),
        format!("http://gosspublic.alicdn.com@127.0.0.1:{a}/key.pem"),
        "http://gosspublic.alicdn.com\\@evil.example/key.pem".to_owned(),
        "http://GOSSPUBLIC.alicdn.com/callback_pub_key_v1.pem".to_owned(),
        "http://gosspublic.alicdn.com./callback_pub_key_v1.pem".to_owned(),
        "http://gosspublic%2Ealicdn.com/callback_pub_key_v1.pem".to_owned(),
        "https://gosspublic.alicdn.com:443/callback_pub_key_v1.pem".to_owned(),
        "http://gosspublic.alicdn.com:80/callback_pub_key_v1.pem".to_owned(),
        "http://gosspublic.alicdn.com:8080/callback_pub_key_v1.pem".to_owned(),
        "http://gosspublic.alicdn.com".to_owned(),
        "https://evil.example/gosspublic.alicdn.com/key.pem".to_owned(),
        "http://[::ffff:7f00:1]/callback_pub_key_v1.pem".to_owned(),
    ];
    // Refused by the lists that name a path: the path must match at a segment boundary.
    let path_hostile: Vec<String> = vec![
        format!("http://127.0.0.1:{t}/keysevil/key.pem"),
        format!("http://127.0.0.1:{t}/keys.pem"),
        format!("http://127.0.0.1:{t}/key"),
        format!("http://127.0.0.1:{t}/other/keys/key.pem"),
        format!("http://127.0.0.1:{t}/"),
    ];
    assert!(everywhere.len() + path_hostile.len() >= 20);

    let fetcher = CountingFetcher::default();
    let all_lists: Vec<&Vec<String>> = origin_lists
        .iter()
        .chain(&path_lists)
        .chain(&official_lists)
        .collect();
    let mut checked = 0;
    for list in &all_lists {
        let v = verifier(list);
        let cases = everywhere.iter().chain(
            path_lists
                .contains(list)
                .then_some(&path_hostile)
                .into_iter()
                .flatten(),
        );
        for url in cases {
            assert!(!v.is_allowed(url), "{list:?} allowed {url:?}");
            let (uri, headers) = forged(url);
            let result = v.verify(&uri, &headers, b"a=1", &fetcher).await;
            assert!(
                matches!(result, Err(Error::KeyUrlNotAllowed { .. })),
                "{list:?} / {url:?}: {result:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 200, "{checked}");
    assert_eq!(fetcher.fetches(), Vec::<String>::new());
    assert_eq!(attacker.connections(), 0);
    assert_eq!(trusted.connections(), 0);

    // The same machinery does fetch a genuine key URL, so the zero above means something.
    let good = format!("http://127.0.0.1:{t}/keys/key.pem");
    for list in origin_lists.iter().chain(&path_lists) {
        let (uri, headers) = forged(&good);
        verifier(list)
            .verify(&uri, &headers, b"a=1", &fetcher)
            .await
            .unwrap();
    }
    assert_eq!(fetcher.fetches().len(), 4);
    assert!(trusted.connections() >= 1);
    assert_eq!(attacker.connections(), 0);
}

#[test]
fn official_urls_are_allowed_by_default() {
    let v = CallbackVerifier::new();
    for url in [
        "http://gosspublic.alicdn.com/callback_pub_key_v1.pem",
        "https://gosspublic.alicdn.com/callback_pub_key_v1.pem",
    ] {
        assert!(v.is_allowed(url), "{url}");
    }
}

#[test]
fn allow_list_entries_are_checked_when_built() {
    for entry in [
        "127.0.0.1:9000",
        "gosspublic.alicdn.com",
        "ftp://127.0.0.1/",
        "http://",
        "http://user@127.0.0.1/",
        "http://127.0.0.1/#x",
    ] {
        let result = CallbackVerifier::builder()
            .with_allowed_prefix(entry)
            .build();
        assert!(
            matches!(&result, Err(Error::InvalidKeyUrlPrefix { prefix, .. }) if prefix == entry),
            "{entry}: {result:?}"
        );
    }
}

fn scheme() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("http://"),
        Just("https://"),
        Just("HTTP://"),
        Just("ftp://"),
        Just("//"),
        Just("")
    ]
}

fn userinfo() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just(""),
        1 => Just("u@"),
        1 => Just("127.0.0.1:9000@"),
        1 => Just("gosspublic.alicdn.com:443@"),
    ]
}

fn host() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("127.0.0.1"),
        Just("127.0.0.2"),
        Just("2130706433"),
        Just("0x7f.1"),
        Just("[::1]"),
        Just("localhost"),
        Just("gosspublic.alicdn.com"),
        Just("GOSSPUBLIC.alicdn.com"),
        Just("gosspublic.alicdn.com."),
        Just("gosspublic.alicdn.com.evil.example"),
    ]
}

fn port() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(""),
        Just(":80"),
        Just(":443"),
        Just(":9000"),
        Just(":9001"),
        Just(":")
    ]
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("keys"),
        Just("keysevil"),
        Just("k.pem"),
        Just(".."),
        Just("."),
        Just("%2e"),
        Just("%2F"),
        Just(""),
        Just("@evil"),
    ];
    let sep = prop_oneof![4 => Just("/"), 1 => Just("\\")];
    (
        proptest::collection::vec((sep, segment), 0..4),
        prop_oneof![4 => Just(""), 1 => Just("?q"), 1 => Just("#f")],
    )
        .prop_map(|(parts, tail)| {
            let mut out: String = parts.into_iter().flat_map(|(s, p)| [s, p]).collect();
            out.push_str(tail);
            out
        })
}

fn entry() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("http://127.0.0.1:9000"),
        Just("http://127.0.0.1:9000/"),
        Just("http://127.0.0.1:9000/keys"),
        Just("http://127.0.0.1:9000/keys/"),
        Just("https://127.0.0.1:9000/keys"),
        Just("http://gosspublic.alicdn.com/"),
        Just("https://gosspublic.alicdn.com"),
        Just("http://127.0.0.1:80/"),
    ]
}

/// The property, stated on the strings alone: an accepted URL is the entry's origin
/// (`scheme://host[:port]`, default port omitted) written out literally, followed by the
/// entry's path and then either nothing, or more path after a `/`.
fn accepted_under(url: &str, entry: &KeyUrlPrefix) -> bool {
    let e = url::Url::parse(entry.as_str()).unwrap();
    let origin = e.origin().ascii_serialization();
    let Some(rest) = url.strip_prefix(origin.as_str()) else {
        return false;
    };
    let Some(after) = rest.strip_prefix(e.path()) else {
        return false;
    };
    (e.path().ends_with('/') || after.is_empty() || after.starts_with('/'))
        && !after.contains(['\\', '#', '?', '%'])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn accepted_urls_have_an_entrys_origin_and_a_segment_prefix_path(
        entries in proptest::collection::vec(entry(), 1..3),
        url in (scheme(), userinfo(), host(), port(), path())
            .prop_map(|(s, u, h, p, path)| format!("{s}{u}{h}{p}{path}")),
    ) {
        let v = CallbackVerifier::builder()
            .with_allowed_prefixes(entries.iter().copied())
            .build()
            .unwrap();
        if v.is_allowed(&url) {
            prop_assert!(
                v.allowed_prefixes().iter().any(|e| accepted_under(&url, e)),
                "{url} accepted by {entries:?}"
            );
        }
    }

    #[test]
    fn arbitrary_tails_never_escape_the_entry(
        tail in "\\PC{0,24}",
        entry in entry(),
    ) {
        let v = CallbackVerifier::builder().with_allowed_prefixes([entry]).build().unwrap();
        let url = format!("{entry}{tail}");
        if v.is_allowed(&url) {
            prop_assert!(accepted_under(&url, &v.allowed_prefixes()[0]), "{url}");
        }
    }
}
