//! A token bucket over all API requests.

use std::time::Duration;

// Tokio's clock (the system clock unless a test pauses it), so a test on the paused clock can
// drain and refill the bucket without waiting.
use tokio::time::Instant;

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
}
