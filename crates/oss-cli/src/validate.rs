//! Checks that turn a silent mistake into an error (or a warning when the input could be
//! intended) before anything is sent: a region the endpoint contradicts, an IP endpoint without
//! path style, `--parallel 0`, a form that never expires, an unset or quoted callback variable.

use std::time::Duration;

use crate::Error;

/// The longest form policy signed without `--allow-long-expiry`: 7 days, like a presigned URL.
pub(crate) const FORM_EXPIRY_MAX: u64 = 7 * 24 * 3600;
/// The longest form policy signed at all: a year. Past that a leaked form is a standing upload
/// credential, and far dates (`--expires 99999999999` is the year 5195) are typos.
pub(crate) const FORM_EXPIRY_LONG_MAX: u64 = 365 * 24 * 3600;

/// clap value parser for counts that must be at least 1 (`--parallel`, `--jobs`).
pub(crate) fn at_least_one(text: &str) -> Result<usize, String> {
    let n: usize = text
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number"))?;
    if n == 0 {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// The host of an endpoint given as `[scheme://]host[:port][/]`, without the port; an IPv6
/// literal keeps no brackets.
fn endpoint_host(endpoint: &str) -> &str {
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Whether the endpoint's host is an IP address or `localhost`: no DNS name can carry a bucket
/// in front of it (`bucket.127.0.0.1` does not resolve), so such an endpoint implies path style.
pub(crate) fn implies_path_style(endpoint: &str) -> bool {
    let host = endpoint_host(endpoint).to_ascii_lowercase();
    host.parse::<std::net::IpAddr>().is_ok() || host == "localhost" || host.ends_with(".localhost")
}

/// The region of an `oss-<region>[-internal].aliyuncs.com` endpoint.
pub(crate) fn region_of_endpoint(endpoint: &str) -> Option<String> {
    let host = endpoint_host(endpoint);
    let region = host.strip_suffix(".aliyuncs.com")?.rsplit('.').next()?;
    let region = region.strip_prefix("oss-")?;
    let region = region.strip_suffix("-internal").unwrap_or(region);
    (!region.is_empty()).then(|| region.to_owned())
}

/// An explicit region must be the one an OSS endpoint belongs to: signing for another region
/// fails every request with a signature error that does not say why.
///
/// # Errors
/// [`Error::Config`] naming both regions and what to pass instead.
pub(crate) fn check_region_agrees(region: &str, endpoint: &str) -> Result<(), Error> {
    match region_of_endpoint(endpoint) {
        Some(expected) if expected != region => Err(Error::Config(format!(
            "region {region} (--region or OSS_REGION) disagrees with endpoint {endpoint}, which \
             is in {expected}: pass --region {expected}, or --endpoint \
             https://oss-{region}.aliyuncs.com (or drop --region and it is taken from the \
             endpoint)"
        ))),
        _ => Ok(()),
    }
}

/// A form's lifetime: at least one second, at most 7 days unless `allow_long`, never more than
/// a year.
///
/// # Errors
/// [`Error::InvalidArgument`] for `--expires`, saying the allowed range.
pub(crate) fn form_expiry(secs: u64, allow_long: bool) -> Result<Duration, Error> {
    let invalid = |message: String| Error::InvalidArgument {
        name: "--expires",
        message,
    };
    if secs == 0 {
        return Err(invalid(
            "0 s is not in the future: give 1..=604800 seconds (up to 7 days)".into(),
        ));
    }
    if secs > FORM_EXPIRY_MAX && !allow_long {
        return Err(invalid(format!(
            "{secs} s is more than 7 days ({FORM_EXPIRY_MAX} s): pass --allow-long-expiry to sign \
             a form that stays valid longer"
        )));
    }
    if secs > FORM_EXPIRY_LONG_MAX {
        return Err(invalid(format!(
            "{secs} s is more than a year ({FORM_EXPIRY_LONG_MAX} s), even with \
             --allow-long-expiry"
        )));
    }
    Ok(Duration::from_secs(secs))
}

/// The `${…}` placeholders of a callback template, in order, each with whether it sits between
/// double quotes.
fn placeholders(template: &str) -> Vec<(&str, bool)> {
    let mut found = Vec::new();
    let mut rest = template;
    let mut offset = 0;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        let at = offset + start;
        let close = at + 2 + end + 1;
        let quoted = template[..at].ends_with('"') && template[close..].starts_with('"');
        found.push((name, quoted));
        offset = close;
        rest = &template[close..];
    }
    found
}

/// A JSON template must not quote a placeholder: OSS replaces `${object}` with a JSON string
/// (quotes included), so `"${object}"` becomes `""photo.jpg""`, which is not JSON.
///
/// # Errors
/// [`Error::InvalidArgument`] for `--callback-body` naming the first quoted placeholder.
pub(crate) fn check_json_template(template: &str) -> Result<(), Error> {
    match placeholders(template)
        .into_iter()
        .find(|(_, quoted)| *quoted)
    {
        Some((name, _)) => Err(Error::InvalidArgument {
            name: "--callback-body",
            message: format!("remove the quotes around `${{{name}}}`; OSS inserts a JSON string"),
        }),
        None => Ok(()),
    }
}

/// The custom variables (`${x:…}`) a template uses that no `--callback-var` sets: OSS sends
/// them empty, which is legal but rarely meant.
pub(crate) fn unset_vars<'a>(template: &'a str, set: &[String]) -> Vec<&'a str> {
    let mut unset: Vec<&str> = Vec::new();
    for (name, _) in placeholders(template) {
        if name.starts_with("x:") && !set.iter().any(|s| s == name) && !unset.contains(&name) {
            unset.push(name);
        }
    }
    unset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_and_localhost_endpoints_imply_path_style() {
        for e in [
            "http://127.0.0.1:9000",
            "127.0.0.1",
            "http://[::1]:9000/",
            "http://localhost:9000",
            "https://LOCALHOST",
            "http://minio.localhost:9000",
        ] {
            assert!(implies_path_style(e), "{e}");
        }
        for e in [
            "https://oss-cn-hangzhou.aliyuncs.com",
            "http://cdn.example.com:80",
        ] {
            assert!(!implies_path_style(e), "{e}");
        }
    }

    #[test]
    fn region_must_match_an_oss_endpoint() {
        assert!(check_region_agrees("cn-hangzhou", "https://oss-cn-hangzhou.aliyuncs.com").is_ok());
        assert!(
            check_region_agrees("cn-hangzhou", "oss-cn-hangzhou-internal.aliyuncs.com").is_ok()
        );
        assert!(check_region_agrees("cn-beijing", "http://127.0.0.1:9000").is_ok());
        let e = check_region_agrees("cn-beijing", "https://oss-cn-hangzhou.aliyuncs.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("pass --region cn-hangzhou"), "{e}");
    }

    #[test]
    fn form_expiry_bounds() {
        assert!(form_expiry(0, true).is_err());
        assert_eq!(form_expiry(604_800, false).unwrap().as_secs(), 604_800);
        assert!(form_expiry(604_801, false).is_err());
        assert!(form_expiry(604_801, true).is_ok());
        assert!(form_expiry(99_999_999_999, true).is_err());
    }

    #[test]
    fn placeholders_quoted_and_unset() {
        assert!(check_json_template(r#"{"o":${object},"u":${x:user}}"#).is_ok());
        let e = check_json_template(r#"{"s":${size},"o":"${object}"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("remove the quotes around `${object}`; OSS inserts a JSON string"),
            "{e}"
        );
        assert_eq!(
            unset_vars("a=${x:a}&b=${x:b}&a2=${x:a}&o=${object}", &["x:b".into()]),
            ["x:a"]
        );
    }

    #[test]
    fn counts_start_at_one() {
        assert_eq!(at_least_one("3"), Ok(3));
        assert!(at_least_one("0").is_err());
        assert!(at_least_one("-1").is_err());
    }
}
