//! Region ids, the one region rule of the workspace.

use std::fmt;
use std::str::FromStr;

use crate::error::{clip, Error};

/// A region id as signatures and endpoints use it: `cn-hangzhou`, or a CloudBox id such as
/// `cb-123` (protocol §2 step 4).
///
/// 1 to 64 characters of `a-z`, `0-9` and `-`, not starting or ending with `-`. The `oss-` prefix
/// belongs to endpoint hosts (`oss-cn-hangzhou.aliyuncs.com`), never to the region, so
/// `oss-cn-hangzhou` is rejected with a suggestion rather than building
/// `oss-oss-cn-hangzhou.aliyuncs.com`.
///
/// ```
/// use oss_types::{Error, Region};
/// assert_eq!(Region::new("cn-hangzhou")?.as_str(), "cn-hangzhou");
/// match Region::new("oss-cn-hangzhou") {
///     Err(Error::InvalidRegion { suggestion, .. }) => assert_eq!(suggestion.as_deref(), Some("cn-hangzhou")),
///     other => panic!("{other:?}"),
/// }
/// assert!(Region::new("cn hangzhou").is_err());
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(String);

impl Region {
    /// Validates a region id.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidRegion`] when `region` breaks the rule above; its `suggestion` holds the
    /// id without `oss-` (and without `-internal` or `.aliyuncs.com`) when it was an endpoint
    /// host's prefix.
    pub fn new(region: impl Into<String>) -> Result<Self, Error> {
        let region = region.into();
        let invalid = |reason, suggestion| Error::InvalidRegion {
            region: clip(&region),
            reason,
            suggestion,
        };
        if region.is_empty() {
            return Err(invalid("a region id cannot be empty", None));
        }
        if let Some(rest) = region.strip_prefix("oss-") {
            let rest = rest.strip_suffix(".aliyuncs.com").unwrap_or(rest);
            let rest = rest.strip_suffix("-internal").unwrap_or(rest);
            let suggestion = is_valid(rest).then(|| rest.to_owned());
            return Err(invalid(
                "a region id has no \"oss-\" prefix (that belongs to the endpoint host)",
                suggestion,
            ));
        }
        if region.len() > 64 {
            return Err(invalid("longer than 64 characters", None));
        }
        if !is_valid(&region) {
            return Err(invalid(
                "only a-z, 0-9 and '-' are allowed, not at either end",
                None,
            ));
        }
        Ok(Self(region))
    }

    /// The region id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl FromStr for Region {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl TryFrom<&str> for Region {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl TryFrom<String> for Region {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Self::new(s)
    }
}

impl AsRef<str> for Region {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_regions_and_cloudbox_ids() {
        for r in ["cn-hangzhou", "cb-123", "ap-southeast-1", "cloudbox-id"] {
            assert_eq!(Region::new(r).unwrap().as_str(), r);
        }
    }

    #[test]
    fn rejects_with_reasons() {
        for r in [
            "",
            "cn hangzhou",
            "cn/hangzhou",
            "CN-Hangzhou",
            "-cn",
            "cn-",
            "cn_hz",
        ] {
            assert!(Region::new(r).is_err(), "{r:?}");
        }
        assert!(Region::new("a".repeat(65)).is_err());
        assert!(Region::new("a".repeat(64)).is_ok());
    }

    #[test]
    fn endpoint_prefix_gets_a_did_you_mean() {
        for text in [
            "oss-cn-hangzhou",
            "oss-cn-hangzhou-internal",
            "oss-cn-hangzhou.aliyuncs.com",
        ] {
            let e = Region::new(text).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("invalid region {text:?}: a region id has no \"oss-\" prefix (that belongs to the endpoint host); did you mean \"cn-hangzhou\"?")
            );
        }
        let e = Region::new("oss-").unwrap_err();
        assert!(!e.to_string().contains("did you mean"), "{e}");
    }
}
