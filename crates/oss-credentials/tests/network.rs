//! The network providers (ECS metadata, STS AssumeRole / AssumeRoleWithOIDC, credentials URI)
//! against an injected HTTP that records every request and answers from a script: no socket is
//! ever opened.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use oss_credentials::{
    rpc, AssumeRoleProvider, BoxFuture, Context, CredentialSource, CredentialsUriProvider,
    DefaultChain, EcsRamRoleProvider, Error, FileRead, HttpFetch, LoadCredentials, ManualClock,
    MemFiles, OidcProvider, StaticEnv, StsEndpoint,
};
use oss_sign::{Credentials, StaticCredentialsProvider};

type Handler = dyn Fn(&http::Request<Bytes>) -> io::Result<http::Response<Bytes>> + Send + Sync;

/// Records requests; answers with `handler`.
#[derive(Clone)]
struct MockHttp {
    seen: Arc<Mutex<Vec<Seen>>>,
    handler: Arc<Handler>,
}

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    uri: String,
    token: Option<String>,
    body: String,
}

impl std::fmt::Debug for MockHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MockHttp")
    }
}

impl MockHttp {
    fn new(
        h: impl Fn(&http::Request<Bytes>) -> io::Result<http::Response<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        Self {
            seen: Arc::default(),
            handler: Arc::new(h),
        }
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl HttpFetch for MockHttp {
    fn fetch(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'_, io::Result<http::Response<Bytes>>> {
        self.seen.lock().unwrap().push(Seen {
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            token: request
                .headers()
                .get("x-aliyun-ecs-metadata-token")
                .map(|v| v.to_str().unwrap().to_owned()),
            body: String::from_utf8_lossy(request.body()).into_owned(),
        });
        let r = (self.handler)(&request);
        Box::pin(async move { r })
    }
}

fn respond(status: u16, body: &str) -> io::Result<http::Response<Bytes>> {
    Ok(http::Response::builder()
        .status(status)
        .body(Bytes::from(body.to_owned()))
        .unwrap())
}

const EXPIRATION: &str = "2030-01-02T03:04:05Z";
const EXPIRES_UNIX: u64 = 1_893_553_445;

fn creds_json(id: &str) -> String {
    format!(
        r#"{{"Code":"Success","AccessKeyId":"{id}","AccessKeySecret":"TEMP_SECRET","SecurityToken":"TEMP_TOKEN","Expiration":"{EXPIRATION}","LastUpdated":"2030-01-01T03:04:05Z"}}"#
    )
}

fn ctx(env: StaticEnv, http: MockHttp) -> Context {
    Context::new()
        .with_env(env)
        .with_files(MemFiles::new())
        .with_http(http)
}

const IMDS: &str = "http://127.0.0.1:9";

fn imds_env() -> StaticEnv {
    StaticEnv::new().with_var("OSS_RS_IMDS_ENDPOINT", IMDS)
}

#[tokio::test]
async fn imds_token_then_role_discovery_then_credentials() {
    let http = MockHttp::new(|r| match (r.method().as_str(), r.uri().path()) {
        ("PUT", "/latest/api/token") => {
            assert_eq!(
                r.headers()["x-aliyun-ecs-metadata-token-ttl-seconds"],
                "21600"
            );
            respond(200, "TOKEN1")
        }
        ("GET", "/latest/meta-data/ram/security-credentials/") => respond(200, "  uploader\n"),
        ("GET", "/latest/meta-data/ram/security-credentials/uploader") => {
            respond(200, &creds_json("STS.ECS"))
        }
        other => panic!("unexpected {other:?}"),
    });
    let loaded = EcsRamRoleProvider::new(ctx(imds_env(), http.clone()))
        .load()
        .await
        .unwrap();
    let c = &loaded.credentials;
    assert_eq!(c.access_key_id(), "STS.ECS");
    assert_eq!(c.security_token().unwrap().expose(), "TEMP_TOKEN");
    assert_eq!(
        c.expiration(),
        Some(UNIX_EPOCH + Duration::from_secs(EXPIRES_UNIX))
    );
    assert_eq!(
        loaded.source,
        CredentialSource::EcsRamRole {
            role: "uploader".into()
        }
    );
    let seen = http.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen[1..]
        .iter()
        .all(|s| s.token.as_deref() == Some("TOKEN1")));
    assert!(seen[0].uri.starts_with("http://127.0.0.1:9/"));
    assert_eq!(seen[0].method, "PUT");
}

#[tokio::test]
async fn imds_token_failure_falls_back_to_v1_and_role_from_env_skips_discovery() {
    let http = MockHttp::new(|r| match (r.method().as_str(), r.uri().path()) {
        ("PUT", _) => Err(io::Error::new(io::ErrorKind::TimedOut, "hung")),
        ("GET", "/latest/meta-data/ram/security-credentials/named") => {
            assert!(r.headers().get("x-aliyun-ecs-metadata-token").is_none());
            respond(200, &creds_json("STS.V1"))
        }
        other => panic!("unexpected {other:?}"),
    });
    let env = imds_env().with_var("ALIBABA_CLOUD_ECS_METADATA", "named");
    let loaded = EcsRamRoleProvider::new(ctx(env, http.clone()))
        .load()
        .await
        .unwrap();
    assert_eq!(loaded.credentials.access_key_id(), "STS.V1");
    assert_eq!(
        http.seen().len(),
        2,
        "token PUT, then one GET: no discovery"
    );
}

#[tokio::test]
async fn imds_v1_disabled_makes_token_failure_fatal() {
    let http = MockHttp::new(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "hung")));
    let env = imds_env().with_var("ALIBABA_CLOUD_IMDSV1_DISABLED", "true");
    let err = EcsRamRoleProvider::new(ctx(env, http.clone()))
        .load()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Network { source_name: "ECS metadata", url, source }
            if url == "http://127.0.0.1:9/latest/api/token" && source.kind() == io::ErrorKind::TimedOut),
        "{err:?}"
    );
    assert_eq!(http.seen().len(), 1);
}

#[tokio::test]
async fn imds_get_failing_with_token_is_retried_once_without_unless_v1_disabled() {
    let handler = |r: &http::Request<Bytes>| match (r.method().as_str(), r.uri().path()) {
        ("PUT", _) => respond(200, "TOKEN"),
        ("GET", _) if r.headers().contains_key("x-aliyun-ecs-metadata-token") => {
            respond(500, "oops")
        }
        ("GET", "/latest/meta-data/ram/security-credentials/") => respond(200, "r"),
        ("GET", _) => respond(200, &creds_json("STS.RETRY")),
        other => panic!("unexpected {other:?}"),
    };
    let http = MockHttp::new(handler);
    let loaded = EcsRamRoleProvider::new(ctx(imds_env(), http.clone()))
        .load()
        .await
        .unwrap();
    assert_eq!(loaded.credentials.access_key_id(), "STS.RETRY");
    assert_eq!(http.seen().len(), 5, "PUT, 2x role list, 2x credentials");

    let http = MockHttp::new(handler);
    let err = EcsRamRoleProvider::new(ctx(imds_env(), http.clone()))
        .with_imdsv1_disabled(true)
        .load()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Service { status: 500, url, .. }
            if url == "http://127.0.0.1:9/latest/meta-data/ram/security-credentials/"),
        "{err:?}"
    );
}

#[tokio::test]
async fn imds_garbage_and_failed_code_are_typed_errors_without_secrets() {
    for (body, want) in [
        ("<html>garbage", "not the expected JSON"),
        (
            r#"{"Code":"Failed","AccessKeyId":"A","AccessKeySecret":"TEMP_SECRET"}"#,
            "Code is \"Failed\"",
        ),
        (
            r#"{"Code":"Success","AccessKeyId":"A","AccessKeySecret":"TEMP_SECRET","SecurityToken":"T","Expiration":"tomorrow"}"#,
            "Expiration \"tomorrow\" is not",
        ),
    ] {
        let answer = body.to_owned();
        let http = MockHttp::new(move |r| match r.method().as_str() {
            "PUT" => respond(200, "TOKEN"),
            _ => respond(200, &answer),
        });
        let err = EcsRamRoleProvider::new(ctx(imds_env(), http))
            .with_role_name("r")
            .load()
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::BadResponse { .. }), "{body:?}: {text}");
        assert!(text.contains(want), "{text}");
        assert!(text.contains("http://127.0.0.1:9/latest/meta-data/ram/security-credentials/r"));
        assert!(!text.contains("TEMP_SECRET"), "{text}");
    }
    // 404 on the role.
    let http = MockHttp::new(|r| match r.method().as_str() {
        "PUT" => respond(200, "TOKEN"),
        _ => respond(404, "Not Found"),
    });
    let err = EcsRamRoleProvider::new(ctx(imds_env(), http))
        .with_role_name("gone")
        .with_imdsv1_disabled(true)
        .load()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no such role"), "{err}");
}

/// Parses a form body.
fn form(body: &str) -> Vec<(String, String)> {
    url_decode_pairs(body)
}

fn url_decode_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn sts_ok() -> String {
    format!(
        r#"{{"RequestId":"R","AssumedRoleUser":{{"Arn":"a","AssumedRoleId":"i"}},"Credentials":{{"AccessKeyId":"STS.ROLE","AccessKeySecret":"ROLE_SECRET","SecurityToken":"ROLE_TOKEN","Expiration":"{EXPIRATION}"}}}}"#
    )
}

const ROLE: &str = "acs:ram::1234567890123456:role/uploader";

#[tokio::test]
async fn assume_role_is_signed_v1_with_every_setting_and_chains_a_token() {
    let http = MockHttp::new(|r| {
        let params = form(std::str::from_utf8(r.body()).unwrap());
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let expected = rpc::sign(
            "POST",
            "SOURCE_SECRET",
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        assert_eq!(get("Signature").as_deref(), Some(expected.as_str()));
        assert_eq!(r.uri().to_string(), "https://sts.cn-hangzhou.aliyuncs.com/");
        assert_eq!(get("Action").as_deref(), Some("AssumeRole"));
        assert_eq!(get("Timestamp").as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(get("SecurityToken").as_deref(), Some("SOURCE_TOKEN"));
        assert_eq!(get("RoleSessionName").as_deref(), Some("sess"));
        assert_eq!(get("DurationSeconds").as_deref(), Some("900"));
        assert_eq!(get("ExternalId").as_deref(), Some("ext-1"));
        assert!(get("Policy").unwrap().contains("\"Version\": \"1\""));
        respond(200, &sts_ok())
    });
    let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_704_067_200));
    let c = ctx(
        StaticEnv::new().with_var("ALIBABA_CLOUD_STS_REGION", "cn-hangzhou"),
        http.clone(),
    )
    .with_clock(clock);
    let source = Credentials::new("SOURCE_AK", "SOURCE_SECRET").with_security_token("SOURCE_TOKEN");
    let loaded = AssumeRoleProvider::new(c, StaticCredentialsProvider::new(source))
        .with_role_arn(ROLE)
        .with_session_name("sess")
        .with_duration_seconds(900)
        .with_external_id("ext-1")
        .with_policy(r#"{"Version": "1", "Statement": []}"#)
        .load()
        .await
        .unwrap();
    assert_eq!(loaded.credentials.access_key_id(), "STS.ROLE");
    assert_eq!(
        loaded.credentials.expiration(),
        Some(UNIX_EPOCH + Duration::from_secs(EXPIRES_UNIX))
    );
    assert_eq!(
        loaded.source,
        CredentialSource::AssumeRole {
            role_arn: ROLE.into()
        }
    );
    assert_eq!(http.seen().len(), 1);
}

#[tokio::test]
async fn sts_error_json_non_json_and_bad_settings_are_typed() {
    let source = || StaticCredentialsProvider::new(Credentials::new("AK", "SOURCE_SECRET"));
    let endpoint = || StsEndpoint::new().with_endpoint("https://127.0.0.1:7");
    let http = MockHttp::new(|_| {
        respond(
            403,
            r#"{"RequestId":"RID-1","HostId":"sts.aliyuncs.com","Code":"NoPermission","Message":"Roles may not be assumed by root accounts."}"#,
        )
    });
    let err = AssumeRoleProvider::new(ctx(StaticEnv::new(), http), source())
        .with_role_arn(ROLE)
        .with_endpoint(endpoint())
        .load()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "STS AssumeRole: https://127.0.0.1:7/ answered HTTP 403, NoPermission: Roles may not be \
         assumed by root accounts. (RequestId RID-1)"
    );
    let http = MockHttp::new(|_| respond(200, "<xml/>"));
    let err = AssumeRoleProvider::new(ctx(StaticEnv::new(), http), source())
        .with_role_arn(ROLE)
        .with_endpoint(endpoint())
        .load()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadResponse { source_name: "STS AssumeRole", url, .. } if url == "https://127.0.0.1:7/"),
        "{err:?}"
    );
    let http = MockHttp::new(|_| respond(502, "Bad Gateway"));
    let err = AssumeRoleProvider::new(ctx(StaticEnv::new(), http), source())
        .with_role_arn(ROLE)
        .with_endpoint(endpoint())
        .load()
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Service {
                status: 502,
                code: None,
                ..
            }
        ),
        "{err:?}"
    );
    // Bad role ARN and too-short durations fail before any request.
    let http = MockHttp::new(|_| panic!("no request expected"));
    for (arn, dur) in [("arn:aws:iam::1:role/x", 3600), (ROLE, 60)] {
        let err = AssumeRoleProvider::new(ctx(StaticEnv::new(), http.clone()), source())
            .with_role_arn(arn)
            .with_duration_seconds(dur)
            .load()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidSetting { .. }), "{err:?}");
        assert!(!err.to_string().contains("SOURCE_SECRET"));
    }
    assert!(http.seen().is_empty());
}

/// A token file whose contents change between loads, as ACK renews it.
#[derive(Debug, Clone, Default)]
struct TokenFile(Arc<Mutex<Option<Vec<u8>>>>);

impl FileRead for TokenFile {
    fn read<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, io::Result<Vec<u8>>> {
        let r = match (&*self.0.lock().unwrap(), path == Path::new("/run/token")) {
            (Some(b), true) => Ok(b.clone()),
            _ => Err(io::Error::from(io::ErrorKind::NotFound)),
        };
        Box::pin(async move { r })
    }
}

#[tokio::test]
async fn oidc_rereads_the_token_file_on_every_refresh() {
    let http = MockHttp::new(|r| {
        let params = form(std::str::from_utf8(r.body()).unwrap());
        assert!(params
            .iter()
            .any(|(k, v)| k == "Action" && v == "AssumeRoleWithOIDC"));
        assert!(!params.iter().any(|(k, _)| k == "Signature"), "unsigned");
        respond(200, &sts_ok())
    });
    let file = TokenFile::default();
    let env = StaticEnv::new()
        .with_var("ALIBABA_CLOUD_ROLE_ARN", ROLE)
        .with_var(
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890123456:oidc-provider/ack",
        )
        .with_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/run/token")
        .with_var("ALIBABA_CLOUD_STS_ENDPOINT", "127.0.0.1:7");
    let c = Context::new()
        .with_env(env)
        .with_files(file.clone())
        .with_http(http.clone());
    let p = OidcProvider::new(c);

    // Missing, then empty: typed errors naming the file.
    let err = p.load().await.unwrap_err();
    assert!(
        matches!(&err, Error::ReadFile { path, .. } if path == &PathBuf::from("/run/token")),
        "{err:?}"
    );
    *file.0.lock().unwrap() = Some(b"  \n".to_vec());
    let err = p.load().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "STS AssumeRoleWithOIDC: /run/token is empty"
    );

    *file.0.lock().unwrap() = Some(b"jwt-one\n".to_vec());
    let first = p.load().await.unwrap();
    assert_eq!(first.credentials.access_key_id(), "STS.ROLE");
    *file.0.lock().unwrap() = Some(b"jwt-two".to_vec());
    p.load().await.unwrap();
    let tokens: Vec<String> = http
        .seen()
        .iter()
        .map(|s| {
            assert_eq!(s.uri, "https://127.0.0.1:7/");
            form(&s.body)
                .into_iter()
                .find(|(k, _)| k == "OIDCToken")
                .unwrap()
                .1
        })
        .collect();
    assert_eq!(tokens, ["jwt-one", "jwt-two"]);
}

#[tokio::test]
async fn credentials_uri_requires_200_and_success() {
    let http = MockHttp::new(|r| match r.uri().path() {
        "/ok" => respond(200, &creds_json("STS.URI")),
        _ => respond(500, r#"{"Code":"Boom","Message":"no"}"#),
    });
    let c = ctx(StaticEnv::new(), http);
    let ok = CredentialsUriProvider::new(c.clone())
        .with_uri("http://127.0.0.1:5/ok?secret=abc")
        .load()
        .await
        .unwrap();
    assert_eq!(ok.credentials.access_key_id(), "STS.URI");
    assert_eq!(
        ok.source.to_string(),
        "credentials URI http://127.0.0.1:5/ok"
    );
    let err = CredentialsUriProvider::new(c)
        .with_uri("http://127.0.0.1:5/bad?secret=abc")
        .load()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("HTTP 500, Boom"), "{text}");
    assert!(!text.contains("secret=abc"), "{text}");
}

#[tokio::test]
async fn chain_with_ecs_metadata_disabled_opens_no_connection_to_imds() {
    // As in CI: the variable is set and nothing else is configured.
    let http = MockHttp::new(|r| panic!("no request expected, got {}", r.uri()));
    let env = StaticEnv::new()
        .with_var("HOME", "/home/t")
        .with_var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
    let err = DefaultChain::new(ctx(env, http.clone()))
        .resolve()
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("[ecs-metadata: skipped (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true)]"),
        "{err}"
    );
    assert!(
        http.seen().is_empty(),
        "requests were made: {:?}",
        http.seen()
    );

    // The same chain without the variable does reach for the metadata service, so the
    // assertion above is not vacuous; the override keeps it on loopback.
    let http = MockHttp::new(|r| match (r.method().as_str(), r.uri().path()) {
        ("PUT", _) => respond(200, "T"),
        (_, "/latest/meta-data/ram/security-credentials/") => respond(200, "role"),
        _ => respond(200, &creds_json("STS.CHAIN")),
    });
    let env = StaticEnv::new()
        .with_var("HOME", "/home/t")
        .with_var("OSS_RS_IMDS_ENDPOINT", IMDS);
    let chain = DefaultChain::new(ctx(env, http.clone()));
    let s = chain.resolve().await.unwrap();
    assert_eq!(s.credentials.access_key_id(), "STS.CHAIN");
    assert_eq!(chain.pinned_link(), Some("ecs-metadata"));
    assert!(http
        .seen()
        .iter()
        .all(|s| s.uri.starts_with("http://127.0.0.1:9/")));
}
