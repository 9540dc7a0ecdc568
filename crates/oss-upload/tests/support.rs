//! Test harness: an in-process emulator, a client for it, and a callback server (from
//! `oss-test-support`) that verifies every callback's RSA signature with `oss-callback` and
//! answers JSON echoing the body.
#![allow(dead_code, unreachable_pub)]

use bytes::Bytes;
use oss_callback::{Callback, CallbackBodyType, CallbackVars};
use oss_emulator::Emulator;
use oss_test_support::{Answer, CallbackServer, Received};
use oss_upload::Client;

pub const BUCKET: &str = "test-bucket";

/// JSON template with system values and two custom variables.
pub const JSON_TEMPLATE: &str = r#"{"bucket":${bucket},"object":${object},"size":${size},"mimeType":${mimeType},"etag":${etag},"crc64":${crc64},"var1":${x:var1},"var2":${x:var2}}"#;
/// Form template with the same values.
pub const FORM_TEMPLATE: &str = "bucket=${bucket}&object=${object}&size=${size}&mimeType=${mimeType}&etag=${etag}&var1=${x:var1}&var2=${x:var2}";

#[derive(Debug)]
pub struct Harness {
    pub emu: Emulator,
    pub client: Client,
    pub cb: CallbackServer,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start() -> Self {
        let emu = oss_test_support::emulator("ak", "sk")
            .start()
            .await
            .unwrap();
        let client = Client::builder(BUCKET)
            .with_endpoint(emu.endpoint())
            .with_region(emu.region())
            .with_static_credentials("ak", "sk")
            .with_path_style(true)
            .build()
            .unwrap();
        let cb = CallbackServer::start(&emu, Answer::Echo).await;
        Self {
            emu,
            client,
            cb,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn callback(&self, body_type: CallbackBodyType) -> Callback {
        let template = match body_type {
            CallbackBodyType::Json => JSON_TEMPLATE,
            _ => FORM_TEMPLATE,
        };
        Callback::builder()
            .with_url(format!("{}/callback", self.cb.url))
            .with_body(template)
            .with_body_type(body_type)
            .build()
            .unwrap()
    }

    pub fn write_file(&self, name: &str, data: &[u8]) -> std::path::PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    /// The object's bytes as stored.
    pub async fn stored(&self, key: &str) -> Bytes {
        self.client
            .get_object(key)
            .send()
            .await
            .unwrap()
            .body
            .bytes()
            .await
            .unwrap()
    }
}

pub fn vars() -> CallbackVars {
    CallbackVars::new()
        .with("x:var1", "value one")
        .unwrap()
        .with("x:var2", "a/b&c=d")
        .unwrap()
}

/// Deterministic test data.
pub fn data(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The values a callback body carried, for either body type.
pub fn parse_body(r: &Received) -> std::collections::BTreeMap<String, String> {
    if r.content_type.starts_with("application/json") {
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), s)
            })
            .collect()
    } else {
        url::form_urlencoded::parse(r.body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// Checks the one callback the server received for an upload of `data` to `key` and the answer
/// the uploader got back.
pub fn assert_callback(
    h: &Harness,
    out: &oss_upload::UploadOutput,
    key: &str,
    data: &[u8],
    mime: &str,
    body_type: CallbackBodyType,
) {
    let received = h.cb.received();
    let r = received.last().expect("a callback was received");
    assert!(r.verified, "callback signature verified");
    let expected_ct = match body_type {
        CallbackBodyType::Json => "application/json",
        _ => "application/x-www-form-urlencoded",
    };
    assert!(
        r.content_type.starts_with(expected_ct),
        "{}",
        r.content_type
    );
    let v = parse_body(r);
    assert_eq!(v["bucket"], BUCKET);
    assert_eq!(v["object"], key);
    assert_eq!(v["size"], data.len().to_string());
    assert_eq!(v["mimeType"], mime);
    assert_eq!(v["var1"], "value one");
    assert_eq!(v["var2"], "a/b&c=d");
    let etag = out.etag.as_deref().expect("etag").trim_matches('"');
    assert!(
        v["etag"].eq_ignore_ascii_case(etag),
        "{} vs {etag}",
        v["etag"]
    );
    // The uploader got the callback server's answer.
    let answer = out
        .callback
        .as_ref()
        .expect("callback answer")
        .json_value()
        .unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["received"], r.body.as_str());
    let crc = oss_upload::Crc64::checksum(data);
    assert_eq!(out.crc64, Some(crc));
}
