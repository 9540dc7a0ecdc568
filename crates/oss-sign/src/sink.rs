//! Where canonical text goes: a `String` (to show it) or straight into a hash (to sign it).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A destination for signature text. The signer's hot path streams the canonical request into
/// SHA-256 and the string to sign into the HMAC, without building either string.
pub(crate) trait Sink {
    /// Appends `s`.
    fn put(&mut self, s: &str);
}

impl Sink for String {
    #[inline]
    fn put(&mut self, s: &str) {
        self.push_str(s);
    }
}

impl Sink for Sha256 {
    #[inline]
    fn put(&mut self, s: &str) {
        Digest::update(self, s.as_bytes());
    }
}

impl Sink for Hmac<Sha256> {
    #[inline]
    fn put(&mut self, s: &str) {
        Mac::update(self, s.as_bytes());
    }
}
