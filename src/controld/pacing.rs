//! Adaptive pacing: as fast as the service allows, backing off when told.
//!
//! One [`Controller`] per account token, shared by every profile that uses it (each profile's
//! client handle bounds its own requests in flight, `--parallelism`):
//! - request starts drawn from a token bucket whose rate starts high ([`INITIAL_RPS`], with a burst
//!   of the same size) and adapts: a 429 cuts it, a run of successes grows it;
//! - an optional [`RateCeiling`] (`--max-rps`) shared by every controller of the run, never passed.
//!
//! Control D publishes no rate limit and sends no rate-limit headers, so the only signal is a 429
//! (with `Retry-After`). A 429 starts a *limit event*; 429s of requests sent before it are the same
//! event and do not cut again. Between two events the server's bucket went from empty to empty, so
//! the answers it accepted in between, divided by the time between, measure its sustained rate.
//! Until that measurement exists, a 429 halves the rate (without burst) and a run of successes
//! doubles it, like TCP's slow start; once it exists, the rate sits just under the measured rate,
//! with a burst of one `Retry-After`'s worth to catch up after the hold, and grows additively (a
//! small step per run of successes), like TCP's congestion avoidance, so a server that allows more
//! is found again. Every 429 holds all requests of the token for its `Retry-After`. Between the
//! first event and the measurement, requests go one at a time (like TCP's window of one after a
//! loss), so the event that measures the rate costs a single 429, not one per request in flight.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

use crate::sync::lock;

/// The rate (requests per second) before any feedback, and its burst (tokens at start).
pub const INITIAL_RPS: f64 = 50.0;
/// The fastest rate the controller grows to.
const MAX_RPS: f64 = 1_000.0;
/// The slowest rate a cut goes down to.
const MIN_RPS: f64 = 0.1;
/// The multiplicative cut of a 429 before the server's rate is measured.
const CUT_FACTOR: f64 = 0.5;
/// The share of the measured server rate the controller settles at.
const SETTLE_FACTOR: f64 = 0.95;
/// Growth per run of successes once the server's rate is measured, as a share of that rate.
const ADDITIVE_SHARE: f64 = 0.05;
/// Successes in a run before the rate grows: one second's worth, and at least this many.
const MIN_GROWTH_RUN: u64 = 4;
/// The hold after a 429 without `Retry-After`.
const DEFAULT_HOLD: Duration = Duration::from_secs(1);

/// A hard ceiling on request starts per second, shared by every client of a run (`--max-rps`):
/// starts are evenly spaced, never bursting past it.
#[derive(Clone, Debug)]
pub struct RateCeiling(Arc<CeilingInner>);

#[derive(Debug)]
struct CeilingInner {
    rps: f64,
    interval: Duration,
    next_start: Mutex<Instant>,
}

impl RateCeiling {
    /// `None` unless `rps` is a finite rate above 0.
    pub fn new(rps: f64) -> Option<Self> {
        (rps > 0.0 && rps.is_finite()).then(|| {
            Self(Arc::new(CeilingInner {
                rps,
                interval: Duration::from_secs_f64(1.0 / rps),
                next_start: Mutex::new(Instant::now()),
            }))
        })
    }

    pub(crate) fn rps(&self) -> f64 {
        self.0.rps
    }

    fn reserve_start(&self) -> Instant {
        let mut next = lock(&self.0.next_start);
        let start = (*next).max(Instant::now());
        *next = start + self.0.interval;
        start
    }
}

/// What one answer says about the pace.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Feedback {
    /// A 2xx: the request was accepted.
    Success,
    /// A 429, with the server's `Retry-After`.
    RateLimited(Option<Duration>),
    /// Any other answer the server sent (it counted against its limit).
    Answered,
    /// No answer (connection failure or timeout): nothing learnt.
    NoAnswer,
}

/// The pacing figures of one controller, for the report.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct PacingFigures {
    pub rate: f64,
    pub waited: Duration,
    pub in_requests: Duration,
}

/// A request admitted to run: while probing, holds the one probe slot until dropped.
pub(crate) struct Admission<'a> {
    _probe: Option<SemaphorePermit<'a>>,
    pub sent_at: Instant,
}

#[derive(Debug)]
pub(crate) struct Controller {
    /// One permit: while probing, a request holds it, so one request is in flight at a time.
    probe: Semaphore,
    ceiling: Option<RateCeiling>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rate: f64,
    /// Tokens in the client's bucket and its capacity (the burst allowed).
    tokens: f64,
    capacity: f64,
    refilled: Instant,
    /// No request starts before this (after a 429).
    hold_until: Instant,
    /// Answers the server accepted (anything but a 429), ever.
    accepted: u64,
    successes_in_run: u64,
    last_event: Option<LimitEvent>,
    /// The server's sustained rate, measured between two limit events.
    measured: Option<f64>,
    /// After a first limit event, until the rate is measured (or grows again): one at a time.
    probing: bool,
    waited: Duration,
    in_requests: Duration,
}

#[derive(Clone, Copy, Debug)]
struct LimitEvent {
    at: Instant,
    accepted: u64,
}

impl Controller {
    pub(super) fn new(ceiling: Option<RateCeiling>) -> Self {
        let now = Instant::now();
        let rate = ceiling
            .as_ref()
            .map_or(INITIAL_RPS, |c| c.rps().clamp(MIN_RPS, INITIAL_RPS));
        Self {
            probe: Semaphore::new(1),
            ceiling,
            state: Mutex::new(State {
                rate,
                tokens: INITIAL_RPS,
                capacity: INITIAL_RPS,
                refilled: now,
                hold_until: now,
                accepted: 0,
                successes_in_run: 0,
                last_event: None,
                measured: None,
                probing: false,
                waited: Duration::ZERO,
                in_requests: Duration::ZERO,
            }),
        }
    }

    /// Waits for the pace (hold, bucket, ceiling). The caller holds an in-flight slot already.
    pub(super) async fn admit(&self) -> Admission<'_> {
        let started = Instant::now();
        let mut probe = None;
        loop {
            self.wait_for_pace().await;
            if probe.is_some() || !self.lock().probing {
                break;
            }
            // Probing: one request at a time. Waiting for the probe slot can outlast a new hold
            // (the previous probe's 429), so pace again once it is ours.
            let permit = self.probe.acquire().await;
            probe = Some(permit.expect("the probe semaphore is never closed"));
        }
        let sent_at = Instant::now();
        self.lock().waited += sent_at - started;
        Admission {
            _probe: probe,
            sent_at,
        }
    }

    /// Learns from one answer.
    pub(super) fn feedback(&self, admission: &Admission<'_>, feedback: Feedback) {
        let now = Instant::now();
        let mut state = self.lock();
        state.in_requests += now - admission.sent_at;
        match feedback {
            Feedback::Success => {
                state.accepted += 1;
                state.grow(self.ceiling_rps());
            }
            Feedback::Answered => state.accepted += 1,
            Feedback::NoAnswer => {}
            Feedback::RateLimited(retry_after) => {
                let hold = retry_after.unwrap_or(DEFAULT_HOLD);
                state.limited(now, admission.sent_at, hold);
            }
        }
    }

    pub(super) fn figures(&self) -> PacingFigures {
        let state = self.lock();
        PacingFigures {
            rate: round2(state.rate),
            waited: state.waited,
            in_requests: state.in_requests,
        }
    }

    /// Waits for the hold, the bucket and the ceiling; takes a token.
    async fn wait_for_pace(&self) {
        loop {
            match self.try_take(Instant::now()) {
                Ok(()) => break,
                Err(until) => tokio::time::sleep_until(until).await,
            }
        }
        if let Some(ceiling) = &self.ceiling {
            tokio::time::sleep_until(ceiling.reserve_start()).await;
        }
    }

    fn ceiling_rps(&self) -> f64 {
        self.ceiling.as_ref().map_or(MAX_RPS, RateCeiling::rps)
    }

    /// Takes a token, or says when to look again.
    fn try_take(&self, now: Instant) -> Result<(), Instant> {
        let mut state = self.lock();
        if now < state.hold_until {
            return Err(state.hold_until);
        }
        state.refill(now);
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            return Ok(());
        }
        let missing = (1.0 - state.tokens) / state.rate;
        Err(now + Duration::from_secs_f64(missing))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

impl State {
    fn refill(&mut self, now: Instant) {
        // Tokens accrue from the later of the last refill and the end of a hold, so a hold's
        // time is not spent twice.
        let from = self.refilled.max(self.hold_until.min(now));
        let elapsed = now.saturating_duration_since(from).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
        self.refilled = now;
    }

    /// Additive growth (multiplicative before the server's rate is known) after a run of
    /// successes about one second long.
    fn grow(&mut self, ceiling: f64) {
        self.successes_in_run += 1;
        let run = (self.rate.ceil() as u64).max(MIN_GROWTH_RUN);
        if self.successes_in_run < run {
            return;
        }
        self.successes_in_run = 0;
        // A run of successes without a second event: the limit is not close, stop probing.
        self.probing = false;
        self.rate = match self.measured {
            Some(measured) => self.rate + measured * ADDITIVE_SHARE,
            None => self.rate * 2.0,
        }
        .min(ceiling)
        .min(MAX_RPS);
    }

    /// A 429 answered a request sent at `sent_at`.
    fn limited(&mut self, now: Instant, sent_at: Instant, hold: Duration) {
        self.hold_until = self.hold_until.max(now + hold);
        self.successes_in_run = 0;
        if self.last_event.is_some_and(|event| sent_at <= event.at) {
            // Sent before the current event began: the same event, already acted on.
            return;
        }
        if let Some(event) = self.last_event {
            let seconds = now.saturating_duration_since(event.at).as_secs_f64();
            let accepted = self.accepted.saturating_sub(event.accepted);
            if seconds > 0.0 && accepted > 0 {
                self.measured = Some(accepted as f64 / seconds);
            }
        }
        self.last_event = Some(LimitEvent {
            at: now,
            accepted: self.accepted,
        });
        let hold_seconds = hold.as_secs_f64().max(0.001);
        let (rate, capacity) = match self.measured {
            // Just under the server's measured rate, with a hold's worth of burst to catch up
            // after the hold (the server's bucket refills during it too).
            Some(measured) => {
                let rate = (measured * SETTLE_FACTOR).clamp(MIN_RPS, MAX_RPS);
                (rate, (rate * hold_seconds).max(1.0))
            }
            // Not measured yet: a multiplicative cut, without burst; the next event measures.
            None => ((self.rate * CUT_FACTOR).max(MIN_RPS), 1.0),
        };
        self.probing = self.measured.is_none();
        self.rate = rate;
        self.capacity = capacity;
        self.tokens = 0.0;
        self.refilled = now;
    }
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    // Pacing is a delay feature: these tests use tokio's paused clock, so they take no real time.

    async fn admit_and_answer(controller: &Controller, feedback: Feedback) {
        let admission = controller.admit().await;
        controller.feedback(&admission, feedback);
    }

    #[tokio::test(start_paused = true)]
    async fn starts_with_a_burst_and_no_wait() {
        let controller = Controller::new(None);
        let origin = Instant::now();
        for _ in 0..INITIAL_RPS as usize {
            admit_and_answer(&controller, Feedback::Success).await;
        }
        assert_eq!(origin.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn the_ceiling_spaces_every_start() {
        let ceiling = RateCeiling::new(20.0);
        let controller = Controller::new(ceiling);
        let origin = Instant::now();
        for _ in 0..5 {
            admit_and_answer(&controller, Feedback::Success).await;
        }
        assert!(origin.elapsed() >= Duration::from_millis(200));
        assert!(RateCeiling::new(0.0).is_none() && RateCeiling::new(f64::NAN).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_request_for_retry_after_and_cuts_the_rate() {
        let controller = Controller::new(None);
        admit_and_answer(
            &controller,
            Feedback::RateLimited(Some(Duration::from_secs(2))),
        )
        .await;
        let before = controller.figures().rate;
        assert!(before < INITIAL_RPS, "{before}");
        let origin = Instant::now();
        admit_and_answer(&controller, Feedback::Success).await;
        assert!(origin.elapsed() >= Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn the_429s_of_requests_already_in_flight_are_one_event() {
        let controller = Controller::new(None);
        let first = controller.admit().await;
        let second = controller.admit().await;
        controller.feedback(&first, Feedback::RateLimited(Some(Duration::from_secs(1))));
        let after_one = controller.figures().rate;
        controller.feedback(&second, Feedback::RateLimited(Some(Duration::from_secs(1))));
        assert_eq!(controller.figures().rate, after_one);
    }

    #[tokio::test(start_paused = true)]
    async fn two_events_measure_the_server_rate_and_the_rate_settles_under_it() {
        let controller = Controller::new(None);
        let limit = Feedback::RateLimited(Some(Duration::from_secs(1)));
        admit_and_answer(&controller, limit).await;
        let event = Instant::now();
        // 40 accepted over the next 10 s: the server allows 4 per second.
        for _ in 0..40 {
            let admission = controller.admit().await;
            controller.feedback(&admission, Feedback::Success);
        }
        tokio::time::sleep_until(event + Duration::from_secs(10)).await;
        admit_and_answer(&controller, limit).await;
        let rate = controller.figures().rate;
        assert!((3.0..4.0).contains(&rate), "{rate}");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_first_429_one_request_at_a_time_until_the_rate_is_measured() {
        let controller = Controller::new(None);
        let limit = Feedback::RateLimited(Some(Duration::from_secs(1)));
        admit_and_answer(&controller, limit).await;
        let first = controller.admit().await;
        let second = tokio::time::timeout(Duration::from_millis(500), controller.admit()).await;
        assert!(second.is_err(), "a second request ran while probing");
        controller.feedback(&first, Feedback::Success);
        drop(first);
        // The next event measures the server's rate: full parallelism again.
        admit_and_answer(&controller, limit).await;
        let _one = controller.admit().await;
        let two = tokio::time::timeout(Duration::from_secs(30), controller.admit()).await;
        assert!(two.is_ok(), "still one at a time after the measurement");
    }

    #[tokio::test(start_paused = true)]
    async fn successes_grow_the_rate_up_to_the_ceiling() {
        let controller = Controller::new(RateCeiling::new(30.0));
        admit_and_answer(&controller, Feedback::RateLimited(None)).await;
        let low = controller.figures().rate;
        for _ in 0..200 {
            admit_and_answer(&controller, Feedback::Success).await;
        }
        let rate = controller.figures().rate;
        assert!(rate > low && rate <= 30.0, "{low} -> {rate}");
    }
}
