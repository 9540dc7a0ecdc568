//! Byte sizes on the command line: `16MiB`, `100KB`, `5242880`.

use crate::Error;

/// Parses a byte size: a whole number with an optional unit, `B`, `K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB` (powers of 1024) or `KB`, `MB`, `GB` (powers of 1000). Case-insensitive.
///
/// # Errors
/// [`Error::InvalidArgument`] for anything else, or a size that overflows `u64`.
pub fn parse_size(text: &str) -> Result<u64, Error> {
    let invalid = |message: &str| Error::InvalidArgument {
        name: "size",
        message: format!("{text:?}: {message}"),
    };
    let text_trim = text.trim();
    let split = text_trim
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text_trim.len());
    let (number, unit) = text_trim.split_at(split);
    if number.is_empty() {
        return Err(invalid("expected a number such as 16MiB"));
    }
    let number: u64 = number.parse().map_err(|_| invalid("number too large"))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(invalid("unknown unit (use B, KiB, MiB, GiB, KB, MB or GB)")),
    };
    number
        .checked_mul(factor)
        .ok_or_else(|| invalid("size too large"))
}

/// `parse_size` for clap's `value_parser`.
pub(crate) fn size_arg(text: &str) -> Result<u64, String> {
    parse_size(text).map_err(|e| e.to_string())
}

/// `1.5 MiB`-style rendering for messages.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_size("0").unwrap(), 0);
        assert_eq!(parse_size("7b").unwrap(), 7);
        assert_eq!(parse_size("16MiB").unwrap(), 16 << 20);
        assert_eq!(parse_size("16m").unwrap(), 16 << 20);
        assert_eq!(parse_size("2 GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("3kb").unwrap(), 3000);
        assert_eq!(parse_size("5MB").unwrap(), 5_000_000);
    }

    #[test]
    fn rejects() {
        for bad in [
            "",
            "MiB",
            "-1",
            "1.5MiB",
            "3 parsecs",
            "99999999999999999999",
            "18446744073709551615GiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn renders() {
        assert_eq!(human(12), "12 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(200 << 20), "200.0 MiB");
    }
}
