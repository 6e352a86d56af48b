//! The cost model: exact API calls a plan's apply sends, by method and by endpoint.
//!
//! Endpoint names are the client's route templates, so an estimate compares directly with the
//! client's `CallStats` after an apply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::types::Step;

/// `GET /profiles/{profile}/groups`: what refresh reads, and apply's final verification.
pub const LIST_FOLDERS: &str = "GET /profiles/{profile}/groups";
const CREATE_FOLDER: &str = "POST /profiles/{profile}/groups";
const UPDATE_FOLDER: &str = "PUT /profiles/{profile}/groups/{group}";
const DELETE_FOLDER: &str = "DELETE /profiles/{profile}/groups/{group}";
const CREATE_RULES: &str = "POST /profiles/{profile}/rules";
const UPDATE_RULES: &str = "PUT /profiles/{profile}/rules";
const DELETE_RULE: &str = "DELETE /profiles/{profile}/rules/{hostname}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// The one request a step sends: its method and route template.
pub fn endpoint(step: &Step) -> (Method, &'static str) {
    match step {
        Step::CreateFolder { .. } | Step::CreateScratch => (Method::Post, CREATE_FOLDER),
        Step::UpdateFolder { .. } => (Method::Put, UPDATE_FOLDER),
        Step::DeleteFolder { .. } | Step::DeleteScratch | Step::DeleteLeftoverScratch { .. } => {
            (Method::Delete, DELETE_FOLDER)
        }
        Step::AddRules { .. } => (Method::Post, CREATE_RULES),
        Step::ChangeRules { .. } | Step::MoveRules { .. } | Step::MoveToScratch { .. } => {
            (Method::Put, UPDATE_RULES)
        }
        Step::DeleteRule { .. } => (Method::Delete, DELETE_RULE),
    }
}

/// Estimated API calls, assuming no retry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// Every request: the writes plus apply's final `GET /groups` per profile with any write.
    pub total: u64,
    /// "POST" -> n
    pub by_method: BTreeMap<String, u64>,
    /// "POST /profiles/{profile}/rules" -> n
    pub by_endpoint: BTreeMap<String, u64>,
    /// A lower bound for the same change: one request per (folder, action) group of at most 500
    /// additions, moves or changes, one per folder created, updated or deleted, the cheaper of the
    /// two removal strategies, and the verification read.
    pub minimum: u64,
}

impl Estimate {
    /// The requests of `steps`, plus one verification read when there is any.
    pub fn of_steps(steps: &[Step], minimum: u64) -> Self {
        let mut estimate = Self::default();
        for step in steps {
            let (method, route) = endpoint(step);
            estimate.count(method, route);
        }
        if !steps.is_empty() {
            estimate.count(Method::Get, LIST_FOLDERS);
        }
        estimate.minimum = minimum;
        estimate
    }

    fn count(&mut self, method: Method, route: &str) {
        self.total += 1;
        *self
            .by_method
            .entry(method.as_str().to_string())
            .or_default() += 1;
        *self.by_endpoint.entry(route.to_string()).or_default() += 1;
    }

    /// The total over several estimates.
    pub fn sum<'a>(estimates: impl IntoIterator<Item = &'a Estimate>) -> Self {
        let mut total = Self::default();
        for estimate in estimates {
            total.total += estimate.total;
            total.minimum += estimate.minimum;
            for (method, n) in &estimate.by_method {
                *total.by_method.entry(method.clone()).or_default() += n;
            }
            for (route, n) in &estimate.by_endpoint {
                *total.by_endpoint.entry(route.clone()).or_default() += n;
            }
        }
        total
    }

    /// Writes only (the total without the verification read).
    pub fn writes(&self) -> u64 {
        self.total - self.by_method.get("GET").copied().unwrap_or(0)
    }
}

/// Requests to remove `k` rules: single deletes, or a scratch folder (create, moves, delete).
pub fn removal_cost(k: usize) -> (usize, usize) {
    (
        k,
        k.div_ceil(crate::controld::MAX_HOSTNAMES_PER_REQUEST) + 2,
    )
}

/// Whether moving `k` rules into a scratch folder is cheaper; ties go to single deletes.
pub fn scratch_is_cheaper(k: usize) -> bool {
    let (single, scratch) = removal_cost(k);
    scratch < single
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_single_deletes() {
        assert!(!scratch_is_cheaper(0));
        assert!(!scratch_is_cheaper(3));
        assert!(scratch_is_cheaper(4));
        assert_eq!(removal_cost(1001), (1001, 5));
    }
}
