//! Secrets never show in `Debug`; there is no `Display` to leak them.

use oss_sign::{Credentials, Secret, StaticCredentialsProvider};

#[test]
fn credentials_debug_shows_key_id_and_masks_secret_and_token() {
    let creds =
        Credentials::new("LTAI5tKeyId", "SuperSecretValue").with_security_token("StsTokenValue");
    assert_eq!(
        format!("{creds:?}"),
        r#"Credentials { access_key_id: "LTAI5tKeyId", access_key_secret: ***, security_token: Some(***) }"#
    );
    let pretty = format!("{creds:#?}");
    assert!(!pretty.contains("SuperSecretValue") && !pretty.contains("StsTokenValue"));
}

#[test]
fn credentials_debug_without_token() {
    let creds = Credentials::new("ak", "sk-secret");
    assert_eq!(
        format!("{creds:?}"),
        r#"Credentials { access_key_id: "ak", access_key_secret: ***, security_token: None }"#
    );
}

#[test]
fn secret_debug_is_masked_and_expose_reads_it() {
    let s = Secret::new("hunter2");
    assert_eq!(format!("{s:?}"), "***");
    assert_eq!(s.expose(), "hunter2");
}

#[test]
fn provider_debug_masks_secret() {
    let p = StaticCredentialsProvider::new(Credentials::new("ak", "SuperSecretValue"));
    let text = format!("{p:?}");
    assert!(
        text.contains("\"ak\"") && !text.contains("SuperSecretValue"),
        "{text}"
    );
}

/// Autoref probe: `Probe(&x).is_display()` resolves to the inherent method only when the type
/// implements `Display`, otherwise to the blanket trait method.
struct Probe<T>(T);

trait NoDisplay {
    fn is_display(&self) -> bool {
        false
    }
}

impl<T> NoDisplay for Probe<T> {}

impl<T: std::fmt::Display> Probe<T> {
    fn is_display(&self) -> bool {
        true
    }
}

#[test]
fn secrets_have_no_display() {
    assert!(Probe(String::new()).is_display(), "probe positive control");
    assert!(!Probe(Secret::new("x")).is_display());
    assert!(!Probe(Credentials::new("ak", "sk")).is_display());
}
