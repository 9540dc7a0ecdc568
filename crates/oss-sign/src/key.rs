//! Signing-key derivation (protocol §1.1 step 6) and the per-signer key cache.

use std::fmt;
use std::sync::{Arc, Mutex};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::names::SCOPE_TERMINATOR;
use crate::{Credentials, Product, Scope};

pub(crate) type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// A derived V4 signing key (`kSigning`), ready to sign strings.
///
/// `Debug` prints no key material; the raw key bytes are zeroed on drop.
///
/// ```
/// use oss_sign::{Product, Scope, SigningKey};
/// let key = SigningKey::derive("sk", &Scope::new("20231216", "cn-hangzhou", Product::Oss));
/// assert_eq!(key.sign("text").len(), 64);
/// ```
#[derive(Clone)]
pub struct SigningKey {
    key: Zeroizing<[u8; 32]>,
    /// HMAC state already keyed with `key` (saves two SHA-256 blocks per signature).
    mac: HmacSha256,
}

impl SigningKey {
    /// Derives `kSigning` from the access key secret and the scope:
    /// `HMAC(HMAC(HMAC(HMAC("aliyun_v4" + secret, date), region), product), "aliyun_v4_request")`.
    pub fn derive(secret: &str, scope: &Scope) -> Self {
        Self::derive_parts(secret, scope.date(), scope.region(), scope.product())
    }

    pub(crate) fn derive_parts(secret: &str, date: &str, region: &str, product: Product) -> Self {
        let mut first = Zeroizing::new(Vec::with_capacity(9 + secret.len()));
        first.extend_from_slice(b"aliyun_v4");
        first.extend_from_slice(secret.as_bytes());
        let k_date = Zeroizing::new(hmac(&first, date.as_bytes()));
        let k_region = Zeroizing::new(hmac(&*k_date, region.as_bytes()));
        let k_product = Zeroizing::new(hmac(&*k_region, product.as_str().as_bytes()));
        let key = Zeroizing::new(hmac(&*k_product, SCOPE_TERMINATOR.as_bytes()));
        let mac = <HmacSha256 as Mac>::new_from_slice(&*key)
            .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
        Self { key, mac }
    }

    /// Raw HMAC-SHA256 of `text` under this key.
    pub fn sign_bytes(&self, text: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(text);
        mac.finalize().into_bytes().into()
    }

    /// A fresh HMAC state keyed with this key.
    pub(crate) fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }

    /// Lower-case hex HMAC-SHA256 of `text`: the signature.
    pub fn sign(&self, text: &str) -> String {
        crate::encoding::hex32(&self.sign_bytes(text.as_bytes()))
    }

    /// The raw 32-byte key. Treat it as a secret.
    pub fn expose(&self) -> &[u8; 32] {
        &self.key
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

/// Cache entries kept per signer; derivation is only needed once per day, region and secret.
const CACHE_CAPACITY: usize = 16;

struct Entry {
    date: [u8; 8],
    region: String,
    product: Product,
    fingerprint: [u8; 32],
    key: Arc<SigningKey>,
}

/// Signing keys keyed by (date, region, product, secret fingerprint), most recent last.
#[derive(Default)]
pub(crate) struct KeyCache {
    entries: Mutex<Vec<Entry>>,
}

impl KeyCache {
    /// Returns the cached key, deriving (and caching) it when absent.
    pub(crate) fn get(
        &self,
        creds: &Credentials,
        date: &str,
        region: &str,
        product: Product,
    ) -> Arc<SigningKey> {
        let Ok(date_bytes) = <[u8; 8]>::try_from(date.as_bytes()) else {
            // Not a yyyyMMdd date (cannot happen from the signer): derive without caching.
            return Arc::new(SigningKey::derive_parts(
                creds.access_key_secret().expose(),
                date,
                region,
                product,
            ));
        };
        let matches = |e: &Entry| {
            e.date == date_bytes
                && e.product == product
                && e.region == region
                && &e.fingerprint == creds.fingerprint()
        };
        {
            let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(e) = entries.iter().rev().find(|e| matches(e)) {
                return Arc::clone(&e.key);
            }
        }
        let key = Arc::new(SigningKey::derive_parts(
            creds.access_key_secret().expose(),
            date,
            region,
            product,
        ));
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if !entries.iter().any(matches) {
            if entries.len() >= CACHE_CAPACITY {
                entries.remove(0);
            }
            entries.push(Entry {
                date: date_bytes,
                region: region.to_owned(),
                product,
                fingerprint: *creds.fingerprint(),
                key: Arc::clone(&key),
            });
        }
        key
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.entries.lock().map(|e| e.len()).unwrap_or(0);
        f.debug_struct("KeyCache").field("entries", &len).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_hits_and_distinguishes_secret_region_date() {
        let cache = KeyCache::default();
        let a = Credentials::new("ak", "sk");
        let b = Credentials::new("ak", "sk2");
        let k1 = cache.get(&a, "20231216", "cn-hangzhou", Product::Oss);
        let k2 = cache.get(&a, "20231216", "cn-hangzhou", Product::Oss);
        assert!(Arc::ptr_eq(&k1, &k2));
        assert_eq!(cache.len(), 1);
        let k3 = cache.get(&b, "20231216", "cn-hangzhou", Product::Oss);
        let k4 = cache.get(&a, "20231217", "cn-hangzhou", Product::Oss);
        let k5 = cache.get(&a, "20231216", "cn-beijing", Product::Oss);
        let k6 = cache.get(&a, "20231216", "cn-hangzhou", Product::CloudBox);
        for k in [&k3, &k4, &k5, &k6] {
            assert_ne!(k.expose(), k1.expose());
        }
        assert_eq!(cache.len(), 5);
        let direct =
            SigningKey::derive("sk2", &Scope::new("20231216", "cn-hangzhou", Product::Oss));
        assert_eq!(direct.expose(), k3.expose());
    }

    #[test]
    fn cache_is_bounded() {
        let cache = KeyCache::default();
        let a = Credentials::new("ak", "sk");
        for i in 0..40 {
            cache.get(&a, "20231216", &format!("r{i}"), Product::Oss);
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
    }

    #[test]
    fn debug_hides_key() {
        let k = SigningKey::derive("sk", &Scope::new("20231216", "cn-hangzhou", Product::Oss));
        assert_eq!(format!("{k:?}"), "SigningKey(***)");
    }
}
