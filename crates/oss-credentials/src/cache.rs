//! The caching layer over any provider: refresh ahead of expiry, one fetch at a time, keep the
//! last good credentials while they are valid.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use oss_sign::{Credentials, ProvideCredentials, ProvideFuture};
use rand::{Rng as _, SeedableRng as _};

use crate::{Clock, Error, SystemClock};

/// How long before expiry a refresh starts (spec §1.3, credentials-python/java).
pub const REFRESH_AHEAD: Duration = Duration::from_secs(15 * 60);
/// Longest wait between two failed refreshes while the old credentials are still valid.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(5 * 60);

/// Caches the credentials of another provider.
///
/// - Credentials without an expiry are fetched once and kept.
/// - Credentials that expire are refreshed ahead of time: [`REFRESH_AHEAD`] (15 minutes)
///   before expiry, or at half their lifetime when they live less than 30 minutes.
/// - Refreshes are single-flight: while one caller fetches, callers holding still-valid
///   credentials get them at once, and callers without valid credentials wait for that one
///   fetch instead of starting their own.
/// - When a refresh fails while the cached credentials are still valid, they keep being served,
///   a warning is logged, and the next attempt waits a jittered backoff (1 s up to
///   max(10 s, 100 ms·2ⁿ⁻¹), at most 5 minutes, as credentials-python's ECS provider does).
/// - Expired credentials are never returned, and a failure is never cached: the next call
///   fetches again.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), oss_sign::Error> {
/// use oss_credentials::CachedProvider;
/// use oss_sign::{Credentials, ProvideCredentials, StaticCredentialsProvider};
/// let cached = CachedProvider::new(StaticCredentialsProvider::new(Credentials::new("ak", "sk")));
/// assert_eq!(cached.provide().await?.access_key_id(), "ak");
/// # Ok(())
/// # }
/// ```
pub struct CachedProvider {
    inner: Arc<dyn ProvideCredentials>,
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    /// Held by the one caller that is fetching.
    refresh: tokio::sync::Mutex<()>,
    rng: Mutex<rand::rngs::StdRng>,
}

#[derive(Default)]
struct State {
    current: Option<Entry>,
    /// After a failed refresh: no new attempt before this time.
    retry_at: Option<SystemTime>,
    failures: u32,
}

struct Entry {
    credentials: Credentials,
    refresh_at: Option<SystemTime>,
}

enum Cached {
    /// Valid and not due for a refresh.
    Fresh(Credentials),
    /// Valid, but a refresh is due.
    Due(Credentials),
    /// Nothing valid.
    Missing,
}

impl CachedProvider {
    /// Caches `inner`, judging time by the system clock.
    pub fn new(inner: impl ProvideCredentials + 'static) -> Self {
        Self::from_shared(Arc::new(inner))
    }

    /// Caches a shared provider.
    pub fn from_shared(inner: Arc<dyn ProvideCredentials>) -> Self {
        Self {
            inner,
            clock: Arc::new(SystemClock),
            state: Mutex::new(State::default()),
            refresh: tokio::sync::Mutex::new(()),
            rng: Mutex::new(rand::rngs::StdRng::from_entropy()),
        }
    }

    /// The clock that judges expiry. Default: [`SystemClock`].
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds the backoff jitter, for reproducible tests. Default: seeded by the OS.
    pub fn with_jitter_seed(mut self, seed: u64) -> Self {
        self.rng = Mutex::new(rand::rngs::StdRng::seed_from_u64(seed));
        self
    }

    /// Starts with `credentials` already cached (for example the ones a chain just resolved),
    /// so the first call does not fetch again.
    pub fn with_initial(self, credentials: Credentials) -> Self {
        let now = self.clock.now();
        if !credentials.is_expired_at(now) {
            self.lock().current = Some(Entry {
                refresh_at: refresh_at(&credentials, now),
                credentials,
            });
        }
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn cached(&self, now: SystemTime) -> Cached {
        let state = self.lock();
        match &state.current {
            Some(e) if !e.credentials.is_expired_at(now) => {
                let due = e.refresh_at.is_some_and(|r| r <= now)
                    && state.retry_at.is_none_or(|r| r <= now);
                if due {
                    Cached::Due(e.credentials.clone())
                } else {
                    Cached::Fresh(e.credentials.clone())
                }
            }
            _ => Cached::Missing,
        }
    }

    async fn get(&self) -> Result<Credentials, oss_sign::Error> {
        match self.cached(self.clock.now()) {
            Cached::Fresh(c) => Ok(c),
            Cached::Due(old) => {
                // Someone else is refreshing: the old credentials are still good.
                let Ok(_guard) = self.refresh.try_lock() else {
                    return Ok(old);
                };
                match self.cached(self.clock.now()) {
                    Cached::Fresh(c) => Ok(c),
                    Cached::Missing => self.fetch().await,
                    Cached::Due(old) => match self.fetch().await {
                        Ok(c) => Ok(c),
                        Err(e) => {
                            self.back_off(&e);
                            Ok(old)
                        }
                    },
                }
            }
            Cached::Missing => {
                let _guard = self.refresh.lock().await;
                // The caller we waited for may have fetched already.
                match self.cached(self.clock.now()) {
                    Cached::Fresh(c) | Cached::Due(c) => Ok(c),
                    Cached::Missing => self.fetch().await,
                }
            }
        }
    }

    /// One fetch from the inner provider; stores the result only on success.
    async fn fetch(&self) -> Result<Credentials, oss_sign::Error> {
        let credentials = self.inner.provide().await?;
        let now = self.clock.now();
        if let Some(expired) = credentials.expiration().filter(|e| *e <= now) {
            return Err(Error::Expired {
                expired_at: oss_sign::format_datetime(expired),
            }
            .into());
        }
        let mut state = self.lock();
        state.current = Some(Entry {
            refresh_at: refresh_at(&credentials, now),
            credentials: credentials.clone(),
        });
        state.retry_at = None;
        state.failures = 0;
        Ok(credentials)
    }

    fn back_off(&self, error: &oss_sign::Error) {
        let now = self.clock.now();
        let mut state = self.lock();
        state.failures = state.failures.saturating_add(1);
        let exp = state.failures.saturating_sub(1).min(16);
        let ceiling = Duration::from_millis(100u64 << exp)
            .max(Duration::from_secs(10))
            .min(MAX_RETRY_DELAY);
        let delay = {
            let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
            rng.gen_range(Duration::from_secs(1)..=ceiling)
        };
        state.retry_at = Some(now + delay);
        let expires_at = state
            .current
            .as_ref()
            .and_then(|e| e.credentials.expiration())
            .map(oss_sign::format_datetime);
        tracing::warn!(
            error = %error_chain(error),
            failures = state.failures,
            retry_in_ms = delay.as_millis() as u64,
            expires_at = expires_at.as_deref().unwrap_or("never"),
            "credentials refresh failed; serving the cached credentials until they expire"
        );
    }
}

/// When to refresh: 15 minutes before expiry, or at half the remaining lifetime if shorter.
fn refresh_at(credentials: &Credentials, now: SystemTime) -> Option<SystemTime> {
    let expiry = credentials.expiration()?;
    let lifetime = expiry.duration_since(now).unwrap_or_default();
    Some(expiry - REFRESH_AHEAD.min(lifetime / 2))
}

/// The error and its causes on one line (none of them carries a secret).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl fmt::Debug for CachedProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("CachedProvider")
            .field("inner", &self.inner)
            .field(
                "cached_access_key_id",
                &state
                    .current
                    .as_ref()
                    .map(|e| e.credentials.access_key_id()),
            )
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for CachedProvider {
    fn provide(&self) -> ProvideFuture<'_> {
        Box::pin(self.get())
    }

    /// Drops the cached credentials when their key id is `access_key_id` (a service rejected
    /// them), and any pending backoff, so the next call fetches at once. Credentials that
    /// already replaced the rejected ones are kept: when several requests in flight are
    /// refused together, only the first one causes a fetch.
    fn invalidate(&self, access_key_id: &str) -> bool {
        let dropped = {
            let mut state = self.lock();
            let matches = state
                .current
                .as_ref()
                .is_some_and(|e| e.credentials.access_key_id() == access_key_id);
            if matches {
                state.current = None;
                state.retry_at = None;
            }
            matches
        };
        if dropped {
            tracing::info!(
                access_key_id,
                "the service rejected the cached credentials; the next request fetches new ones"
            );
        }
        // A caching provider below (a chain link with its own cache) must forget them too.
        self.inner.invalidate(access_key_id) || dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use std::collections::VecDeque;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::UNIX_EPOCH;

    const HOUR: Duration = Duration::from_secs(3600);

    /// Returns queued results in order, counting fetches; each fetch yields a few times so that
    /// concurrent callers pile up behind it.
    #[derive(Debug, Default)]
    struct Scripted {
        results: Mutex<VecDeque<Option<Credentials>>>,
        fetches: AtomicUsize,
    }

    impl Scripted {
        fn push_ok(&self, id: &str, expires: SystemTime) {
            let c = Credentials::new(id, "sk")
                .with_security_token("tok")
                .with_expiration(expires);
            self.results.lock().unwrap().push_back(Some(c));
        }
        fn push_err(&self) {
            self.results.lock().unwrap().push_back(None);
        }
        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    impl ProvideCredentials for Scripted {
        fn provide(&self) -> ProvideFuture<'_> {
            Box::pin(async move {
                self.fetches.fetch_add(1, Ordering::SeqCst);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                match self.results.lock().unwrap().pop_front() {
                    Some(Some(c)) => Ok(c),
                    _ => Err(Error::LinkUnavailable { link: "scripted" }.into()),
                }
            })
        }
    }

    fn setup() -> (Arc<Scripted>, ManualClock, CachedProvider, SystemTime) {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = ManualClock::new(start);
        let inner = Arc::new(Scripted::default());
        let cache = CachedProvider::from_shared(inner.clone())
            .with_clock(Arc::new(clock.clone()))
            .with_jitter_seed(7);
        (inner, clock, cache, start)
    }

    async fn hundred(cache: &CachedProvider) -> Vec<Result<Credentials, oss_sign::Error>> {
        futures_util::future::join_all((0..100).map(|_| cache.provide())).await
    }

    #[tokio::test]
    async fn invalidate_drops_only_the_rejected_key_and_fetches_at_once() {
        let (inner, _clock, cache, start) = setup();
        inner.push_ok("first", start + HOUR);
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "first");
        assert!(
            !cache.invalidate("someone-else"),
            "another key id keeps the cache"
        );
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "first");
        assert!(cache.invalidate("first"));
        inner.push_ok("second", start + HOUR);
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "second");
        assert_eq!(inner.fetches(), 2);
        // A late rejection of "first" (a request that was in flight) changes nothing.
        assert!(!cache.invalidate("first"));
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "second");
        assert_eq!(inner.fetches(), 2);
    }

    #[tokio::test]
    async fn hundred_callers_after_expiry_make_one_fetch() {
        let (inner, clock, cache, start) = setup();
        inner.push_ok("first", start + HOUR);
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "first");
        assert_eq!(inner.fetches(), 1);

        clock.set(start + HOUR); // exactly at expiry: expired
        inner.push_ok("second", start + 2 * HOUR);
        let results = hundred(&cache).await;
        assert_eq!(inner.fetches(), 2, "exactly one fetch for 100 callers");
        for r in results {
            assert_eq!(r.unwrap().access_key_id(), "second");
        }
    }

    #[tokio::test]
    async fn hundred_callers_in_the_refresh_window_make_one_fetch_and_never_wait() {
        let (inner, clock, cache, start) = setup();
        inner.push_ok("first", start + HOUR);
        cache.provide().await.unwrap();

        clock.set(start + HOUR - Duration::from_secs(14 * 60)); // inside the 15-minute window
        inner.push_ok("second", start + 2 * HOUR);
        let results = hundred(&cache).await;
        assert_eq!(inner.fetches(), 2);
        let ids: Vec<String> = results
            .into_iter()
            .map(|r| r.unwrap().access_key_id().to_owned())
            .collect();
        assert_eq!(ids.iter().filter(|i| *i == "second").count(), 1);
        assert_eq!(ids.iter().filter(|i| *i == "first").count(), 99);
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "second");
        assert_eq!(inner.fetches(), 2);
    }

    #[tokio::test]
    async fn no_refresh_before_the_window() {
        let (inner, clock, cache, start) = setup();
        inner.push_ok("first", start + HOUR);
        cache.provide().await.unwrap();
        clock.set(start + HOUR - Duration::from_secs(15 * 60 + 1));
        cache.provide().await.unwrap();
        assert_eq!(inner.fetches(), 1);
    }

    #[tokio::test]
    async fn short_tokens_refresh_at_half_life() {
        let (inner, clock, cache, start) = setup();
        inner.push_ok("short", start + Duration::from_secs(600));
        cache.provide().await.unwrap();
        clock.set(start + Duration::from_secs(299));
        cache.provide().await.unwrap();
        assert_eq!(inner.fetches(), 1, "not before half of the 10-minute life");
        inner.push_ok("next", start + Duration::from_secs(1200));
        clock.set(start + Duration::from_secs(300));
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "next");
        assert_eq!(inner.fetches(), 2);
    }

    #[tokio::test]
    async fn failed_refresh_serves_valid_credentials_then_errors_after_expiry() {
        let (inner, clock, cache, start) = setup();
        inner.push_ok("first", start + HOUR);
        cache.provide().await.unwrap();

        clock.set(start + HOUR - Duration::from_secs(600));
        inner.push_err();
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "first");
        assert_eq!(inner.fetches(), 2);
        // Backing off: the next call does not hit the provider again at once.
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "first");
        assert_eq!(inner.fetches(), 2);
        // After the backoff (at most 10 s for the first failure) it tries again, still serving.
        clock.advance(Duration::from_secs(11));
        inner.push_err();
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "first");
        assert_eq!(inner.fetches(), 3);

        // Real expiry: never the expired credentials; the failure is returned.
        clock.set(start + HOUR);
        inner.push_err();
        let err = cache.provide().await.unwrap_err();
        assert!(
            error_chain(&err).contains("scripted"),
            "{}",
            error_chain(&err)
        );
        assert_eq!(inner.fetches(), 4);
        // "No value" is not cached: the next call fetches again, and recovers.
        inner.push_ok("recovered", start + 3 * HOUR);
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "recovered");
        assert_eq!(inner.fetches(), 5);
    }

    #[tokio::test]
    async fn already_expired_credentials_are_refused_and_not_cached() {
        let (inner, _clock, cache, start) = setup();
        inner.push_ok("stale", start);
        let err = cache.provide().await.unwrap_err();
        assert!(
            error_chain(&err).contains("expired at 20231114T221320Z"),
            "{}",
            error_chain(&err)
        );
        inner.push_ok("good", start + HOUR);
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "good");
    }

    #[tokio::test]
    async fn initial_credentials_skip_the_first_fetch() {
        let (inner, _clock, cache, start) = setup();
        let cache =
            cache.with_initial(Credentials::new("seed", "sk").with_expiration(start + HOUR));
        assert_eq!(cache.provide().await.unwrap().access_key_id(), "seed");
        assert_eq!(inner.fetches(), 0);
        assert!(!format!("{cache:?}").contains("sk\""));
    }
}
