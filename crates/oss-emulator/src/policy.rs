//! PostObject policy documents: parsing (`expiration`, `conditions`) and checking the form
//! against `eq`, `starts-with`, `in`, `not-in`, `content-length-range` and exact-map conditions.

use std::time::SystemTime;

use base64::Engine as _;
use http::StatusCode;
use serde_json::Value;

use crate::error::ApiError;

/// One policy condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Condition {
    /// `{"field": "v"}` or `["eq", "$field", "v"]`.
    Eq(String, String),
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith(String, String),
    /// `["in", "$field", [..]]`.
    In(String, Vec<String>),
    /// `["not-in", "$field", [..]]`.
    NotIn(String, Vec<String>),
    /// `["content-length-range", min, max]`.
    LengthRange(u64, u64),
}

/// A decoded policy.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) expiration: SystemTime,
    pub(crate) conditions: Vec<Condition>,
}

fn invalid(ec: &'static str, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "InvalidPolicyDocument",
        Some(ec),
        message,
    )
}

fn field_name(v: &Value) -> Option<String> {
    v.as_str()
        .map(|s| s.strip_prefix('$').unwrap_or(s).to_ascii_lowercase())
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_str().map(str::to_owned))
        .collect()
}

fn bound(v: &Value) -> Result<u64, ApiError> {
    if v.is_string() {
        return Err(invalid(
            "0006-00000223",
            "content-length-range bounds must be integers.",
        ));
    }
    v.as_u64().ok_or_else(|| {
        invalid(
            "0006-00000221",
            "content-length-range bounds must be non-negative integers.",
        )
    })
}

fn parse_condition(c: &Value, out: &mut Vec<Condition>) -> Result<(), ApiError> {
    if let Some(map) = c.as_object() {
        for (k, v) in map {
            let v = v
                .as_str()
                .ok_or_else(|| invalid("0006-00000224", "condition values must be strings."))?;
            out.push(Condition::Eq(k.to_ascii_lowercase(), v.to_owned()));
        }
        return Ok(());
    }
    let Some(arr) = c.as_array() else {
        return Err(invalid(
            "0006-00000222",
            "a condition must be an object or an array.",
        ));
    };
    let op = arr
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("0006-00000216", "a condition array needs an operator."))?
        .to_ascii_lowercase();
    if arr.len() != 3 {
        return Err(invalid(
            "0006-00000218",
            "a condition array has three elements.",
        ));
    }
    let bad_arg = || invalid("0006-00000224", "condition argument of the wrong type.");
    let cond = match op.as_str() {
        "content-length-range" => {
            let (min, max) = (bound(&arr[1])?, bound(&arr[2])?);
            if max < min {
                return Err(invalid(
                    "0006-00000219",
                    "content-length-range max is below min.",
                ));
            }
            Condition::LengthRange(min, max)
        }
        "eq" | "starts-with" => {
            let name = field_name(&arr[1]).ok_or_else(bad_arg)?;
            let value = arr[2].as_str().ok_or_else(bad_arg)?.to_owned();
            if op == "eq" {
                Condition::Eq(name, value)
            } else {
                Condition::StartsWith(name, value)
            }
        }
        "in" | "not-in" => {
            let name = field_name(&arr[1]).ok_or_else(bad_arg)?;
            let list = string_list(&arr[2]).ok_or_else(bad_arg)?;
            if op == "in" {
                Condition::In(name, list)
            } else {
                Condition::NotIn(name, list)
            }
        }
        _ => return Err(invalid("0006-00000216", "unknown condition operator.")),
    };
    out.push(cond);
    Ok(())
}

impl Policy {
    /// Decodes the base64 `policy` form field.
    pub(crate) fn parse(policy_b64: &str) -> Result<Self, ApiError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(policy_b64.trim())
            .map_err(|_| invalid("0006-00000202", "The policy is not base64."))?;
        let text = String::from_utf8(raw)
            .map_err(|_| invalid("0006-00000203", "The policy is not UTF-8."))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|_| invalid("0006-00000204", "The policy is not JSON."))?;
        let exp = doc
            .get("expiration")
            .ok_or_else(|| invalid("0006-00000208", "The policy lacks expiration."))?;
        let exp = exp
            .as_str()
            .ok_or_else(|| invalid("0006-00000210", "expiration must be a string."))?;
        if exp.is_empty() {
            return Err(invalid("0006-00000211", "expiration is empty."));
        }
        let expiration =
            time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339)
                .map(SystemTime::from)
                .map_err(|_| invalid("0006-00000201", "expiration is not an ISO 8601 time."))?;
        let mut conditions = Vec::new();
        match doc.get("conditions") {
            None => {}
            Some(Value::Array(list)) => {
                for c in list {
                    parse_condition(c, &mut conditions)?;
                }
            }
            Some(_) => return Err(invalid("0006-00000214", "conditions must be an array.")),
        }
        Ok(Self {
            expiration,
            conditions,
        })
    }

    /// 403 when `now` is past the expiration.
    pub(crate) fn check_expiry(&self, now: SystemTime) -> Result<(), ApiError> {
        if now > self.expiration {
            return Err(ApiError::access_denied(
                "0006-00000213",
                "Invalid according to Policy: Policy expired.",
            ));
        }
        Ok(())
    }

    /// Checks every field condition; `lookup` gets lower-case field names.
    pub(crate) fn check_fields<'a>(
        &self,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<(), ApiError> {
        for c in &self.conditions {
            let (name, ok) = match c {
                Condition::LengthRange(..) => continue,
                Condition::Eq(n, v) => (n, lookup(n).map(|x| x == v)),
                Condition::StartsWith(n, p) => {
                    (n, Some(lookup(n).unwrap_or("").starts_with(p.as_str())))
                }
                Condition::In(n, l) => (n, lookup(n).map(|x| l.iter().any(|v| v == x))),
                Condition::NotIn(n, l) => (
                    n,
                    Some(!lookup(n).is_some_and(|x| l.iter().any(|v| v == x))),
                ),
            };
            match ok {
                Some(true) => {}
                Some(false) => return Err(failed(c)),
                None => {
                    return Err(ApiError::access_denied(
                        "0006-00000226",
                        format!("Invalid according to Policy: Policy Condition failed: {} (field {name} is missing)", render(c)),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Checks `content-length-range` against the received size.
    pub(crate) fn check_length(&self, size: u64) -> Result<(), ApiError> {
        for c in &self.conditions {
            if let Condition::LengthRange(min, max) = c {
                if size < *min || size > *max {
                    let code = if size < *min {
                        "EntityTooSmall"
                    } else {
                        "EntityTooLarge"
                    };
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        code,
                        Some("0006-00000004"),
                        format!("Your proposed upload size {size} is outside the policy's content-length-range [{min}, {max}]."),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn render(c: &Condition) -> String {
    let list = |l: &[String]| serde_json::to_string(l).unwrap_or_default();
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    match c {
        Condition::Eq(n, v) => format!("[\"eq\", \"${n}\", {}]", q(v)),
        Condition::StartsWith(n, v) => format!("[\"starts-with\", \"${n}\", {}]", q(v)),
        Condition::In(n, l) => format!("[\"in\", \"${n}\", {}]", list(l)),
        Condition::NotIn(n, l) => format!("[\"not-in\", \"${n}\", {}]", list(l)),
        Condition::LengthRange(a, b) => format!("[\"content-length-range\", {a}, {b}]"),
    }
}

fn failed(c: &Condition) -> ApiError {
    ApiError::access_denied(
        "0006-00000227",
        format!(
            "Invalid according to Policy: Policy Condition failed: {}",
            render(c)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Result<Policy, ApiError> {
        Policy::parse(&base64::engine::general_purpose::STANDARD.encode(json))
    }

    #[test]
    fn conditions() {
        let p = policy(r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[{"bucket":"b"},["starts-with","$key","user/"],["in","$content-type",["image/png","text/plain"]],["not-in","$cache-control",["no-cache"]],["content-length-range",1,10],["eq","$success_action_status","200"]]}"#).unwrap();
        let fields = |name: &str| match name {
            "bucket" => Some("b"),
            "key" => Some("user/x"),
            "content-type" => Some("text/plain"),
            "success_action_status" => Some("200"),
            _ => None,
        };
        p.check_fields(fields).unwrap();
        p.check_expiry(SystemTime::now()).unwrap();
        p.check_length(10).unwrap();
        assert_eq!(p.check_length(11).unwrap_err().code, "EntityTooLarge");
        assert_eq!(p.check_length(0).unwrap_err().code, "EntityTooSmall");
        let e = p
            .check_fields(|n| {
                if n == "key" {
                    Some("other/x")
                } else {
                    fields(n)
                }
            })
            .unwrap_err();
        assert_eq!(e.ec, Some("0006-00000227"));
        assert!(e.message.contains(r#"["starts-with", "$key", "user/"]"#));
        let e = p
            .check_fields(|n| {
                if n == "cache-control" {
                    Some("no-cache")
                } else {
                    fields(n)
                }
            })
            .unwrap_err();
        assert!(e.message.contains("not-in"));
        assert_eq!(
            p.check_fields(|n| if n == "success_action_status" {
                None
            } else {
                fields(n)
            })
            .unwrap_err()
            .ec,
            Some("0006-00000226")
        );
    }

    #[test]
    fn bad_documents() {
        assert_eq!(Policy::parse("***").unwrap_err().ec, Some("0006-00000202"));
        assert_eq!(policy("{}").unwrap_err().ec, Some("0006-00000208"));
        assert_eq!(
            policy(r#"{"expiration":"2000-01-01T00:00:00Z","conditions":{}}"#)
                .unwrap_err()
                .ec,
            Some("0006-00000214")
        );
        let old = policy(r#"{"expiration":"2000-01-01T00:00:00Z","conditions":[]}"#).unwrap();
        assert_eq!(
            old.check_expiry(SystemTime::now()).unwrap_err().ec,
            Some("0006-00000213")
        );
        assert_eq!(policy(r#"{"expiration":"2099-01-01T00:00:00Z","conditions":[["content-length-range",5,1]]}"#).unwrap_err().ec, Some("0006-00000219"));
    }
}
