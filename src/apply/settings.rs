//! The settings steps: one write per changed setting (the batch filter write for several). A write
//! that fails is read back before it counts as failed: its answer may have been lost after the
//! service made the change, and a repeated write that changes nothing may be refused (unknown).

use std::collections::BTreeMap;

use super::error::ApplyError;
use super::run::ProfileRun;
use crate::controld::ApiError;
use crate::model::{action_matches, same_value, CurrentFilter, FilterSwitch, RuleAction};
use crate::plan::Step;

impl ProfileRun<'_> {
    pub(super) async fn set_filters(&self, filters: &[FilterSwitch]) -> Result<(), ApplyError> {
        let what = || match filters {
            [one] => format!("filter `{}`", one.name),
            _ => format!("{} filters", filters.len()),
        };
        let result = match filters {
            [one] => {
                let sent = self
                    .client
                    .set_filter(&self.profile, &one.name, one.enabled);
                sent.await
            }
            _ => {
                let pairs: Vec<(String, bool)> = filters
                    .iter()
                    .map(|switch| (switch.name.clone(), switch.enabled))
                    .collect();
                self.client.set_filters(&self.profile, &pairs).await
            }
        };
        if let Err(err) = result {
            let listed = self.listed_filters().await;
            let listed =
                listed.map_err(|read| self.api(format!("reading back {}", what()), read))?;
            if !filters.iter().all(|switch| filter_is_set(switch, &listed)) {
                return Err(self.api(format!("setting {}", what()), err));
            }
        }
        self.record(|ledger| ledger.settings_written(filters.len()))
    }

    /// Native and external filters, by family or `x-` PK.
    async fn listed_filters(&self) -> Result<BTreeMap<String, CurrentFilter>, ApiError> {
        let mut rows = self.client.list_filters(&self.profile).await?;
        rows.extend(self.client.list_external_filters(&self.profile).await?);
        Ok(rows
            .into_iter()
            .map(crate::controld::RemoteFilter::into_current)
            .collect())
    }

    pub(super) async fn set_service(
        &self,
        service: &str,
        action: &RuleAction,
    ) -> Result<(), ApplyError> {
        let what = || format!("service `{service}`");
        if let Err(err) = self
            .client
            .set_service(&self.profile, service, action)
            .await
        {
            let listed = self.client.list_services(&self.profile).await;
            let listed =
                listed.map_err(|read| self.api(format!("reading back {}", what()), read))?;
            let now = listed.iter().find(|row| row.pk == service);
            let done = now.is_some_and(|row| service_is_set(action, &row.action));
            if !done {
                return Err(self.api(format!("setting {}", what()), err));
            }
        }
        self.record(|ledger| ledger.settings_written(1))
    }

    pub(super) async fn set_default(&self, action: &RuleAction) -> Result<(), ApplyError> {
        if let Err(err) = self.client.set_default(&self.profile, action).await {
            let now = self.client.get_default(&self.profile).await;
            let now = now.map_err(|read| self.api("reading back the default rule", read))?;
            if !action_matches(action, &now) {
                return Err(self.api("setting the default rule", err));
            }
        }
        self.record(|ledger| ledger.settings_written(1))
    }

    pub(super) async fn set_option(
        &self,
        option: &str,
        value: Option<&str>,
    ) -> Result<(), ApplyError> {
        let what = || format!("option `{option}`");
        match self.client.set_option(&self.profile, option, value).await {
            Ok(answer) => self.check_stored(option, value, answer.as_ref())?,
            Err(err) => {
                let listed = self.client.list_options(&self.profile).await;
                let listed =
                    listed.map_err(|read| self.api(format!("reading back {}", what()), read))?;
                let now = listed.get(option).map(String::as_str);
                if !option_is_set(value, now) {
                    return Err(self.api(format!("setting {}", what()), err));
                }
                self.check_stored(option, value, Some(&listed))?;
            }
        }
        self.record(|ledger| ledger.settings_written(1))
    }

    /// `--verify`: reads back every kind of setting the steps wrote and checks each is as sent.
    pub(super) async fn verify_settings(&self, steps: &[Step]) -> Result<(), ApplyError> {
        let mismatch = |what: String| ApplyError::SettingMismatch {
            profile: self.profile.clone(),
            what,
        };
        let read = |err| self.api("reading the settings back (--verify)", err);
        let written = || steps.iter().filter(|step| step.is_setting());
        if written().any(|step| matches!(step, Step::SetFilters { .. })) {
            let listed = self.listed_filters().await.map_err(read)?;
            for step in written() {
                let Step::SetFilters { filters } = step else {
                    continue;
                };
                if let Some(off) = filters.iter().find(|f| !filter_is_set(f, &listed)) {
                    return Err(mismatch(format!("filter `{}`", off.name)));
                }
            }
        }
        if written().any(|step| matches!(step, Step::SetService { .. })) {
            let listed = self
                .client
                .list_services(&self.profile)
                .await
                .map_err(read)?;
            for step in written() {
                let Step::SetService { service, action } = step else {
                    continue;
                };
                let now = listed.iter().find(|row| &row.pk == service);
                if !now.is_some_and(|row| service_is_set(action, &row.action)) {
                    return Err(mismatch(format!("service `{service}`")));
                }
            }
        }
        for step in written() {
            if let Step::SetDefault { action } = step {
                let now = self.client.get_default(&self.profile).await.map_err(read)?;
                if !action_matches(action, &now) {
                    return Err(mismatch("the default rule".into()));
                }
            }
        }
        if written().any(|step| matches!(step, Step::SetOption { .. })) {
            let listed = self
                .client
                .list_options(&self.profile)
                .await
                .map_err(read)?;
            for step in written() {
                let Step::SetOption { option, value } = step else {
                    continue;
                };
                if !option_is_set(value.as_deref(), listed.get(option).map(String::as_str)) {
                    return Err(mismatch(format!("option `{option}`")));
                }
            }
        }
        Ok(())
    }

    /// A value the service stored other than the one sent (clamped into its range, unknown) would
    /// be planned again on every run: the run fails, naming both.
    fn check_stored(
        &self,
        option: &str,
        sent: Option<&str>,
        answer: Option<&BTreeMap<String, String>>,
    ) -> Result<(), ApplyError> {
        let (Some(sent), Some(stored)) = (sent, answer.and_then(|map| map.get(option))) else {
            return Ok(());
        };
        // A toggle lists 1 whatever was sent; only numbers and text that differ are a change.
        if sent == "1" || same_value(sent, stored) {
            return Ok(());
        }
        Err(ApplyError::SettingNotStored {
            profile: self.profile.clone(),
            option: option.to_owned(),
            sent: sent.to_owned(),
            stored: stored.clone(),
        })
    }
}

fn filter_is_set(switch: &FilterSwitch, listed: &BTreeMap<String, CurrentFilter>) -> bool {
    match listed.get(&switch.name) {
        // A family or external filter named by its own PK: on is its own level when it has one.
        Some(filter) if switch.enabled && filter.levels.contains_key(&switch.name) => {
            filter.active.contains(&switch.name)
        }
        Some(filter) => filter.active.is_empty() != switch.enabled,
        // A level: on when its family lists it as active.
        None => {
            let on = listed
                .values()
                .any(|filter| filter.active.contains(&switch.name));
            on == switch.enabled
        }
    }
}

fn service_is_set(sent: &RuleAction, now: &RuleAction) -> bool {
    match sent.enabled {
        true => action_matches(sent, now),
        false => !now.enabled,
    }
}

fn option_is_set(sent: Option<&str>, now: Option<&str>) -> bool {
    match (sent, now) {
        (None, now) => now.is_none(),
        (Some(_), None) => false,
        (Some(sent), Some(now)) => sent == "1" || same_value(sent, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(rows: &[(&str, &[&str])]) -> BTreeMap<String, CurrentFilter> {
        rows.iter()
            .map(|(pk, active)| {
                let filter = CurrentFilter {
                    levels: BTreeMap::new(),
                    active: active.iter().map(|a| a.to_string()).collect(),
                };
                (pk.to_string(), filter)
            })
            .collect()
    }

    fn switch(name: &str, enabled: bool) -> FilterSwitch {
        FilterSwitch {
            name: name.into(),
            enabled,
        }
    }

    #[test]
    fn a_read_back_filter_is_judged_by_family_or_by_level() {
        let rows = listed(&[
            ("ads", &["ads_medium"]),
            ("porn", &[]),
            ("x-list", &["x-list"]),
        ]);
        assert!(filter_is_set(&switch("ads_medium", true), &rows));
        assert!(!filter_is_set(&switch("ads_small", true), &rows));
        assert!(filter_is_set(&switch("ads_small", false), &rows));
        assert!(filter_is_set(&switch("porn", false), &rows));
        assert!(!filter_is_set(&switch("porn", true), &rows));
        assert!(filter_is_set(&switch("x-list", true), &rows));
        assert!(!filter_is_set(&switch("ads", false), &rows));
    }

    #[test]
    fn a_family_turned_on_by_its_own_name_is_on_only_at_its_own_level() {
        let family = |active: &[&str]| {
            let levels = ["ads_small", "ads_medium", "ads"]
                .iter()
                .map(|level| (level.to_string(), "filter".to_string()))
                .collect();
            let filter = CurrentFilter {
                levels,
                active: active.iter().map(|a| a.to_string()).collect(),
            };
            BTreeMap::from([("ads".to_string(), filter)])
        };
        assert!(!filter_is_set(
            &switch("ads", true),
            &family(&["ads_medium"])
        ));
        assert!(filter_is_set(&switch("ads", true), &family(&["ads"])));
        assert!(filter_is_set(&switch("ads", false), &family(&[])));
        assert!(!filter_is_set(
            &switch("ads", false),
            &family(&["ads_small"])
        ));
    }

    #[test]
    fn a_read_back_service_or_option_is_judged_as_sent() {
        let mut off = RuleAction::block();
        off.enabled = false;
        assert!(service_is_set(&off, &off));
        assert!(!service_is_set(&off, &RuleAction::block()));
        assert!(service_is_set(&RuleAction::allow(), &RuleAction::allow()));
        assert!(!service_is_set(&RuleAction::allow(), &RuleAction::block()));
        assert!(option_is_set(None, None));
        assert!(!option_is_set(None, Some("1")));
        assert!(option_is_set(Some("1"), Some("1")));
        assert!(option_is_set(Some("10"), Some("10.0")));
        assert!(!option_is_set(Some("10"), Some("3600")));
        assert!(!option_is_set(Some("10"), None));
    }
}
