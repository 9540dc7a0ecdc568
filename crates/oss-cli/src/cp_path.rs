//! The two sides of `cp`: an `oss://` URL, `-` (stdin or stdout), or a local path.

use std::path::PathBuf;

use crate::location::ObjectUrl;

/// One side of `oss-rs cp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpPath {
    /// `oss://bucket/key`.
    Oss(ObjectUrl),
    /// `-`: stdin as a source, stdout as a destination.
    Stdio,
    /// Anything else: a local file or directory.
    Local(PathBuf),
}

/// Parses a `cp` argument for clap: `oss://` URLs are checked, `-` is stdio, the rest is local.
pub(crate) fn cp_path_arg(text: &str) -> Result<CpPath, String> {
    if text == "-" {
        return Ok(CpPath::Stdio);
    }
    if text.starts_with("oss://") {
        return text
            .parse()
            .map(CpPath::Oss)
            .map_err(|e: crate::Error| e.to_string());
    }
    if let Some((scheme, _)) = text.split_once("://") {
        // s3://, http://: a URL of another kind, not a local path that happens to contain "://".
        if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "{text:?}: expected oss://bucket/key, a local path or -"
            ));
        }
    }
    Ok(CpPath::Local(PathBuf::from(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides() {
        assert_eq!(cp_path_arg("-").unwrap(), CpPath::Stdio);
        assert!(matches!(cp_path_arg("oss://b/k").unwrap(), CpPath::Oss(u) if u.key() == "k"));
        assert!(cp_path_arg("oss://B/k").is_err());
        assert!(cp_path_arg("s3://b/k")
            .unwrap_err()
            .contains("oss://bucket/key"));
        assert_eq!(
            cp_path_arg("./a b").unwrap(),
            CpPath::Local(PathBuf::from("./a b"))
        );
    }
}
