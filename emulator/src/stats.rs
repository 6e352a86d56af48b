//! Counts of API requests received, by method and by route template.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The shape of `GET /_emulator/stats`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Stats {
    /// Every API request received, including those answered 429 or faulted.
    pub total: u64,
    /// `"GET"` -> n
    pub by_method: BTreeMap<String, u64>,
    /// `"GET /profiles/{profile}/groups"` -> n, or `"OTHER"` for paths the API does not have.
    pub by_route: BTreeMap<String, u64>,
    /// Requests answered 429.
    pub rate_limited: u64,
    /// Requests answered with an injected 500 or 502.
    pub faults: u64,
    /// The most API requests being answered at once (latency included).
    #[serde(default)]
    pub peak_in_flight: u64,
}

impl Stats {
    pub fn record(&mut self, method: &str, route: &str) {
        self.total += 1;
        *self.by_method.entry(method.to_string()).or_default() += 1;
        *self.by_route.entry(route.to_string()).or_default() += 1;
    }
}
