//! How results and notices are printed: `--json` documents on stdout, warnings on stderr
//! (silenced by `-q`).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use oss_types::CallbackFailure;
use oss_upload::{Confirmation, UnknownCallbackOutcome, UploadOutput};

use crate::location::ObjectUrl;
use crate::Error;

/// Set once from `-q` before the command runs; read wherever a warning or a human line is
/// printed, so commands need not pass the flag down.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Records `-q` for the rest of the process.
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `-q` was given: print nothing but errors.
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints `oss-rs: warning: …` on stderr unless `-q`.
pub(crate) fn warn(message: &str) {
    if !quiet() {
        let _ = writeln!(std::io::stderr(), "oss-rs: warning: {message}");
    }
}

/// Set once from `--json`: results go to stdout as one JSON document each.
static JSON: AtomicBool = AtomicBool::new(false);

/// Records `--json` for the rest of the process.
pub(crate) fn set_json(json: bool) {
    JSON.store(json, Ordering::Relaxed);
}

/// Whether `--json` was given.
pub(crate) fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// A callback answer as JSON: parsed when it is JSON, else the text.
fn callback_answer(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into_owned()))
}

/// The JSON document of a finished upload: where it went, what OSS answered (ETag, CRC-64 as
/// a decimal string since it does not fit a JSON number exactly, request id, version id) and
/// the callback server's answer (`null` without a callback).
pub(crate) fn upload_document(
    destination: &ObjectUrl,
    size: Option<u64>,
    output: &UploadOutput,
) -> serde_json::Value {
    serde_json::json!({
        "bucket": destination.bucket(),
        "key": destination.key(),
        "size": size,
        "etag": output.etag,
        "crc64": output.crc64.map(|c| c.to_string()),
        "request_id": output.request_id,
        "version_id": output.version_id,
        "callback": output.callback.as_ref().map(|cb| serde_json::json!({
            "answer": callback_answer(&cb.body),
        })),
    })
}

/// The JSON document of an upload whose callback failed: the object is stored, so it is a
/// result too (exit code 3), with OSS's error fields under `callback.failure`.
pub(crate) fn callback_failure_document(failure: &CallbackFailure) -> serde_json::Value {
    serde_json::json!({
        "bucket": failure.bucket,
        "key": failure.key,
        "upload_id": failure.upload_id,
        "etag": failure.etag,
        "crc64": failure.crc64.map(|c| c.to_string()),
        "request_id": failure.request_id,
        "version_id": failure.version_id,
        "callback": {
            "failure": {
                "status": failure.status.as_u16(),
                "code": failure.code,
                "message": failure.message,
                "ec": failure.ec,
            }
        },
    })
}

/// The JSON document of an upload whose callback-bearing request failed after its body was sent
/// (exit code 4): `callback.outcome` is `"unknown"`, and `callback.object` says what HeadObject
/// established: `"stored"` (size, CRC-64 and time match: the ETag and CRC-64 are the stored
/// object's), `"unverified"` (the check failed) or `"not_checked"` (no credentials).
pub(crate) fn unknown_outcome_document(outcome: &UnknownCallbackOutcome) -> serde_json::Value {
    let object = match outcome.confirmation {
        Confirmation::Stored => "stored",
        Confirmation::NoCredentials => "not_checked",
        _ => "unverified",
    };
    serde_json::json!({
        "bucket": outcome.bucket,
        "key": outcome.key,
        "upload_id": outcome.upload_id,
        "etag": outcome.etag,
        "crc64": outcome.crc64.map(|c| c.to_string()),
        "request_id": outcome.request_id,
        "version_id": outcome.version_id,
        "callback": {
            "outcome": "unknown",
            "object": object,
            "sends": outcome.sends,
        },
    })
}

/// The JSON result an upload error still is, with `--json`: the object is (or may be) stored
/// after a failed callback (exit 3) or an unknown callback outcome (exit 4).
pub(crate) fn error_document(error: &Error) -> Option<serde_json::Value> {
    let Error::Upload(e) = error else {
        return None;
    };
    if let Some(failure) = e.callback_failure() {
        return Some(callback_failure_document(failure));
    }
    e.callback_outcome_unknown().map(unknown_outcome_document)
}

/// Writes one JSON document on its own line of stdout.
///
/// # Errors
/// [`Error::Io`] when stdout cannot be written.
pub(crate) fn print_json(value: &serde_json::Value) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{value}")
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write the JSON result", e))
}

/// Whether stderr may carry ANSI codes: a terminal, and `NO_COLOR` unset or empty
/// (<https://no-color.org>). Logs redirected to a file or a pipe stay plain text.
pub(crate) fn color_on_stderr() -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_outcome_is_a_json_result() {
        let cause = oss_upload::Error::Config {
            reason: "stand-in".into(),
        };
        let mut outcome = UnknownCallbackOutcome::new(
            "bkt",
            "a.bin",
            "CompleteMultipartUpload",
            Confirmation::Stored,
            cause,
        );
        outcome.upload_id = Some("U1".into());
        outcome.etag = Some("\"E-2\"".into());
        outcome.crc64 = Some(u64::MAX);
        outcome.sends = 2;
        let doc = error_document(&Error::Upload(oss_upload::Error::CallbackOutcomeUnknown(
            Box::new(outcome),
        )))
        .expect("a document");
        assert_eq!(doc["callback"]["outcome"], "unknown");
        assert_eq!(doc["callback"]["object"], "stored");
        assert_eq!(doc["callback"]["sends"], 2);
        assert_eq!(doc["upload_id"], "U1");
        assert_eq!(doc["crc64"], u64::MAX.to_string());
        let unchecked = UnknownCallbackOutcome::new(
            "bkt",
            "a.bin",
            "PutObject (presigned)",
            Confirmation::NoCredentials,
            oss_upload::Error::Config {
                reason: "stand-in".into(),
            },
        );
        let doc = unknown_outcome_document(&unchecked);
        assert_eq!(doc["callback"]["object"], "not_checked");
        assert_eq!(doc["etag"], serde_json::Value::Null);
        assert!(error_document(&Error::Config("x".into())).is_none());
    }
}
