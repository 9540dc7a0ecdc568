//! `oss://bucket/key` URLs.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// An object (or key prefix) named as `oss://bucket/key`.
///
/// ```
/// use oss_cli::ObjectUrl;
/// let url: ObjectUrl = "oss://b/dir/".parse()?;
/// assert_eq!(url.key(), "dir/");
/// assert_eq!(url.to_string(), "oss://b/dir/");
/// assert!("s3://b/k".parse::<ObjectUrl>().is_err());
/// # Ok::<(), oss_cli::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUrl {
    bucket: String,
    key: String,
}

impl ObjectUrl {
    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The key (possibly empty, for `oss://bucket/`, or ending in `/`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The same URL with `name` appended when the key is empty or ends in `/`.
    pub fn with_default_name(mut self, name: &str) -> Self {
        if self.key.is_empty() || self.key.ends_with('/') {
            self.key.push_str(name);
        }
        self
    }
}

impl FromStr for ObjectUrl {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = |message: &str| Error::InvalidArgument {
            name: "object URL",
            message: format!("{s:?}: {message}"),
        };
        let rest = s
            .strip_prefix("oss://")
            .ok_or_else(|| invalid("expected oss://bucket/key"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("no bucket name"));
        }
        if !bucket
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(
                "a bucket name has only lower-case letters, digits and '-'",
            ));
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }
}

impl fmt::Display for ObjectUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oss://{}/{}", self.bucket, self.key)
    }
}

/// `ObjectUrl::from_str` for clap's `value_parser`.
pub(crate) fn object_url_arg(text: &str) -> Result<ObjectUrl, String> {
    text.parse().map_err(|e: Error| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let u: ObjectUrl = "oss://bkt/a/b c.txt".parse().unwrap();
        assert_eq!((u.bucket(), u.key()), ("bkt", "a/b c.txt"));
        let u: ObjectUrl = "oss://bkt".parse().unwrap();
        assert_eq!(u.key(), "");
        assert_eq!(u.with_default_name("f.bin").key(), "f.bin");
        let u: ObjectUrl = "oss://bkt/dir/".parse().unwrap();
        assert_eq!(u.with_default_name("f.bin").key(), "dir/f.bin");
        let u: ObjectUrl = "oss://bkt/x".parse().unwrap();
        assert_eq!(u.with_default_name("f.bin").key(), "x");
    }

    #[test]
    fn rejects() {
        for bad in [
            "bkt/key",
            "oss:///key",
            "oss://Bkt/k",
            "oss://b_k/k",
            "http://b/k",
        ] {
            assert!(bad.parse::<ObjectUrl>().is_err(), "{bad}");
        }
    }
}
