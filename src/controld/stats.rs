//! Call counting: every HTTP attempt, retries included, once by method and once by route template.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::endpoint::Endpoint;

/// Every request counted once per HTTP attempt, retries included.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
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
}

/// The shared, thread-safe counters behind [`CallStats`].
#[derive(Debug, Default)]
pub(crate) struct StatsRecorder(Mutex<CallStats>);

impl StatsRecorder {
    pub fn attempt(&self, endpoint: Endpoint) {
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

    pub fn retry(&self) {
        self.update(|stats| stats.retries += 1);
    }

    pub fn rate_limited(&self) {
        self.update(|stats| stats.rate_limited += 1);
    }

    pub fn snapshot(&self) -> CallStats {
        self.lock().clone()
    }

    pub fn reset(&self) {
        *self.lock() = CallStats::default();
    }

    fn update(&self, change: impl FnOnce(&mut CallStats)) {
        change(&mut self.lock());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CallStats> {
        // A panic while counting cannot leave the counters half-updated in a harmful way.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        recorder.reset();
        assert_eq!(recorder.snapshot(), CallStats::default());
    }
}
