//! A rejected temporary key is refreshed: on 403 `InvalidSecurityToken` the client tells the
//! provider to drop the key it signed with and sends the request once more with fresh
//! credentials; without a temporary key, or when the provider has nothing fresher, it does not.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, StatusCode};
use oss_sign::{Credentials, ProvideCredentials, ProvideFuture, StaticCredentialsProvider};
use oss_transport::{Addressing, Client, Endpoint, Error, Request, RetryConfig};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const EXPIRED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidSecurityToken</Code><Message>The security token you provided has expired.</Message><RequestId>R1</RequestId><HostId>h</HostId></Error>";

/// Serves `STS.1` until told it was rejected, then `STS.2`; counts invalidations.
#[derive(Debug, Default)]
struct Rotating {
    current: Mutex<u32>,
    invalidated: AtomicU32,
}

fn temp(n: u32) -> Credentials {
    Credentials::new(format!("STS.{n}"), "sk").with_security_token(format!("tok-{n}"))
}

impl ProvideCredentials for Rotating {
    fn provide(&self) -> ProvideFuture<'_> {
        let n = (*self.current.lock().unwrap()).max(1);
        Box::pin(async move { Ok(temp(n)) })
    }

    fn invalidate(&self, access_key_id: &str) -> bool {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
        let mut n = self.current.lock().unwrap();
        let now = (*n).max(1);
        if access_key_id == format!("STS.{now}") {
            *n = now + 1;
            true
        } else {
            false
        }
    }
}

async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(header("x-oss-security-token", "tok-2"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(403).set_body_string(EXPIRED))
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer, provider: Arc<dyn ProvideCredentials>) -> Client {
    Client::builder()
        .with_endpoint(
            Endpoint::custom(&server.uri())
                .unwrap()
                .with_addressing(Addressing::PathStyle),
        )
        .with_region("cn-hangzhou")
        .with_shared_credentials_provider(provider)
        // One attempt: the refresh is not a retry and does not need the budget.
        .with_retry(
            RetryConfig::default()
                .with_max_attempts(1)
                .with_base_delay(Duration::ZERO),
        )
        .build()
        .unwrap()
}

fn put() -> Request {
    Request::new(Method::PUT)
        .with_bucket("bucket")
        .with_key("k")
        .with_body("hello")
}

#[tokio::test]
async fn an_expired_temporary_key_is_dropped_and_the_request_sent_once_more() {
    let server = server().await;
    let provider = Arc::new(Rotating::default());
    let resp = client(&server, provider.clone()).send(put()).await.unwrap();
    assert_eq!(resp.status, StatusCode::OK);
    assert_eq!(provider.invalidated.load(Ordering::SeqCst), 1);
    let received = server.received_requests().await.unwrap();
    let tokens: Vec<_> = received
        .iter()
        .map(|r| {
            r.headers
                .get("x-oss-security-token")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(tokens, ["tok-1", "tok-2"]);
    assert_eq!(&received[1].body[..], b"hello", "the body is sent again");
}

#[tokio::test]
async fn no_second_send_when_nothing_fresher_or_no_temporary_key() {
    let server = server().await;
    // A fixed STS key: the provider has nothing else to give.
    let fixed = Arc::new(StaticCredentialsProvider::new(temp(1)));
    let err = client(&server, fixed).send(put()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Service(e) if e.code == "InvalidSecurityToken"),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    // A long-term key (no token) is never "refreshed".
    let long_term = Arc::new(StaticCredentialsProvider::new(Credentials::new("ak", "sk")));
    client(&server, long_term).send(put()).await.unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}
