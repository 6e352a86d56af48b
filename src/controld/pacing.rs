//! Client-side pacing shared by every clone of a client: at most `parallelism` requests in flight,
//! and requests started at most `max_rps` per second (a token bucket holding one token, so requests
//! are evenly spaced and never burst past the rate).

use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct Pacer {
    /// Time between two request starts; `None` when unpaced.
    interval: Option<Duration>,
    /// The earliest moment the next request may start.
    next_start: Mutex<Instant>,
    in_flight: Semaphore,
}

impl Pacer {
    /// `max_rps <= 0`, NaN or infinite means unpaced; `parallelism` 0 is taken as 1.
    pub fn new(max_rps: f64, parallelism: usize) -> Self {
        let paced = max_rps > 0.0 && max_rps.is_finite();
        Self {
            interval: paced.then(|| Duration::from_secs_f64(1.0 / max_rps)),
            next_start: Mutex::new(Instant::now()),
            in_flight: Semaphore::new(parallelism.max(1)),
        }
    }

    /// Waits for a free slot and for the pace; the request runs while the permit is held.
    pub async fn admit(&self) -> SemaphorePermit<'_> {
        // Taking the in-flight slot first means a waiting request never wastes a pacing token.
        let permit = self
            .in_flight
            .acquire()
            .await
            .expect("the pacing semaphore is never closed");
        tokio::time::sleep_until(self.reserve_start()).await;
        permit
    }

    /// After a 429 every request of this client waits, not only the one that got it.
    pub fn hold_off(&self, delay: Duration) {
        let until = Instant::now() + delay;
        let mut next = self.lock();
        *next = (*next).max(until);
    }

    fn reserve_start(&self) -> Instant {
        let mut next = self.lock();
        let start = (*next).max(Instant::now());
        *next = start + self.interval.unwrap_or_default();
        start
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.next_start
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Pacing is a delay feature, so these tests measure real time, with generous upper bounds.

    async fn elapsed_for(pacer: &Pacer, count: usize) -> Duration {
        let origin = Instant::now();
        for _ in 0..count {
            drop(pacer.admit().await);
        }
        origin.elapsed()
    }

    #[tokio::test]
    async fn spaces_requests_at_max_rps() {
        let pacer = Pacer::new(20.0, 4);
        let elapsed = elapsed_for(&pacer, 5).await;
        assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }

    #[tokio::test]
    async fn unpaced_when_rate_is_zero_or_infinite() {
        for rate in [0.0, -1.0, f64::INFINITY, f64::NAN] {
            let pacer = Pacer::new(rate, 1);
            assert!(pacer.interval.is_none());
            assert!(elapsed_for(&pacer, 50).await < Duration::from_secs(1));
        }
    }

    #[tokio::test]
    async fn hold_off_delays_every_later_request() {
        let pacer = Pacer::new(0.0, 1);
        pacer.hold_off(Duration::from_millis(300));
        let elapsed = elapsed_for(&pacer, 2).await;
        assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    }

    #[tokio::test]
    async fn parallelism_bounds_requests_in_flight() {
        let pacer = Pacer::new(0.0, 2);
        let first = pacer.admit().await;
        let _second = pacer.admit().await;
        let third = tokio::time::timeout(Duration::from_millis(200), pacer.admit()).await;
        assert!(third.is_err(), "a third request ran with parallelism 2");
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(5), pacer.admit()).await;
        assert!(third.is_ok());
    }
}
