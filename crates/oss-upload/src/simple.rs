//! PutObject: one request from bytes, a file or a stream of known length.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, Method};
use md5::Digest as _;
use oss_transport::{Body, Request};
use tracing::Instrument as _;

use crate::client::{Client, Ctx};
use crate::options::{insert, ContentMd5};
use crate::output::UploadOutput;
use crate::progress::Tracker;
use crate::source::{digest_file, file_meta, UploadSource};
use crate::spec::{SpecRef, UploadSpec};
use crate::Error;
use oss_transport::{CallbackCarrier, ExpectedCrc64};
use oss_types::Crc64;

/// Builder for a PutObject (see [`Client::put_object`]).
#[derive(Debug)]
#[must_use = "call .send().await"]
pub struct PutObject {
    client: Client,
    spec: UploadSpec,
    source: UploadSource,
}

impl Client {
    /// Starts a PutObject of `source` to `key`.
    pub fn put_object(&self, key: impl Into<String>, source: impl Into<UploadSource>) -> PutObject {
        self.put_object_with(UploadSpec::new(key), source.into())
    }

    /// A PutObject of an upload already described (the single-part path of the multipart
    /// and resumable uploaders).
    pub(crate) fn put_object_with(&self, spec: UploadSpec, source: UploadSource) -> PutObject {
        PutObject {
            client: self.clone(),
            spec,
            source,
        }
    }
}

impl PutObject {
    crate::spec::spec_setters!(progress);

    /// Sends the object.
    ///
    /// # Errors
    /// [`Error::CallbackFailed`] (object stored), [`Error::CallbackOutcomeUnknown`] (with a
    /// callback, the request failed after its body was sent: the object is or may be stored,
    /// whether the callback ran is unknown), [`Error::CrcMismatch`], [`Error::Request`],
    /// [`Error::Io`] / [`Error::Stream`] for the source, [`Error::InvalidArgument`] for options
    /// (e.g. `ContentMd5::Compute` with a stream, or a stream without length).
    pub async fn send(self) -> Result<UploadOutput, Error> {
        let span =
            tracing::info_span!("put_object", bucket = %self.client.bucket(), key = %self.spec.key);
        self.run().instrument(span).await
    }

    async fn run(self) -> Result<UploadOutput, Error> {
        let PutObject {
            client,
            spec,
            source,
        } = self;
        let UploadSpec {
            key,
            options,
            callback,
            vars,
            progress,
        } = spec;
        let mut headers = HeaderMap::new();
        options.apply(&key, &mut headers)?;
        let intent = SpecRef::new(&key, &options, callback.as_ref(), vars.as_ref())
            .apply_callback(&mut headers)?;
        let want_md5 = matches!(options.content_md5, ContentMd5::Compute);
        if let ContentMd5::Value(v) = &options.content_md5 {
            insert(&mut headers, "content-md5", v)?;
        }
        let b64 = |d: [u8; 16]| base64::engine::general_purpose::STANDARD.encode(d);
        let (body, crc, total): (Body, Option<ExpectedCrc64>, u64) = match source {
            UploadSource::Bytes(b) => {
                if want_md5 {
                    insert(
                        &mut headers,
                        "content-md5",
                        &b64(md5::Md5::digest(&b).into()),
                    )?;
                }
                let crc = crate::checksum::upload_crc(client.inner.crc_check, &b);
                let len = b.len() as u64;
                (Body::Bytes(b), crc.map(ExpectedCrc64::Known), len)
            }
            UploadSource::File(path) => {
                let (len, _) = file_meta(&path).await?;
                // With the CRC check off and no MD5 asked for, the file is read once: to send it.
                let mut crc = None;
                if client.inner.crc_check || want_md5 {
                    let (c, read, md5) = digest_file(&path, want_md5).await?;
                    if read != len {
                        return Err(crate::source::io_err(
                            &path,
                            std::io::Error::other("file changed while it was read"),
                        ));
                    }
                    if let Some(d) = md5 {
                        insert(&mut headers, "content-md5", &b64(d))?;
                    }
                    crc = Some(c).filter(|_| client.inner.crc_check);
                }
                (Body::file(path, 0, len), crc.map(ExpectedCrc64::Known), len)
            }
            UploadSource::Stream { stream, len } => {
                let len = len.ok_or_else(|| Error::InvalidArgument {
                    name: "source",
                    message: "PutObject needs the stream's length; use a multipart upload".into(),
                })?;
                if want_md5 {
                    return Err(Error::InvalidArgument {
                        name: "content-md5",
                        message: "cannot compute Content-MD5 of a stream before sending it".into(),
                    });
                }
                insert(&mut headers, "content-length", &len.to_string())?;
                if client.inner.crc_check {
                    let running = Arc::new(Mutex::new(Crc64::new()));
                    let r = Arc::clone(&running);
                    let stream = stream.inspect(move |chunk| {
                        if let (Ok(c), Ok(mut crc)) = (chunk, r.lock()) {
                            crc.update(c);
                        }
                    });
                    (
                        Body::stream(stream),
                        Some(ExpectedCrc64::Running(running)),
                        len,
                    )
                } else {
                    (Body::stream(stream), None, len)
                }
            }
        };
        let tracker = Tracker::new(progress, Some(total));
        let req = client
            .request(Method::PUT, &key)
            .with_headers(headers)
            .with_body(body);
        let req = Client::with_callback_intent(req, intent);
        let req = Client::with_tracking(req, &tracker, "PutObject");
        let ctx = Ctx::new("PutObject", &key);
        let resp = match intent {
            Some(_) => {
                client
                    .execute_callback(req, &ctx, crc, Some(total))
                    .await
                    .1?
            }
            None => client.execute(req, &ctx, crc).await?,
        };
        Ok(UploadOutput::from_response(resp, intent.is_some()))
    }
}

/// Upload with a presigned URL (see [`Client::put_presigned`]).
impl Client {
    /// PUTs `body` to a presigned URL, sending exactly `signed_headers` (as the presigner
    /// returned them). A callback carried by the URL's query or by the signed headers is answered
    /// like any other upload: `UploadOutput::callback`, or [`Error::CallbackFailed`].
    ///
    /// When such a PUT fails after its body was sent, a client with credentials checks the
    /// object with HeadObject (see [`Error::CallbackOutcomeUnknown`]) and may send the same URL
    /// again; a client without credentials (the URL alone) returns
    /// [`Error::CallbackOutcomeUnknown`] with
    /// [`Confirmation::NoCredentials`](crate::Confirmation::NoCredentials) and resends nothing.
    ///
    /// # Errors
    /// As [`PutObject::send`].
    pub async fn put_presigned(
        &self,
        url: http::Uri,
        signed_headers: HeaderMap,
        body: impl Into<Bytes>,
    ) -> Result<UploadOutput, Error> {
        let body: Bytes = body.into();
        let key = presigned_key(&url, self.bucket());
        let crc = Crc64::checksum(&body);
        let size = body.len() as u64;
        // The presigner put the callback in the URL's query or in the signed headers; this is
        // where the caller's material enters, so the intent is read here, once.
        let intent = presigned_callback(&url, &signed_headers);
        let has_callback = intent.is_some();
        let req = Request::presigned(Method::PUT, url)
            .with_headers(signed_headers)
            .with_body(body);
        let req = Client::with_callback_intent(req, intent);
        let ctx = Ctx::new("PutObject (presigned)", &key);
        let crc = Some(ExpectedCrc64::Known(crc));
        let resp = match has_callback {
            true => self.execute_callback(req, &ctx, crc, Some(size)).await.1?,
            false => self.execute(req, &ctx, crc).await?,
        };
        Ok(UploadOutput::from_response(resp, has_callback))
    }
}

/// Where a presigned upload carries its callback: a `callback` query parameter, or an
/// `x-oss-callback` signed header (a `callback-var` parameter alone is no callback).
fn presigned_callback(url: &http::Uri, signed_headers: &HeaderMap) -> Option<CallbackCarrier> {
    let in_query = url.query().is_some_and(|q| {
        q.split('&')
            .any(|p| p == "callback" || p.starts_with("callback="))
    });
    if in_query {
        Some(CallbackCarrier::Query)
    } else if signed_headers.contains_key("x-oss-callback") {
        Some(CallbackCarrier::Header)
    } else {
        None
    }
}

/// The object key of a presigned URL, for error messages: the decoded path without the bucket
/// segment when path-style.
fn presigned_key(url: &http::Uri, bucket: &str) -> String {
    let path = url.path().trim_start_matches('/');
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8_lossy()
        .into_owned();
    match decoded.strip_prefix(&format!("{bucket}/")) {
        Some(rest) => rest.to_owned(),
        None => decoded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_callback_is_read_from_the_query_or_the_signed_headers() {
        let uri = |s: &str| s.parse::<http::Uri>().unwrap();
        let none = HeaderMap::new();
        assert_eq!(
            presigned_callback(
                &uri("https://b.oss-cn-hangzhou.aliyuncs.com/k?x-oss-date=1&callback=e30%3D"),
                &none
            ),
            Some(CallbackCarrier::Query)
        );
        // `callback-var` alone is no callback.
        assert_eq!(
            presigned_callback(
                &uri("https://b.oss-cn-hangzhou.aliyuncs.com/k?callback-var=e30%3D"),
                &none
            ),
            None
        );
        let mut signed = HeaderMap::new();
        signed.insert("x-oss-callback", "e30=".parse().unwrap());
        assert_eq!(
            presigned_callback(&uri("https://b.example.com/k"), &signed),
            Some(CallbackCarrier::Header)
        );
        assert_eq!(
            presigned_callback(&uri("https://b.example.com/k"), &none),
            None
        );
    }
}
