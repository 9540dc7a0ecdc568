//! Seeing and undoing what was uploaded: ListObjectsV2 and ListMultipartUploads as paginated
//! [`Stream`]s, DeleteMultipleObjects in batches, and the bucket calls (PutBucket,
//! DeleteBucket, GetBucketInfo, ListBuckets). Requests always ask for `encoding-type=url` so
//! any key survives the XML, and the answers are decoded before they reach the caller.

use std::pin::Pin;

use base64::Engine as _;
use futures_util::stream::{self, Stream};
use http::Method;
use md5::{Digest, Md5};

use crate::client::{Client, Ctx};
use crate::list_wire::{self, BucketSummary, ObjectPage, UploadPage};
use crate::Error;

/// Most keys one DeleteMultipleObjects request carries (OSS's limit).
pub const MAX_DELETE_BATCH: usize = 1000;

/// A stream of listing pages; each item is one request's answer.
pub type PageStream<T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

fn page_size(name: &'static str, n: u32) -> Result<u32, Error> {
    if (1..=1000).contains(&n) {
        Ok(n)
    } else {
        Err(Error::InvalidArgument {
            name,
            message: format!("{n} is outside 1..=1000"),
        })
    }
}

/// Builder for ListObjectsV2 (see [`Client::list_objects`]).
#[derive(Debug, Clone)]
#[must_use = "call .into_pages()"]
pub struct ListObjects {
    client: Client,
    prefix: String,
    delimiter: String,
    start_after: Option<String>,
    token: Option<String>,
    page_size: u32,
}

impl ListObjects {
    /// Only keys starting with `prefix`. Default: every key.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Group keys by `delimiter` after the prefix into common prefixes (`/` lists one level).
    /// Default: none (recursive).
    pub fn with_delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = delimiter.into();
        self
    }

    /// Start strictly after this key (which need not exist). Default: from the first key.
    pub fn with_start_after(mut self, key: impl Into<String>) -> Self {
        self.start_after = Some(key.into());
        self
    }

    /// Resume from a previous page's `next_continuation_token`. Default: none.
    pub fn with_continuation_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Entries (keys plus common prefixes) per request, 1..=1000. Default 1000.
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n;
        self
    }

    /// The pages, one request each, until OSS says the listing is complete.
    ///
    /// # Errors
    /// Each item: [`Error::Request`] (`NoSuchBucket`, ...), [`Error::BadResponse`] naming the
    /// field of a malformed answer, [`Error::InvalidArgument`] for a page size out of range.
    pub fn into_pages(self) -> PageStream<ObjectPage> {
        Box::pin(stream::try_unfold(Some(self), |state| async move {
            let Some(mut s) = state else {
                return Ok(None);
            };
            let size = page_size("page_size", s.page_size)?;
            let mut req = s
                .client
                .bucket_request(Method::GET)
                .with_query("list-type", "2")
                .with_query("encoding-type", "url")
                .with_query("max-keys", size.to_string())
                .with_query("prefix", s.prefix.clone());
            if !s.delimiter.is_empty() {
                req = req.with_query("delimiter", s.delimiter.clone());
            }
            if let Some(after) = &s.start_after {
                req = req.with_query("start-after", after.clone());
            }
            if let Some(token) = &s.token {
                req = req.with_query("continuation-token", token.clone());
            }
            let resp = s
                .client
                .execute(req, &Ctx::new("ListObjectsV2", &s.prefix), None)
                .await?;
            let page = list_wire::parse_list_objects(&resp.body)?;
            let next = match &page.next_continuation_token {
                // A token equal to the one sent would loop forever.
                Some(t) if s.token.as_deref() != Some(t.as_str()) => {
                    s.token = Some(t.clone());
                    Some(s)
                }
                Some(_) => {
                    return Err(Error::BadResponse {
                        operation: "ListObjectsV2",
                        reason: "field NextContinuationToken repeats the token sent".into(),
                    })
                }
                None => None,
            };
            Ok(Some((page, next)))
        }))
    }
}

/// Builder for ListMultipartUploads (see [`Client::list_uploads`]).
#[derive(Debug, Clone)]
#[must_use = "call .into_pages()"]
pub struct ListUploads {
    client: Client,
    prefix: String,
    marker: Option<(String, String)>,
    page_size: u32,
}

impl ListUploads {
    /// Only uploads of keys starting with `prefix`. Default: all.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Uploads per request, 1..=1000. Default 1000.
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n;
        self
    }

    /// The pages, one request each (`key-marker` + `upload-id-marker` between them).
    ///
    /// # Errors
    /// As [`ListObjects::into_pages`].
    pub fn into_pages(self) -> PageStream<UploadPage> {
        Box::pin(stream::try_unfold(Some(self), |state| async move {
            let Some(mut s) = state else {
                return Ok(None);
            };
            let size = page_size("page_size", s.page_size)?;
            let mut req = s
                .client
                .bucket_request(Method::GET)
                .with_query("uploads", "")
                .with_query("encoding-type", "url")
                .with_query("max-uploads", size.to_string())
                .with_query("prefix", s.prefix.clone());
            if let Some((key, id)) = &s.marker {
                req = req
                    .with_query("key-marker", key.clone())
                    .with_query("upload-id-marker", id.clone());
            }
            let resp = s
                .client
                .execute(req, &Ctx::new("ListMultipartUploads", &s.prefix), None)
                .await?;
            let page = list_wire::parse_list_uploads(&resp.body)?;
            let next = match &page.next {
                Some(m) if s.marker.as_ref() != Some(m) => {
                    s.marker = Some(m.clone());
                    Some(s)
                }
                Some(_) => {
                    return Err(Error::BadResponse {
                        operation: "ListMultipartUploads",
                        reason: "fields NextKeyMarker/NextUploadIdMarker repeat the markers sent"
                            .into(),
                    })
                }
                None => None,
            };
            Ok(Some((page, next)))
        }))
    }
}

/// Builder for ListBuckets (see [`Client::list_buckets`]).
#[derive(Debug, Clone)]
#[must_use = "call .into_pages()"]
pub struct ListBuckets {
    client: Client,
    prefix: String,
    page_size: u32,
}

impl ListBuckets {
    /// Only buckets whose name starts with `prefix`. Default: all.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Buckets per request, 1..=1000. Default 1000.
    pub fn with_page_size(mut self, n: u32) -> Self {
        self.page_size = n;
        self
    }

    /// The pages, one request each (`marker` between them).
    ///
    /// # Errors
    /// As [`ListObjects::into_pages`].
    pub fn into_pages(self) -> PageStream<Vec<BucketSummary>> {
        Box::pin(stream::try_unfold(
            Some((self, None::<String>)),
            |state| async move {
                let Some((s, marker)) = state else {
                    return Ok(None);
                };
                let size = page_size("page_size", s.page_size)?;
                let mut req = oss_transport::Request::new(Method::GET)
                    .with_query("max-keys", size.to_string());
                if !s.prefix.is_empty() {
                    req = req.with_query("prefix", s.prefix.clone());
                }
                if let Some(m) = &marker {
                    req = req.with_query("marker", m.clone());
                }
                let resp = s
                    .client
                    .execute(req, &Ctx::new("ListBuckets", ""), None)
                    .await
                    .map_err(service_target)?;
                let (buckets, next) = list_wire::parse_list_buckets(&resp.body)?;
                let next = match next {
                    Some(n) if marker.as_deref() != Some(n.as_str()) => Some((s, Some(n))),
                    Some(_) => {
                        return Err(Error::BadResponse {
                            operation: "ListBuckets",
                            reason: "field NextMarker repeats the marker sent".into(),
                        })
                    }
                    None => None,
                };
                Ok(Some((buckets, next)))
            },
        ))
    }
}

/// A service-level call has no bucket: say so instead of naming the client's bucket.
fn service_target(e: Error) -> Error {
    match e {
        Error::Request {
            operation,
            oss,
            source,
            ..
        } => Error::Request {
            operation,
            target: "the service".into(),
            oss,
            source,
        },
        other => other,
    }
}

impl Client {
    /// A request to the bucket itself (no key).
    fn bucket_request(&self, method: Method) -> oss_transport::Request {
        oss_transport::Request::new(method).with_bucket(self.inner.bucket.clone())
    }

    /// Starts a ListObjectsV2 of this bucket: a [`Stream`] of [`ObjectPage`]s with keys and
    /// common prefixes decoded, in OSS's order.
    pub fn list_objects(&self) -> ListObjects {
        ListObjects {
            client: self.clone(),
            prefix: String::new(),
            delimiter: String::new(),
            start_after: None,
            token: None,
            page_size: 1000,
        }
    }

    /// Starts a ListMultipartUploads of this bucket: uploads that were initiated and neither
    /// completed nor aborted (their parts are stored and billed).
    pub fn list_uploads(&self) -> ListUploads {
        ListUploads {
            client: self.clone(),
            prefix: String::new(),
            marker: None,
            page_size: 1000,
        }
    }

    /// Starts a ListBuckets of the account. A service-level call: the client's bucket is not
    /// used, only its endpoint, region and credentials.
    pub fn list_buckets(&self) -> ListBuckets {
        ListBuckets {
            client: self.clone(),
            prefix: String::new(),
            page_size: 1000,
        }
    }

    /// DeleteMultipleObjects: removes `keys` in batches of [`MAX_DELETE_BATCH`], each with its
    /// `Content-MD5`. `quiet`: OSS reports only failures, so the result is empty on success;
    /// otherwise the keys OSS reports deleted (a key that never existed counts as deleted).
    ///
    /// # Errors
    /// [`Error::Request`] for a refused batch (earlier batches stay deleted),
    /// [`Error::BadResponse`] for a malformed answer.
    pub async fn delete_objects(&self, keys: &[String], quiet: bool) -> Result<Vec<String>, Error> {
        let mut deleted = Vec::new();
        for batch in keys.chunks(MAX_DELETE_BATCH) {
            let body = list_wire::delete_body(batch, quiet);
            let md5 =
                base64::engine::general_purpose::STANDARD.encode(Md5::digest(body.as_bytes()));
            let mut headers = http::HeaderMap::new();
            crate::options::insert(&mut headers, "content-md5", &md5)?;
            crate::options::insert(&mut headers, "content-type", "application/xml")?;
            let req = self
                .bucket_request(Method::POST)
                .with_query("delete", "")
                .with_query("encoding-type", "url")
                .with_headers(headers)
                .with_body(bytes::Bytes::from(body));
            let first = batch.first().map(String::as_str).unwrap_or("");
            let resp = self
                .execute(req, &Ctx::new("DeleteMultipleObjects", first), None)
                .await?;
            deleted.extend(list_wire::parse_delete_result(&resp.body)?);
        }
        Ok(deleted)
    }

    /// PutBucket: creates this bucket (OSS answers 200 again when the caller already owns it).
    ///
    /// # Errors
    /// [`Error::Request`] (`BucketAlreadyExists` when another account has the name, ...).
    pub async fn create_bucket(&self) -> Result<(), Error> {
        let req = self.bucket_request(Method::PUT);
        self.execute(req, &Ctx::new("PutBucket", ""), None)
            .await
            .map(|_| ())
    }

    /// DeleteBucket: removes this bucket, which must hold no objects and no multipart uploads.
    ///
    /// # Errors
    /// [`Error::Request`] (`BucketNotEmpty`, `NoSuchBucket`, ...).
    pub async fn delete_bucket(&self) -> Result<(), Error> {
        let req = self.bucket_request(Method::DELETE);
        self.execute(req, &Ctx::new("DeleteBucket", ""), None)
            .await
            .map(|_| ())
    }

    /// GetBucketInfo: name, region, creation time and storage class of this bucket.
    ///
    /// # Errors
    /// [`Error::Request`] (`NoSuchBucket`, ...), [`Error::BadResponse`].
    pub async fn bucket_info(&self) -> Result<BucketSummary, Error> {
        let req = self
            .bucket_request(Method::GET)
            .with_query("bucketInfo", "");
        let resp = self
            .execute(req, &Ctx::new("GetBucketInfo", ""), None)
            .await?;
        list_wire::parse_bucket_info(&resp.body)
    }
}
