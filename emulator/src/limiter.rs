//! Token buckets over API requests: one over all of them, or one per accepted API token.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

// Tokio's clock (the system clock unless a test pauses it), so a test on the paused clock can
// drain and refill the bucket without waiting.
use tokio::time::Instant;

/// The emulator's rate limit: one bucket, or (per token) one bucket per accepted token and one
/// more for requests that present none of them.
#[derive(Debug)]
pub(crate) struct Limiter {
    shared: Mutex<TokenBucket>,
    per_token: BTreeMap<String, Mutex<TokenBucket>>,
}

impl Limiter {
    /// `per_token`: the tokens that each get a bucket of their own; empty: one bucket for all.
    pub(crate) fn new(rate: f64, burst: u32, per_token: &[String]) -> Self {
        Self {
            shared: Mutex::new(TokenBucket::new(rate, burst)),
            per_token: per_token
                .iter()
                .map(|token| (token.clone(), Mutex::new(TokenBucket::new(rate, burst))))
                .collect(),
        }
    }

    /// Takes a token from the bucket of the presented API token, or says how long to wait.
    pub(crate) fn try_take(&self, presented: Option<&str>, now: Instant) -> Result<(), Duration> {
        let bucket = presented
            .and_then(|token| self.per_token.get(token))
            .unwrap_or(&self.shared);
        // A poisoned lock only means another request panicked; the bucket is still usable.
        let mut bucket = bucket.lock().unwrap_or_else(PoisonError::into_inner);
        bucket.try_take(now)
    }
}

#[derive(Debug)]
pub(crate) struct TokenBucket {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// `burst` 0 means one second's worth of `rate` (at least one token).
    pub(crate) fn new(rate: f64, burst: u32) -> Self {
        let capacity = if burst == 0 {
            rate.ceil().max(1.0)
        } else {
            f64::from(burst)
        };
        Self {
            rate,
            capacity,
            tokens: capacity,
            last: Instant::now(),
        }
    }

    /// Takes a token, or says how long until one is available.
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if self.rate <= 0.0 {
            return Err(Duration::from_secs(3600));
        }
        Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
    }
}

/// `Retry-After` in whole seconds, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses_until_refilled() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2.0, 3);
        for _ in 0..3 {
            assert!(bucket.try_take(start).is_ok());
        }
        let wait = bucket.try_take(start).unwrap_err();
        assert!(wait <= Duration::from_millis(500));
        assert!(bucket.try_take(start + Duration::from_millis(600)).is_ok());
        assert_eq!(retry_after_secs(wait), 1);
    }

    #[test]
    fn per_token_buckets_drain_apart_and_strangers_share_one() {
        let now = Instant::now();
        let tokens = ["a".to_string(), "b".to_string()];
        let limiter = Limiter::new(1.0, 1, &tokens);
        assert!(limiter.try_take(Some("a"), now).is_ok());
        assert!(limiter.try_take(Some("a"), now).is_err());
        assert!(limiter.try_take(Some("b"), now).is_ok());
        assert!(limiter.try_take(None, now).is_ok());
        assert!(limiter.try_take(Some("stranger"), now).is_err());

        let one = Limiter::new(1.0, 1, &[]);
        assert!(one.try_take(Some("a"), now).is_ok());
        assert!(one.try_take(Some("b"), now).is_err(), "one bucket for all");
    }
}
