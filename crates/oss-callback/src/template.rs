//! Callback body templates: parsing `${…}` placeholders and resolving them.

use crate::codec::form_encode;
use crate::vars::is_valid_var_key;
use crate::{CallbackBodyType, CallbackVars, Error, SystemValues};

/// A parsed `callbackBody` template.
///
/// Syntax (as OSS validates it): `${name}` is a placeholder; `name` is a system variable
/// (see [`SYSTEM_VARIABLES`](crate::SYSTEM_VARIABLES), case-sensitive) or a custom variable
/// `x:name`. Any other `$` is literal text (so the legacy `$(filename)` form of old docs is
/// copied verbatim), except the pattern `$name}`, which OSS rejects with "Left brace must be
/// adjacent to dollar sign".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(std::ops::Range<usize>),
    Variable(std::ops::Range<usize>),
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-')
}

impl Template {
    /// Parses and validates a template.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBody`] for an empty template, [`Error::MalformedPlaceholder`] for an
    /// unclosed, empty or nested placeholder or `$name}`, [`Error::InvalidVarKey`] for
    /// `${x:…}` with an invalid key, [`Error::UnknownVariable`] for any other unknown name.
    pub fn parse(source: &str) -> Result<Self, Error> {
        if source.is_empty() {
            return Err(Error::EmptyBody);
        }
        let bytes = source.as_bytes();
        let mut parts = Vec::new();
        let mut literal_start = 0;
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'$' {
                i += 1;
                continue;
            }
            if bytes.get(i + 1) == Some(&b'{') {
                let name_start = i + 2;
                let Some(len) = bytes[name_start..].iter().position(|&b| b == b'}') else {
                    return Err(Error::MalformedPlaceholder {
                        offset: i,
                        reason: "`${` is never closed by `}`",
                    });
                };
                let name_end = name_start + len;
                let name = &source[name_start..name_end];
                check_name(name, i)?;
                if literal_start < i {
                    parts.push(Part::Literal(literal_start..i));
                }
                parts.push(Part::Variable(name_start..name_end));
                i = name_end + 1;
                literal_start = i;
                continue;
            }
            let run = bytes[i + 1..]
                .iter()
                .take_while(|&&b| is_name_byte(b))
                .count();
            if run > 0 && bytes.get(i + 1 + run) == Some(&b'}') {
                return Err(Error::MalformedPlaceholder {
                    offset: i,
                    reason: "left brace must be adjacent to dollar sign",
                });
            }
            i += 1;
        }
        if literal_start < bytes.len() {
            parts.push(Part::Literal(literal_start..bytes.len()));
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template text as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The placeholder names in order of appearance (`bucket`, `x:var1`, ...).
    pub fn variables(&self) -> impl Iterator<Item = &str> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(r) => Some(&self.source[r.clone()]),
            Part::Literal(_) => None,
        })
    }

    /// Fills the placeholders.
    ///
    /// With [`CallbackBodyType::FormUrlEncoded`] each value is percent-encoded (all but RFC 3986
    /// unreserved characters); with [`CallbackBodyType::Json`] each value is inserted as a JSON
    /// string, and the result must be valid JSON. A custom variable that was not supplied
    /// resolves to the empty string, like OSS's inapplicable system variables.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJsonTemplate`] when the JSON result does not parse.
    pub fn resolve(
        &self,
        system: &SystemValues,
        vars: &CallbackVars,
        body_type: CallbackBodyType,
    ) -> Result<String, Error> {
        let mut out = String::with_capacity(self.source.len() + 64);
        for part in &self.parts {
            match part {
                Part::Literal(r) => out.push_str(&self.source[r.clone()]),
                Part::Variable(r) => {
                    let name = &self.source[r.clone()];
                    let value = if name.starts_with("x:") {
                        vars.get(name).unwrap_or("")
                    } else {
                        system.get(name).unwrap_or("")
                    };
                    match body_type {
                        CallbackBodyType::FormUrlEncoded => out.push_str(&form_encode(value)),
                        CallbackBodyType::Json => {
                            out.push_str(&serde_json::Value::from(value).to_string())
                        }
                    }
                }
            }
        }
        if body_type == CallbackBodyType::Json {
            // Parse into a `Value` (not `IgnoredAny`) so that numbers a double cannot hold,
            // such as `1e999`, are rejected as most JSON parsers on callback servers do.
            serde_json::from_str::<serde_json::Value>(&out)
                .map_err(|source| Error::InvalidJsonTemplate { source })?;
        }
        Ok(out)
    }

    /// Checks that a JSON template is valid JSON once every placeholder is a JSON string.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJsonTemplate`] when it is not.
    pub fn check_json(&self) -> Result<(), Error> {
        self.resolve(
            &SystemValues::default(),
            &CallbackVars::new(),
            CallbackBodyType::Json,
        )
        .map(drop)
    }
}

fn check_name(name: &str, offset: usize) -> Result<(), Error> {
    if name.is_empty() {
        return Err(Error::MalformedPlaceholder {
            offset,
            reason: "placeholder name is empty",
        });
    }
    if name.contains(['$', '{']) {
        return Err(Error::MalformedPlaceholder {
            offset,
            reason: "placeholders cannot nest",
        });
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::MalformedPlaceholder {
            offset,
            reason: "placeholder name contains whitespace",
        });
    }
    if name.starts_with("x:") {
        if !is_valid_var_key(name) {
            return Err(Error::InvalidVarKey {
                key: name.to_owned(),
            });
        }
    } else if !SystemValues::is_system_variable(name) {
        return Err(Error::UnknownVariable {
            name: name.to_owned(),
        });
    }
    Ok(())
}

impl std::str::FromStr for Template {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl std::fmt::Display for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> SystemValues {
        SystemValues {
            bucket: "examplebucket".into(),
            object: "exampledir/exampleobject.txt".into(),
            mime_type: "text/plain".into(),
            size: "9".into(),
            ..SystemValues::default()
        }
    }

    #[test]
    fn parses_placeholders_and_literals() {
        let t = Template::parse("a=${bucket}&b=${x:v}&c=$(filename)&d=$5").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["bucket", "x:v"]);
        let vars = CallbackVars::new().with("x:v", "1 2").unwrap();
        assert_eq!(
            t.resolve(&values(), &vars, CallbackBodyType::FormUrlEncoded)
                .unwrap(),
            "a=examplebucket&b=1%202&c=$(filename)&d=$5"
        );
    }

    #[test]
    fn malformed() {
        let cases = [
            ("a=${bucket", "`${` is never closed by `}`"),
            ("a=${}", "placeholder name is empty"),
            ("a=${${bucket}}", "placeholders cannot nest"),
            ("a=${ bucket}", "placeholder name contains whitespace"),
            ("a=$x:my_var}", "left brace must be adjacent to dollar sign"),
        ];
        for (src, why) in cases {
            match Template::parse(src) {
                Err(Error::MalformedPlaceholder { offset, reason }) => {
                    assert_eq!(offset, 2, "{src}");
                    assert_eq!(reason, why, "{src}");
                }
                other => panic!("{src}: {other:?}"),
            }
        }
        assert!(matches!(Template::parse(""), Err(Error::EmptyBody)));
        assert!(matches!(
            Template::parse("${mimetype}"),
            Err(Error::UnknownVariable { name }) if name == "mimetype"
        ));
        assert!(matches!(
            Template::parse("${x:Var}"),
            Err(Error::InvalidVarKey { .. })
        ));
    }

    #[test]
    fn json_values_are_strings() {
        let t = Template::parse(r#"{"size":${size},"v":${x:v}}"#).unwrap();
        let vars = CallbackVars::new().with("x:v", "q\"uote\\").unwrap();
        assert_eq!(
            t.resolve(&values(), &vars, CallbackBodyType::Json).unwrap(),
            r#"{"size":"9","v":"q\"uote\\"}"#
        );
    }

    #[test]
    fn json_template_must_stay_json() {
        let t = Template::parse(r#"{"object":"dir/${object}"}"#).unwrap();
        assert!(matches!(
            t.check_json(),
            Err(Error::InvalidJsonTemplate { .. })
        ));
        assert!(Template::parse(r#"{"o":${object}}"#)
            .unwrap()
            .check_json()
            .is_ok());
        // Found by the fuzzer: a number out of f64 range.
        assert!(matches!(
            Template::parse("[994E9993]").unwrap().check_json(),
            Err(Error::InvalidJsonTemplate { .. })
        ));
    }
}
