//! The V4 POST policy document (protocol §3.3): expiration plus conditions, rendered as JSON.
//! The V4 conditions that every form needs (`x-oss-signature-version`, `x-oss-credential`,
//! `x-oss-date`, the STS token and the bucket) are added by the form builder when it signs.

use std::time::SystemTime;

use serde_json::{json, Value};

/// One condition of a POST policy. Field names are written without the `$`; it is added where
/// the policy syntax needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyCondition {
    /// `{"field":"value"}`: the form field must equal `value`.
    Exact {
        /// Form field name.
        field: String,
        /// Required value.
        value: String,
    },
    /// `["eq","$field","value"]`.
    Eq {
        /// Form field name.
        field: String,
        /// Required value.
        value: String,
    },
    /// `["starts-with","$field","prefix"]`.
    StartsWith {
        /// Form field name.
        field: String,
        /// Required prefix (empty: anything).
        prefix: String,
    },
    /// `["in","$field",[values]]`.
    In {
        /// Form field name.
        field: String,
        /// Allowed values.
        values: Vec<String>,
    },
    /// `["not-in","$field",[values]]`.
    NotIn {
        /// Form field name.
        field: String,
        /// Forbidden values.
        values: Vec<String>,
    },
    /// `["content-length-range",min,max]`: object size bounds in bytes, inclusive.
    ContentLengthRange {
        /// Smallest size.
        min: u64,
        /// Largest size.
        max: u64,
    },
}

impl PolicyCondition {
    fn to_value(&self) -> Value {
        let dollar = |f: &str| format!("${}", f.trim_start_matches('$'));
        match self {
            Self::Exact { field, value } => json!({ field.as_str(): value }),
            Self::Eq { field, value } => json!(["eq", dollar(field), value]),
            Self::StartsWith { field, prefix } => json!(["starts-with", dollar(field), prefix]),
            Self::In { field, values } => json!(["in", dollar(field), values]),
            Self::NotIn { field, values } => json!(["not-in", dollar(field), values]),
            Self::ContentLengthRange { min, max } => json!(["content-length-range", min, max]),
        }
    }
}

/// A POST policy: when it expires and what the form must satisfy.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use oss_upload::PostPolicy;
/// let policy = PostPolicy::new(UNIX_EPOCH + Duration::from_secs(1_735_693_200))
///     .with_starts_with("key", "user/eric/")
///     .with_in("content-type", ["image/jpg", "image/png"])
///     .with_content_length_range(1, 10 << 20);
/// assert_eq!(
///     policy.to_json().unwrap(),
///     r#"{"expiration":"2025-01-01T01:00:00.000Z","conditions":[["starts-with","$key","user/eric/"],["in","$content-type",["image/jpg","image/png"]],["content-length-range",1,10485760]]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    expiration: SystemTime,
    conditions: Vec<PolicyCondition>,
}

impl PostPolicy {
    /// A policy valid until `expiration`, with no condition yet.
    pub fn new(expiration: SystemTime) -> Self {
        Self {
            expiration,
            conditions: Vec::new(),
        }
    }

    /// When the policy expires.
    pub fn expiration(&self) -> SystemTime {
        self.expiration
    }

    /// The conditions, in order.
    pub fn conditions(&self) -> &[PolicyCondition] {
        &self.conditions
    }

    /// Adds a condition.
    pub fn with_condition(mut self, condition: PolicyCondition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Adds `{"field":"value"}`.
    pub fn with_exact(self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.with_condition(PolicyCondition::Exact {
            field: field.into(),
            value: value.into(),
        })
    }

    /// Adds `["eq","$field","value"]`.
    pub fn with_eq(self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.with_condition(PolicyCondition::Eq {
            field: field.into(),
            value: value.into(),
        })
    }

    /// Adds `["starts-with","$field","prefix"]`.
    pub fn with_starts_with(self, field: impl Into<String>, prefix: impl Into<String>) -> Self {
        self.with_condition(PolicyCondition::StartsWith {
            field: field.into(),
            prefix: prefix.into(),
        })
    }

    /// Adds `["in","$field",[values]]`.
    pub fn with_in<I, S>(self, field: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_condition(PolicyCondition::In {
            field: field.into(),
            values: values.into_iter().map(Into::into).collect(),
        })
    }

    /// Adds `["not-in","$field",[values]]`.
    pub fn with_not_in<I, S>(self, field: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.with_condition(PolicyCondition::NotIn {
            field: field.into(),
            values: values.into_iter().map(Into::into).collect(),
        })
    }

    /// Adds `["content-length-range",min,max]` (bytes, inclusive).
    pub fn with_content_length_range(self, min: u64, max: u64) -> Self {
        self.with_condition(PolicyCondition::ContentLengthRange { min, max })
    }

    /// The policy JSON text (the exact text that gets base64-encoded and signed).
    ///
    /// # Errors
    /// [`crate::Error::InvalidArgument`] when the expiration cannot be formatted or a
    /// `content-length-range` has `min > max`.
    pub fn to_json(&self) -> Result<String, crate::Error> {
        let expiration = format_expiration(self.expiration)?;
        for c in &self.conditions {
            if let PolicyCondition::ContentLengthRange { min, max } = c {
                if min > max {
                    return Err(crate::Error::InvalidArgument {
                        name: "content-length-range",
                        message: format!("min {min} > max {max}"),
                    });
                }
            }
        }
        let conditions: Vec<Value> = self
            .conditions
            .iter()
            .map(PolicyCondition::to_value)
            .collect();
        let bad = |e: serde_json::Error| crate::Error::InvalidArgument {
            name: "policy",
            message: e.to_string(),
        };
        // Written by hand so `expiration` comes first (serde_json sorts object keys).
        Ok(format!(
            "{{\"expiration\":{},\"conditions\":{}}}",
            serde_json::to_string(&expiration).map_err(bad)?,
            serde_json::to_string(&conditions).map_err(bad)?
        ))
    }
}

/// `2025-01-01T01:00:00.000Z`.
fn format_expiration(t: SystemTime) -> Result<String, crate::Error> {
    let bad = |m: String| crate::Error::InvalidArgument {
        name: "expiration",
        message: m,
    };
    let t = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    t.format(&fmt).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn all_condition_forms() {
        let p = PostPolicy::new(UNIX_EPOCH + Duration::from_millis(1_735_693_200_123))
            .with_exact("bucket", "b")
            .with_eq("$success_action_status", "200")
            .with_not_in("cache-control", ["no-cache"])
            .with_condition(PolicyCondition::StartsWith {
                field: "key".into(),
                prefix: "".into(),
            });
        let v: Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
        assert_eq!(v["expiration"], "2025-01-01T01:00:00.123Z");
        assert_eq!(v["conditions"][0], json!({"bucket": "b"}));
        assert_eq!(
            v["conditions"][1],
            json!(["eq", "$success_action_status", "200"])
        );
        assert_eq!(
            v["conditions"][2],
            json!(["not-in", "$cache-control", ["no-cache"]])
        );
        assert_eq!(v["conditions"][3], json!(["starts-with", "$key", ""]));
    }

    #[test]
    fn rejects_inverted_range() {
        let p = PostPolicy::new(UNIX_EPOCH).with_content_length_range(5, 1);
        assert!(matches!(
            p.to_json(),
            Err(crate::Error::InvalidArgument { .. })
        ));
    }
}
