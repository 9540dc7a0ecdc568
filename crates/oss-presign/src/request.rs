//! What to presign: an operation on an object, with optional headers, query and callback.

use std::time::{Duration, SystemTime};

use http::Method;
use oss_callback::{Callback, CallbackVars};

/// Where a presigned upload carries its callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CallbackCarrier {
    /// `x-oss-callback` / `x-oss-callback-var` headers. They are signed, so they are listed in
    /// [`PresignedRequest::signed_headers`](crate::PresignedRequest::signed_headers) and the
    /// uploader must send them exactly; a changed or missing one fails the signature (403).
    #[default]
    Header,
    /// `callback` / `callback-var` query parameters, signed as part of the URL: the uploader
    /// sends nothing extra.
    Query,
}

/// The operations OSS accepts presigned URLs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Operation {
    GetObject,
    HeadObject,
    PutObject,
    InitiateMultipartUpload,
    UploadPart { upload_id: String, part_number: u32 },
    CompleteMultipartUpload { upload_id: String },
    AbortMultipartUpload { upload_id: String },
}

impl Operation {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::PutObject => "PutObject",
            Operation::InitiateMultipartUpload => "InitiateMultipartUpload",
            Operation::UploadPart { .. } => "UploadPart",
            Operation::CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            Operation::AbortMultipartUpload { .. } => "AbortMultipartUpload",
        }
    }

    pub(crate) fn method(&self) -> Method {
        match self {
            Operation::GetObject => Method::GET,
            Operation::HeadObject => Method::HEAD,
            Operation::PutObject | Operation::UploadPart { .. } => Method::PUT,
            Operation::InitiateMultipartUpload | Operation::CompleteMultipartUpload { .. } => {
                Method::POST
            }
            Operation::AbortMultipartUpload { .. } => Method::DELETE,
        }
    }

    /// Only the operations that store an object can fire a callback (protocol §4).
    pub(crate) fn accepts_callback(&self) -> bool {
        matches!(
            self,
            Operation::PutObject | Operation::CompleteMultipartUpload { .. }
        )
    }

    /// The operation's own query parameters (decoded name, value; empty value = bare name).
    pub(crate) fn query(&self) -> Vec<(String, String)> {
        match self {
            Operation::InitiateMultipartUpload => vec![("uploads".into(), String::new())],
            Operation::UploadPart {
                upload_id,
                part_number,
            } => vec![
                ("partNumber".into(), part_number.to_string()),
                ("uploadId".into(), upload_id.clone()),
            ],
            Operation::CompleteMultipartUpload { upload_id }
            | Operation::AbortMultipartUpload { upload_id } => {
                vec![("uploadId".into(), upload_id.clone())]
            }
            _ => Vec::new(),
        }
    }
}

/// A request to presign. Start from one of the operation constructors, add options with the
/// `with_*` setters, and pass it to [`Presigner::presign`](crate::Presigner::presign).
#[derive(Debug, Clone)]
pub struct PresignRequest {
    pub(crate) operation: Operation,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) callback: Option<(Callback, Option<CallbackVars>, CallbackCarrier)>,
    pub(crate) expires: Option<Duration>,
    pub(crate) time: Option<SystemTime>,
    pub(crate) additional_headers: Vec<String>,
}

impl PresignRequest {
    fn new(operation: Operation, bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            operation,
            bucket: bucket.into(),
            key: key.into(),
            headers: Vec::new(),
            query: Vec::new(),
            callback: None,
            expires: None,
            time: None,
            additional_headers: Vec::new(),
        }
    }

    /// `PUT` of a whole object (PutObject); may carry a callback.
    pub fn put_object(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self::new(Operation::PutObject, bucket, key)
    }

    /// `GET` of an object (GetObject).
    pub fn get_object(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self::new(Operation::GetObject, bucket, key)
    }

    /// `HEAD` of an object (HeadObject).
    pub fn head_object(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self::new(Operation::HeadObject, bucket, key)
    }

    /// `POST ?uploads` (InitiateMultipartUpload).
    pub fn initiate_multipart_upload(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self::new(Operation::InitiateMultipartUpload, bucket, key)
    }

    /// `PUT ?partNumber=N&uploadId=ID` (UploadPart). Part numbers run 1..=10000; OSS refuses
    /// others when the URL is used.
    pub fn upload_part(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
        part_number: u32,
    ) -> Self {
        let operation = Operation::UploadPart {
            upload_id: upload_id.into(),
            part_number,
        };
        Self::new(operation, bucket, key)
    }

    /// `POST ?uploadId=ID` (CompleteMultipartUpload); may carry a callback.
    pub fn complete_multipart_upload(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
    ) -> Self {
        let operation = Operation::CompleteMultipartUpload {
            upload_id: upload_id.into(),
        };
        Self::new(operation, bucket, key)
    }

    /// `DELETE ?uploadId=ID` (AbortMultipartUpload).
    pub fn abort_multipart_upload(
        bucket: impl Into<String>,
        key: impl Into<String>,
        upload_id: impl Into<String>,
    ) -> Self {
        let operation = Operation::AbortMultipartUpload {
            upload_id: upload_id.into(),
        };
        Self::new(operation, bucket, key)
    }

    /// Adds a request header. `content-type`, `content-md5` and `x-oss-*` headers are signed:
    /// the uploader must then send them with exactly these values. Default: none.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Signs a `Content-Type`; the presigner adds none by itself (like the official SDKs), so
    /// without this the uploader may send any type. Default: none.
    pub fn with_content_type(self, content_type: impl Into<String>) -> Self {
        self.with_header("content-type", content_type)
    }

    /// Adds a query parameter (decoded name and value; an empty value is a bare name), e.g.
    /// `response-content-disposition` on a GET. Default: none.
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Attaches an upload callback (PutObject and CompleteMultipartUpload only; others fail with
    /// [`Error::CallbackNotSupported`](crate::Error::CallbackNotSupported)). Default: none.
    pub fn with_callback(
        mut self,
        callback: Callback,
        vars: Option<CallbackVars>,
        carrier: CallbackCarrier,
    ) -> Self {
        self.callback = Some((callback, vars, carrier));
        self
    }

    /// How long the URL stays valid, 1 s to 7 days (604 800 s), whole seconds.
    /// Default: 15 minutes.
    pub fn with_expires(mut self, expires: Duration) -> Self {
        self.expires = Some(expires);
        self
    }

    /// The signing instant. Default: the system clock at [`Presigner::presign`](crate::Presigner::presign).
    pub fn with_time(mut self, time: SystemTime) -> Self {
        self.time = Some(time);
        self
    }

    /// Headers outside the default signed set (e.g. `host`) to sign as well; listed in the URL's
    /// `x-oss-additional-headers`. Default: none.
    pub fn with_additional_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.additional_headers = names.into_iter().map(Into::into).collect();
        self
    }
}
