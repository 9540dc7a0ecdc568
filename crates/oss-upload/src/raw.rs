//! The raw multipart calls: Initiate, UploadPart, Complete, Abort, ListParts.

use std::time::SystemTime;

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Method};
use md5::Digest as _;
use oss_callback::{Callback, CallbackVars};

use crate::client::{Client, Ctx};
use crate::error::{Confirmation, UnknownCallbackOutcome};
use crate::options::{insert, ObjectOptions};
use crate::output::UploadOutput;
use crate::progress::Tracker;
use crate::spec::SpecRef;
use crate::unconfirmed::{judge, Expected, Sends, Verdict};
use crate::wire::{self, CompletedPart, ListedPart};
use crate::Error;
use oss_transport::ExpectedCrc64;
use oss_types::Crc64;

/// A part uploaded by [`Client::upload_part`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadedPart {
    /// Part number.
    pub part_number: u32,
    /// ETag, with its quotes.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// CRC-64 of the part.
    pub crc64: u64,
}

impl From<&UploadedPart> for CompletedPart {
    fn from(p: &UploadedPart) -> Self {
        CompletedPart {
            part_number: p.part_number,
            etag: p.etag.clone(),
        }
    }
}

/// The parts a CompleteMultipartUpload names (see [`Client::complete_multipart_upload`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum CompleteParts<'a> {
    /// Part numbers and ETags only (from ListParts, or kept by the caller).
    Listed(&'a [CompletedPart]),
    /// The parts [`Client::upload_part`] returned: their combined CRC-64 is also checked
    /// against the answer, and a `NoSuchUpload` is confirmed by size and CRC-64.
    Uploaded(&'a [UploadedPart]),
}

/// What [`Client::confirm_completed`] needs to know about the Complete.
struct Confirm<'a> {
    ctx: &'a Ctx,
    expected: Option<(u64, u64)>,
    since: Option<SystemTime>,
    has_callback: bool,
    sends: u32,
}

impl Client {
    /// InitiateMultipartUpload: returns the upload id. Object options (Content-Type, metadata,
    /// ACL, storage class, SSE, ...) are given here.
    ///
    /// # Errors
    /// [`Error::Request`], [`Error::BadResponse`], [`Error::InvalidArgument`].
    pub async fn initiate_multipart_upload(
        &self,
        key: &str,
        options: &ObjectOptions,
    ) -> Result<String, Error> {
        let mut headers = HeaderMap::new();
        options.apply(key, &mut headers)?;
        let req = self
            .request(Method::POST, key)
            .with_query("uploads", "")
            .with_headers(headers);
        let resp = self
            .execute(req, &Ctx::new("InitiateMultipartUpload", key), None)
            .await?;
        wire::parse_initiate(&resp.body)
    }

    /// UploadPart: sends `data` as part `part_number` (1..=10000), checking its CRC-64.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bad part number, [`Error::Request`],
    /// [`Error::CrcMismatch`], [`Error::BadResponse`] when OSS returns no ETag.
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
    ) -> Result<UploadedPart, Error> {
        self.upload_part_tracked(
            key,
            upload_id,
            part_number,
            data,
            false,
            &Tracker::new(None, None),
        )
        .await
    }

    pub(crate) async fn upload_part_tracked(
        &self,
        key: &str,
        upload_id: &str,
        part_number: u32,
        data: Bytes,
        content_md5: bool,
        tracker: &Tracker,
    ) -> Result<UploadedPart, Error> {
        if !(1..=10_000).contains(&part_number) {
            return Err(Error::InvalidArgument {
                name: "part number",
                message: format!("{part_number} is not in 1..=10000"),
            });
        }
        let crc = crate::checksum::upload_crc(self.inner.crc_check, &data);
        let size = data.len() as u64;
        let mut headers = HeaderMap::new();
        if content_md5 {
            let d: [u8; 16] = md5::Md5::digest(&data).into();
            insert(
                &mut headers,
                "content-md5",
                &base64::engine::general_purpose::STANDARD.encode(d),
            )?;
        }
        let op = format!("UploadPart {part_number}");
        let req = self
            .request(Method::PUT, key)
            .with_query("partNumber", part_number.to_string())
            .with_query("uploadId", upload_id)
            .with_headers(headers)
            .with_body(data);
        let req = Client::with_tracking(req, tracker, &op);
        let ctx = Ctx::new(op, key).with_upload(upload_id);
        let span = tracing::debug_span!("upload_part", part_number);
        let resp = tracing::Instrument::instrument(
            self.execute(req, &ctx, crc.map(ExpectedCrc64::Known)),
            span,
        )
        .await?;
        let etag = resp
            .header("etag")
            .map(str::to_owned)
            .ok_or_else(|| Error::BadResponse {
                operation: "UploadPart",
                reason: "no ETag header".into(),
            })?;
        Ok(UploadedPart {
            part_number,
            etag,
            size,
            // With the check off nothing was hashed; Complete then neither combines nor compares.
            crc64: crc.unwrap_or(0),
        })
    }

    /// CompleteMultipartUpload, optionally with a callback: the one Complete entry point.
    ///
    /// With [`CompleteParts::Uploaded`] the combined CRC-64 of the parts (when CRC checks are
    /// on) must equal the answer's, and if OSS answers `NoSuchUpload` (a retried Complete whose
    /// first answer was lost) the object is checked with HeadObject: when its size and CRC-64
    /// match, the upload is reported as completed (without the callback's answer, which was
    /// lost). With [`CompleteParts::Listed`] neither check is possible.
    ///
    /// With a callback, a Complete that fails after its body was sent is checked the same way
    /// (HeadObject: size, CRC-64 and a `Last-Modified` not older than the first send) and is
    /// sent again only when the object is not there; a `NoSuchUpload` then, or an object found
    /// complete, is [`Error::CallbackOutcomeUnknown`]: the object is stored, whether the callback
    /// ran is unknown, and no second Complete is sent. When this call's own sends cannot have
    /// completed the upload (a `NoSuchUpload` on the first send), size and CRC-64 alone decide.
    ///
    /// # Errors
    /// [`Error::CallbackFailed`] (object stored), [`Error::CallbackOutcomeUnknown`],
    /// [`Error::Request`], [`Error::CrcMismatch`], [`Error::CallbackVarsWithoutCallback`].
    pub async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: CompleteParts<'_>,
        callback: Option<&Callback>,
        vars: Option<&CallbackVars>,
        options: &ObjectOptions,
    ) -> Result<UploadOutput, Error> {
        let spec = SpecRef::new(key, options, callback, vars);
        self.complete(spec, upload_id, parts).await
    }

    /// Complete for the uploaders and the public entry point alike.
    pub(crate) async fn complete(
        &self,
        spec: SpecRef<'_>,
        upload_id: &str,
        parts: CompleteParts<'_>,
    ) -> Result<UploadOutput, Error> {
        self.complete_since(spec, upload_id, parts, None).await
    }

    /// Complete, where `earlier_start` is the local start of an earlier Complete of this upload
    /// whose outcome is unknown (a resumable upload's "completing" mark): a `NoSuchUpload`
    /// answer then counts as this upload's completion only for an object modified no earlier
    /// than that (see [`judge`]). `None`: only this call's own sends date it.
    pub(crate) async fn complete_since(
        &self,
        spec: SpecRef<'_>,
        upload_id: &str,
        parts: CompleteParts<'_>,
        earlier_start: Option<SystemTime>,
    ) -> Result<UploadOutput, Error> {
        let key = spec.key;
        let (list, expected): (Vec<CompletedPart>, Option<(u64, u64)>) = match parts {
            CompleteParts::Listed(list) => (list.to_vec(), None),
            CompleteParts::Uploaded(parts) => {
                let mut sorted: Vec<&UploadedPart> = parts.iter().collect();
                sorted.sort_by_key(|p| p.part_number);
                let crc = match self.inner.crc_check {
                    true => Crc64::combine_parts(sorted.iter().map(|p| (p.crc64, p.size))),
                    false => 0,
                };
                let total: u64 = sorted.iter().map(|p| p.size).sum();
                let list = sorted.iter().map(|p| CompletedPart::from(*p)).collect();
                (list, Some((crc, total)))
            }
        };
        let body = wire::complete_body(&list);
        let mut headers = HeaderMap::new();
        spec.options.apply_complete(&mut headers)?;
        let intent = spec.apply_callback(&mut headers)?;
        let d: [u8; 16] = md5::Md5::digest(body.as_bytes()).into();
        insert(
            &mut headers,
            "content-md5",
            &base64::engine::general_purpose::STANDARD.encode(d),
        )?;
        insert(&mut headers, "content-type", "application/xml")?;
        let req = self
            .request(Method::POST, key)
            .with_query("uploadId", upload_id)
            .with_headers(headers)
            .with_body(body);
        let req = Client::with_callback_intent(req, intent);
        let ctx = Ctx::new("CompleteMultipartUpload", key).with_upload(upload_id);
        let crc = expected.map(|(crc, _)| ExpectedCrc64::Known(crc));
        let (sends, result) = match intent {
            Some(_) => {
                let size = expected.map(|(_, size)| size);
                self.execute_callback(req, &ctx, crc, size).await
            }
            None => {
                let first_start = SystemTime::now();
                let result = self.execute(req, &ctx, crc).await;
                let sends = Sends {
                    first_start,
                    count: 1,
                    unconfirmed: false,
                };
                (sends, result)
            }
        };
        let resp = match result {
            Ok(resp) => resp,
            Err(e) if e.service_code() == Some("NoSuchUpload") => {
                // A NoSuchUpload right after a send of ours that may have completed the upload
                // is dated from that send; otherwise from what the caller recorded, if anything.
                let since = match (sends.unconfirmed, earlier_start) {
                    (true, Some(t)) => Some(t.min(sends.first_start)),
                    (true, None) => Some(sends.first_start),
                    (false, t) => t,
                };
                let confirm = Confirm {
                    ctx: &ctx,
                    expected,
                    since,
                    has_callback: intent.is_some(),
                    sends: sends.count,
                };
                return self.confirm_completed(confirm, e).await;
            }
            Err(e) => return Err(e),
        };
        if intent.is_some() {
            return Ok(UploadOutput::from_response(resp, true));
        }
        let mut out = UploadOutput::from_headers(&resp.headers);
        if !resp.body.is_empty() {
            if let Ok((etag, _)) = wire::parse_complete(&resp.body) {
                if out.etag.is_none() {
                    out.etag = etag;
                }
            }
        }
        Ok(out)
    }

    /// A Complete answered `NoSuchUpload`: the upload is gone, completed by an earlier send or
    /// aborted. HeadObject and the ambiguity rule ([`judge`]) decide: the object is this
    /// upload's when its size and CRC-64 equal the parts' and (when `since` is known) it was
    /// modified no earlier than `since`. Then, without a callback, the upload succeeded (the
    /// answer is built from HeadObject); with one, whether the callback ran is unknown
    /// ([`Error::CallbackOutcomeUnknown`], never a second Complete). Otherwise `original`.
    async fn confirm_completed(
        &self,
        c: Confirm<'_>,
        original: Error,
    ) -> Result<UploadOutput, Error> {
        let Some((crc, size)) = c.expected else {
            return Err(original);
        };
        let Ok(head) = self.head_for_rule(&c.ctx.key).await else {
            return Err(original);
        };
        let expect = Expected {
            size,
            crc64: Some(crc).filter(|_| self.inner.crc_check),
        };
        let verdict = judge(head.as_ref(), &expect, c.since, self.clock_skew_ms());
        let (Verdict::Stored, Some(head)) = (verdict, head) else {
            tracing::info!(key = %c.ctx.key, ?verdict, "Complete answered NoSuchUpload and the object is not this upload's");
            return Err(original);
        };
        tracing::info!(
            key = %c.ctx.key,
            "Complete answered NoSuchUpload but the object is complete"
        );
        if c.has_callback {
            let mut u = UnknownCallbackOutcome::new(
                self.bucket(),
                &c.ctx.key,
                &c.ctx.operation,
                Confirmation::Stored,
                original,
            );
            u.upload_id = c.ctx.upload_id.clone();
            u.etag = head.etag;
            u.crc64 = head.crc64;
            u.version_id = head.version_id;
            u.sends = c.sends;
            return Err(Error::CallbackOutcomeUnknown(Box::new(u)));
        }
        Ok(UploadOutput {
            etag: head.etag,
            request_id: head.request_id,
            crc64: head.crc64,
            version_id: head.version_id,
            callback: None,
        })
    }

    /// AbortMultipartUpload: removes the upload and its parts.
    ///
    /// # Errors
    /// [`Error::Request`] (`NoSuchUpload` when it is already gone).
    pub async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> Result<(), Error> {
        let req = self
            .request(Method::DELETE, key)
            .with_query("uploadId", upload_id);
        let ctx = Ctx::new("AbortMultipartUpload", key).with_upload(upload_id);
        self.execute(req, &ctx, None).await.map(|_| ())
    }

    /// ListParts, all pages: the parts uploaded so far, ascending.
    ///
    /// # Errors
    /// [`Error::Request`] (`NoSuchUpload` for an unknown upload), [`Error::BadResponse`].
    pub async fn list_parts(&self, key: &str, upload_id: &str) -> Result<Vec<ListedPart>, Error> {
        let mut out = Vec::new();
        let mut marker: Option<u32> = None;
        loop {
            let mut req = self
                .request(Method::GET, key)
                .with_query("uploadId", upload_id)
                .with_query("max-parts", "1000");
            if let Some(m) = marker {
                req = req.with_query("part-number-marker", m.to_string());
            }
            let ctx = Ctx::new("ListParts", key).with_upload(upload_id);
            let resp = self.execute(req, &ctx, None).await?;
            let page = wire::parse_list_parts(&resp.body)?;
            out.extend(page.parts);
            match (page.is_truncated, page.next_part_number_marker) {
                (true, Some(next)) if Some(next) != marker => marker = Some(next),
                _ => break,
            }
        }
        Ok(out)
    }
}
