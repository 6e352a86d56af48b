//! Adaptive pacing: as fast as the service allows, backing off when told.
//!
//! One [`Controller`] per account token, shared by every profile that uses it. The token is the
//! unit: Control D limits a token, whichever profiles its requests are for.
//! - A *window* bounds the token's requests in flight, summed over its profiles (each profile's
//!   client handle bounds its own as well, `--parallelism`). It starts at the parallelism, or at
//!   one request per profile up to twice the parallelism (so every profile's first read goes out
//!   at once), and grows by one per window's worth of successes (one per round trip, TCP's
//!   congestion avoidance) up to parallelism x profiles. A first limit event catches the window
//!   then in flight, so its 429s do not grow with the number of profiles. A slow start (one more
//!   per success) reached parallelism x profiles just as a server's burst of 20 ran out: answers
//!   come back spread out, each success sent two more before the first 429 arrived, and the first
//!   event cost one 429 per request of the full window. The rate's own start (below) still bounds
//!   a run without a server limit for its first seconds, so the slower growth costs it nothing.
//! - Request starts are drawn from a token bucket whose rate starts high ([`INITIAL_RPS`], with a
//!   burst of the same size) and adapts: a 429 cuts it, a run of successes grows it.
//! - Requests wait their turn in arrival order, so profiles sharing the token take turns at its
//!   starts: none starves, and the token's whole rate is used while any profile has work.
//! - An optional [`RateCeiling`] (`--max-rps`) shared by every controller of the run, never passed.
//!
//! Control D publishes no rate limit and sends no rate-limit headers, so the only signal is a 429
//! (with `Retry-After`). A 429 starts a *limit event*; 429s of requests sent before it are the same
//! event and do not cut again. Between two events the server's bucket went from empty to empty, so
//! the answers it accepted in between, divided by the time between, measure its sustained rate.
//! Until that measurement exists, a 429 halves the rate (without burst) and a run of successes
//! doubles it; once it exists, the rate sits just under the measured rate, with a burst of one
//! `Retry-After`'s worth to catch up after the hold, and grows additively (a small step per run of
//! successes), so a server that allows more is found again. Every 429 holds all requests of the
//! token for its `Retry-After`. After the first event the window is one request (like TCP's window
//! of one after a loss) until the rate is measured, so the event that measures it costs a single
//! 429, not one per request in flight; then the window is one profile's parallelism again, and
//! later events halve it.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
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

/// A request admitted to run: counts in the token's window until dropped.
pub(crate) struct Admission<'a> {
    controller: &'a Controller,
    pub sent_at: Instant,
}

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.controller.lock().in_flight -= 1;
        self.controller.freed.notify_waiters();
    }
}

#[derive(Debug)]
pub(crate) struct Controller {
    /// Admissions wait here in arrival order (tokio's mutex is fair), so the profiles sharing the
    /// token take turns at its starts.
    turn: tokio::sync::Mutex<()>,
    /// Woken when a request of the token ends or the window grows.
    freed: Notify,
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
    /// Requests of the token allowed in flight, and how many are.
    window: usize,
    in_flight: usize,
    /// Each profile's own bound on its requests in flight, and the profiles using the token.
    parallelism: usize,
    profiles: usize,
    /// Successes since the window last grew.
    grown_after: usize,
    /// After a first limit event, until the rate is measured (or a run of successes shows the
    /// limit is not close): one request at a time.
    probing: bool,
    waited: Duration,
    in_requests: Duration,
}

#[derive(Clone, Copy, Debug)]
struct LimitEvent {
    at: Instant,
    accepted: u64,
}

/// Why a request cannot start yet.
enum Wait {
    /// The window is full: until a request ends.
    Window,
    /// The hold or the bucket: until then.
    Until(Instant),
}

impl Controller {
    /// `parallelism`: the requests in flight each profile may have, and the token's first window.
    pub(super) fn new(ceiling: Option<RateCeiling>, parallelism: usize) -> Self {
        let now = Instant::now();
        let rate = ceiling
            .as_ref()
            .map_or(INITIAL_RPS, |c| c.rps().clamp(MIN_RPS, INITIAL_RPS));
        let parallelism = parallelism.max(1);
        Self {
            turn: tokio::sync::Mutex::new(()),
            freed: Notify::new(),
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
                window: parallelism,
                in_flight: 0,
                parallelism,
                profiles: 0,
                grown_after: 0,
                probing: false,
                waited: Duration::ZERO,
                in_requests: Duration::ZERO,
            }),
        }
    }

    /// One more profile uses the token: the window may grow by one parallelism more, and until
    /// the first limit event it holds one request per profile, up to twice the parallelism.
    pub(super) fn add_profile(&self) {
        let mut state = self.lock();
        state.profiles += 1;
        if state.last_event.is_none() {
            let first = state.profiles.min(state.parallelism.saturating_mul(2));
            state.window = state.window.max(first);
        }
    }

    /// Waits for its turn, then for the window, the hold, the bucket and the ceiling. The caller
    /// holds one of its profile's in-flight slots already.
    pub(super) async fn admit(&self) -> Admission<'_> {
        let started = Instant::now();
        let turn = self.turn.lock().await;
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            // Registered before looking, so a request ending meanwhile is not missed.
            freed.as_mut().enable();
            match self.try_start(Instant::now()) {
                Ok(()) => break,
                Err(Wait::Window) => freed.await,
                Err(Wait::Until(until)) => tokio::time::sleep_until(until).await,
            }
        }
        let mut admission = Admission {
            controller: self,
            sent_at: Instant::now(),
        };
        if let Some(ceiling) = &self.ceiling {
            tokio::time::sleep_until(ceiling.reserve_start()).await;
        }
        drop(turn);
        admission.sent_at = Instant::now();
        self.lock().waited += admission.sent_at - started;
        admission
    }

    /// Learns from one answer.
    pub(super) fn feedback(&self, admission: &Admission<'_>, feedback: Feedback) {
        let now = Instant::now();
        let mut state = self.lock();
        state.in_requests += now - admission.sent_at;
        match feedback {
            Feedback::Success => {
                state.accepted += 1;
                let before = state.window;
                state.grow(self.ceiling_rps());
                state.widen();
                if state.window > before {
                    drop(state);
                    self.freed.notify_waiters();
                }
            }
            Feedback::Answered => state.accepted += 1,
            Feedback::NoAnswer => {}
            Feedback::RateLimited(retry_after) => {
                let hold = retry_after.unwrap_or(DEFAULT_HOLD);
                state.limited(now, admission.sent_at, hold);
            }
        }
    }

    /// Starts from a rate measured in an earlier run, as if measured in this one: just under it,
    /// with one second's worth of burst (the server's bucket is full at the start).
    pub(super) fn seed(&self, measured: f64) {
        if !(measured > 0.0 && measured.is_finite()) {
            return;
        }
        let mut state = self.lock();
        let rate = (measured * SETTLE_FACTOR)
            .clamp(MIN_RPS, MAX_RPS)
            .min(self.ceiling_rps());
        state.measured = Some(measured);
        state.rate = rate;
        state.capacity = rate.max(1.0);
        state.tokens = state.capacity;
    }

    /// The server's sustained rate, once measured (or seeded).
    pub(super) fn measured(&self) -> Option<f64> {
        self.lock().measured
    }

    pub(super) fn figures(&self) -> PacingFigures {
        let state = self.lock();
        PacingFigures {
            rate: round2(state.rate),
            waited: state.waited,
            in_requests: state.in_requests,
        }
    }

    fn ceiling_rps(&self) -> f64 {
        self.ceiling.as_ref().map_or(MAX_RPS, RateCeiling::rps)
    }

    /// Takes a place in the window and a token, or says what to wait for.
    fn try_start(&self, now: Instant) -> Result<(), Wait> {
        let mut state = self.lock();
        if now < state.hold_until {
            return Err(Wait::Until(state.hold_until));
        }
        if state.in_flight >= state.window {
            return Err(Wait::Window);
        }
        state.refill(now);
        if state.tokens >= 1.0 {
            state.tokens -= 1.0;
            state.in_flight += 1;
            return Ok(());
        }
        let missing = (1.0 - state.tokens) / state.rate;
        // A rounding remainder must still be a wait, or the loop would spin without time moving.
        let missing = Duration::from_secs_f64(missing).max(Duration::from_micros(1));
        Err(Wait::Until(now + missing))
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

    /// The largest window: every profile's parallelism (one, for a client without profiles).
    fn max_window(&self) -> usize {
        self.parallelism.saturating_mul(self.profiles.max(1))
    }

    /// One success widens the window by one per window's worth of successes (not while probing).
    fn widen(&mut self) {
        if self.probing || self.window >= self.max_window() {
            return;
        }
        self.grown_after += 1;
        if self.grown_after >= self.window {
            self.grown_after = 0;
            self.window += 1;
        }
    }

    /// The window once probing ends: one profile's parallelism (more if it had grown past it).
    fn end_probing(&mut self) {
        self.probing = false;
        self.window = self.window.max(self.parallelism.min(self.max_window()));
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
        if self.probing {
            // A run of successes without a second event: the limit is not close.
            self.end_probing();
        }
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
        // One request at a time until the rate is measured (the measuring 429 is then a single
        // one), one profile's parallelism once it is, half the window at later events.
        let (was_probing, before) = (self.probing, self.window);
        self.window = 1;
        self.probing = self.measured.is_none();
        if self.measured.is_some() {
            if was_probing {
                self.end_probing();
            } else {
                self.window = (before / 2).max(1);
            }
        }
        self.grown_after = 0;
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
        let controller = Controller::new(None, 4);
        let origin = Instant::now();
        for _ in 0..INITIAL_RPS as usize {
            admit_and_answer(&controller, Feedback::Success).await;
        }
        assert_eq!(origin.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn the_ceiling_spaces_every_start() {
        let ceiling = RateCeiling::new(20.0);
        let controller = Controller::new(ceiling, 4);
        let origin = Instant::now();
        for _ in 0..5 {
            admit_and_answer(&controller, Feedback::Success).await;
        }
        assert!(origin.elapsed() >= Duration::from_millis(200));
        assert!(RateCeiling::new(0.0).is_none() && RateCeiling::new(f64::NAN).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_request_for_retry_after_and_cuts_the_rate() {
        let controller = Controller::new(None, 4);
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
        let controller = Controller::new(None, 4);
        let first = controller.admit().await;
        let second = controller.admit().await;
        controller.feedback(&first, Feedback::RateLimited(Some(Duration::from_secs(1))));
        let after_one = controller.figures().rate;
        controller.feedback(&second, Feedback::RateLimited(Some(Duration::from_secs(1))));
        assert_eq!(controller.figures().rate, after_one);
    }

    #[tokio::test(start_paused = true)]
    async fn two_events_measure_the_server_rate_and_the_rate_settles_under_it() {
        let controller = Controller::new(None, 4);
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
        let controller = Controller::new(None, 4);
        let limit = Feedback::RateLimited(Some(Duration::from_secs(1)));
        admit_and_answer(&controller, limit).await;
        let first = controller.admit().await;
        let second = tokio::time::timeout(Duration::from_millis(500), controller.admit()).await;
        assert!(second.is_err(), "a second request ran while probing");
        controller.feedback(&first, Feedback::Success);
        drop(first);
        let third = controller.admit().await;
        controller.feedback(&third, Feedback::Success);
        drop(third);
        let one = controller.admit().await;
        let two = tokio::time::timeout(Duration::from_secs(30), controller.admit()).await;
        assert!(two.is_err(), "successes widened the window while probing");
        drop(one);
        // The next event measures the server's rate: the parallelism again.
        admit_and_answer(&controller, limit).await;
        let _one = controller.admit().await;
        let two = tokio::time::timeout(Duration::from_secs(30), controller.admit()).await;
        assert!(two.is_ok(), "still one at a time after the measurement");
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_starts_at_one_request_per_profile_and_grows_to_parallelism_x_profiles() {
        let controller = Controller::new(None, 2);
        for _ in 0..3 {
            controller.add_profile();
        }
        let mut admitted = Vec::new();
        for _ in 0..3 {
            admitted.push(controller.admit().await);
        }
        let fourth = tokio::time::timeout(Duration::from_secs(1), controller.admit()).await;
        assert!(
            fourth.is_err(),
            "the first window is one request per profile"
        );
        // A window's worth of successes widens it by one, up to 2 x 3.
        for _ in 0..30 {
            let done = admitted.remove(0);
            controller.feedback(&done, Feedback::Success);
            drop(done);
            while let Ok(admission) =
                tokio::time::timeout(Duration::from_millis(1), controller.admit()).await
            {
                admitted.push(admission);
            }
        }
        assert_eq!(admitted.len(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn successes_grow_the_rate_up_to_the_ceiling() {
        let controller = Controller::new(RateCeiling::new(30.0), 4);
        admit_and_answer(&controller, Feedback::RateLimited(None)).await;
        let low = controller.figures().rate;
        for _ in 0..200 {
            admit_and_answer(&controller, Feedback::Success).await;
        }
        let rate = controller.figures().rate;
        assert!(rate > low && rate <= 30.0, "{low} -> {rate}");
    }

    /// A server like the emulator: `latency` per request, then a token bucket (`rate`, `burst`);
    /// an empty bucket answers 429 with `Retry-After` in whole seconds, at least one.
    struct Server {
        rate: f64,
        burst: f64,
        latency: Duration,
        bucket: Mutex<(f64, Instant)>,
        answered: Mutex<(u64, u64)>,
    }

    impl Server {
        fn new(limit: Option<(f64, u32)>, latency: Duration) -> Arc<Self> {
            let (rate, burst) = limit.map_or((f64::INFINITY, f64::INFINITY), |(rate, burst)| {
                (rate, f64::from(burst))
            });
            Arc::new(Self {
                rate,
                burst,
                latency,
                bucket: Mutex::new((burst, Instant::now())),
                answered: Mutex::new((0, 0)),
            })
        }

        async fn call(&self) -> Feedback {
            tokio::time::sleep(self.latency).await;
            let now = Instant::now();
            let mut bucket = lock(&self.bucket);
            let elapsed = now.saturating_duration_since(bucket.1).as_secs_f64();
            bucket.0 = (bucket.0 + elapsed * self.rate).min(self.burst);
            bucket.1 = now;
            let mut answered = lock(&self.answered);
            answered.0 += 1;
            if bucket.0 >= 1.0 {
                bucket.0 -= 1.0;
                return Feedback::Success;
            }
            answered.1 += 1;
            let wait = ((1.0 - bucket.0) / self.rate).ceil().max(1.0);
            Feedback::RateLimited(Some(Duration::from_secs_f64(wait)))
        }

        /// Requests answered and 429s among them.
        fn answered(&self) -> (u64, u64) {
            *lock(&self.answered)
        }
    }

    /// What a run of several profiles on one token cost.
    #[derive(Debug)]
    struct Run {
        /// When each profile's last call was done.
        done: Vec<Duration>,
        calls: u64,
        limited: u64,
        peak_in_flight: usize,
    }

    impl Run {
        fn wall(&self) -> Duration {
            self.done.iter().copied().max().unwrap_or_default()
        }
    }

    /// `calls[i]` calls of profile `i` on one token, each profile with `parallelism` in-flight
    /// slots as the client gives it, each call retried after a 429's `Retry-After`.
    async fn run_profiles(server: Arc<Server>, calls: &[usize], parallelism: usize) -> Run {
        run_with(server, calls, parallelism, None).await
    }

    /// The same; with `fixed_window`, the token's window is that many from the start and never
    /// moves (the pacing before the window: only each profile's slots bound what is in flight).
    async fn run_with(
        server: Arc<Server>,
        calls: &[usize],
        parallelism: usize,
        fixed_window: Option<usize>,
    ) -> Run {
        let controller = Arc::new(Controller::new(None, fixed_window.unwrap_or(parallelism)));
        let in_flight = Arc::new(Mutex::new((0usize, 0usize)));
        let origin = Instant::now();
        let mut profiles = Vec::new();
        for &count in calls {
            if fixed_window.is_none() {
                controller.add_profile();
            }
            let slots = Arc::new(tokio::sync::Semaphore::new(parallelism));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..count {
                let (controller, server, slots, in_flight) = (
                    Arc::clone(&controller),
                    Arc::clone(&server),
                    Arc::clone(&slots),
                    Arc::clone(&in_flight),
                );
                tasks.spawn(async move {
                    loop {
                        let slot = slots.acquire().await.unwrap();
                        let admission = controller.admit().await;
                        {
                            let mut count = lock(&in_flight);
                            count.0 += 1;
                            count.1 = count.1.max(count.0);
                        }
                        let feedback = server.call().await;
                        lock(&in_flight).0 -= 1;
                        controller.feedback(&admission, feedback);
                        drop((admission, slot));
                        match feedback {
                            Feedback::RateLimited(wait) => {
                                tokio::time::sleep(wait.unwrap_or_default()).await
                            }
                            _ => break,
                        }
                    }
                });
            }
            profiles.push(tokio::spawn(async move {
                while tasks.join_next().await.is_some() {}
                origin.elapsed()
            }));
        }
        let mut done = Vec::new();
        for profile in profiles {
            done.push(profile.await.unwrap());
        }
        let (calls, limited) = server.answered();
        let peak_in_flight = lock(&in_flight).1;
        Run {
            done,
            calls,
            limited,
            peak_in_flight,
        }
    }

    const LATENCY: Duration = Duration::from_millis(50);

    /// The time a server limit imposes on a run's accepted calls: none for the burst, then one
    /// per 1/rate seconds.
    fn server_imposed(run: &Run, rate: f64, burst: u32) -> f64 {
        (run.calls - run.limited).saturating_sub(u64::from(burst)) as f64 / rate
    }

    #[tokio::test(start_paused = true)]
    async fn five_profiles_on_one_limited_token_pay_one_small_first_event() {
        let server = Server::new(Some((20.0, 20)), LATENCY);
        let run = run_profiles(server, &[60; 5], 4).await;
        let imposed = server_imposed(&run, 20.0, 20);
        let ratio = run.wall().as_secs_f64() / imposed;
        assert!(run.limited <= 2 * 4 + 2, "{run:?}");
        assert!(ratio <= 1.15, "{ratio:.2}x of {imposed:.2} s: {run:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_first_event_the_sawtooth_stays_close_to_the_limit() {
        let server = Server::new(Some((4.0, 20)), LATENCY);
        let run = run_profiles(server, &[300], 4).await;
        let ratio = run.wall().as_secs_f64() / server_imposed(&run, 4.0, 20);
        // The additive growth finds the limit again every few seconds, one 429 each time.
        let seconds = run.wall().as_secs();
        assert!(run.limited <= 4 + seconds / 5, "{run:?}");
        assert!(ratio <= 1.05, "{ratio:.2}x: {run:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_limit_the_window_costs_no_time_against_every_profiles_slots_at_once() {
        let run = run_profiles(Server::new(None, LATENCY), &[60; 5], 4).await;
        let at_once = run_with(Server::new(None, LATENCY), &[60; 5], 4, Some(20)).await;
        assert_eq!(run.limited, 0);
        // The rate's start (50/s, a burst of 50, doubling each second) bounds both runs; the
        // window's growth costs under two round trips of the first burst (1.97 s against 1.89 s).
        assert!(
            run.wall() < at_once.wall() + 2 * LATENCY,
            "{run:?} {at_once:?}"
        );
        let longer = run_profiles(Server::new(None, LATENCY), &[400; 5], 4).await;
        assert_eq!(longer.peak_in_flight, 20, "{longer:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn profiles_take_turns_so_a_small_one_is_not_starved_by_a_large_one() {
        let server = Server::new(Some((10.0, 10)), LATENCY);
        let run = run_profiles(server, &[200, 10], 4).await;
        // The small profile gets about half the token's starts: its 10 calls need about 2 s of a
        // shared 10/s, far less than the 20 s of the whole run.
        assert!(run.done[1] < Duration::from_secs(5), "{run:?}");
        assert!(run.done[1] * 4 < run.done[0], "{run:?}");
    }
}
