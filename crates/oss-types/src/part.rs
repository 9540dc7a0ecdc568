//! Part numbers of a multipart upload.

use std::fmt;

use crate::error::Error;
use crate::limits::MAX_PARTS;

/// A multipart part number, 1 to 10 000 (protocol §5.1), as a `u32` everywhere.
///
/// ```
/// use oss_types::PartNumber;
/// assert_eq!(PartNumber::new(1)?.get(), 1);
/// assert!(PartNumber::new(0).is_err());
/// assert!(PartNumber::new(10_001).is_err());
/// # Ok::<(), oss_types::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartNumber(u32);

impl PartNumber {
    /// The first part.
    pub const FIRST: PartNumber = PartNumber(1);
    /// The last part number OSS accepts.
    pub const MAX: PartNumber = PartNumber(MAX_PARTS as u32);

    /// Validates a part number.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidPartNumber`] outside 1..=10 000.
    pub fn new(n: u32) -> Result<Self, Error> {
        if (1..=MAX_PARTS as u32).contains(&n) {
            Ok(Self(n))
        } else {
            Err(Error::InvalidPartNumber { value: n.into() })
        }
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for PartNumber {
    type Error = Error;
    fn try_from(n: u32) -> Result<Self, Error> {
        Self::new(n)
    }
}

impl TryFrom<u64> for PartNumber {
    type Error = Error;
    fn try_from(n: u64) -> Result<Self, Error> {
        u32::try_from(n)
            .map_err(|_| Error::InvalidPartNumber { value: n })
            .and_then(Self::new)
    }
}

impl From<PartNumber> for u32 {
    fn from(n: PartNumber) -> u32 {
        n.0
    }
}

impl fmt::Display for PartNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert_eq!(PartNumber::MAX.get(), 10_000);
        assert!(PartNumber::try_from(10_000u64).is_ok());
        assert_eq!(
            PartNumber::try_from(u64::MAX).unwrap_err(),
            Error::InvalidPartNumber { value: u64::MAX }
        );
    }
}
