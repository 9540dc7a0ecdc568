//! OSS's bucket naming rule, shared by everything that builds or parses a bucket URI.

/// Whether `name` is a bucket name OSS accepts: 3 to 63 characters of `a-z`, `0-9` and `-`, not
/// starting or ending with `-`.
///
/// ```
/// use oss_sign::is_valid_bucket_name;
/// assert!(is_valid_bucket_name("examplebucket-1"));
/// assert!(!is_valid_bucket_name("ab"));
/// assert!(!is_valid_bucket_name("Upper_Case"));
/// assert!(!is_valid_bucket_name("-leading"));
/// ```
pub fn is_valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_edges() {
        assert!(is_valid_bucket_name("abc"));
        assert!(is_valid_bucket_name(&"a".repeat(63)));
        assert!(!is_valid_bucket_name(&"a".repeat(64)));
        assert!(!is_valid_bucket_name("trailing-"));
        assert!(!is_valid_bucket_name("dot.bucket"));
        assert!(!is_valid_bucket_name(""));
    }
}
