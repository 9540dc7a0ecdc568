//! `oss-rs credentials`: which source supplies the credentials, never the secret.

use std::io::Write as _;

use crate::args::GlobalArgs;
use crate::Error;

/// Resolves the credentials as an upload would and prints their source, masked access key
/// id, whether a token is present, and the expiry.
pub(crate) async fn run(global: &GlobalArgs) -> Result<(), Error> {
    let resolved = global.credentials().await?;
    let creds = &resolved.credentials;
    let expiry = creds
        .expiration()
        .map(|e| format!("{} (UTC)", oss_sign::format_datetime(e)))
        .unwrap_or_else(|| "never".to_owned());
    let region = global
        .resolved_region(resolved.profile_region.as_deref())
        .unwrap_or_else(|_| "(none)".to_owned());
    let text = format!(
        "source: {}\naccess_key_id: {}\nsecurity_token: {}\nexpiration: {expiry}\nregion: {region}\n",
        resolved.source,
        mask(creds.access_key_id()),
        if creds.security_token().is_some() { "present" } else { "none" },
    );
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("cannot write the credentials summary", e))
}

/// The first and last four characters of a long id, fewer of a short one: enough to tell
/// keys apart, not enough to reuse one.
fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let keep = match chars.len() {
        0..=4 => 0,
        5..=11 => 2,
        _ => 4,
    };
    let head: String = chars[..keep].iter().collect();
    let tail: String = chars[chars.len() - keep..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask("LTAI5tExampleKeyId99"), "LTAI****Id99");
        assert_eq!(mask("AKID_INI"), "AK****NI");
        assert_eq!(mask("ak"), "****");
    }
}
