//! How results and notices are printed: `--json` documents on stdout, warnings on stderr
//! (silenced by `-q`).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

use oss_types::CallbackFailure;
use oss_upload::UploadOutput;

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
