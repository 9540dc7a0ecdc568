//! The ambiguity rule (issue 14): a request carrying the upload's callback failed after its
//! whole body was sent, so OSS may have stored the object and called the application server.
//! Instead of guessing, the uploader asks OSS with HeadObject and either reports the outcome as
//! unknown (the object is there: never a second callback) or sends the request again.
//!
//! [`judge`] is the rule itself, pure so every branch is tested without I/O; the resumable
//! uploader reuses it with an attempt start it recorded in its checkpoint.
//! [`Client::execute_callback`] applies it around one callback-bearing request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use oss_transport::{Backoff, ExpectedCrc64, Request, Response};

use crate::client::{Client, Ctx};
use crate::error::{Confirmation, Error, UnknownCallbackOutcome};
use crate::object::HeadObjectOutput;

/// What this upload stored, to compare with HeadObject's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expected {
    /// Object size in bytes.
    pub(crate) size: u64,
    /// CRC-64/ECMA-182 of the object; `None` when CRC checks are off (nothing was hashed), and
    /// then the size alone is compared.
    pub(crate) crc64: Option<u64>,
}

/// The answer of [`judge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The object is the one this upload stored.
    Stored,
    /// It is not (or not provably): the request may be sent again.
    NotStored(Mismatch),
}

/// Why [`judge`] found the object not stored by this upload (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mismatch {
    /// HeadObject answered 404.
    Absent,
    /// Another size.
    Size { stored: u64 },
    /// Another CRC-64, or none where one was expected.
    Crc { stored: Option<u64> },
    /// Modified before the attempt started (in server time), or without a `Last-Modified`.
    Older,
}

/// The rule: the object is stored by this upload iff it exists (`head` is `Some`), its size and
/// CRC-64 equal `expect`'s, and — when `attempt_start` is known — its `Last-Modified` is not
/// older than [`server_second`]`(attempt_start, skew_ms)`.
///
/// `attempt_start` is the local time (`SystemTime::now()`) just before the first send that may
/// have stored the object; `skew_ms` is the transport's learnt offset, **server time − local
/// time** in milliseconds ([`oss_transport::Client::clock_skew_ms`]), so the attempt started at
/// `attempt_start + skew_ms` on OSS's clock. `Last-Modified` has whole seconds, so that instant
/// is truncated to its second: an object written in the same second as the attempt started
/// counts. `None` skips the time test (a Complete answered `NoSuchUpload` with no attempt of its
/// own known to have completed it: size and CRC-64 only, as before issue 14).
pub(crate) fn judge(
    head: Option<&HeadObjectOutput>,
    expect: &Expected,
    attempt_start: Option<SystemTime>,
    skew_ms: i64,
) -> Verdict {
    let Some(head) = head else {
        return Verdict::NotStored(Mismatch::Absent);
    };
    if head.size != expect.size {
        return Verdict::NotStored(Mismatch::Size { stored: head.size });
    }
    if let Some(crc) = expect.crc64 {
        if head.crc64 != Some(crc) {
            return Verdict::NotStored(Mismatch::Crc { stored: head.crc64 });
        }
    }
    if let Some(start) = attempt_start {
        let threshold = server_second(start, skew_ms);
        match head.last_modified {
            Some(modified) if modified >= threshold => {}
            _ => return Verdict::NotStored(Mismatch::Older),
        }
    }
    Verdict::Stored
}

/// `local` on the server's clock (`local + skew_ms`, skew = server − local), truncated to the
/// whole second as `Last-Modified` is.
pub(crate) fn server_second(local: SystemTime, skew_ms: i64) -> SystemTime {
    let delta = Duration::from_millis(skew_ms.unsigned_abs());
    let server = if skew_ms >= 0 {
        local.checked_add(delta)
    } else {
        local.checked_sub(delta)
    }
    .unwrap_or(local);
    match server.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::from_secs(d.as_secs()),
        // Before 1970: no object is older; keep it as it is.
        Err(_) => server,
    }
}

/// The sends of one callback-bearing request: when the first started (local clock) and how many
/// were made, the transport's own retries included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sends {
    pub(crate) first_start: SystemTime,
    pub(crate) count: u32,
    /// Whether a send failed after its body was sent (so a later `NoSuchUpload` may be ours).
    pub(crate) unconfirmed: bool,
}

/// For a transport failure after the whole body was sent: how many sends the transport made.
pub(crate) fn unconfirmed_sends(e: &Error) -> Option<u32> {
    match e {
        Error::Request { source, .. } => match source.as_ref() {
            oss_transport::Error::Unconfirmed { attempts, .. } => Some((*attempts).max(1)),
            _ => None,
        },
        _ => None,
    }
}

impl Client {
    /// The transport's learnt clock offset, server − local (ms); 0 for a test double.
    pub(crate) fn clock_skew_ms(&self) -> i64 {
        self.inner
            .transport
            .as_ref()
            .map_or(0, oss_transport::Client::clock_skew_ms)
    }

    /// HeadObject for the rule: `None` for a 404 (the object is absent), the error for any other
    /// failure (network, permission), which leaves the state unknown.
    pub(crate) async fn head_for_rule(&self, key: &str) -> Result<Option<HeadObjectOutput>, Error> {
        match self.head_object(key).await {
            Ok(head) => Ok(Some(head)),
            Err(e) if e.status() == Some(http::StatusCode::NOT_FOUND) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends a request that carries the upload's callback, under the ambiguity rule.
    ///
    /// On a failure after the whole body was sent ([`oss_transport::Error::Unconfirmed`]):
    /// without credentials, [`Error::CallbackOutcomeUnknown`] ([`Confirmation::NoCredentials`])
    /// and nothing else; with them, HeadObject and [`judge`] against `size` and `crc` with the
    /// first send's start. Stored: [`Error::CallbackOutcomeUnknown`] ([`Confirmation::Stored`]).
    /// Not stored: the same request again (the transport signs each send afresh) after the
    /// transport's backoff delay, while fewer than `max_attempts` sends were made and the body
    /// can be replayed; else the last error. A failed HEAD, or no `size` to compare:
    /// [`Confirmation::Unverified`], nothing resent. Any other outcome is returned as it is,
    /// with the record of the sends (a Complete needs it for `NoSuchUpload`).
    pub(crate) async fn execute_callback(
        &self,
        req: Request,
        ctx: &Ctx,
        crc: Option<ExpectedCrc64>,
        size: Option<u64>,
    ) -> (Sends, Result<Response, Error>) {
        let retry = self.inner.retry.clone();
        let max_sends = retry.max_attempts.max(1);
        // Made at the first resend only: seeding from the OS is a system call that a callback
        // request answered at once never needs.
        let mut backoff: Option<Backoff> = None;
        let mut sends = Sends {
            first_start: SystemTime::now(),
            count: 0,
            unconfirmed: false,
        };
        loop {
            let start = SystemTime::now();
            if sends.count == 0 {
                sends.first_start = start;
            }
            let err = match self.execute(req.clone(), ctx, crc.clone()).await {
                Ok(resp) => {
                    sends.count += 1;
                    return (sends, Ok(resp));
                }
                Err(e) => e,
            };
            let Some(made) = unconfirmed_sends(&err) else {
                sends.count += 1;
                return (sends, Err(err));
            };
            sends.count += made;
            sends.unconfirmed = true;
            let unknown = |confirmation, cause: Error| {
                let mut u = UnknownCallbackOutcome::new(
                    self.bucket(),
                    &ctx.key,
                    &ctx.operation,
                    confirmation,
                    cause,
                );
                u.upload_id = ctx.upload_id.clone();
                u.sends = sends.count;
                u
            };
            if self.inner.credentials.is_none() {
                tracing::warn!(key = %ctx.key, "callback request unconfirmed; no credentials to check the object with");
                let u = unknown(Confirmation::NoCredentials, err);
                return (sends, Err(Error::CallbackOutcomeUnknown(Box::new(u))));
            }
            let Some(size) = size else {
                let u = unknown(Confirmation::Unverified, err);
                return (sends, Err(Error::CallbackOutcomeUnknown(Box::new(u))));
            };
            let expect = Expected {
                size,
                crc64: crc.as_ref().map(ExpectedCrc64::value),
            };
            let head = match self.head_for_rule(&ctx.key).await {
                Ok(head) => head,
                Err(head_err) => {
                    tracing::warn!(key = %ctx.key, error = %head_err, "callback request unconfirmed; HeadObject failed");
                    let mut u = unknown(Confirmation::Unverified, err);
                    u.check_error = Some(Box::new(head_err));
                    return (sends, Err(Error::CallbackOutcomeUnknown(Box::new(u))));
                }
            };
            let skew = self.clock_skew_ms();
            match judge(head.as_ref(), &expect, Some(sends.first_start), skew) {
                Verdict::Stored => {
                    tracing::info!(key = %ctx.key, "callback request unconfirmed; the object is stored");
                    let mut u = unknown(Confirmation::Stored, err);
                    if let Some(head) = head {
                        u.etag = head.etag;
                        u.crc64 = head.crc64;
                        u.version_id = head.version_id;
                    }
                    return (sends, Err(Error::CallbackOutcomeUnknown(Box::new(u))));
                }
                Verdict::NotStored(why) => {
                    if sends.count >= max_sends || !req.body().is_replayable() {
                        tracing::warn!(key = %ctx.key, ?why, sends = sends.count, "callback request unconfirmed and the object not stored; no send left");
                        return (sends, Err(err));
                    }
                    // The delay the transport would have waited before this retry.
                    let backoff = backoff.get_or_insert_with(|| retry.backoff());
                    while backoff.retries() + 1 < sends.count {
                        backoff.next_delay();
                    }
                    let delay = backoff.next_delay();
                    tracing::info!(key = %ctx.key, ?why, ?delay, "callback request unconfirmed and the object not stored; sending again");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use http::HeaderMap;

    fn at(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis)
    }

    fn head(size: u64, crc64: Option<u64>, modified: Option<SystemTime>) -> HeadObjectOutput {
        let mut h = HeaderMap::new();
        h.insert("content-length", size.to_string().parse().unwrap());
        if let Some(c) = crc64 {
            h.insert("x-oss-hash-crc64ecma", c.to_string().parse().unwrap());
        }
        if let Some(m) = modified {
            h.insert("last-modified", httpdate::fmt_http_date(m).parse().unwrap());
        }
        HeadObjectOutput::from_headers(h)
    }

    const EXPECT: Expected = Expected {
        size: 10,
        crc64: Some(42),
    };

    #[test]
    fn stored_and_matching() {
        // Written 300 ms after the attempt started, within the same second.
        let h = head(10, Some(42), Some(at(1_000, 0)));
        assert_eq!(
            judge(Some(&h), &EXPECT, Some(at(1_000, 700)), 0),
            Verdict::Stored
        );
        let later = head(10, Some(42), Some(at(1_003, 0)));
        assert_eq!(
            judge(Some(&later), &EXPECT, Some(at(1_000, 700)), 0),
            Verdict::Stored
        );
    }

    #[test]
    fn absent() {
        assert_eq!(
            judge(None, &EXPECT, Some(at(1_000, 0)), 0),
            Verdict::NotStored(Mismatch::Absent)
        );
    }

    #[test]
    fn stored_with_another_crc() {
        let h = head(10, Some(43), Some(at(1_001, 0)));
        assert_eq!(
            judge(Some(&h), &EXPECT, Some(at(1_000, 0)), 0),
            Verdict::NotStored(Mismatch::Crc { stored: Some(43) })
        );
        let none = head(10, None, Some(at(1_001, 0)));
        assert_eq!(
            judge(Some(&none), &EXPECT, Some(at(1_000, 0)), 0),
            Verdict::NotStored(Mismatch::Crc { stored: None })
        );
        // With CRC checks off the size alone is compared.
        let off = Expected {
            size: 10,
            crc64: None,
        };
        assert_eq!(
            judge(Some(&h), &off, Some(at(1_000, 0)), 0),
            Verdict::Stored
        );
    }

    #[test]
    fn stored_with_another_size() {
        let h = head(11, Some(42), Some(at(1_001, 0)));
        assert_eq!(
            judge(Some(&h), &EXPECT, Some(at(1_000, 0)), 0),
            Verdict::NotStored(Mismatch::Size { stored: 11 })
        );
    }

    #[test]
    fn stored_before_the_attempt() {
        let h = head(10, Some(42), Some(at(999, 0)));
        assert_eq!(
            judge(Some(&h), &EXPECT, Some(at(1_000, 0)), 0),
            Verdict::NotStored(Mismatch::Older)
        );
        let undated = head(10, Some(42), None);
        assert_eq!(
            judge(Some(&undated), &EXPECT, Some(at(1_000, 0)), 0),
            Verdict::NotStored(Mismatch::Older)
        );
        // No attempt start known (NoSuchUpload on a first send): size and CRC-64 only.
        assert_eq!(judge(Some(&h), &EXPECT, None, 0), Verdict::Stored);
    }

    #[test]
    fn the_skew_is_server_minus_local() {
        // Local clock 5 s behind OSS (skew +5000): the attempt started at 1005.2 server time,
        // so an object modified at 1004 is older and one at 1005 is not.
        let start = Some(at(1_000, 200));
        let h1004 = head(10, Some(42), Some(at(1_004, 0)));
        let h1005 = head(10, Some(42), Some(at(1_005, 0)));
        assert_eq!(
            judge(Some(&h1004), &EXPECT, start, 5_000),
            Verdict::NotStored(Mismatch::Older)
        );
        assert_eq!(judge(Some(&h1005), &EXPECT, start, 5_000), Verdict::Stored);
        // Local clock 5 s ahead (skew -5000): 995.2 server time.
        let h995 = head(10, Some(42), Some(at(995, 0)));
        let h994 = head(10, Some(42), Some(at(994, 0)));
        assert_eq!(judge(Some(&h995), &EXPECT, start, -5_000), Verdict::Stored);
        assert_eq!(
            judge(Some(&h994), &EXPECT, start, -5_000),
            Verdict::NotStored(Mismatch::Older)
        );
        assert_eq!(server_second(at(1_000, 999), 1), at(1_001, 0));
        assert_eq!(server_second(at(1_000, 0), -1), at(999, 0));
    }
}

/// The rule applied around a send, with a scripted sender standing in for OSS.
#[cfg(test)]
mod loop_tests {
    use super::*;

    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use futures_util::future::BoxFuture;
    use http::{HeaderMap, Method, StatusCode};
    use oss_transport::{HttpSend, TimeoutPhase};

    use crate::UploadOutput;

    /// One scripted answer.
    enum Step {
        /// The PUT failed after its body was sent, after `attempts` transport attempts.
        Unconfirmed(u32),
        /// A 200 with these headers.
        Ok(Vec<(&'static str, String)>),
        /// A 404 without a body.
        NotFound,
        /// The HEAD failed on the network.
        Down,
    }

    /// Answers each request with the next scripted step and records `METHOD` of each.
    #[derive(Debug, Default)]
    struct Script {
        steps: Mutex<VecDeque<Step>>,
        seen: Mutex<Vec<Method>>,
    }

    impl std::fmt::Debug for Step {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Step")
        }
    }

    impl HttpSend for Script {
        fn send(&self, request: Request) -> BoxFuture<'_, Result<Response, oss_transport::Error>> {
            self.seen.lock().unwrap().push(request.method().clone());
            let step = self
                .steps
                .lock()
                .unwrap()
                .pop_front()
                .expect("a scripted step");
            Box::pin(async move {
                match step {
                    Step::Unconfirmed(attempts) => Err(oss_transport::Error::Unconfirmed {
                        attempts,
                        last: Box::new(oss_transport::Error::Timeout {
                            phase: TimeoutPhase::Read,
                        }),
                    }),
                    Step::Ok(headers) => {
                        let mut map = HeaderMap::new();
                        for (n, v) in headers {
                            map.insert(n, v.parse().unwrap());
                        }
                        Ok(Response::new(StatusCode::OK, map, bytes::Bytes::new()))
                    }
                    Step::NotFound => Err(oss_transport::Error::BadErrorResponse {
                        status: StatusCode::NOT_FOUND,
                        request_id: Some("HEAD404".into()),
                        snippet: String::new(),
                    }),
                    Step::Down => Err(oss_transport::Error::Connect {
                        host: "127.0.0.1:9".into(),
                        source: "refused".into(),
                    }),
                }
            })
        }
    }

    const BODY: &[u8] = b"hello, oss";

    fn client(script: &Arc<Script>, credentials: bool, max_attempts: u32) -> Client {
        let mut b = Client::builder("b")
            .with_region("cn-hangzhou")
            .with_endpoint("http://127.0.0.1:9")
            .with_path_style(true)
            .with_http_send(Arc::clone(script) as Arc<dyn HttpSend>);
        if credentials {
            b = b.with_static_credentials("ak", "sk");
        }
        let mut client = b.build().unwrap();
        Arc::get_mut(&mut client.inner).unwrap().retry = oss_transport::RetryConfig::default()
            .with_max_attempts(max_attempts)
            .with_base_delay(Duration::ZERO);
        client
    }

    fn script(steps: Vec<Step>) -> Arc<Script> {
        Arc::new(Script {
            steps: Mutex::new(steps.into()),
            seen: Mutex::new(Vec::new()),
        })
    }

    /// A HEAD answer for the object this test "uploads", modified now.
    fn matching_head() -> Step {
        let crc = oss_types::Crc64::checksum(BODY);
        Step::Ok(vec![
            ("content-length", BODY.len().to_string()),
            ("x-oss-hash-crc64ecma", crc.to_string()),
            ("etag", "\"E1\"".into()),
            ("last-modified", httpdate::fmt_http_date(SystemTime::now())),
        ])
    }

    async fn put(client: &Client) -> Result<UploadOutput, Error> {
        let mut headers = HeaderMap::new();
        headers.insert("x-oss-callback", "e30=".parse().unwrap());
        let url: http::Uri = "http://127.0.0.1:9/b/k?x-oss-signature=s".parse().unwrap();
        client.put_presigned(url, headers, BODY).await
    }

    fn seen(script: &Script) -> Vec<Method> {
        script.seen.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn no_credentials_no_head_no_resend() {
        let s = script(vec![Step::Unconfirmed(1)]);
        let err = put(&client(&s, false, 3)).await.unwrap_err();
        let u = err.callback_outcome_unknown().expect("unknown outcome");
        assert_eq!(u.confirmation, Confirmation::NoCredentials);
        assert!(!u.is_stored());
        assert_eq!((u.bucket.as_str(), u.key.as_str()), ("b", "k"));
        assert_eq!(seen(&s), [Method::PUT]);
        assert!(err.to_string().contains("no credentials"), "{err}");
    }

    #[tokio::test]
    async fn stored_is_an_unknown_outcome_without_a_resend() {
        let s = script(vec![Step::Unconfirmed(2), matching_head()]);
        let err = put(&client(&s, true, 3)).await.unwrap_err();
        let u = err.callback_outcome_unknown().expect("unknown outcome");
        assert_eq!(u.confirmation, Confirmation::Stored);
        assert_eq!(u.etag.as_deref(), Some("\"E1\""));
        assert_eq!(u.crc64, Some(oss_types::Crc64::checksum(BODY)));
        assert_eq!(u.sends, 2);
        assert_eq!(seen(&s), [Method::PUT, Method::HEAD]);
        assert!(!err.is_retryable());
        assert_eq!(
            err.to_string(),
            "the object oss://b/k is stored (etag \"E1\"), but whether the callback ran is unknown"
        );
    }

    #[tokio::test]
    async fn absent_is_sent_again() {
        let s = script(vec![
            Step::Unconfirmed(1),
            Step::NotFound,
            Step::Ok(vec![("etag", "\"E2\"".into())]),
        ]);
        let out = put(&client(&s, true, 3)).await.unwrap();
        assert_eq!(out.etag.as_deref(), Some("\"E2\""));
        assert!(out.callback.is_some());
        assert_eq!(seen(&s), [Method::PUT, Method::HEAD, Method::PUT]);
    }

    #[tokio::test]
    async fn another_object_is_not_ours_and_the_budget_ends_the_resends() {
        // A same-size object with another CRC, then nothing: two sends in all, then the error.
        let other = Step::Ok(vec![
            ("content-length", BODY.len().to_string()),
            ("x-oss-hash-crc64ecma", "1".into()),
            ("last-modified", httpdate::fmt_http_date(SystemTime::now())),
        ]);
        let s = script(vec![
            Step::Unconfirmed(1),
            other,
            Step::Unconfirmed(1),
            Step::NotFound,
        ]);
        let err = put(&client(&s, true, 2)).await.unwrap_err();
        assert!(err.callback_outcome_unknown().is_none(), "{err:?}");
        assert!(matches!(&err, Error::Request { source, .. } if source.is_unconfirmed()));
        assert_eq!(
            seen(&s),
            [Method::PUT, Method::HEAD, Method::PUT, Method::HEAD]
        );
        // The transport's own attempts count: 3 of 3 made, so none is left after the HEAD.
        let s = script(vec![Step::Unconfirmed(3), Step::NotFound]);
        let err = put(&client(&s, true, 3)).await.unwrap_err();
        assert!(err.callback_outcome_unknown().is_none(), "{err:?}");
        assert_eq!(seen(&s), [Method::PUT, Method::HEAD]);
    }

    #[tokio::test]
    async fn a_failed_head_leaves_it_unverified_and_unsent() {
        let s = script(vec![Step::Unconfirmed(1), Step::Down]);
        let err = put(&client(&s, true, 3)).await.unwrap_err();
        let u = err.callback_outcome_unknown().expect("unknown outcome");
        assert_eq!(u.confirmation, Confirmation::Unverified);
        assert!(u.check_error.is_some());
        assert_eq!(seen(&s), [Method::PUT, Method::HEAD]);
        assert!(err.to_string().contains("may be stored"), "{err}");
    }

    #[tokio::test]
    async fn without_a_callback_nothing_is_checked() {
        let s = script(vec![Step::Unconfirmed(1)]);
        let c = client(&s, true, 3);
        let url: http::Uri = "http://127.0.0.1:9/b/k".parse().unwrap();
        let err = c
            .put_presigned(url, HeaderMap::new(), BODY)
            .await
            .unwrap_err();
        assert!(err.callback_outcome_unknown().is_none());
        assert_eq!(seen(&s), [Method::PUT]);
    }
}
