//! The `callbackBodyType`: how the resolved body is encoded.

use crate::Error;

/// MIME type of the callback body OSS sends, and with it how placeholder values are escaped.
///
/// Default is [`CallbackBodyType::FormUrlEncoded`], as in OSS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CallbackBodyType {
    /// `application/x-www-form-urlencoded`: each substituted value is percent-encoded
    /// (everything but RFC 3986 unreserved characters); the template text is kept verbatim.
    #[default]
    FormUrlEncoded,
    /// `application/json`: each substituted value is inserted as a JSON string (quoted and
    /// escaped), so templates write placeholders unquoted: `{"size":${size}}`.
    Json,
}

impl CallbackBodyType {
    /// The MIME type written to `callbackBodyType` and to the callback request's `Content-Type`.
    pub fn as_mime(&self) -> &'static str {
        match self {
            Self::FormUrlEncoded => "application/x-www-form-urlencoded",
            Self::Json => "application/json",
        }
    }

    /// Parses a `callbackBodyType` value. Only the two exact MIME types are accepted.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedBodyType`] for anything else.
    pub fn from_mime(mime: &str) -> Result<Self, Error> {
        match mime {
            "application/x-www-form-urlencoded" => Ok(Self::FormUrlEncoded),
            "application/json" => Ok(Self::Json),
            other => Err(Error::UnsupportedBodyType(other.to_owned())),
        }
    }
}

impl std::str::FromStr for CallbackBodyType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_mime(s)
    }
}

impl std::fmt::Display for CallbackBodyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_mime())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_reject() {
        for t in [CallbackBodyType::FormUrlEncoded, CallbackBodyType::Json] {
            assert_eq!(CallbackBodyType::from_mime(t.as_mime()).unwrap(), t);
        }
        assert_eq!(
            CallbackBodyType::default(),
            CallbackBodyType::FormUrlEncoded
        );
        assert!(matches!(
            "text/plain".parse::<CallbackBodyType>(),
            Err(Error::UnsupportedBodyType(t)) if t == "text/plain"
        ));
    }
}
