//! V4 PostObject policy signing (protocol §3).

use std::time::SystemTime;

use base64::Engine as _;

use crate::datetime::Stamp;
use crate::names::{
    ALGORITHM, X_OSS_CREDENTIAL, X_OSS_DATE, X_OSS_SECURITY_TOKEN, X_OSS_SIGNATURE,
    X_OSS_SIGNATURE_VERSION,
};
use crate::string_to_sign::push_scope;
use crate::{Credentials, Product, Secret, Signer};

/// The `x-oss-credential` value of a V4 POST form: `<AccessKeyId>/<yyyyMMdd>/<region>/<product>/aliyun_v4_request`.
///
/// A policy must name this value (and `x-oss-date`, see [`format_datetime`](crate::format_datetime))
/// in its conditions, so it is needed before the policy is signed.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use oss_sign::{post_policy_credential, Product};
/// let t = UNIX_EPOCH + Duration::from_secs(1_702_743_657);
/// assert_eq!(
///     post_policy_credential("ak", "cn-hangzhou", Product::Oss, t),
///     "ak/20231216/cn-hangzhou/oss/aliyun_v4_request"
/// );
/// ```
pub fn post_policy_credential(
    access_key_id: &str,
    region: &str,
    product: Product,
    time: SystemTime,
) -> String {
    let stamp = Stamp::clamped(time);
    let mut out = String::with_capacity(access_key_id.len() + region.len() + 48);
    out.push_str(access_key_id);
    out.push('/');
    push_scope(&mut out, stamp.date(), region, product.as_str());
    out
}

/// A signed V4 POST policy and the form fields that carry it.
///
/// `Debug` hides the STS token.
#[derive(Debug, Clone)]
pub struct PostPolicySignature {
    policy_base64: String,
    signature: String,
    credential: String,
    datetime: String,
    security_token: Option<Secret>,
}

impl PostPolicySignature {
    /// The `policy` form field: standard base64 of the policy JSON.
    pub fn policy_base64(&self) -> &str {
        &self.policy_base64
    }

    /// The `x-oss-signature` form field: lower-case hex.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The `x-oss-credential` form field.
    pub fn credential(&self) -> &str {
        &self.credential
    }

    /// The `x-oss-date` form field (`yyyyMMdd'T'HHmmss'Z'`).
    pub fn datetime(&self) -> &str {
        &self.datetime
    }

    /// The form fields in this order: `policy`, `x-oss-signature-version`, `x-oss-credential`,
    /// `x-oss-date`, `x-oss-signature`, and `x-oss-security-token` with STS credentials.
    /// Add `key`, `callback`, `x:*` and the other fields yourself; `file` must come last.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let mut fields = vec![
            ("policy".to_owned(), self.policy_base64.clone()),
            (X_OSS_SIGNATURE_VERSION.to_owned(), ALGORITHM.to_owned()),
            (X_OSS_CREDENTIAL.to_owned(), self.credential.clone()),
            (X_OSS_DATE.to_owned(), self.datetime.clone()),
            (X_OSS_SIGNATURE.to_owned(), self.signature.clone()),
        ];
        if let Some(token) = &self.security_token {
            fields.push((X_OSS_SECURITY_TOKEN.to_owned(), token.expose().to_owned()));
        }
        fields
    }
}

impl Signer {
    /// Signs a V4 POST policy: the string to sign is the base64 of `policy_json` itself,
    /// signed with the key for `time`'s date, `region` and `product`.
    ///
    /// The policy text is signed as given; it should carry the conditions
    /// `{"x-oss-signature-version":"OSS4-HMAC-SHA256"}`, `{"x-oss-credential":…}` (see
    /// [`post_policy_credential`]), `{"x-oss-date":…}` and, with STS, `{"x-oss-security-token":…}`.
    /// Times outside 1970..=9999 are clamped.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use oss_sign::{Credentials, Product, Signer};
    /// let t = UNIX_EPOCH + Duration::from_secs(1_702_743_657);
    /// let sig = Signer::new().sign_post_policy(
    ///     r#"{"expiration":"2023-12-17T00:00:00.000Z","conditions":[]}"#,
    ///     &Credentials::new("ak", "sk"), "cn-hangzhou", Product::Oss, t,
    /// );
    /// let fields = sig.form_fields();
    /// assert_eq!(fields[0].0, "policy");
    /// assert_eq!(fields[3], ("x-oss-date".to_owned(), "20231216T162057Z".to_owned()));
    /// assert_eq!(sig.signature().len(), 64);
    /// ```
    pub fn sign_post_policy(
        &self,
        policy_json: &str,
        creds: &Credentials,
        region: &str,
        product: Product,
        time: SystemTime,
    ) -> PostPolicySignature {
        let stamp = Stamp::clamped(time);
        let policy_base64 = base64::engine::general_purpose::STANDARD.encode(policy_json);
        let key = self.cache.get(creds, stamp.date(), region, product);
        let signature = crate::encoding::hex32(&key.sign_bytes(policy_base64.as_bytes()));
        PostPolicySignature {
            policy_base64,
            signature,
            credential: post_policy_credential(creds.access_key_id(), region, product, time),
            datetime: stamp.datetime().to_owned(),
            security_token: creds.security_token().cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Scope, SigningKey};
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn signature_is_hmac_of_base64_policy() {
        let t = UNIX_EPOCH + Duration::from_secs(1_702_743_657);
        let creds = Credentials::new("ak", "sk").with_security_token("Sts-T0ken");
        let sig = Signer::new().sign_post_policy("{}", &creds, "cb-1", Product::CloudBox, t);
        assert_eq!(sig.policy_base64(), "e30=");
        let key = SigningKey::derive("sk", &Scope::new("20231216", "cb-1", Product::CloudBox));
        assert_eq!(sig.signature(), key.sign("e30="));
        assert_eq!(
            sig.credential(),
            "ak/20231216/cb-1/oss-cloudbox/aliyun_v4_request"
        );
        let fields = sig.form_fields();
        assert_eq!(fields.len(), 6);
        assert_eq!(
            fields[5],
            ("x-oss-security-token".to_owned(), "Sts-T0ken".to_owned())
        );
        assert!(!format!("{sig:?}").contains("Sts-T0ken"));
    }
}
