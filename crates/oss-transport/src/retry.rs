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

    fn backoff(&self) -> Backoff {
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
    /// Whether any byte of a response arrived for this attempt.
    pub(crate) response_started: bool,
}

impl Failure {
    /// A failure before anything was received.
    pub(crate) fn early(error: Error) -> Self {
        Self {
            error,
            response_started: false,
        }
    }

    /// A failure after (part of) a response arrived.
    pub(crate) fn late(error: Error) -> Self {
        Self {
            error,
            response_started: true,
        }
    }
}

/// What the loop must know about the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    /// The body can be sent again.
    pub(crate) replayable: bool,
    /// The request carries an upload callback (retry only when no response byte arrived).
    pub(crate) callback: bool,
}

/// Runs `attempt(1)`, `attempt(2)`, ... until one succeeds, the error is final, or the budget is
/// spent. A retryable error on the last allowed attempt becomes [`Error::Exhausted`] (when more
/// than one attempt was made); an error that may not be retried for this request (a consumed
/// stream body, a callback request whose response had started) is returned as it is.
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
        let retryable = failure.error.is_retryable();
        let allowed = policy.replayable && !(policy.callback && failure.response_started);
        if !retryable || !allowed {
            if retryable {
                tracing::debug!(
                    attempt = n,
                    "retryable error, but this request may not be sent again"
                );
            }
            return Err(failure.error);
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

    #[tokio::test]
    async fn retries_until_success() {
        let calls = Cell::new(0);
        let out = run(&fast(), PLAIN, |n| {
            calls.set(n);
            async move {
                if n < 3 {
                    Err(Failure::late(Error::Connect {
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
            Err::<(), _>(Failure::early(Error::Timeout {
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
    async fn final_errors_and_unsafe_requests_are_not_retried() {
        let calls = Cell::new(0);
        let err = run(&fast(), PLAIN, |n| {
            calls.set(n);
            async { Err::<(), _>(Failure::late(Error::invalid("bad"))) }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
        assert_eq!(calls.get(), 1);

        let callback = Policy {
            replayable: true,
            callback: true,
        };
        let conn_err = || Error::Connection {
            response_started: true,
            source: "reset".into(),
        };
        calls.set(0);
        let err = run(&fast(), callback, |n| {
            calls.set(n);
            async move { Err::<(), _>(Failure::late(conn_err())) }
        })
        .await
        .unwrap_err();
        assert!(matches!(err, Error::Connection { .. }));
        assert_eq!(calls.get(), 1);

        // ... but a callback request is retried while no response byte arrived.
        let out = run(&fast(), callback, |n| async move {
            if n == 1 {
                Err(Failure::early(conn_err()))
            } else {
                Ok(n)
            }
        })
        .await;
        assert_eq!(out.unwrap(), 2);

        let stream = Policy {
            replayable: false,
            callback: false,
        };
        calls.set(0);
        let _ = run(&fast(), stream, |n| {
            calls.set(n);
            async move { Err::<(), _>(Failure::early(conn_err())) }
        })
        .await;
        assert_eq!(calls.get(), 1);
    }
}
