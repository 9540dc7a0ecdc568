//! The retry loop: the only code in the crate that sleeps.

use std::future::Future;
use std::time::Duration;

use crate::backoff::Backoff;
use crate::error::Error;

/// Retry settings (protocol §6.2).
///
/// ```
/// use std::time::Duration;
/// use oss_transport::RetryConfig;
///
/// let defaults = RetryConfig::default();
/// assert_eq!(defaults.max_attempts, 3);
/// assert_eq!(defaults.base_delay, Duration::from_millis(200));
/// assert_eq!(defaults.max_delay, Duration::from_secs(20));
///
/// let none = RetryConfig::default().with_max_attempts(1);
/// assert_eq!(none.max_attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryConfig {
    /// Total tries, the first included. Default 3; 0 is treated as 1.
    pub max_attempts: u32,
    /// Base of the full-jitter exponential backoff. Default 200 ms.
    pub base_delay: Duration,
    /// Cap of a single delay. Default 20 s.
    pub max_delay: Duration,
    /// Seed for the jitter (reproducible delays); `None` (the default) seeds from the OS.
    pub seed: Option<u64>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            seed: None,
        }
    }
}

impl RetryConfig {
    /// Sets the total number of tries. Default 3.
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// Sets the backoff base. Default 200 ms. `Duration::ZERO` retries immediately (tests).
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the cap of one delay. Default 20 s.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Seeds the jitter. Default: from the OS.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// A fresh backoff for these settings: seeded with [`RetryConfig::seed`] when set, else from
    /// the OS (a system call; make it only once a retry is due).
    pub fn backoff(&self) -> Backoff {
        match self.seed {
            Some(seed) => Backoff::seeded(self.base_delay, self.max_delay, seed),
            None => Backoff::new(self.base_delay, self.max_delay),
        }
    }
}

/// A failed attempt.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) error: Error,
    /// Whether the whole request body was handed to the connection during this attempt (see
    /// `Activity::body_sent`): after that, OSS may have the whole request and have acted on it.
    pub(crate) body_sent: bool,
}

impl Failure {
    /// A failure of an attempt whose body was not (yet) sent whole; the attempt sets
    /// [`Failure::body_sent`] from its activity before handing the failure to the loop.
    pub(crate) fn new(error: Error) -> Self {
        Self {
            error,
            body_sent: false,
        }
    }
}

/// What the loop must know about the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// The body can be sent again.
    pub(crate) replayable: bool,
    /// The request carries an upload callback: a retryable failure after the whole body was
    /// sent is [`Error::Unconfirmed`], never resent here.
    pub(crate) callback: bool,
}

/// What the loop does with a failed attempt of a request under `policy`.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Send again (budget permitting).
    Retry,
    /// Return the error as it is.
    Final,
    /// Return [`Error::Unconfirmed`]: OSS may have stored the object and run the callback.
    Unconfirmed,
}

/// The callback rule (docs/decisions.md, "oss-transport: callback requests are unconfirmed once
/// their whole body was sent"). A failure that says nothing was stored (an answer refusing the
/// request's authentication, or any failure before the whole body left) is retried as for any
/// request. A 2xx whose CRC-64 differs from the body's is final: OSS stored the object and ran
/// the callback, so a resend would run it again. Every other retryable failure after the whole
/// body was sent leaves the outcome unknown.
fn next(policy: Policy, failure: &Failure) -> Next {
    if !failure.error.is_retryable() {
        return Next::Final;
    }
    if policy.callback && failure.body_sent && !failure.error.is_refusal_before_processing() {
        if matches!(failure.error, Error::CrcMismatch { .. }) {
            return Next::Final;
        }
        return Next::Unconfirmed;
    }
    if policy.replayable {
        Next::Retry
    } else {
        Next::Final
    }
}

/// Runs `attempt(1)`, `attempt(2)`, ... until one succeeds, the error is final, or the budget is
/// spent. A retryable error on the last allowed attempt becomes [`Error::Exhausted`] (when more
/// than one attempt was made); a callback request's retryable failure after its whole body was
/// sent becomes [`Error::Unconfirmed`] at once; an error that may not be retried for this
/// request (a consumed stream body) is returned as it is.
pub(crate) async fn run<T, F, Fut>(
    config: &RetryConfig,
    policy: Policy,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failure>>,
{
    let max = config.max_attempts.max(1);
    // Made on the first retry only: seeding from the OS is a syscall most requests never need.
    let mut backoff: Option<Backoff> = None;
    let mut n = 0u32;
    loop {
        n += 1;
        let failure = match attempt(n).await {
            Ok(value) => return Ok(value),
            Err(f) => f,
        };
        match next(policy, &failure) {
            Next::Retry => {}
            Next::Final => {
                if failure.error.is_retryable() {
                    tracing::debug!(
                        attempt = n,
                        "retryable error, but this request may not be sent again"
                    );
                }
                return Err(failure.error);
            }
            Next::Unconfirmed => {
                tracing::debug!(
                    attempt = n,
                    error = %failure.error,
                    "callback request failed after its body was sent; not resending"
                );
                return Err(Error::Unconfirmed {
                    attempts: n,
                    last: Box::new(failure.error),
                });
            }
        }
        if n >= max {
            return Err(if n > 1 {
                Error::Exhausted {
                    attempts: n,
                    last: Box::new(failure.error),
                }
            } else {
                failure.error
            });
        }
        let delay = backoff.get_or_insert_with(|| config.backoff()).next_delay();
        tracing::debug!(attempt = n, delay_ms = delay.as_millis() as u64, error = %failure.error, "retrying");
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn fast() -> RetryConfig {
        RetryConfig::default().with_base_delay(Duration::ZERO)
    }

    const PLAIN: Policy = Policy {
        replayable: true,
        callback: false,
    };

    const CALLBACK: Policy = Policy {
        replayable: true,
        callback: true,
    };

    /// A failure after the whole body was handed to the connection.
    fn after_body(error: Error) -> Failure {
        Failure {
            error,
            body_sent: true,
        }
    }

    fn reset() -> Error {
        Error::Connection {
            response_started: false,
            source: "reset".into(),
        }
    }

    fn service(status: u16, code: &str) -> Error {
        crate::wire::service_error(
            http::StatusCode::from_u16(status).unwrap(),
            &http::HeaderMap::new(),
            format!("<Error><Code>{code}</Code></Error>").as_bytes(),
        )
    }

    #[tokio::test]
    async fn retries_until_success() {
        let calls = Cell::new(0);
        let out = run(&fast(), PLAIN, |n| {
            calls.set(n);
            async move {
                if n < 3 {
                    Err(after_body(Error::Connect {
                        host: "h".into(),
                        source: "x".into(),
                    }))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out.unwrap(), 3);
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn exhausts_and_records_attempts() {
        let err = run(&fast(), PLAIN, |_| async {
            Err::<(), _>(Failure::new(Error::Timeout {
                phase: crate::TimeoutPhase::Read,
            }))
        })
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::Exhausted { attempts: 3, .. }),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn final_errors_and_stream_bodies_are_not_retried() {
        let calls = Cell::new(0);
        let err = run(&fast(), PLAIN, |n| {
            calls.set(n);
            async { Err::<(), _>(Failure::new(Error::invalid("bad"))) }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
        assert_eq!(calls.get(), 1);

        let stream = Policy {
            replayable: false,
            callback: false,
        };
        calls.set(0);
        let err = run(&fast(), stream, |n| {
            calls.set(n);
            async move { Err::<(), _>(Failure::new(reset())) }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Connection { .. }), "{err:?}");
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn a_callback_request_failing_after_its_body_is_unconfirmed() {
        let failures = [
            reset(),
            Error::Timeout {
                phase: crate::TimeoutPhase::Read,
            },
            service(503, "ServiceUnavailable"),
            service(500, "InternalError"),
            service(429, "TooManyRequests"),
        ];
        for failure in failures {
            let text = format!("{failure:?}");
            let calls = Cell::new(0);
            let mut once = Some(failure);
            let err = run(&fast(), CALLBACK, |n| {
                calls.set(n);
                let f = once.take().map(after_body);
                async move { Err::<(), _>(f.unwrap_or_else(|| Failure::new(reset()))) }
            })
            .await
            .unwrap_err();
            assert_eq!(calls.get(), 1, "{text}");
            assert!(err.is_unconfirmed(), "{text}: {err:?}");
            assert!(!err.is_retryable());
            let Error::Unconfirmed { attempts, last } = &err else {
                unreachable!()
            };
            assert_eq!(*attempts, 1);
            assert_eq!(format!("{last:?}"), text);
        }

        // The same failures without a callback are retried.
        let calls = Cell::new(0);
        let out = run(&fast(), PLAIN, |n| {
            calls.set(n);
            async move {
                if n == 1 {
                    Err(after_body(service(503, "ServiceUnavailable")))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_callback_request_is_retried_while_its_body_was_not_sent_whole() {
        // Attempt 1 breaks mid-body, attempt 2 after the body: two sends, then unconfirmed.
        let err = run(&fast(), CALLBACK, |n| async move {
            Err::<(), _>(if n == 1 {
                Failure::new(reset())
            } else {
                after_body(reset())
            })
        })
        .await
        .unwrap_err();
        assert!(
            matches!(err, Error::Unconfirmed { attempts: 2, .. }),
            "{err:?}"
        );

        let out = run(&fast(), CALLBACK, |n| async move {
            if n < 3 {
                Err(Failure::new(service(503, "SlowDown")))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(out.unwrap(), 3);
    }

    #[tokio::test]
    async fn callback_answers_that_decide_are_unchanged() {
        // Refused before processing (authentication): nothing stored, retried.
        for refusal in [
            service(401, "AccessDenied"),
            service(403, "RequestTimeTooSkewed"),
        ] {
            let mut once = Some(refusal);
            let out = run(&fast(), CALLBACK, |n| {
                let f = once.take().map(after_body);
                async move {
                    match f {
                        Some(f) => Err(f),
                        None => Ok(n),
                    }
                }
            })
            .await;
            assert_eq!(out.unwrap(), 2);
        }
        // Final answers: returned as they are, once.
        let finals = [
            service(403, "AccessDenied"),
            service(404, "NoSuchUpload"),
            Error::CrcMismatch {
                client: 1,
                server: 2,
            },
        ];
        for failure in finals {
            let text = format!("{failure:?}");
            let calls = Cell::new(0);
            let mut once = Some(failure);
            let err = run(&fast(), CALLBACK, |n| {
                calls.set(n);
                let f = once.take().map(after_body);
                async move { Err::<(), _>(f.unwrap_or_else(|| Failure::new(reset()))) }
            })
            .await
            .unwrap_err();
            assert_eq!(calls.get(), 1, "{text}");
            assert_eq!(format!("{err:?}"), text);
        }
    }
}
