//! Bucket names, the one bucket rule of the workspace.

use std::fmt;
use std::str::FromStr;

use crate::error::{clip, Error};

/// A bucket name OSS accepts: 3 to 63 characters of `a-z`, `0-9` and `-`, not starting or ending
/// with `-`. Every crate that builds or parses a bucket URI checks names through this type, so a
/// name that is a valid host label for virtual-hosted addressing is the only kind that passes.
///
/// ```
/// use oss_types::BucketName;
/// assert_eq!(BucketName::new("examplebucket-1")?.as_str(), "examplebucket-1");
/// assert!(BucketName::new("ab").is_err());
/// assert!(BucketName::new("Upper_Case").is_err());
/// assert!(BucketName::new("-leading").is_err());
/// # Ok::<(), oss_types::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName(String);

impl BucketName {
    /// Validates a bucket name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBucketName`] naming the broken part of the rule.
    pub fn new(name: impl Into<String>) -> Result<Self, Error> {
        let name = name.into();
        Self::check(&name)?;
        Ok(Self(name))
    }

    /// Checks `name` against the rule without taking it (for code that keeps a `&str`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidBucketName`] naming the broken part of the rule.
    pub fn check(name: &str) -> Result<(), Error> {
        let reason = if !(3..=63).contains(&name.len()) {
            "a bucket name has 3 to 63 characters"
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            "only a-z, 0-9 and '-' are allowed"
        } else if name.starts_with('-') || name.ends_with('-') {
            "a bucket name cannot start or end with '-'"
        } else {
            return Ok(());
        };
        Err(Error::InvalidBucketName {
            name: clip(name),
            reason,
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for BucketName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for BucketName {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for BucketName {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl AsRef<str> for BucketName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BucketName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Moved from oss-sign's `bucket.rs` (the free function this type replaced).
    #[test]
    fn lengths_and_edges() {
        assert!(BucketName::new("abc").is_ok());
        assert!(BucketName::new("a".repeat(63)).is_ok());
        assert!(BucketName::new("a".repeat(64)).is_err());
        assert!(BucketName::new("trailing-").is_err());
        assert!(BucketName::new("dot.bucket").is_err());
        assert!(BucketName::new("").is_err());
        // Moved from oss-presign's `endpoint.rs` (`check_bucket`).
        for bad in ["ab", "Upper", "-lead"] {
            assert!(BucketName::new(bad).is_err(), "{bad}");
        }
        assert!(BucketName::new("fine-bucket-1").is_ok());
    }

    #[test]
    fn errors_name_the_rule() {
        assert_eq!(
            BucketName::new("Bad.Bucket").unwrap_err().to_string(),
            "invalid bucket name \"Bad.Bucket\": only a-z, 0-9 and '-' are allowed"
        );
    }
}
