//! Retry timing: exponential backoff with full jitter, and the server's `Retry-After`.
//!
//! The retry loop itself lives in the client and is hand-written rather than built on `backon`:
//! backon's jitter adds a random part ON TOP of the exponential delay (it yields [d, 2d]), not
//! the full jitter ([0, d]) asked for here, and the loop needs state across attempts (an earlier
//! lost DELETE makes a later 404 a success) that backon's per-error closures cannot carry.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// Retries after the first attempt, for API calls and list sources alike.
pub(crate) const DEFAULT_MAX_RETRIES: u32 = 5;
/// The first retry's backoff ceiling.
pub(crate) const DEFAULT_RETRY_BASE_DELAY: Duration = Duration::from_millis(500);
/// The largest backoff ceiling.
pub(crate) const DEFAULT_RETRY_MAX_DELAY: Duration = Duration::from_secs(30);

/// Exponential backoff with full jitter: retry `n` (from 0) waits a random time in
/// `[0, min(cap, base * 2^n)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    pub(crate) fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    pub(crate) fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        self.ceiling(retry).mul_f64(rng.gen_range(0.0..=1.0))
    }

    /// The wait before retry `n`: the jittered backoff, but never less than the server asked for.
    pub(crate) fn wait(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let jittered = self.delay(retry, rng);
        retry_after.map_or(jittered, |asked| asked.max(jittered))
    }
}

/// `Retry-After` as delay-seconds (`120`) or an HTTP date; a date in the past means no wait.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn backoff() -> Backoff {
        Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        }
    }

    #[test]
    fn ceiling_doubles_up_to_the_cap() {
        let ceilings: Vec<_> = (0..6).map(|n| backoff().ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(backoff().ceiling(200), Duration::from_secs(1));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_ceiling() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let delays: Vec<_> = (0..2000).map(|_| backoff().delay(3, &mut rng)).collect();
        let max = Duration::from_millis(800);
        assert!(delays.iter().all(|d| *d <= max));
        assert!(delays.iter().any(|d| *d < Duration::from_millis(80)));
        assert!(delays.iter().any(|d| *d > Duration::from_millis(720)));
    }

    #[test]
    fn wait_is_at_least_retry_after() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let asked = Some(Duration::from_secs(5));
        for retry in 0..5 {
            assert!(backoff().wait(retry, asked, &mut rng) >= Duration::from_secs(5));
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 3 ", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
