//! The RSA keys of the callback signature, wrapped so the `rsa` crate stays an implementation
//! detail: callers parse and print keys here and never name an `rsa` type.

use std::fmt;

use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _, LineEnding};
use rsa::traits::PublicKeyParts as _;
use rsa::{RsaPrivateKey, RsaPublicKey};

use crate::Error;

/// The public key that verifies callback signatures: OSS's (served at the `x-oss-pub-key-url`)
/// or an emulator's. Debug shows only the key size.
#[derive(Clone, PartialEq, Eq)]
pub struct CallbackPublicKey(RsaPublicKey);

impl CallbackPublicKey {
    /// Parses a public key from PEM: `BEGIN PUBLIC KEY` (SPKI, as OSS publishes it) or
    /// `BEGIN RSA PUBLIC KEY` (PKCS#1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] when neither form parses.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        RsaPublicKey::from_public_key_pem(pem.trim())
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
            .map(Self)
            .map_err(|_| Error::InvalidKey {
                reason: "not an SPKI or PKCS#1 RSA public key PEM",
            })
    }

    /// Parses a public key from DER (SPKI or PKCS#1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] when neither form parses.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        RsaPublicKey::from_public_key_der(der)
            .or_else(|_| RsaPublicKey::from_pkcs1_der(der))
            .map(Self)
            .map_err(|_| Error::InvalidKey {
                reason: "not an SPKI or PKCS#1 RSA public key DER",
            })
    }

    /// Renders the key as SPKI PEM (`BEGIN PUBLIC KEY`), the form OSS serves at its key URL.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] if the key cannot be encoded.
    pub fn to_pem(&self) -> Result<String, Error> {
        self.0
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| Error::InvalidKey {
                reason: "cannot encode as SPKI PEM",
            })
    }

    /// The modulus size in bits (OSS's key has 512).
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    pub(crate) fn rsa(&self) -> &RsaPublicKey {
        &self.0
    }
}

impl fmt::Debug for CallbackPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackPublicKey")
            .field("bits", &self.bits())
            .finish()
    }
}

/// The private key that signs callback requests, as OSS does with its own key: the emulator's
/// role, and a test's that forges or replays callbacks. Debug shows only the key size.
#[derive(Clone)]
pub struct CallbackPrivateKey(RsaPrivateKey);

impl CallbackPrivateKey {
    /// Parses a private key from PEM: `BEGIN PRIVATE KEY` (PKCS#8) or `BEGIN RSA PRIVATE KEY`
    /// (PKCS#1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] when neither form parses.
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        RsaPrivateKey::from_pkcs8_pem(pem.trim())
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem.trim()))
            .map(Self)
            .map_err(|_| Error::InvalidKey {
                reason: "not a PKCS#8 or PKCS#1 RSA private key PEM",
            })
    }

    /// Parses a private key from DER (PKCS#8 or PKCS#1).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKey`] when neither form parses.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        RsaPrivateKey::from_pkcs8_der(der)
            .or_else(|_| RsaPrivateKey::from_pkcs1_der(der))
            .map(Self)
            .map_err(|_| Error::InvalidKey {
                reason: "not a PKCS#8 or PKCS#1 RSA private key DER",
            })
    }

    /// The matching public key, the one a callback server verifies with.
    pub fn public_key(&self) -> CallbackPublicKey {
        CallbackPublicKey(self.0.to_public_key())
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.0.size() * 8
    }

    pub(crate) fn rsa(&self) -> &RsaPrivateKey {
        &self.0
    }
}

impl fmt::Debug for CallbackPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackPrivateKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_512: &str = include_str!("../tests/data/test_key_512.pem");

    #[test]
    fn bad_keys_are_typed_errors() {
        assert!(matches!(
            CallbackPublicKey::from_pem("nope"),
            Err(Error::InvalidKey { .. })
        ));
        assert!(matches!(
            CallbackPrivateKey::from_pem("nope"),
            Err(Error::InvalidKey { .. })
        ));
        assert!(matches!(
            CallbackPublicKey::from_der(b"nope"),
            Err(Error::InvalidKey { .. })
        ));
        assert!(matches!(
            CallbackPrivateKey::from_der(b"nope"),
            Err(Error::InvalidKey { .. })
        ));
    }

    #[test]
    fn debug_shows_the_size_and_no_key_material() {
        let private = CallbackPrivateKey::from_pem(KEY_512).unwrap();
        assert_eq!(
            format!("{private:?}"),
            "CallbackPrivateKey { bits: 512, .. }"
        );
        assert_eq!(
            format!("{:?}", private.public_key()),
            "CallbackPublicKey { bits: 512 }"
        );
    }

    #[test]
    fn pem_round_trips() {
        let public = CallbackPrivateKey::from_pem(KEY_512).unwrap().public_key();
        let pem = public.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(CallbackPublicKey::from_pem(&pem).unwrap(), public);
    }
}
