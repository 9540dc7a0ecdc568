//! The CLI's one error type, and how it is reported: one line plus the request id.

use std::error::Error as _;
use std::path::PathBuf;

/// Exit code of every failure but a failed callback.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code when the upload callback failed: the object **is** stored.
pub const EXIT_CALLBACK_FAILED: u8 = 3;
/// Exit code when the request carrying the callback failed after its body was sent: the object
/// is stored (or may be, when it could not be checked) and whether the callback ran is unknown
/// ([`oss_upload::Error::CallbackOutcomeUnknown`]).
pub const EXIT_CALLBACK_UNKNOWN: u8 = 4;
/// Exit code after Ctrl-C or SIGTERM stopped an upload (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A command-line value is invalid. Nothing was sent.
    #[error("invalid {name}: {message}")]
    InvalidArgument {
        /// Which value.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Something the command needs is not configured (region, credentials).
    #[error("{0}")]
    Config(String),
    /// No credentials: the error lists every source of the default chain that was tried.
    #[error("credentials are required")]
    Credentials(#[source] Box<oss_credentials::Error>),
    /// The callback flags do not make a valid callback.
    #[error("invalid callback")]
    Callback(#[source] oss_callback::Error),
    /// An upload or an object call failed.
    #[error(transparent)]
    Upload(#[from] oss_upload::Error),
    /// Presigning failed.
    #[error("presigning failed")]
    Presign(#[source] oss_presign::Error),
    /// The emulator could not start.
    #[error("the emulator failed")]
    Emulator(#[source] oss_emulator::Error),
    /// Local I/O failed (a file, the terminal, a socket).
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Ctrl-C or SIGTERM stopped the upload.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// A destructive batch command (`rm -r`, `uploads abort --all`) was not confirmed: the
    /// answer was not yes, or there was no terminal to ask and no `--force`. Nothing changed.
    #[error("not confirmed: {0}")]
    NotConfirmed(String),
    /// Some files of a recursive `cp` failed (each was reported as it failed; the others were
    /// copied).
    #[error("{failed} of {total} files failed")]
    Batch {
        /// Files that failed.
        failed: usize,
        /// Files tried, skipped ones included.
        total: usize,
    },
    /// A file could not be read or written.
    #[error("{}: {reason}", .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl From<oss_callback::Error> for Error {
    fn from(e: oss_callback::Error) -> Self {
        Error::Callback(e)
    }
}

impl From<oss_presign::Error> for Error {
    fn from(e: oss_presign::Error) -> Self {
        Error::Presign(e)
    }
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Upload(e) if e.callback_failure().is_some() => EXIT_CALLBACK_FAILED,
            Error::Upload(e) if e.callback_outcome_unknown().is_some() => EXIT_CALLBACK_UNKNOWN,
            Error::Interrupted(_) => EXIT_INTERRUPTED,
            _ => EXIT_FAILURE,
        }
    }

    /// The OSS request id behind this error, when a response arrived.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Upload(e) => e.request_id(),
            _ => None,
        }
    }

    /// The one-line report. Formatting choices only: an upload error that carries OSS's answer
    /// is already complete (its `Display` has code, message, EC and request id); any other
    /// error is followed by its causes, joined with `": "`, on one line.
    pub fn report(&self) -> String {
        let mut line = self.to_string();
        let complete = matches!(self, Error::Upload(e)
            if e.service_fields().is_some() || e.callback_failure().is_some());
        if !complete {
            let mut cause = self.source();
            while let Some(e) = cause {
                let text = e.to_string();
                if !text.is_empty() && !line.ends_with(&text) {
                    line.push_str(": ");
                    line.push_str(&text);
                }
                // An upload error that carries OSS's answer is complete: what lies under it
                // (the transport's wrappers) only repeats that answer.
                let oss_answered = e
                    .downcast_ref::<oss_upload::Error>()
                    .is_some_and(|u| u.service_fields().is_some());
                cause = if oss_answered { None } else { e.source() };
            }
        }
        if let Some(id) = self.request_id() {
            if !line.contains(id) {
                line.push_str(&format!(" [request id: {id}]"));
            }
        }
        line.replace(['\n', '\r'], " ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_joins_causes_on_one_line() {
        let e = Error::io(
            "cannot read the source file",
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file\nreally"),
        );
        assert_eq!(
            e.report(),
            "cannot read the source file: no such file really"
        );
        assert_eq!(e.exit_code(), EXIT_FAILURE);
        assert_eq!(e.request_id(), None);
    }

    #[test]
    fn an_unknown_callback_outcome_exits_4_with_one_line() {
        let cause = oss_upload::Error::Request {
            operation: "PutObject".into(),
            target: "oss://b/k".into(),
            oss: None,
            source: Box::new(oss_transport::Error::Timeout {
                phase: oss_transport::TimeoutPhase::Read,
            }),
        };
        let mut outcome = oss_upload::UnknownCallbackOutcome::new(
            "b",
            "k",
            "PutObject",
            oss_upload::Confirmation::Stored,
            cause,
        );
        outcome.etag = Some("\"E1\"".into());
        let e = Error::Upload(oss_upload::Error::CallbackOutcomeUnknown(Box::new(outcome)));
        assert_eq!(e.exit_code(), EXIT_CALLBACK_UNKNOWN);
        let line = e.report();
        assert!(
            line.starts_with(
                "the object oss://b/k is stored (etag \"E1\"), but whether the callback ran is unknown: PutObject failed for oss://b/k"
            ),
            "{line}"
        );
        assert!(line.contains("timed out (read)"), "{line}");
        // Under a cause that carries OSS's answer nothing is repeated.
        let answered = oss_upload::Error::Request {
            operation: "PutObject".into(),
            target: "oss://b/k".into(),
            oss: Some(Box::new(oss_upload::ServiceFields {
                status: 503,
                code: "ServiceUnavailable".into(),
                message: "busy".into(),
                ec: None,
                request_id: Some("R1".into()),
            })),
            source: Box::new(oss_transport::Error::Timeout {
                phase: oss_transport::TimeoutPhase::Read,
            }),
        };
        let e = Error::Upload(oss_upload::Error::CallbackOutcomeUnknown(Box::new(
            oss_upload::UnknownCallbackOutcome::new(
                "b",
                "k",
                "PutObject",
                oss_upload::Confirmation::Unverified,
                answered,
            ),
        )));
        let line = e.report();
        assert!(
            line.ends_with("HTTP 503 ServiceUnavailable: busy [request id: R1]"),
            "{line}"
        );
        assert!(line.contains("may be stored"), "{line}");
        assert!(!line.contains('\n'), "{line}");
        // A callback failure stays 3, anything else 1.
        let failed = Error::Upload(oss_upload::Error::CallbackFailed(Box::new(
            oss_upload::CallbackFailure::new("b", "k"),
        )));
        assert_eq!(failed.exit_code(), EXIT_CALLBACK_FAILED);
    }

    #[test]
    fn argument_errors_name_the_value() {
        let e = Error::InvalidArgument {
            name: "size",
            message: "\"x\": bad".into(),
        };
        assert_eq!(e.report(), "invalid size: \"x\": bad");
    }
}
