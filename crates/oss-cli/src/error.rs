//! The CLI's one error type, and how it is reported: one line plus the request id.

use std::error::Error as _;
use std::path::PathBuf;

/// Exit code of every failure but a failed callback.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code when the upload callback failed: the object **is** stored.
pub const EXIT_CALLBACK_FAILED: u8 = 3;
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
    Credentials(#[source] oss_credentials::Error),
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
            Error::Interrupted(_) => EXIT_INTERRUPTED,
            _ => EXIT_FAILURE,
        }
    }

    /// The OSS request id behind this error, when a response arrived.
    pub fn request_id(&self) -> Option<String> {
        if let Error::Upload(e) = self {
            if let Some(f) = e.callback_failure() {
                return f.request_id.clone();
            }
        }
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(e) = cause {
            if let Some(t) = transport_error(e) {
                match t.last() {
                    oss_transport::Error::Service(s) => return s.request_id.clone(),
                    oss_transport::Error::BadErrorResponse { request_id, .. } => {
                        return request_id.clone()
                    }
                    oss_transport::Error::CallbackFailed(c) => return c.request_id.clone(),
                    _ => {}
                }
            }
            cause = e.source();
        }
        None
    }

    /// The one-line report: this error and its causes, the OSS message and EC, the request id.
    pub fn report(&self) -> String {
        let mut line = self.to_string();
        if let Error::Upload(e) = self {
            if let Some(f) = e.callback_failure() {
                line.push_str(&format!(": {}: {}", f.code, f.message.trim()));
                if let Some(ec) = &f.ec {
                    line.push_str(&format!(" (EC {ec})"));
                }
                if let Some(etag) = &f.etag {
                    line.push_str(&format!("; etag {etag}"));
                }
                return with_request_id(line, self.request_id());
            }
        }
        let mut cause = self.source();
        while let Some(e) = cause {
            let text = e.to_string();
            if !text.is_empty() && !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            if let Some(oss_transport::Error::Service(s)) = transport_error(e) {
                if !s.message.is_empty() {
                    line.push_str(&format!(" ({})", s.message.trim()));
                }
                if let Some(ec) = &s.ec {
                    line.push_str(&format!(" (EC {ec})"));
                }
            }
            cause = e.source();
        }
        with_request_id(line.replace(['\n', '\r'], " "), self.request_id())
    }
}

/// The transport error behind `e` (sources may hold it boxed).
fn transport_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a oss_transport::Error> {
    e.downcast_ref::<oss_transport::Error>()
        .or_else(|| e.downcast_ref::<Box<oss_transport::Error>>().map(|b| &**b))
}

fn with_request_id(mut line: String, request_id: Option<String>) -> String {
    if let Some(id) = request_id {
        line.push_str(&format!(" [request id: {id}]"));
    }
    line
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
    fn argument_errors_name_the_value() {
        let e = Error::InvalidArgument {
            name: "size",
            message: "\"x\": bad".into(),
        };
        assert_eq!(e.report(), "invalid size: \"x\": bad");
    }
}
