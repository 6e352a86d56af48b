//! Call counting: every HTTP attempt, retries included, once by method and once by route template.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::endpoint::Endpoint;
use super::pacing::PacingFigures;

/// Every request counted once per HTTP attempt, retries included; and how the pacing went.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct CallStats {
    pub total: u64,
    /// "GET" -> n
    pub by_method: BTreeMap<String, u64>,
    /// "GET /profiles/{profile}/groups" -> n (route templates, never ids or hostnames)
    pub by_endpoint: BTreeMap<String, u64>,
    /// Attempts that repeated an earlier one.
    pub retries: u64,
    /// Answers with HTTP 429.
    pub rate_limited: u64,
    /// The pacing controller's rate at the end, requests per second (the lowest over the account
    /// tokens used); `None` before any request.
    pub final_rps: Option<f64>,
    /// Seconds requests spent waiting for the pace (after a 429, or for the rate), summed over
    /// requests.
    pub pacing_wait_seconds: f64,
    /// Seconds from sending to the whole answer, summed over requests.
    pub request_seconds: f64,
}

impl CallStats {
    pub(crate) fn set_pacing(&mut self, figures: PacingFigures) {
        if self.total > 0 {
            self.final_rps = Some(figures.rate);
        }
        self.pacing_wait_seconds = millis(figures.waited.as_secs_f64());
        self.request_seconds = millis(figures.in_requests.as_secs_f64());
    }

    /// Adds another client's calls (another account token).
    pub(crate) fn merge(&mut self, other: &CallStats) {
        self.total += other.total;
        self.retries += other.retries;
        self.rate_limited += other.rate_limited;
        for (method, n) in &other.by_method {
            *self.by_method.entry(method.clone()).or_default() += n;
        }
        for (endpoint, n) in &other.by_endpoint {
            *self.by_endpoint.entry(endpoint.clone()).or_default() += n;
        }
        self.final_rps = match (self.final_rps, other.final_rps) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.pacing_wait_seconds = millis(self.pacing_wait_seconds + other.pacing_wait_seconds);
        self.request_seconds = millis(self.request_seconds + other.request_seconds);
    }
}

fn millis(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// The shared, thread-safe counters behind [`CallStats`].
#[derive(Debug, Default)]
pub(crate) struct StatsRecorder(Mutex<CallStats>);

impl StatsRecorder {
    pub(super) fn attempt(&self, endpoint: Endpoint) {
        self.update(|stats| {
            stats.total += 1;
            *stats
                .by_method
                .entry(endpoint.method().as_str().to_owned())
                .or_default() += 1;
            *stats
                .by_endpoint
                .entry(endpoint.route().to_owned())
                .or_default() += 1;
        });
    }

    pub(super) fn retry(&self) {
        self.update(|stats| stats.retries += 1);
    }

    pub(super) fn rate_limited(&self) {
        self.update(|stats| stats.rate_limited += 1);
    }

    pub(super) fn snapshot(&self) -> CallStats {
        self.lock().clone()
    }

    fn update(&self, change: impl FnOnce(&mut CallStats)) {
        change(&mut self.lock());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CallStats> {
        crate::sync::lock(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_method_and_route() {
        let recorder = StatsRecorder::default();
        recorder.attempt(Endpoint::ListFolders);
        recorder.attempt(Endpoint::ListFolders);
        recorder.attempt(Endpoint::CreateRules);
        recorder.retry();
        recorder.rate_limited();
        let stats = recorder.snapshot();
        assert_eq!(stats.total, 3);
        assert_eq!(stats.by_method["GET"], 2);
        assert_eq!(stats.by_method["POST"], 1);
        assert_eq!(stats.by_endpoint["GET /profiles/{profile}/groups"], 2);
        assert_eq!(stats.by_endpoint["POST /profiles/{profile}/rules"], 1);
        assert_eq!((stats.retries, stats.rate_limited), (1, 1));
    }
}
