//! `--name value` flags (and bare `--flag`s), nothing more: the bench stays dependency-light.

use std::collections::HashMap;

/// Parsed flags.
#[derive(Debug, Default)]
pub(crate) struct Args {
    values: HashMap<String, String>,
}

impl Args {
    pub(crate) fn parse(argv: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut values = HashMap::new();
        let mut argv = argv.peekable();
        while let Some(arg) = argv.next() {
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg:?}"))?;
            let value = match argv.peek() {
                Some(v) if !v.starts_with("--") => argv.next().unwrap_or_default(),
                _ => "true".to_owned(),
            };
            values.insert(name.to_owned(), value);
        }
        Ok(Self { values })
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub(crate) fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    pub(crate) fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name} expects a whole number, got {v:?}")),
        }
    }

    pub(crate) fn flag(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            None => default,
            Some(v) => matches!(v, "true" | "on" | "1" | "yes"),
        }
    }
}
