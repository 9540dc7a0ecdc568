//! A tiny INI reader for the credentials file: sections, `key = value`, comments, and the line
//! number of the first error.
//!
//! Hand-written because the errors must carry a line number and must never quote the line
//! (it may hold a secret); see `docs/decisions.md`.

use std::collections::HashMap;

/// Sections by name, each a map of keys to values (later duplicates win).
#[derive(Debug, Default)]
pub(crate) struct Ini {
    sections: HashMap<String, HashMap<String, String>>,
}

/// A parse error: the 1-based line and what is wrong.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct IniError {
    pub(crate) line: usize,
    pub(crate) reason: &'static str,
}

impl Ini {
    /// Parses `text`.
    ///
    /// Full-line comments start with `#` or `;`. An inline comment starts with whitespace
    /// followed by `#` or `;`, so a secret that merely contains `#` survives.
    pub(crate) fn parse(text: &str) -> Result<Self, IniError> {
        let mut ini = Ini::default();
        let mut current: Option<String> = None;
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let err = |reason| IniError {
                line: line_no,
                reason,
            };
            let line = strip_inline_comment(raw).trim();
            let line = if index == 0 {
                line.trim_start_matches('\u{feff}')
            } else {
                line
            };
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest
                    .strip_suffix(']')
                    .ok_or(err("section header without a closing `]`"))?
                    .trim();
                if name.is_empty() {
                    return Err(err("empty section name"));
                }
                ini.sections.entry(name.to_owned()).or_default();
                current = Some(name.to_owned());
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or(err("expected `key = value` or `[section]`"))?;
            let key = key.trim();
            if key.is_empty() {
                return Err(err("empty key before `=`"));
            }
            let section = current
                .as_ref()
                .ok_or(err("`key = value` before any `[section]`"))?;
            ini.sections
                .entry(section.clone())
                .or_default()
                .insert(key.to_owned(), unquote(value.trim()).to_owned());
        }
        Ok(ini)
    }

    /// The section `name`, if present.
    pub(crate) fn section(&self, name: &str) -> Option<&HashMap<String, String>> {
        self.sections.get(name)
    }
}

fn strip_inline_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for i in 1..bytes.len() {
        if (bytes[i] == b'#' || bytes[i] == b';') && bytes[i - 1].is_ascii_whitespace() {
            return &line[..i];
        }
    }
    line
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_keys_comments() {
        let ini = Ini::parse(
            "\u{feff}# top comment\n[default]\ntype = access_key\naccess_key_id=AK ; note\n\
             access_key_secret = s#cret\n\n; other\n[ p ]\nkey = \"quoted value\"\n",
        )
        .unwrap();
        let d = ini.section("default").unwrap();
        assert_eq!(d["type"], "access_key");
        assert_eq!(d["access_key_id"], "AK");
        assert_eq!(d["access_key_secret"], "s#cret");
        assert_eq!(ini.section("p").unwrap()["key"], "quoted value");
        assert!(ini.section("missing").is_none());
    }

    #[test]
    fn errors_carry_line_numbers() {
        for (text, line, reason) in [
            (
                "[default\nk = v\n",
                1,
                "section header without a closing `]`",
            ),
            (
                "[a]\nk = v\njust text\n",
                3,
                "expected `key = value` or `[section]`",
            ),
            ("k = v\n", 1, "`key = value` before any `[section]`"),
            ("[a]\n\n = v\n", 3, "empty key before `=`"),
            ("[]\n", 1, "empty section name"),
        ] {
            assert_eq!(
                Ini::parse(text).unwrap_err(),
                IniError { line, reason },
                "{text:?}"
            );
        }
    }
}
