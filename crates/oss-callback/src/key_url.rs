//! The key-URL allow-list: which `x-oss-pub-key-url` values may be fetched at all.
//!
//! A key URL is attacker-controlled input that names a server the verifier will contact and
//! trust. String prefixes are not enough (`http://127.0.0.1:9000@127.0.0.1:9999/` starts with
//! `http://127.0.0.1:9000`), so entries and key URLs are both parsed, and a key URL must
//! additionally serialize back to exactly the string received: any normalization the parser
//! would apply (other IPv4 notations, upper case, `..`, `%2E`, backslashes, a default port
//! written out) is a sign that two parsers may disagree about where the URL points.

use std::fmt;

use url::Url;

use crate::Error;

/// The host OSS serves its callback public keys from. OSS names it with `http://`; fetchers
/// should reach it over HTTPS anyway (the `server` feature's fetcher does).
pub const OFFICIAL_KEY_HOST: &str = "gosspublic.alicdn.com";

/// One validated allow-list entry: an `http(s)` origin plus a path prefix.
///
/// A key URL matches when it has the same scheme, host and effective port, and its path starts
/// with the entry's path at a segment boundary: `http://h/keys` matches `http://h/keys/k.pem`
/// (and `http://h/keys`) but not `http://h/keysevil.pem`; `http://h` and `http://h/` match every
/// path on that origin.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyUrlPrefix {
    url: Url,
}

impl fmt::Debug for KeyUrlPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KeyUrlPrefix").field(&self.as_str()).finish()
    }
}

impl fmt::Display for KeyUrlPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl KeyUrlPrefix {
    /// Parses an allow-list entry such as `https://gosspublic.alicdn.com/` or
    /// `http://127.0.0.1:9000`. The entry is normalized (lower-case host, `/` for an empty
    /// path); an `http://` entry other than OSS's own host means keys from it are fetched over
    /// plain HTTP, which is meant for tests and the emulator.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyUrlPrefix`] when the entry does not parse, has no host, is not
    /// `http`/`https`, or carries userinfo, a query, a fragment or a host ending in `.`.
    pub fn parse(entry: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidKeyUrlPrefix {
            prefix: entry.to_owned(),
            reason,
        };
        let url = Url::parse(entry).map_err(|_| invalid("not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("scheme is not http or https"));
        }
        let host = url.host_str().unwrap_or("");
        if host.is_empty() {
            return Err(invalid("no host"));
        }
        if host.ends_with('.') {
            return Err(invalid("host ends with a dot"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("userinfo is not allowed"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a query or fragment is not allowed"));
        }
        Ok(Self { url })
    }

    /// The normalized entry.
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// Whether `key_url` (already parsed and found canonical) falls under this entry.
    fn covers(&self, key_url: &Url) -> bool {
        self.url.scheme() == key_url.scheme()
            && self.url.host() == key_url.host()
            && self.url.port_or_known_default() == key_url.port_or_known_default()
            && path_under(self.url.path(), key_url.path())
    }
}

impl std::str::FromStr for KeyUrlPrefix {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `path` starts with `prefix` and the match ends at a `/`.
fn path_under(prefix: &str, path: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Checks a decoded key URL against `entries`; returns it parsed when it may be fetched.
///
/// # Errors
///
/// [`Error::KeyUrlNotAllowed`], with the first reason that applies.
pub(crate) fn check(entries: &[KeyUrlPrefix], received: &str) -> Result<Url, Error> {
    let deny = |reason| Error::KeyUrlNotAllowed {
        url: received.to_owned(),
        reason,
    };
    let url = Url::parse(received).map_err(|_| deny("not an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(deny("scheme is not http or https"));
    }
    if url.as_str() != received {
        return Err(deny("not in canonical form"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(deny("userinfo is not allowed"));
    }
    if url.fragment().is_some() {
        return Err(deny("a fragment is not allowed"));
    }
    // Every distinct query would be a distinct cache entry and a distinct fetch.
    if url.query().is_some() {
        return Err(deny("a query is not allowed"));
    }
    // A key server may decode `%2F`, `%2E` or `%5C` into path structure the allow-list never saw.
    if url.path().contains('%') {
        return Err(deny("percent-escapes in the path are not allowed"));
    }
    if url.host_str().is_some_and(|h| h.ends_with('.')) {
        return Err(deny("host ends with a dot"));
    }
    if !entries.iter().any(|e| e.covers(&url)) {
        return Err(deny("no allow-list entry covers it"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_validated() {
        for (entry, reason) in [
            ("gosspublic.alicdn.com/", "not an absolute URL"),
            ("/keys/", "not an absolute URL"),
            ("ftp://h/", "scheme is not http or https"),
            ("file:///etc/", "scheme is not http or https"),
            ("http://", "not an absolute URL"),
            ("http://u:p@h/", "userinfo is not allowed"),
            ("http://h/?x", "a query or fragment is not allowed"),
            ("http://h/#x", "a query or fragment is not allowed"),
            ("http://h./", "host ends with a dot"),
        ] {
            match KeyUrlPrefix::parse(entry) {
                Err(Error::InvalidKeyUrlPrefix { prefix, reason: r }) => {
                    assert_eq!((prefix.as_str(), r), (entry, reason));
                }
                other => panic!("{entry}: {other:?}"),
            }
        }
        assert_eq!(
            KeyUrlPrefix::parse("HTTP://127.0.0.1:9000")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9000/"
        );
    }

    #[test]
    fn segment_boundaries() {
        assert!(path_under("/", "/k.pem"));
        assert!(path_under("/keys", "/keys"));
        assert!(path_under("/keys", "/keys/k.pem"));
        assert!(!path_under("/keys", "/keysevil/k.pem"));
        assert!(!path_under("/keys", "/keys.pem"));
        assert!(path_under("/keys/", "/keys/k.pem"));
        assert!(!path_under("/keys/", "/keys"));
    }
}
