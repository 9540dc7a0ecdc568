//! The environment link: `OSS_*` variables first, then `ALIBABA_CLOUD_*`.

use oss_sign::Credentials;

use crate::context::BoxFuture;
use crate::source::provide_by_loading;
use crate::{Context, CredentialSource, Error, LoadCredentials, Sourced};

/// One set of variable names: id, secret, token.
struct Names {
    id: &'static str,
    secret: &'static str,
    token: &'static str,
}

/// The OSS SDKs' names first (OSS docs, Go/Python SDK V2), then the generic credentials
/// libraries' names (credentials-go/python/java).
const NAMES: [Names; 2] = [
    Names {
        id: "OSS_ACCESS_KEY_ID",
        secret: "OSS_ACCESS_KEY_SECRET",
        token: "OSS_SESSION_TOKEN",
    },
    Names {
        id: "ALIBABA_CLOUD_ACCESS_KEY_ID",
        secret: "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        token: "ALIBABA_CLOUD_SECURITY_TOKEN",
    },
];

/// Reads `OSS_ACCESS_KEY_ID` / `OSS_ACCESS_KEY_SECRET` / `OSS_SESSION_TOKEN`, else
/// `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET` /
/// `ALIBABA_CLOUD_SECURITY_TOKEN`, on every load.
///
/// A pair with only one half set is an error naming the missing variable (rather than
/// silently falling through to the other pair or another source).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oss_credentials::Error> {
/// use oss_credentials::{Context, EnvProvider, LoadCredentials, StaticEnv};
/// let ctx = Context::new().with_env(
///     StaticEnv::new()
///         .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI_EXAMPLE")
///         .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret"),
/// );
/// let loaded = EnvProvider::new(ctx).load().await?;
/// assert_eq!(loaded.credentials.access_key_id(), "LTAI_EXAMPLE");
/// assert_eq!(loaded.source.to_string(), "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EnvProvider {
    ctx: Context,
}

impl EnvProvider {
    /// A provider reading `ctx`'s environment.
    pub fn new(ctx: Context) -> Self {
        Self { ctx }
    }

    fn read(&self) -> Result<Sourced, Error> {
        for names in &NAMES {
            let id = self.ctx.non_empty(names.id);
            let secret = self.ctx.non_empty(names.secret);
            match (id, secret) {
                (Some(id), Some(secret)) => {
                    let mut creds = Credentials::new(id, secret);
                    if let Some(token) = self.ctx.non_empty(names.token) {
                        creds = creds.with_security_token(token);
                    }
                    return Ok(Sourced::new(
                        creds,
                        CredentialSource::Environment { variable: names.id },
                    ));
                }
                (Some(_), None) => {
                    return Err(Error::HalfSetEnv {
                        set: names.id,
                        missing: names.secret,
                    })
                }
                (None, Some(_)) => {
                    return Err(Error::HalfSetEnv {
                        set: names.secret,
                        missing: names.id,
                    })
                }
                (None, None) => {}
            }
        }
        Err(Error::EnvNotSet)
    }
}

impl LoadCredentials for EnvProvider {
    fn load(&self) -> BoxFuture<'_, Result<Sourced, Error>> {
        let result = self.read();
        Box::pin(async move { result })
    }
}

provide_by_loading!(EnvProvider);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StaticEnv;

    fn load(env: StaticEnv) -> Result<Sourced, Error> {
        EnvProvider::new(Context::new().with_env(env)).read()
    }

    #[test]
    fn oss_names_win_over_alibaba_cloud_names() {
        let s = load(
            StaticEnv::new()
                .with_var("OSS_ACCESS_KEY_ID", "oss-id")
                .with_var("OSS_ACCESS_KEY_SECRET", "oss-secret")
                .with_var("OSS_SESSION_TOKEN", "oss-token")
                .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", "ali-id")
                .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ali-secret"),
        )
        .unwrap();
        assert_eq!(s.credentials.access_key_id(), "oss-id");
        assert_eq!(s.credentials.access_key_secret().expose(), "oss-secret");
        assert_eq!(
            s.credentials.security_token().map(|t| t.expose()),
            Some("oss-token")
        );
        assert_eq!(
            s.source,
            CredentialSource::Environment {
                variable: "OSS_ACCESS_KEY_ID"
            }
        );
    }

    #[test]
    fn alibaba_cloud_names_with_token() {
        let s = load(
            StaticEnv::new()
                .with_var("ALIBABA_CLOUD_ACCESS_KEY_ID", " ali-id ")
                .with_var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ali-secret")
                .with_var("ALIBABA_CLOUD_SECURITY_TOKEN", "tok"),
        )
        .unwrap();
        assert_eq!(s.credentials.access_key_id(), "ali-id");
        assert_eq!(
            s.credentials.security_token().map(|t| t.expose()),
            Some("tok")
        );
    }

    #[test]
    fn half_set_pairs_name_the_missing_variable() {
        let cases = [
            (
                "OSS_ACCESS_KEY_ID",
                "OSS_ACCESS_KEY_SECRET",
                "environment: OSS_ACCESS_KEY_ID is set but OSS_ACCESS_KEY_SECRET is not",
            ),
            (
                "OSS_ACCESS_KEY_SECRET",
                "OSS_ACCESS_KEY_ID",
                "environment: OSS_ACCESS_KEY_SECRET is set but OSS_ACCESS_KEY_ID is not",
            ),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                "environment: ALIBABA_CLOUD_ACCESS_KEY_SECRET is set but ALIBABA_CLOUD_ACCESS_KEY_ID is not",
            ),
        ];
        for (set, missing, text) in cases {
            let err = load(StaticEnv::new().with_var(set, "s3cr3t-value")).unwrap_err();
            match &err {
                Error::HalfSetEnv { set: s, missing: m } => {
                    assert_eq!((*s, *m), (set, missing));
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(err.to_string(), text);
            assert!(!format!("{err:?}").contains("s3cr3t"));
        }
    }

    #[test]
    fn blank_values_count_as_unset() {
        let err = load(
            StaticEnv::new()
                .with_var("OSS_ACCESS_KEY_ID", "  ")
                .with_var("OSS_ACCESS_KEY_SECRET", ""),
        )
        .unwrap_err();
        assert!(matches!(err, Error::EnvNotSet), "{err:?}");
    }
}
