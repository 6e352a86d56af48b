//! The cost model: exact API calls a plan's apply sends (refresh reads, writes, check read), by
//! method and by endpoint.
//!
//! Endpoint names are the client's route templates, so an estimate compares directly with the
//! client's `CallStats` after an apply.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::current::RefreshReads;
use super::types::Step;

/// `GET /profiles/{profile}/groups`: what refresh reads, and apply's final verification.
pub(super) const LIST_FOLDERS: &str = "GET /profiles/{profile}/groups";
const LIST_FOLDER_RULES: &str = "GET /profiles/{profile}/rules/{group}";
const LIST_ROOT_RULES: &str = "GET /profiles/{profile}/rules";
const CREATE_FOLDER: &str = "POST /profiles/{profile}/groups";
const UPDATE_FOLDER: &str = "PUT /profiles/{profile}/groups/{group}";
const DELETE_FOLDER: &str = "DELETE /profiles/{profile}/groups/{group}";
const CREATE_RULES: &str = "POST /profiles/{profile}/rules";
const UPDATE_RULES: &str = "PUT /profiles/{profile}/rules";
const DELETE_RULE: &str = "DELETE /profiles/{profile}/rules/{hostname}";
pub(crate) const LIST_PROFILES: &str = "GET /profiles";
const SET_FILTER: &str = "PUT /profiles/{profile}/filters/filter/{filter}";
const SET_FILTERS: &str = "PUT /profiles/{profile}/filters";
const SET_SERVICE: &str = "PUT /profiles/{profile}/services/{service}";
const SET_DEFAULT: &str = "PUT /profiles/{profile}/default";
const SET_OPTION: &str = "PUT /profiles/{profile}/options/{option}";
const LIST_FILTERS: &str = "GET /profiles/{profile}/filters";
const LIST_EXTERNAL_FILTERS: &str = "GET /profiles/{profile}/filters/external";
const LIST_SERVICES: &str = "GET /profiles/{profile}/services";
const GET_DEFAULT: &str = "GET /profiles/{profile}/default";
const LIST_OPTIONS: &str = "GET /profiles/{profile}/options";
const OPTION_CATALOGUE: &str = "GET /profiles/options";
const SERVICE_CATEGORIES: &str = "GET /services/categories";
const CATEGORY_SERVICES: &str = "GET /services/categories/{category}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

/// The one request a step sends: its method and route template.
pub(crate) fn endpoint(step: &Step) -> (Method, &'static str) {
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
        // One filter is written alone; several in one batch write.
        Step::SetFilters { filters } if filters.len() == 1 => (Method::Put, SET_FILTER),
        Step::SetFilters { .. } => (Method::Put, SET_FILTERS),
        Step::SetService { .. } => (Method::Put, SET_SERVICE),
        Step::SetDefault { .. } => (Method::Put, SET_DEFAULT),
        Step::SetOption { .. } => (Method::Put, SET_OPTION),
    }
}

/// Every API call an `apply` of the plan makes when nothing fails (no retry, no `--verify`): the
/// refresh's reads, one request per step, and the check read after the writes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimate {
    /// Every request: refresh reads, writes, and the final `GET /groups` per profile with any write.
    pub total: u64,
    /// "POST" -> n
    pub by_method: BTreeMap<String, u64>,
    /// "POST /profiles/{profile}/rules" -> n
    pub by_endpoint: BTreeMap<String, u64>,
}

impl Estimate {
    /// The refresh's `reads`, the requests of `steps`, and one check read when a step writes to a
    /// folder.
    pub(crate) fn of_steps(reads: RefreshReads, steps: &[Step]) -> Self {
        let mut estimate = Self::default();
        estimate.count_n(Method::Get, LIST_FOLDERS, reads.folder_lists);
        estimate.count_n(Method::Get, LIST_FOLDER_RULES, reads.folder_rules);
        estimate.count_n(Method::Get, LIST_ROOT_RULES, reads.root_rules);
        let settings = reads.settings;
        estimate.count_n(Method::Get, LIST_PROFILES, settings.profile_lists);
        estimate.count_n(Method::Get, LIST_FILTERS, settings.filters);
        estimate.count_n(
            Method::Get,
            LIST_EXTERNAL_FILTERS,
            settings.external_filters,
        );
        estimate.count_n(Method::Get, LIST_SERVICES, settings.services);
        estimate.count_n(Method::Get, GET_DEFAULT, settings.default);
        estimate.count_n(Method::Get, LIST_OPTIONS, settings.options);
        estimate.count_n(Method::Get, OPTION_CATALOGUE, settings.option_catalogue);
        estimate.count_n(Method::Get, SERVICE_CATEGORIES, settings.service_categories);
        estimate.count_n(Method::Get, CATEGORY_SERVICES, settings.category_services);
        for step in steps {
            let (method, route) = endpoint(step);
            estimate.count_n(method, route, 1);
        }
        // The check read after the writes, when a folder was written to.
        if steps.iter().any(|step| !step.is_setting()) {
            estimate.count_n(Method::Get, LIST_FOLDERS, 1);
        }
        estimate
    }

    /// One more `GET /profiles`: an apply that wrote to a profile whose settings are managed reads
    /// its row once more at the end, to record what the next run compares with.
    pub(crate) fn add_profile_list(&mut self) {
        self.count_n(Method::Get, LIST_PROFILES, 1);
    }

    fn count_n(&mut self, method: Method, route: &str, n: u64) {
        if n == 0 {
            return;
        }
        self.total += n;
        *self
            .by_method
            .entry(method.as_str().to_string())
            .or_default() += n;
        *self.by_endpoint.entry(route.to_string()).or_default() += n;
    }

    /// The total over several estimates.
    pub(crate) fn sum<'a>(estimates: impl IntoIterator<Item = &'a Estimate>) -> Self {
        let mut total = Self::default();
        for estimate in estimates {
            total.total += estimate.total;
            for (method, n) in &estimate.by_method {
                *total.by_method.entry(method.clone()).or_default() += n;
            }
            for (route, n) in &estimate.by_endpoint {
                *total.by_endpoint.entry(route.clone()).or_default() += n;
            }
        }
        total
    }
}

/// Requests to remove `k` rules: single deletes, or a scratch folder (create, moves, delete).
pub(super) fn removal_cost(k: usize) -> (usize, usize) {
    (k, k.div_ceil(crate::model::MAX_HOSTNAMES_PER_REQUEST) + 2)
}

/// Whether moving `k` rules into a scratch folder is cheaper; ties go to single deletes.
pub(super) fn scratch_is_cheaper(k: usize) -> bool {
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
