//! GetObject (streaming, Range), HeadObject and DeleteObject: checking what was uploaded.

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, StatusCode};
use oss_transport::ResponseBody;

use crate::client::{Client, Ctx};
use crate::options::insert;
use crate::Error;

/// What HeadObject reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HeadObjectOutput {
    /// Object size (`Content-Length`).
    pub size: u64,
    /// ETag, with its quotes.
    pub etag: Option<String>,
    /// Content-Type.
    pub content_type: Option<String>,
    /// `x-oss-hash-crc64ecma`.
    pub crc64: Option<u64>,
    /// `x-oss-version-id`.
    pub version_id: Option<String>,
    /// `x-oss-request-id`.
    pub request_id: Option<String>,
    /// User metadata (`x-oss-meta-*`), names without the prefix.
    pub metadata: Vec<(String, String)>,
    /// `Last-Modified`, when present and an HTTP date.
    pub last_modified: Option<std::time::SystemTime>,
    /// `x-oss-storage-class` (`Standard`, `IA`, `Archive`, ...).
    pub storage_class: Option<String>,
    /// `x-oss-object-type` (`Normal`, `Multipart`, `Appendable`).
    pub object_type: Option<String>,
    /// Every response header.
    pub headers: HeaderMap,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

impl HeadObjectOutput {
    pub(crate) fn from_headers(headers: HeaderMap) -> Self {
        let metadata = headers
            .iter()
            .filter_map(|(n, v)| {
                let name = n.as_str().strip_prefix("x-oss-meta-")?;
                Some((name.to_owned(), v.to_str().ok()?.to_owned()))
            })
            .collect();
        Self {
            size: header(&headers, "content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            etag: header(&headers, "etag"),
            content_type: header(&headers, "content-type"),
            crc64: header(&headers, "x-oss-hash-crc64ecma")
                .and_then(|v| oss_types::Crc64::parse_header(&v)),
            version_id: header(&headers, "x-oss-version-id"),
            request_id: header(&headers, "x-oss-request-id"),
            metadata,
            last_modified: header(&headers, "last-modified")
                .and_then(|v| httpdate::parse_http_date(&v).ok()),
            storage_class: header(&headers, "x-oss-storage-class"),
            object_type: header(&headers, "x-oss-object-type"),
            headers,
        }
    }
}

/// The body of a GetObject answer, read chunk by chunk.
pub struct ObjectBody {
    inner: ResponseBody,
}

impl fmt::Debug for ObjectBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ObjectBody(..)")
    }
}

impl ObjectBody {
    /// The next chunk, `None` at the end.
    ///
    /// # Errors
    /// [`Error::Request`] when the connection fails mid-body.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, Error>> {
        self.inner.chunk().await.map(|r| {
            r.map_err(|e| Error::Request {
                operation: "GetObject (body)".into(),
                target: String::new(),
                oss: None,
                source: Box::new(e),
            })
        })
    }

    /// Reads the rest of the body into memory.
    ///
    /// # Errors
    /// As [`ObjectBody::chunk`].
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let mut buf = BytesMut::new();
        while let Some(chunk) = self.chunk().await {
            buf.extend_from_slice(&chunk?);
        }
        Ok(buf.freeze())
    }
}

/// A GetObject answer: headers now, body as it arrives.
#[derive(Debug)]
#[non_exhaustive]
pub struct GetObjectOutput {
    /// 200, or 206 for a range.
    pub status: StatusCode,
    /// Object metadata from the response headers (`size` is this response's length).
    pub head: HeadObjectOutput,
    /// The body.
    pub body: ObjectBody,
}

/// Builder for a GetObject (see [`Client::get_object`]).
#[derive(Debug)]
#[must_use = "call .send().await"]
pub struct GetObject {
    client: Client,
    key: String,
    range: Option<(u64, Option<u64>)>,
    if_match: Option<String>,
}

impl GetObject {
    /// Sends `If-Match`: OSS answers 412 `PreconditionFailed` when the object's ETag differs (it
    /// was replaced), so the bytes of several requests all come from one version. Default: none.
    pub fn with_if_match(mut self, etag: impl Into<String>) -> Self {
        self.if_match = Some(etag.into());
        self
    }

    /// Only bytes `start..=end` (`end` `None`: to the end). Default: the whole object.
    pub fn with_range(mut self, start: u64, end: Option<u64>) -> Self {
        self.range = Some((start, end));
        self
    }

    /// Sends the request through the client's [`HttpSend`](oss_transport::HttpSend)
    /// (`send_streaming`); with the built-in transport the body streams from the connection.
    ///
    /// # Errors
    /// [`Error::Request`] (`NoSuchKey`, ...), [`Error::InvalidArgument`] for an inverted range.
    pub async fn send(self) -> Result<GetObjectOutput, Error> {
        let mut headers = HeaderMap::new();
        if let Some((start, end)) = self.range {
            let value = match end {
                Some(end) if end < start => {
                    return Err(Error::InvalidArgument {
                        name: "range",
                        message: format!("end {end} < start {start}"),
                    })
                }
                Some(end) => format!("bytes={start}-{end}"),
                None => format!("bytes={start}-"),
            };
            insert(&mut headers, "range", &value)?;
            // Out-of-range ends are clipped and bad starts refused, instead of a 200 whole body.
            insert(&mut headers, "x-oss-range-behavior", "standard")?;
        }
        if let Some(etag) = &self.if_match {
            insert(&mut headers, "if-match", etag)?;
        }
        let req = self
            .client
            .request(Method::GET, &self.key)
            .with_headers(headers);
        let ctx = Ctx::new("GetObject", &self.key);
        let resp = self.client.execute_streaming(req, &ctx).await?;
        Ok(GetObjectOutput {
            status: resp.status,
            head: HeadObjectOutput::from_headers(resp.headers),
            body: ObjectBody { inner: resp.body },
        })
    }
}

impl Client {
    /// Starts a GetObject of `key`.
    pub fn get_object(&self, key: impl Into<String>) -> GetObject {
        GetObject {
            client: self.clone(),
            key: key.into(),
            range: None,
            if_match: None,
        }
    }

    /// HeadObject: size, ETag, CRC-64, content type, last modified, storage class and user
    /// metadata.
    ///
    /// # Errors
    /// [`Error::Request`] (404 `NoSuchKey`, ...).
    pub async fn head_object(&self, key: &str) -> Result<HeadObjectOutput, Error> {
        let req = self.request(Method::HEAD, key);
        let resp = self
            .execute(req, &Ctx::new("HeadObject", key), None)
            .await?;
        Ok(HeadObjectOutput::from_headers(resp.headers))
    }

    /// DeleteObject (succeeds for a missing key, as OSS does).
    ///
    /// # Errors
    /// [`Error::Request`].
    pub async fn delete_object(&self, key: &str) -> Result<(), Error> {
        let req = self.request(Method::DELETE, key);
        self.execute(req, &Ctx::new("DeleteObject", key), None)
            .await
            .map(|_| ())
    }
}
