//! Custom callback variables (`x-oss-callback-var`).

use std::collections::BTreeMap;

use crate::codec;
use crate::Error;

/// A validated custom variable key: `x:` followed by non-empty text with no upper-case letters,
/// whitespace, control characters, `$`, `{` or `}`.
///
/// OSS rejects keys that do not start with `x:` or are not lower-case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallbackVarKey(String);

impl CallbackVarKey {
    /// Validates a key.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVarKey`] when the key is not `x:` + lower-case text.
    pub fn parse(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        if is_valid_var_key(&key) {
            Ok(Self(key))
        } else {
            Err(Error::InvalidVarKey { key })
        }
    }

    /// The key, including its `x:` prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn is_valid_var_key(key: &str) -> bool {
    match key.strip_prefix("x:") {
        Some(rest) if !rest.is_empty() => rest.chars().all(|c| {
            !c.is_uppercase()
                && !c.is_whitespace()
                && !c.is_control()
                && !matches!(c, '$' | '{' | '}')
        }),
        _ => false,
    }
}

impl TryFrom<&str> for CallbackVarKey {
    type Error = Error;

    fn try_from(value: &str) -> Result<Self, Error> {
        Self::parse(value)
    }
}

impl TryFrom<String> for CallbackVarKey {
    type Error = Error;

    fn try_from(value: String) -> Result<Self, Error> {
        Self::parse(value)
    }
}

impl std::borrow::Borrow<str> for CallbackVarKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for CallbackVarKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CallbackVarKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Custom callback variables, referenced in templates as `${x:name}`.
///
/// Keys are kept sorted; on the wire they are a flat JSON object of strings, base64-encoded
/// into `x-oss-callback-var` / `callback-var`, or one `x:name` form field each for PostObject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackVars {
    vars: BTreeMap<CallbackVarKey, String>,
    /// Length of [`CallbackVars::to_json`], kept up to date on insertion.
    json_len: usize,
}

impl Default for CallbackVars {
    fn default() -> Self {
        Self {
            vars: BTreeMap::new(),
            json_len: EMPTY_JSON_LEN,
        }
    }
}

/// `{}`
const EMPTY_JSON_LEN: usize = 2;

/// Length of `"key":"value"` as serde_json writes it.
fn entry_json_len(key: &str, value: &str) -> usize {
    json_string_len(key) + 1 + json_string_len(value)
}

fn json_string_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{08}' | '\u{0c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

impl CallbackVars {
    /// No variables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a variable.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVarKey`] when `key` is not `x:` + lower-case text.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Result<Self, Error> {
        self.insert(key, value)?;
        Ok(self)
    }

    /// Adds (or replaces) a variable in place.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVarKey`] when `key` is not `x:` + lower-case text; [`Error::TooLarge`]
    /// when the variables' JSON would exceed 5 KB (the variables are then unchanged).
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<(), Error> {
        let key = CallbackVarKey::parse(key)?;
        let value = value.into();
        let new_entry = entry_json_len(key.as_str(), &value);
        let len = match self.vars.get(key.as_str()) {
            Some(old) => self.json_len - entry_json_len(key.as_str(), old) + new_entry,
            None if self.vars.is_empty() => self.json_len + new_entry,
            None => self.json_len + 1 + new_entry,
        };
        if len > crate::MAX_CALLBACK_JSON_LEN {
            return Err(Error::TooLarge {
                field: "callback-var",
                len,
            });
        }
        self.vars.insert(key, value);
        self.json_len = len;
        Ok(())
    }

    /// The value of a variable, by its full key (`x:name`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    /// Variables in key order, as `(key, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// Whether there are no variables.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// The JSON text (a flat object of strings, keys sorted).
    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v.to_owned())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// Standard base64 (with padding) of [`CallbackVars::to_json`]: the value of
    /// `x-oss-callback-var` / `callback-var`. Never over the 5 KB limit: insertion checks it.
    pub fn encode(&self) -> String {
        codec::encode_base64(self.to_json().as_bytes())
    }

    /// Decodes an `x-oss-callback-var` / `callback-var` value, validating it as OSS does.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`], [`Error::Base64`], [`Error::Json`], [`Error::InvalidField`] (not a
    /// flat object of strings) or [`Error::InvalidVarKey`].
    pub fn decode(b64: &str) -> Result<Self, Error> {
        let bytes = codec::decode_base64_json("callback-var", b64)?;
        Self::from_json_bytes(&bytes)
    }

    /// Parses the decoded JSON text of `callback-var`.
    ///
    /// # Errors
    ///
    /// As [`CallbackVars::decode`], without the base64 step.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        if json.len() > crate::MAX_CALLBACK_JSON_LEN {
            return Err(Error::TooLarge {
                field: "callback-var",
                len: json.len(),
            });
        }
        Self::from_json_bytes(json.as_bytes())
    }

    fn from_json_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|source| Error::Json {
                field: "callback-var",
                source,
            })?;
        let serde_json::Value::Object(map) = value else {
            return Err(Error::InvalidField {
                field: "callback-var",
                reason: "not a JSON object",
            });
        };
        let mut vars = Self::new();
        for (k, v) in map {
            let serde_json::Value::String(v) = v else {
                return Err(Error::InvalidField {
                    field: "callback-var",
                    reason: "a value is not a string",
                });
            };
            vars.insert(k, v)?;
        }
        Ok(vars)
    }
}

impl<'a> IntoIterator for &'a CallbackVars {
    type Item = (&'a str, &'a str);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a str)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rules() {
        for ok in ["x:a", "x:my_var", "x:var1", "x:中文", "x:a-b.c"] {
            assert!(CallbackVarKey::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["x:", "a", "X:a", "x:Var", "y:a", "x:a b", "x:a}", ""] {
            assert!(
                matches!(CallbackVarKey::parse(bad), Err(Error::InvalidVarKey { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn encode_decode() {
        let vars = CallbackVars::new()
            .with("x:var2", "value2")
            .unwrap()
            .with("x:var1", "value1")
            .unwrap();
        assert_eq!(vars.to_json(), r#"{"x:var1":"value1","x:var2":"value2"}"#);
        assert_eq!(
            vars.encode(),
            "eyJ4OnZhcjEiOiJ2YWx1ZTEiLCJ4OnZhcjIiOiJ2YWx1ZTIifQ=="
        );
        assert_eq!(CallbackVars::decode(&vars.encode()).unwrap(), vars);
        assert_eq!(vars.get("x:var1"), Some("value1"));
        assert_eq!(vars.get("x:nope"), None);
    }

    #[test]
    fn decode_rejects_bad_shapes() {
        let b64 = |s: &str| codec::encode_base64(s.as_bytes());
        assert!(matches!(
            CallbackVars::decode(&b64(r#"{"x:a":{"b":"c"}}"#)),
            Err(Error::InvalidField { .. })
        ));
        assert!(matches!(
            CallbackVars::decode(&b64(r#"["x:a"]"#)),
            Err(Error::InvalidField { .. })
        ));
        assert!(matches!(
            CallbackVars::decode(&b64(r#"{"X:a":"b"}"#)),
            Err(Error::InvalidVarKey { .. })
        ));
        assert!(matches!(
            CallbackVars::decode(&b64("{nope")),
            Err(Error::Json {
                field: "callback-var",
                ..
            })
        ));
        assert!(matches!(
            CallbackVars::decode("%%%"),
            Err(Error::Base64 {
                field: "callback-var",
                ..
            })
        ));
        let big = format!(r#"{{"x:a":"{}"}}"#, "v".repeat(6000));
        assert!(matches!(
            CallbackVars::decode(&b64(&big)),
            Err(Error::TooLarge {
                field: "callback-var",
                ..
            })
        ));
        let mut vars = CallbackVars::new().with("x:a", "1").unwrap();
        assert!(matches!(
            vars.insert("x:a", "v".repeat(6000)),
            Err(Error::TooLarge { .. })
        ));
        assert_eq!(vars.get("x:a"), Some("1"));
    }

    #[test]
    fn tracked_json_length_matches_serialisation() {
        let mut vars = CallbackVars::new();
        assert_eq!(vars.json_len, vars.to_json().len());
        for (k, v) in [
            ("x:a", "plain"),
            ("x:b", "q\"uote\\ \n\t\u{1}\u{7f} 中"),
            ("x:a", "replaced with a longer value"),
            ("x:c", ""),
        ] {
            vars.insert(k, v).unwrap();
            assert_eq!(vars.json_len, vars.to_json().len(), "{k}");
        }
    }
}
