//! How listings print: times as UTC RFC 3339 seconds, ETags without quotes (as ossutil shows
//! them), and `Name: value` blocks with aligned colons for `stat`.

use std::io::Write;
use std::time::SystemTime;

use crate::Error;

const TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// `2025-06-01T10:00:00Z`, or `-` when OSS sent no time. UTC so a listing reads the same on
/// every machine (ossutil 1 prints local time with a zone name).
pub(crate) fn timestamp(t: Option<SystemTime>) -> String {
    t.and_then(|t| time::OffsetDateTime::from(t).format(TIME).ok())
        .unwrap_or_else(|| "-".to_owned())
}

/// The ETag without its quotes.
pub(crate) fn etag(e: &str) -> &str {
    e.trim_matches('"')
}

/// `name: value` lines, the colons aligned.
pub(crate) fn aligned(rows: &[(String, String)]) -> String {
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    rows.iter()
        .map(|(n, v)| format!("{n:<width$}: {v}\n"))
        .collect()
}

/// Writes `text` to stdout; a closed pipe (`| head`) is an error like any other write.
pub(crate) fn print(out: &mut impl Write, text: &str) -> Result<(), Error> {
    out.write_all(text.as_bytes())
        .map_err(|e| Error::io("cannot write to stdout", e))
}

/// One line of a command's result (`removed oss://b/k`) on stdout.
pub(crate) fn say(line: &str) -> Result<(), Error> {
    writeln!(std::io::stdout(), "{line}").map_err(|e| Error::io("cannot write to stdout", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats() {
        let t = UNIX_EPOCH + Duration::from_millis(1_590_826_952_500);
        assert_eq!(timestamp(Some(t)), "2020-05-30T08:22:32Z");
        assert_eq!(timestamp(None), "-");
        assert_eq!(etag("\"ABC-2\""), "ABC-2");
        assert_eq!(
            aligned(&[("A".into(), "1".into()), ("Long".into(), "2".into())]),
            "A   : 1\nLong: 2\n"
        );
    }
}
