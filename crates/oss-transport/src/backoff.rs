//! Full-jitter exponential backoff as a pure, seedable state machine (protocol §6.2).
//!
//! `delay(n) = uniform[0, 1) × min(base × 2^n, cap)` where `n` is the number of retries already
//! scheduled (the first retry uses `n = 1`, a ceiling of `2 × base`, like the Python SDK v2). Nothing
//! here sleeps: [`crate::retry`] does.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

/// Computes successive retry delays.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    retries: u32,
    rng: StdRng,
}

impl Backoff {
    /// A backoff with the given base delay and cap, seeded from the OS.
    pub fn new(base: Duration, cap: Duration) -> Self {
        Self::with_rng(base, cap, StdRng::from_entropy())
    }

    /// A deterministic backoff (tests, reproducible runs).
    pub fn seeded(base: Duration, cap: Duration, seed: u64) -> Self {
        Self::with_rng(base, cap, StdRng::seed_from_u64(seed))
    }

    fn with_rng(base: Duration, cap: Duration, rng: StdRng) -> Self {
        Self {
            base,
            cap,
            retries: 0,
            rng,
        }
    }

    /// The upper bound of the next delay: `min(base × 2^(retries + 1), cap)`.
    pub fn ceiling(&self) -> Duration {
        let shift = (self.retries + 1).min(31);
        self.base
            .checked_mul(1u32 << shift)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// The delay before the next retry; advances the state.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.retries = self.retries.saturating_add(1);
        if ceiling.is_zero() {
            return Duration::ZERO;
        }
        let fraction: f64 = self.rng.gen_range(0.0..1.0);
        ceiling.mul_f64(fraction)
    }

    /// How many delays have been handed out.
    pub fn retries(&self) -> u32 {
        self.retries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_growing_capped_ceiling() {
        let base = Duration::from_millis(200);
        let cap = Duration::from_secs(20);
        let mut b = Backoff::seeded(base, cap, 7);
        let expected_ceilings = [400, 800, 1600, 3200, 6400, 12800, 20000, 20000];
        for ceiling_ms in expected_ceilings {
            assert_eq!(b.ceiling(), Duration::from_millis(ceiling_ms));
            let d = b.next_delay();
            assert!(d < Duration::from_millis(ceiling_ms), "{d:?}");
        }
        assert_eq!(b.retries(), 8);
        for _ in 0..100 {
            assert!(b.next_delay() <= cap);
        }
    }

    #[test]
    fn same_seed_same_delays() {
        let mk = || Backoff::seeded(Duration::from_millis(200), Duration::from_secs(20), 42);
        let (mut a, mut b) = (mk(), mk());
        for _ in 0..10 {
            assert_eq!(a.next_delay(), b.next_delay());
        }
    }

    #[test]
    fn zero_base_never_waits() {
        let mut b = Backoff::new(Duration::ZERO, Duration::from_secs(20));
        assert!((0..5).all(|_| b.next_delay().is_zero()));
    }

    proptest::proptest! {
        #[test]
        fn never_exceeds_cap(base_ms in 0u64..10_000, cap_ms in 0u64..60_000, seed in 0u64..1000, n in 1usize..70) {
            let cap = Duration::from_millis(cap_ms);
            let mut b = Backoff::seeded(Duration::from_millis(base_ms), cap, seed);
            for _ in 0..n {
                proptest::prop_assert!(b.next_delay() <= cap);
            }
        }
    }
}
