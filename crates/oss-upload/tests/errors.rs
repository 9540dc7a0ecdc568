//! What errors say: one complete `Display` line from a real emulator answer, nothing signed in
//! `Debug`, and the region rule with its did-you-mean.

mod support;

use std::error::Error as _;

use oss_upload::{Client, Error};
use support::{Harness, BUCKET};

#[tokio::test]
async fn a_403_displays_code_message_ec_and_request_id_but_no_signature() {
    let h = Harness::start().await;
    let client = Client::builder(BUCKET)
        .with_endpoint(h.emu.endpoint())
        .with_region(h.emu.region())
        .with_static_credentials("ak", "not-the-secret")
        .with_path_style(true)
        .build()
        .unwrap();
    let err = client
        .put_object("denied.txt", b"x".to_vec())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN));

    // The emulator echoes what it signed, as OSS does: the test means something only if the
    // transport's error really holds a string to sign.
    let transport = err
        .source()
        .and_then(|s| {
            s.downcast_ref::<oss_transport::Error>()
                .or_else(|| s.downcast_ref::<Box<oss_transport::Error>>().map(|b| &**b))
        })
        .expect("the transport error is the source");
    let service = transport.service().expect("a parsed OSS error");
    let string_to_sign = service.field("StringToSign").expect("echoed StringToSign");
    assert!(
        string_to_sign.starts_with("OSS4-HMAC-SHA256"),
        "{string_to_sign}"
    );
    let canonical = service
        .field("CanonicalRequest")
        .expect("echoed CanonicalRequest");
    assert!(canonical.contains("UNSIGNED-PAYLOAD"), "{canonical}");

    let fields = err.service_fields().expect("OSS fields copied");
    let ec = fields.ec.as_deref().expect("an EC");
    let request_id = err.request_id().expect("a request id");
    assert!(!request_id.is_empty());

    let line = err.to_string();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.starts_with("PutObject failed for oss://"), "{line}");
    assert!(line.contains("HTTP 403 SignatureDoesNotMatch"), "{line}");
    assert!(
        line.contains("The request signature we calculated does not match"),
        "{line}"
    );
    assert!(line.contains(&format!("(EC {ec})")), "{line}");
    assert!(
        line.contains(&format!("[request id: {request_id}]")),
        "{line}"
    );

    let debug = format!("{err:?}");
    for text in [&line, &debug] {
        assert!(!text.contains("OSS4-HMAC-SHA256"), "{text}");
        assert!(!text.contains("UNSIGNED-PAYLOAD"), "{text}");
    }
    // The source chain does not repeat the line: the transport level says its own part.
    assert!(!transport.to_string().contains("PutObject"));
}

#[test]
fn an_oss_prefixed_region_is_rejected_with_a_suggestion() {
    let err = Client::builder(BUCKET)
        .with_region("oss-cn-hangzhou")
        .with_static_credentials("ak", "sk")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("\"oss-cn-hangzhou\""), "{text}");
    assert!(text.contains("did you mean \"cn-hangzhou\"?"), "{text}");

    // With an explicit endpoint the region is still checked (it goes into every signature).
    let err = Client::builder(BUCKET)
        .with_endpoint("http://127.0.0.1:1")
        .with_region("oss-cn-hangzhou")
        .with_static_credentials("ak", "sk")
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("did you mean \"cn-hangzhou\"?"),
        "{err}"
    );
}
