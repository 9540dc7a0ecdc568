//! The crate's one error type.

use std::fmt;
use std::path::PathBuf;

/// Why credentials could not be found or loaded.
///
/// Every variant names the source (`environment`, `INI credentials file`, `aliyun CLI config`,
/// …) and the variable or file involved. No variant carries a secret: file contents are never
/// quoted, only line and column numbers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// One half of an access key pair is set and the other is not. User action: set the missing
    /// variable, or unset the other one.
    #[error("environment: {set} is set but {missing} is not")]
    HalfSetEnv {
        /// The variable that is set.
        set: &'static str,
        /// The variable that is missing or empty.
        missing: &'static str,
    },

    /// Neither `OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET` nor the `ALIBABA_CLOUD_*` pair is set.
    #[error(
        "environment: neither OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET nor \
         ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET is set"
    )]
    EnvNotSet,

    /// No home directory is known (`HOME`, or `USERPROFILE` on Windows, is unset), so the
    /// default file of `source` cannot be located.
    #[error("{source_name}: no home directory (HOME is unset)")]
    NoHome {
        /// The provider.
        source_name: &'static str,
    },

    /// None of the default files exists. User action: create one, or point the override
    /// variable at it.
    #[error("{source_name}: no file at {}", DisplayPaths(.paths))]
    NoFile {
        /// The provider.
        source_name: &'static str,
        /// The paths that were looked at, in order.
        paths: Vec<PathBuf>,
    },

    /// A file exists (or was named explicitly) but cannot be read.
    #[error("{source_name}: cannot read {}", .path.display())]
    ReadFile {
        /// The provider.
        source_name: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// An INI credentials file that does not parse.
    #[error("INI credentials file {}: line {line}: {reason}", .path.display())]
    MalformedIni {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What is wrong (never the line's text, which may hold a secret).
        reason: &'static str,
    },

    /// A JSON file (the aliyun CLI config) that does not parse or has the wrong shape. The
    /// parser's message is not kept because it may quote a value from the file.
    #[error("{source_name} {}: malformed JSON at line {line}, column {column}", .path.display())]
    MalformedJson {
        /// The provider.
        source_name: &'static str,
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },

    /// The requested profile is not in the file.
    #[error("{source_name} {}: no profile {profile:?}", .path.display())]
    UnknownProfile {
        /// The provider.
        source_name: &'static str,
        /// The file.
        path: PathBuf,
        /// The profile asked for.
        profile: String,
    },

    /// The profile lacks a key its type needs.
    #[error("{source_name} {}: profile {profile:?} has no `{key}`", .path.display())]
    MissingKey {
        /// The provider.
        source_name: &'static str,
        /// The file.
        path: PathBuf,
        /// The profile.
        profile: String,
        /// The missing (or empty) key.
        key: &'static str,
    },

    /// The profile's `type` (INI) or `mode` (CLI) is not one this build can use.
    #[error(
        "{source_name} {}: profile {profile:?} has {field} {value:?}, which is not supported: {reason}",
        .path.display()
    )]
    UnsupportedProfile {
        /// The provider.
        source_name: &'static str,
        /// The file.
        path: PathBuf,
        /// The profile.
        profile: String,
        /// `type` or `mode`.
        field: &'static str,
        /// The value found.
        value: String,
        /// Why it is refused and what to use instead.
        reason: &'static str,
    },

    /// A provider returned credentials that had already expired.
    #[error("the credentials provider returned credentials that expired at {expired_at}")]
    Expired {
        /// The expiry, `yyyyMMddTHHmmssZ` UTC.
        expired_at: String,
    },

    /// A link of the default chain is configured but not built into this version (the network
    /// links: OIDC/RRSA, ECS metadata, credentials URI).
    #[error("{link}: configured, but this build has no provider for it")]
    LinkUnavailable {
        /// The link.
        link: &'static str,
    },

    /// The credentials a role provider signs with could not be obtained.
    #[error("{source_name}: no source credentials to sign with: {source}")]
    SourceCredentials {
        /// The provider.
        source_name: &'static str,
        /// The source provider's error.
        #[source]
        source: Box<oss_sign::Error>,
    },

    /// A PEM file of extra root certificates that holds none rustls accepts.
    #[error("CA file {}: {reason}", .path.display())]
    BadCaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// A setting of a network provider has the wrong shape (a role ARN, a duration, a session
    /// name). User action: fix the named setting.
    #[error("{source_name}: invalid {name}: {reason}")]
    InvalidSetting {
        /// The provider.
        source_name: &'static str,
        /// The setting (`RoleArn`, `DurationSeconds`, …).
        name: &'static str,
        /// Why (quotes the value only for settings that are never secret).
        reason: String,
    },

    /// A file a network provider needs (the OIDC token file) is empty.
    #[error("{source_name}: {} is empty", .path.display())]
    EmptyFile {
        /// The provider.
        source_name: &'static str,
        /// The file.
        path: PathBuf,
    },

    /// The HTTP exchange failed: no connection, a timeout, a reset. `url` never carries a query
    /// (it may hold a token) or a signature.
    #[error("{source_name}: request to {url} failed: {source}")]
    Network {
        /// The provider.
        source_name: &'static str,
        /// Where the request went.
        url: String,
        /// The I/O error (a timeout is [`std::io::ErrorKind::TimedOut`]).
        #[source]
        source: std::io::Error,
    },

    /// The service answered with an error: its HTTP status and, when the body is the usual
    /// error JSON, its `Code`, `Message` (clipped, and cut before any echoed string to sign)
    /// and `RequestId`.
    #[error(
        "{source_name}: {url} answered HTTP {status}{}",
        DisplayServiceError(.code.as_deref(), .message.as_deref(), .request_id.as_deref())
    )]
    Service {
        /// The provider.
        source_name: &'static str,
        /// Where the request went.
        url: String,
        /// The HTTP status.
        status: u16,
        /// `Code` of the error JSON.
        code: Option<String>,
        /// `Message` of the error JSON.
        message: Option<String>,
        /// `RequestId` of the error JSON.
        request_id: Option<String>,
    },

    /// A 2xx answer that is not the expected document (not JSON, a missing key, a `Code` other
    /// than `Success`, an unreadable `Expiration`). The body is never quoted.
    #[error("{source_name}: unexpected answer from {url}: {reason}")]
    BadResponse {
        /// The provider.
        source_name: &'static str,
        /// Where the request went.
        url: String,
        /// What is wrong.
        reason: String,
    },

    /// Every link of the default chain failed or was skipped. The list is in chain order.
    #[error("no credentials found; tried: {}", DisplayAttempts(.attempts))]
    NoCredentials {
        /// What each link did.
        attempts: Vec<Attempt>,
    },
}

/// What one link of the default chain did when it was tried.
#[derive(Debug)]
#[non_exhaustive]
pub struct Attempt {
    /// The link's name (`environment`, `oidc`, `cli-profile`, `ini-file`, `ecs-metadata`,
    /// `credentials-uri`).
    pub link: &'static str,
    /// The outcome.
    pub outcome: AttemptOutcome,
}

/// Outcome of one [`Attempt`].
#[derive(Debug)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The link was not enabled; the text says which setting disabled it.
    Skipped(&'static str),
    /// The link was tried and failed.
    Failed(Box<Error>),
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            AttemptOutcome::Skipped(why) => write!(f, "{}: skipped ({why})", self.link),
            // Every error already starts with the name of its source.
            AttemptOutcome::Failed(e) => write!(f, "{e}"),
        }
    }
}

struct DisplayAttempts<'a>(&'a [Attempt]);

impl fmt::Display for DisplayAttempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "[{a}]")?;
        }
        Ok(())
    }
}

struct DisplayServiceError<'a>(Option<&'a str>, Option<&'a str>, Option<&'a str>);

impl fmt::Display for DisplayServiceError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(code) = self.0 {
            write!(f, ", {code}")?;
        }
        if let Some(message) = self.1 {
            write!(f, ": {message}")?;
        }
        if let Some(id) = self.2 {
            write!(f, " (RequestId {id})")?;
        }
        Ok(())
    }
}

struct DisplayPaths<'a>(&'a [PathBuf]);

impl fmt::Display for DisplayPaths<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            write!(f, "{}", p.display())?;
        }
        Ok(())
    }
}

impl From<Error> for oss_sign::Error {
    fn from(e: Error) -> Self {
        oss_sign::Error::CredentialsProvider {
            source: Box::new(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn aggregate_lists_each_attempt_in_order() {
        let e = Error::NoCredentials {
            attempts: vec![
                Attempt {
                    link: "environment",
                    outcome: AttemptOutcome::Failed(Box::new(Error::EnvNotSet)),
                },
                Attempt {
                    link: "oidc",
                    outcome: AttemptOutcome::Skipped("ALIBABA_CLOUD_ROLE_ARN unset"),
                },
            ],
        };
        let text = e.to_string();
        assert!(text.starts_with("no credentials found; tried: [environment: neither"));
        assert!(
            text.ends_with("; [oidc: skipped (ALIBABA_CLOUD_ROLE_ARN unset)]"),
            "{text}"
        );
    }
}
