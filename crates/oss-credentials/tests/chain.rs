//! The default chain's order, pinning and aggregate error, with an injected environment.

use std::path::Path;
use std::sync::Arc;

use oss_credentials::{
    AttemptOutcome, BoxFuture, Context, CredentialSource, DefaultChain, Error, FileRead, MemFiles,
    ProvideCredentials, StaticEnv,
};

const INI: &str =
    "[default]\ntype = access_key\naccess_key_id = AK_INI\naccess_key_secret = SK_INI\n";
const INI_PATH: &str = "/home/t/.alibabacloud/credentials";

fn env() -> StaticEnv {
    StaticEnv::new()
        .with_var("HOME", "/home/t")
        .with_var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
}

#[tokio::test]
async fn env_wins_over_ini_and_is_pinned() {
    let ctx = Context::new()
        .with_env(
            env()
                .with_var("OSS_ACCESS_KEY_ID", "AK_ENV")
                .with_var("OSS_ACCESS_KEY_SECRET", "SK_ENV"),
        )
        .with_files(MemFiles::new().with_file(INI_PATH, INI));
    let chain = DefaultChain::new(ctx);
    let s = chain.resolve().await.unwrap();
    assert_eq!(s.credentials.access_key_id(), "AK_ENV");
    assert_eq!(
        s.source,
        CredentialSource::Environment {
            variable: "OSS_ACCESS_KEY_ID"
        }
    );
    assert_eq!(chain.pinned_link(), Some("environment"));
    // Through the provider trait too.
    assert_eq!(chain.provide().await.unwrap().access_key_id(), "AK_ENV");
}

#[tokio::test]
async fn ini_is_used_when_env_is_empty() {
    let ctx = Context::new()
        .with_env(env())
        .with_files(MemFiles::new().with_file(INI_PATH, INI));
    let chain = DefaultChain::new(ctx);
    assert_eq!(
        chain.resolve().await.unwrap().credentials.access_key_id(),
        "AK_INI"
    );
    assert_eq!(chain.pinned_link(), Some("ini-file"));
}

/// Files whose contents the test can change between calls.
#[derive(Debug, Default)]
struct Swappable(std::sync::Mutex<Option<Vec<u8>>>);

impl FileRead for Swappable {
    fn read<'a>(&'a self, _path: &'a Path) -> BoxFuture<'a, std::io::Result<Vec<u8>>> {
        let r = self
            .0
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound));
        Box::pin(async move { r })
    }
}

#[tokio::test]
async fn pinned_link_errors_are_returned_without_fall_through() {
    let files = Arc::new(Swappable(std::sync::Mutex::new(Some(INI.into()))));
    let chain = DefaultChain::new(
        Context::new()
            .with_env(env())
            .with_files(SharedFiles(files.clone())),
    );
    assert_eq!(
        chain.resolve().await.unwrap().credentials.access_key_id(),
        "AK_INI"
    );
    assert_eq!(chain.pinned_link(), Some("ini-file"));
    // The file goes away: the pinned link's own error comes back, not an aggregate.
    *files.0.lock().unwrap() = None;
    let err = chain.resolve().await.unwrap_err();
    assert!(matches!(err, Error::NoFile { .. }), "{err:?}");
}

#[derive(Debug)]
struct SharedFiles(Arc<Swappable>);

impl FileRead for SharedFiles {
    fn read<'a>(&'a self, path: &'a Path) -> BoxFuture<'a, std::io::Result<Vec<u8>>> {
        self.0.read(path)
    }
}

#[tokio::test]
async fn broken_ini_is_reported_by_name_and_every_link_is_listed() {
    let ctx = Context::new()
        .with_env(env().with_var("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "TRUE"))
        .with_files(MemFiles::new().with_file(INI_PATH, "[default]\ntype = access_key\noops\n"));
    let err = DefaultChain::new(ctx).resolve().await.unwrap_err();
    let Error::NoCredentials { attempts } = &err else {
        panic!("{err:?}")
    };
    let names: Vec<&str> = attempts.iter().map(|a| a.link).collect();
    assert_eq!(
        names,
        [
            "environment",
            "oidc",
            "cli-profile",
            "ini-file",
            "ecs-metadata",
            "credentials-uri"
        ]
    );
    let ini = &attempts[3];
    assert!(
        matches!(&ini.outcome, AttemptOutcome::Failed(e) if matches!(**e, Error::MalformedIni { line: 3, .. })),
        "{ini:?}"
    );
    let text = err.to_string();
    for part in [
        "[environment: neither OSS_ACCESS_KEY_ID",
        "[oidc: skipped (ALIBABA_CLOUD_ROLE_ARN",
        "[cli-profile: skipped (ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true)]",
        "[INI credentials file /home/t/.alibabacloud/credentials: line 3: expected `key = value` or `[section]`]",
        "[ecs-metadata: skipped (ALIBABA_CLOUD_ECS_METADATA_DISABLED=true)]",
        "[credentials-uri: skipped (ALIBABA_CLOUD_CREDENTIALS_URI is unset)]",
    ] {
        assert!(text.contains(part), "missing {part:?} in {text}");
    }
}

#[tokio::test]
async fn network_links_are_filled_and_report_their_own_errors() {
    // OIDC and URI configured, ECS metadata not disabled: each link has its provider, and the
    // default context has no HTTP client, so each fails naming its source and URL or file
    // without any connection being made.
    let ctx = Context::new()
        .with_env(
            StaticEnv::new()
                .with_var("HOME", "/home/t")
                .with_var("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/r")
                .with_var(
                    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                    "acs:ram::1:oidc-provider/p",
                )
                .with_var("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/token")
                .with_var(
                    "ALIBABA_CLOUD_CREDENTIALS_URI",
                    "http://127.0.0.1:1/creds?t=x",
                ),
        )
        .with_files(MemFiles::new());
    let err = DefaultChain::new(ctx).resolve().await.unwrap_err();
    let text = err.to_string();
    for part in [
        "[STS AssumeRoleWithOIDC: cannot read /var/run/token]",
        "[ECS metadata: request to http://100.100.100.200/latest/meta-data/ram/security-credentials/ failed",
        "[credentials URI: request to http://127.0.0.1:1/creds failed",
    ] {
        assert!(text.contains(part), "{text}");
    }
    assert!(
        !text.contains("t=x"),
        "the URI's query is not shown: {text}"
    );
}

#[tokio::test]
async fn resolve_config_takes_region_from_env_or_profile() {
    let config = r#"{"current": "dev", "profiles": [{"name": "dev", "mode": "AK",
        "access_key_id": "AK_CLI", "access_key_secret": "SK_CLI", "region_id": "cn-shanghai"}]}"#;
    let files = || MemFiles::new().with_file("/home/t/.aliyun/config.json", config);
    let r = DefaultChain::new(Context::new().with_env(env()).with_files(files()))
        .resolve_config()
        .await
        .unwrap();
    assert_eq!(r.region.as_deref(), Some("cn-shanghai"));
    assert_eq!(r.endpoint, None);
    assert_eq!(
        r.provider.provide().await.unwrap().access_key_id(),
        "AK_CLI"
    );
    let r = DefaultChain::new(
        Context::new()
            .with_env(
                env()
                    .with_var("OSS_REGION", "eu-central-1")
                    .with_var("OSS_ENDPOINT", "http://127.0.0.1:9000"),
            )
            .with_files(files()),
    )
    .resolve_config()
    .await
    .unwrap();
    assert_eq!(r.region.as_deref(), Some("eu-central-1"));
    assert_eq!(r.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert!(!format!("{r:?}").contains("SK_CLI"));
}

#[tokio::test]
async fn profile_and_file_overrides_reach_the_links() {
    let files = MemFiles::new().with_file(
        "/etc/oss/creds.ini",
        "[p]\ntype = access_key\naccess_key_id = AK_P\naccess_key_secret = SK_P\n",
    );
    let chain = DefaultChain::builder()
        .with_context(Context::new().with_env(env()).with_files(files))
        .with_profile("p")
        .with_credentials_file("/etc/oss/creds.ini")
        .build();
    let s = chain.resolve().await.unwrap();
    assert_eq!(
        s.source.to_string(),
        "INI credentials file /etc/oss/creds.ini, profile p"
    );
}
