//! The temporary AccessKeys the identity side hands out (IMDS and STS), their expiry, the
//! session policy each carries, and the admin actions on them.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use oss_sign::Secret;
use serde::Serialize;

/// Where a temporary key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Origin {
    /// The mock IMDS (the instance's RAM role).
    Imds,
    /// STS AssumeRole.
    AssumeRole,
    /// STS AssumeRoleWithOIDC.
    AssumeRoleWithOidc,
}

/// The object resources a session policy allows writing to, as `bucket/key` patterns in which
/// `*` matches any run of characters (from `acs:oss:*:*:<bucket>/<prefix>*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionPolicy {
    writable: Vec<String>,
}

/// Why a `Policy` parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PolicyError(pub(crate) String);

impl SessionPolicy {
    /// Reads the `Allow` statements whose actions include `oss:PutObject` (or `oss:*`, `*`);
    /// their OSS resources become the writable patterns. Anything else is ignored, because the
    /// emulator enforces a policy on object writes only.
    pub(crate) fn parse(json: &str) -> Result<Self, PolicyError> {
        let doc: serde_json::Value =
            serde_json::from_str(json).map_err(|_| PolicyError("the policy is not JSON".into()))?;
        let statements = doc
            .get("Statement")
            .and_then(|s| s.as_array())
            .ok_or_else(|| PolicyError("the policy has no Statement list".into()))?;
        let list = |v: Option<&serde_json::Value>| -> Vec<String> {
            match v {
                Some(serde_json::Value::String(s)) => vec![s.clone()],
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        let mut writable = Vec::new();
        for st in statements {
            if st.get("Effect").and_then(|e| e.as_str()) != Some("Allow") {
                continue;
            }
            let actions = list(st.get("Action"));
            let writes = actions.iter().any(|a| {
                a == "*"
                    || a.eq_ignore_ascii_case("oss:*")
                    || a.eq_ignore_ascii_case("oss:PutObject")
            });
            if !writes {
                continue;
            }
            for resource in list(st.get("Resource")) {
                if resource == "*" {
                    writable.push("*".to_owned());
                } else if let Some(rest) = resource.strip_prefix("acs:oss:") {
                    // acs:oss:<region>:<account>:<bucket>/<key pattern>
                    if let Some(object) = rest.splitn(3, ':').nth(2) {
                        writable.push(object.to_owned());
                    }
                }
            }
        }
        Ok(Self { writable })
    }

    /// Whether writing `bucket/key` is allowed.
    pub(crate) fn allows_write(&self, bucket: &str, key: &str) -> bool {
        let target = format!("{bucket}/{key}");
        self.writable.iter().any(|p| wildcard(p, &target))
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// One temporary key.
#[derive(Clone)]
pub(crate) struct TempKey {
    pub(crate) access_key_id: String,
    pub(crate) secret: Secret,
    pub(crate) token: Secret,
    pub(crate) expires_at: SystemTime,
    /// Expired on demand by the admin endpoint, whatever `expires_at` says.
    pub(crate) revoked: bool,
    pub(crate) origin: Origin,
    pub(crate) role_arn: String,
    pub(crate) policy: Option<Arc<SessionPolicy>>,
}

impl fmt::Debug for TempKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &"***")
            .field("token", &"***")
            .field("expires_at", &self.expires_at)
            .field("revoked", &self.revoked)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl TempKey {
    /// Whether the key is no longer accepted at `now`.
    pub(crate) fn is_expired_at(&self, now: SystemTime) -> bool {
        self.revoked || now >= self.expires_at
    }
}

/// What the admin endpoint lists about a key (never its secret or token).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct KeyInfo {
    pub(crate) access_key_id: String,
    pub(crate) origin: Origin,
    pub(crate) role_arn: String,
    pub(crate) expiration: String,
    pub(crate) expired: bool,
    pub(crate) has_policy: bool,
}

/// An armed expiry: after `remaining` more successful requests of `operation` signed with a
/// temporary key, that key is expired.
#[derive(Debug, Clone)]
struct Arm {
    operation: String,
    remaining: u32,
}

/// Every temporary key issued, by key id.
#[derive(Debug)]
pub(crate) struct TempKeys {
    lifetime: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    keys: HashMap<String, TempKey>,
    /// The key the IMDS currently serves for the instance role.
    imds_current: Option<String>,
    armed: Option<Arm>,
    issued: u64,
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl TempKeys {
    pub(crate) fn new(lifetime: Duration) -> Self {
        Self {
            lifetime,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Issues a key valid for `lifetime` (default: the configured one).
    pub(crate) fn issue(
        &self,
        origin: Origin,
        role_arn: &str,
        lifetime: Option<Duration>,
        policy: Option<SessionPolicy>,
        now: SystemTime,
    ) -> TempKey {
        let mut inner = self.lock();
        inner.issued += 1;
        let key = TempKey {
            access_key_id: format!("STS.emu{:04}{}", inner.issued, random_text(6)),
            secret: Secret::new(random_text(16)),
            token: Secret::new(format!("emu-token-{}", random_text(24))),
            expires_at: now + lifetime.unwrap_or(self.lifetime),
            revoked: false,
            origin,
            role_arn: role_arn.to_owned(),
            policy: policy.map(Arc::new),
        };
        inner.keys.insert(key.access_key_id.clone(), key.clone());
        key
    }

    /// The instance role's current key, issuing a new one when there is none or it expired
    /// (so an IMDS client that refreshes after an expiry gets a different key).
    pub(crate) fn imds_current(&self, role_arn: &str, now: SystemTime) -> TempKey {
        {
            let inner = self.lock();
            if let Some(k) = inner
                .imds_current
                .as_ref()
                .and_then(|id| inner.keys.get(id))
            {
                if !k.is_expired_at(now) {
                    return k.clone();
                }
            }
        }
        let key = self.issue(Origin::Imds, role_arn, None, None, now);
        self.lock().imds_current = Some(key.access_key_id.clone());
        key
    }

    /// The key with this id, if one was issued.
    pub(crate) fn get(&self, access_key_id: &str) -> Option<TempKey> {
        self.lock().keys.get(access_key_id).cloned()
    }

    /// Expires one key, or every live key when `access_key_id` is `None`; returns the ids.
    pub(crate) fn expire(&self, access_key_id: Option<&str>, now: SystemTime) -> Vec<String> {
        let mut inner = self.lock();
        let mut done = Vec::new();
        for (id, key) in inner.keys.iter_mut() {
            let selected = access_key_id.is_none_or(|want| want == id);
            if selected && !key.is_expired_at(now) {
                key.revoked = true;
                done.push(id.clone());
            }
        }
        done.sort();
        done
    }

    /// Arms an expiry after `count` successful `operation` requests signed by a temporary key.
    pub(crate) fn arm(&self, operation: &str, count: u32) {
        self.lock().armed = Some(Arm {
            operation: operation.to_owned(),
            remaining: count.max(1),
        });
    }

    /// Called after each answered OSS request; fires an armed expiry.
    pub(crate) fn observe(&self, operation: &str, status: u16, access_key_id: &str) {
        let mut inner = self.lock();
        if !(200..300).contains(&status) || !inner.keys.contains_key(access_key_id) {
            return;
        }
        let fire = match inner.armed.as_mut() {
            Some(arm) if arm.operation == operation => {
                arm.remaining -= 1;
                arm.remaining == 0
            }
            _ => false,
        };
        if fire {
            inner.armed = None;
            if let Some(k) = inner.keys.get_mut(access_key_id) {
                k.revoked = true;
            }
            tracing::info!(
                access_key_id,
                operation,
                "armed expiry fired: temporary key expired"
            );
        }
    }

    /// Every key, oldest first, without secrets.
    pub(crate) fn list(&self, now: SystemTime) -> Vec<KeyInfo> {
        let inner = self.lock();
        let mut keys: Vec<KeyInfo> = inner
            .keys
            .values()
            .map(|k| KeyInfo {
                access_key_id: k.access_key_id.clone(),
                origin: k.origin,
                role_arn: k.role_arn.clone(),
                expiration: oss_credentials_iso(k.expires_at),
                expired: k.is_expired_at(now),
                has_policy: k.policy.is_some(),
            })
            .collect();
        keys.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
        keys
    }
}

/// `yyyy-MM-ddTHH:mm:ssZ`, the credentials wire format (spec §1.3).
pub(crate) fn oss_credentials_iso(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let Ok(dt) = time::OffsetDateTime::from_unix_timestamp(secs as i64) else {
        return "1970-01-01T00:00:00Z".to_owned();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_policy_allows_only_the_prefix() {
        let p = SessionPolicy::parse(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:PutObject"],"Resource":["acs:oss:*:*:photos/users/42/*"]}]}"#).unwrap();
        assert!(p.allows_write("photos", "users/42/a.jpg"));
        assert!(!p.allows_write("photos", "users/43/a.jpg"));
        assert!(!p.allows_write("other", "users/42/a.jpg"));
        let deny = SessionPolicy::parse(
            r#"{"Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}"#,
        )
        .unwrap();
        assert!(!deny.allows_write("b", "k"));
        assert!(SessionPolicy::parse("nope").is_err());
        assert!(wildcard("a*b*c", "aXXbYYc") && !wildcard("a*b*c", "aXXc"));
    }

    #[test]
    fn imds_rotates_after_expiry_and_arm_fires_on_the_kth_request() {
        let keys = TempKeys::new(Duration::from_secs(3600));
        let now = SystemTime::now();
        let a = keys.imds_current("r", now);
        assert_eq!(keys.imds_current("r", now).access_key_id, a.access_key_id);
        keys.arm("UploadPart", 2);
        keys.observe("UploadPart", 200, &a.access_key_id);
        keys.observe("PutObject", 200, &a.access_key_id);
        assert!(!keys.get(&a.access_key_id).unwrap().is_expired_at(now));
        keys.observe("UploadPart", 200, &a.access_key_id);
        assert!(keys.get(&a.access_key_id).unwrap().is_expired_at(now));
        let b = keys.imds_current("r", now);
        assert_ne!(a.access_key_id, b.access_key_id);
        assert!(format!("{b:?}").contains("secret: \"***\""));
    }
}
