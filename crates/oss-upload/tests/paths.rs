//! Every upload path with a callback (JSON and form bodies, custom variables), checked at the
//! callback server (signature verified, resolved values) and in what the uploader got back; and a
//! `CallbackFailed` test on every path.

mod support;

use std::time::SystemTime;

use bytes::Bytes;
use oss_callback::CallbackBodyType;
use oss_upload::{Error, ObjectOptions, UploadOutput, UploadSource};
use support::{assert_callback, data, vars, Harness, BUCKET};

const PART: u64 = 100 * 1024;

#[derive(Debug, Clone, Copy)]
enum Path {
    PutBytes,
    PutFile,
    PutStream,
    Multipart,
    MultipartStream,
    Resumable,
    PostObject,
    PresignedQuery,
    PresignedHeader,
}

impl Path {
    fn size(self) -> usize {
        match self {
            Path::Multipart | Path::MultipartStream | Path::Resumable => 2 * PART as usize + 1234,
            _ => 3000,
        }
    }
}

async fn upload(
    h: &Harness,
    path: Path,
    key: &str,
    body: &[u8],
    body_type: CallbackBodyType,
) -> Result<UploadOutput, Error> {
    let cb = h.callback(body_type);
    let c = &h.client;
    match path {
        Path::PutBytes => {
            c.put_object(key, body.to_vec())
                .with_callback(cb)
                .with_callback_vars(vars())
                .send()
                .await
        }
        Path::PutFile => {
            let f = h.write_file(&format!("{}.src", key.replace('/', "_")), body);
            c.put_object(key, UploadSource::file(f))
                .with_callback(cb)
                .with_callback_vars(vars())
                .send()
                .await
        }
        Path::PutStream => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = body
                .chunks(700)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let src =
                UploadSource::stream(futures_util::stream::iter(chunks), Some(body.len() as u64));
            c.put_object(key, src)
                .with_callback(cb)
                .with_callback_vars(vars())
                .send()
                .await
        }
        Path::Multipart => {
            let f = h.write_file(&format!("{}.src", key.replace('/', "_")), body);
            c.multipart_upload(key, UploadSource::file(f))
                .with_part_size(PART)
                .with_callback(cb)
                .with_callback_vars(vars())
                .send()
                .await
        }
        Path::MultipartStream => {
            let chunks: Vec<Result<Bytes, std::io::Error>> = body
                .chunks(10_000)
                .map(|c| Ok(Bytes::copy_from_slice(c)))
                .collect();
            let src = UploadSource::stream(futures_util::stream::iter(chunks), None);
            c.multipart_upload(key, src)
                .with_part_size(PART)
                .with_callback(cb)
                .with_callback_vars(vars())
                .send()
                .await
        }
        Path::Resumable => {
            let f = h.write_file(&format!("{}.src", key.replace('/', "_")), body);
            c.resumable_upload(key, f)
                .with_part_size(PART)
                .with_callback(cb)
                .with_callback_vars(vars())
                .send()
                .await
        }
        Path::PostObject => {
            let f = h.write_file(&format!("{}.src", key.replace('/', "_")), body);
            c.post_object(key, UploadSource::file(f))
                .with_callback(cb)
                .with_callback_vars(vars())
                .send()
                .await
        }
        Path::PresignedQuery | Path::PresignedHeader => {
            let (uri, headers) = presign_put(h, key, path, &cb);
            c.put_presigned(uri, headers, body.to_vec()).await
        }
    }
}

/// A presigned PUT with the callback in the query (nothing extra to send) or in signed headers.
fn presign_put(
    h: &Harness,
    key: &str,
    path: Path,
    cb: &oss_callback::Callback,
) -> (http::Uri, http::HeaderMap) {
    let query = match path {
        Path::PresignedQuery => oss_callback::encode_query(cb, Some(&vars())),
        _ => Vec::new(),
    };
    let uri = h
        .client
        .endpoint()
        .uri(Some(BUCKET), Some(key), &query)
        .unwrap();
    let (mut parts, ()) = http::Request::builder()
        .method("PUT")
        .uri(uri)
        .body(())
        .unwrap()
        .into_parts();
    parts
        .headers
        .insert("content-type", "text/plain".parse().unwrap());
    if let Path::PresignedHeader = path {
        oss_callback::encode_headers(cb, Some(&vars()), &mut parts.headers).unwrap();
    }
    let params = oss_sign::SigningParams::builder(h.emu.region())
        .with_bucket(BUCKET)
        .with_key(key)
        .with_time(SystemTime::now())
        .build()
        .unwrap();
    let p = oss_sign::Signer::new()
        .presign(
            &parts,
            &oss_sign::Credentials::new("ak", "sk"),
            &params,
            None,
        )
        .unwrap();
    (p.uri, p.signed_headers)
}

fn mime(path: Path) -> &'static str {
    let _ = path;
    "text/plain"
}

async fn roundtrip(path: Path, body_type: CallbackBodyType) {
    let h = Harness::start().await;
    let key = format!("dir/{path:?}-{}.txt", body_type.as_mime().len());
    let body = data(path.size());
    let out = upload(&h, path, &key, &body, body_type).await.unwrap();
    assert_callback(&h, &out, &key, &body, mime(path), body_type);
    assert_eq!(h.stored(&key).await, body);
    assert_eq!(h.cb.received().len(), 1);
}

async fn callback_failed(path: Path) {
    let h = Harness::start().await;
    h.cb.fail(true);
    let key = format!("failing/{path:?}.txt");
    let body = data(path.size());
    let err = upload(&h, path, &key, &body, CallbackBodyType::Json)
        .await
        .unwrap_err();
    let Error::CallbackFailed(f) = &err else {
        panic!("expected CallbackFailed, got {err:?}")
    };
    assert!(!err.is_retryable());
    assert_eq!(f.code, "CallbackFailed");
    assert_eq!(f.bucket, BUCKET);
    assert!(
        matches!(path, Path::PresignedHeader | Path::PresignedQuery) || f.key == key,
        "{}",
        f.key
    );
    let multipart = matches!(
        path,
        Path::Multipart | Path::MultipartStream | Path::Resumable
    );
    assert_eq!(f.upload_id.is_some(), multipart);
    // The object is stored even though the callback failed, and the callback was tried once.
    let head = h.client.head_object(&key).await.unwrap();
    assert_eq!(head.size, body.len() as u64);
    assert_eq!(h.cb.received().len(), 1);
    assert_eq!(h.emu.callbacks().len(), 1);
}

macro_rules! path_tests {
    ($($name:ident => $path:expr),* $(,)?) => {
        mod json {
            use super::*;
            $( #[tokio::test] async fn $name() { roundtrip($path, CallbackBodyType::Json).await } )*
        }
        mod form {
            use super::*;
            $( #[tokio::test] async fn $name() { roundtrip($path, CallbackBodyType::FormUrlEncoded).await } )*
        }
        mod callback_failed {
            use super::*;
            $( #[tokio::test] async fn $name() { callback_failed($path).await } )*
        }
    };
}

path_tests! {
    put_bytes => Path::PutBytes,
    put_file => Path::PutFile,
    put_stream => Path::PutStream,
    multipart => Path::Multipart,
    multipart_stream => Path::MultipartStream,
    resumable => Path::Resumable,
    post_object => Path::PostObject,
    presigned_query => Path::PresignedQuery,
    presigned_header => Path::PresignedHeader,
}

#[tokio::test]
async fn presigned_header_carrier_without_the_callback_header_is_refused() {
    let h = Harness::start().await;
    let cb = h.callback(CallbackBodyType::Json);
    let (uri, mut headers) = presign_put(&h, "p/omit.txt", Path::PresignedHeader, &cb);
    headers.remove("x-oss-callback");
    let err = h
        .client
        .put_presigned(uri, headers, b"x".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN), "{err:?}");
    // Changing the callback is refused too.
    let (uri, mut headers) = presign_put(&h, "p/changed.txt", Path::PresignedHeader, &cb);
    let other = oss_callback::Callback::builder()
        .with_url(h.cb.url.clone())
        .with_body("changed=${object}")
        .build()
        .unwrap();
    oss_callback::encode_headers(&other, None, &mut headers).unwrap();
    let err = h
        .client
        .put_presigned(uri, headers, b"x".to_vec())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(http::StatusCode::FORBIDDEN), "{err:?}");
    assert!(h.cb.received().is_empty());
    assert!(h.client.head_object("p/changed.txt").await.is_err());
}

#[tokio::test]
async fn explicit_content_type_reaches_the_callback() {
    let h = Harness::start().await;
    let out = h
        .client
        .put_object("typed/a.bin", b"{}".to_vec())
        .with_options(ObjectOptions::new().with_content_type("application/json"))
        .with_callback(h.callback(CallbackBodyType::Json))
        .with_callback_vars(vars())
        .send()
        .await
        .unwrap();
    assert_callback(
        &h,
        &out,
        "typed/a.bin",
        b"{}",
        "application/json",
        CallbackBodyType::Json,
    );
}
