//! Settings beyond folders: what the config manages against what Control D holds -> the changes
//! shown under the profile (after its folders) and one write per changed setting (the batch filter
//! write when several filters change). Pure, like the folder planner.

use serde::{Deserialize, Serialize};

use super::types::Step;
use crate::model::{
    shown_action, shown_option, ActionKind, CurrentSettings, FilterSwitch, OptionWant,
    ProfileSettings, RuleAction, ServiceWant,
};

/// What kind of setting a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingKind {
    Filter,
    Service,
    Default,
    Option,
}

impl SettingKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Filter => "filter",
            Self::Service => "service",
            Self::Default => "default",
            Self::Option => "option",
        }
    }
}

/// One managed setting that changes: `~ filter ads: ads_small -> ads_medium`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChange {
    pub kind: SettingKind,
    /// The filter, service or option (`default` for the default rule).
    pub name: String,
    /// What it is now; `None` for a service without a rule (the change adds one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: String,
    /// A filter or option turned off, or a service or the default moved away from block: counts
    /// for the safety threshold like a removal.
    #[serde(default, skip_serializing_if = "is_false")]
    pub lowers_protection: bool,
}

impl SettingChange {
    /// `+ service tiktok: block`, `~ default: block -> bypass`.
    pub(crate) fn line(&self) -> String {
        let subject = match self.kind {
            SettingKind::Default => "default".to_owned(),
            kind => format!("{} {}", kind.as_str(), crate::quote::sanitize(&self.name)),
        };
        let to = crate::quote::sanitize(&self.to);
        let lowers = if self.lowers_protection {
            "  (lowers protection)"
        } else {
            ""
        };
        match &self.from {
            None => format!("+ {subject}: {to}{lowers}"),
            Some(from) => format!(
                "~ {subject}: {} -> {to}{lowers}",
                crate::quote::sanitize(from)
            ),
        }
    }

    /// The sentence the safety threshold refuses without `--allow-destroy`.
    pub(crate) fn offense(&self, profile: &str) -> String {
        let subject = match self.kind {
            SettingKind::Default => "the default rule".to_owned(),
            kind => format!("{} `{}`", kind.as_str(), self.name),
        };
        format!(
            "profile {profile}: {subject} would go from {} to {}, lowering protection",
            self.from.as_deref().unwrap_or("nothing"),
            self.to
        )
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The changes and the writes that make `current` what `desired` says, for the names it manages.
pub(crate) fn plan_settings(
    desired: &ProfileSettings,
    current: &CurrentSettings,
) -> (Vec<SettingChange>, Vec<Step>) {
    let mut changes = Vec::new();
    let mut steps = Vec::new();
    let mut filters = Vec::new();
    for filter in &desired.filters {
        let now = current.filters.get(&filter.name);
        if filter.want.is_met_by(&filter.name, now) {
            continue;
        }
        let from = now.map_or_else(|| "off".to_owned(), |now| now.shown(&filter.name));
        let write: FilterSwitch = filter.want.write(&filter.name);
        changes.push(SettingChange {
            kind: SettingKind::Filter,
            name: filter.name.clone(),
            lowers_protection: !write.enabled && from != "off",
            from: Some(from),
            to: filter.want.shown(),
        });
        filters.push(write);
    }
    if !filters.is_empty() {
        steps.push(Step::SetFilters { filters });
    }
    for service in &desired.services {
        let now = current.services.get(&service.name);
        if service.want.is_met_by(now) {
            continue;
        }
        let action = service.want.write(now);
        changes.push(SettingChange {
            kind: SettingKind::Service,
            name: service.name.clone(),
            from: now.map(shown_action),
            to: service.want.shown(),
            lowers_protection: now.is_some_and(is_enabled_block) && !is_enabled_block(&action),
        });
        steps.push(Step::SetService {
            service: service.name.clone(),
            action,
        });
    }
    if let Some(default) = &desired.default {
        let now = current.default.as_ref();
        if !ServiceWant::Action(default.want.clone()).is_met_by(now) {
            changes.push(SettingChange {
                kind: SettingKind::Default,
                name: "default".to_owned(),
                // An unread default (`--refresh none` before any apply) is shown as unknown.
                from: Some(now.map_or_else(|| "unknown".to_owned(), shown_action)),
                to: shown_action(&default.want),
                lowers_protection: now.is_some_and(is_enabled_block)
                    && !is_enabled_block(&default.want),
            });
            steps.push(Step::SetDefault {
                action: default.want.clone(),
            });
        }
    }
    for option in &desired.options {
        let now = current.options.get(&option.name).map(String::as_str);
        if option.want.is_met_by(now) {
            continue;
        }
        changes.push(SettingChange {
            kind: SettingKind::Option,
            name: option.name.clone(),
            from: Some(shown_option(&option.want, now)),
            to: option.want.shown(),
            lowers_protection: option.want == OptionWant::Off && now.is_some(),
        });
        steps.push(Step::SetOption {
            option: option.name.clone(),
            value: option.want.write(),
        });
    }
    (changes, steps)
}

fn is_enabled_block(action: &RuleAction) -> bool {
    action.kind == ActionKind::Block && action.enabled
}

/// The managed settings once every settings step succeeded: `current` with the steps' effects.
pub(crate) fn settings_after(
    desired: &ProfileSettings,
    current: &CurrentSettings,
) -> CurrentSettings {
    let mut after = current.clone();
    for filter in &desired.filters {
        let now = after.filters.entry(filter.name.clone()).or_default();
        if filter.want.is_met_by(&filter.name, Some(now)) {
            continue;
        }
        let write = filter.want.write(&filter.name);
        now.switched(&filter.name, &write);
    }
    for service in &desired.services {
        let now = after.services.get(&service.name);
        if !service.want.is_met_by(now) {
            let action = service.want.write(now);
            after.services.insert(service.name.clone(), action);
        }
    }
    if let Some(default) = &desired.default {
        if !ServiceWant::Action(default.want.clone()).is_met_by(after.default.as_ref()) {
            after.default = Some(default.want.clone());
        }
    }
    for option in &desired.options {
        let now = after.options.get(&option.name).map(String::as_str);
        if option.want.is_met_by(now) {
            continue;
        }
        match option.want.write() {
            Some(value) => after.options.insert(option.name.clone(), value),
            None => after.options.remove(&option.name),
        };
    }
    after.managed_by(desired)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CurrentFilter, FilterWant, Named, Spot};
    use std::collections::BTreeMap;

    fn named<T>(name: &str, want: T) -> Named<T> {
        Named {
            name: name.into(),
            want,
            spot: Spot::default(),
        }
    }

    fn desired() -> ProfileSettings {
        ProfileSettings {
            default: Some(named("default", RuleAction::allow())),
            filters: vec![
                named("ads", FilterWant::Level("ads_medium".into())),
                named("porn", FilterWant::Off),
                named("social", FilterWant::On),
            ],
            services: vec![
                named("tiktok", ServiceWant::Action(RuleAction::block())),
                named("zoom", ServiceWant::Action(RuleAction::allow())),
            ],
            options: vec![
                named("safesearch", OptionWant::On),
                named("ttl_blck", OptionWant::Value("10".into())),
                named("no_dnssec", OptionWant::Off),
            ],
            ..ProfileSettings::default()
        }
    }

    fn levels(names: &[&str]) -> BTreeMap<String, String> {
        names
            .iter()
            .map(|name| (name.to_string(), "filter".to_string()))
            .collect()
    }

    fn current() -> CurrentSettings {
        let mut current = CurrentSettings::default();
        current.filters.insert(
            "ads".into(),
            CurrentFilter {
                levels: levels(&["ads_small", "ads_medium", "ads"]),
                active: vec!["ads_small".into()],
            },
        );
        current.filters.insert(
            "porn".into(),
            CurrentFilter {
                levels: levels(&["porn", "porn_strict"]),
                active: vec!["porn".into()],
            },
        );
        current.services.insert("zoom".into(), RuleAction::block());
        current.default = Some(RuleAction::block());
        current.options.insert("ttl_blck".into(), "10".into());
        current.options.insert("no_dnssec".into(), "1".into());
        current
    }

    #[test]
    fn every_kind_of_change_is_one_line_and_one_write_with_filters_batched() {
        let (changes, steps) = plan_settings(&desired(), &current());
        let lines: Vec<String> = changes.iter().map(SettingChange::line).collect();
        assert_eq!(
            lines,
            [
                "~ filter ads: ads_small -> ads_medium",
                "~ filter porn: on -> off  (lowers protection)",
                "~ filter social: off -> on",
                "+ service tiktok: block",
                "~ service zoom: block -> bypass  (lowers protection)",
                "~ default: block -> bypass  (lowers protection)",
                "~ option safesearch: off -> on",
                "~ option no_dnssec: on -> off  (lowers protection)",
            ]
        );
        assert_eq!(steps.len(), 6, "{steps:?}");
        assert_eq!(
            steps[0],
            Step::SetFilters {
                filters: vec![
                    FilterSwitch {
                        name: "ads_medium".into(),
                        enabled: true
                    },
                    FilterSwitch {
                        name: "porn".into(),
                        enabled: false
                    },
                    FilterSwitch {
                        name: "social".into(),
                        enabled: true
                    },
                ]
            }
        );
        assert_eq!(
            steps[5],
            Step::SetOption {
                option: "no_dnssec".into(),
                value: None
            }
        );
    }

    #[test]
    fn what_is_already_so_plans_nothing_and_the_after_state_plans_nothing() {
        let desired = desired();
        let after = settings_after(&desired, &current());
        assert_eq!(plan_settings(&desired, &after), (vec![], vec![]));
        assert!(!after.options.contains_key("no_dnssec"));
        assert_eq!(after.default, Some(RuleAction::allow()));
    }

    #[test]
    fn only_moving_away_from_an_enabled_block_lowers_the_default() {
        let mut spoof = RuleAction::new(ActionKind::Spoof);
        spoof.via = Some("10.0.0.1".into());
        let lowers = |from: RuleAction, to: RuleAction| {
            let desired = ProfileSettings {
                default: Some(named("default", to)),
                ..ProfileSettings::default()
            };
            let current = CurrentSettings {
                default: Some(from),
                ..CurrentSettings::default()
            };
            plan_settings(&desired, &current).0[0].lowers_protection
        };
        assert!(!lowers(RuleAction::allow(), spoof.clone()));
        assert!(lowers(RuleAction::block(), spoof));
        assert!(!lowers(RuleAction::allow(), RuleAction::block()));
    }

    #[test]
    fn a_service_turned_on_from_nothing_does_not_lower_protection() {
        let desired = ProfileSettings {
            services: vec![named("x", ServiceWant::Action(RuleAction::allow()))],
            ..ProfileSettings::default()
        };
        let (changes, _) = plan_settings(&desired, &CurrentSettings::default());
        assert!(!changes[0].lowers_protection);
        assert_eq!(changes[0].from, None);
        assert!(changes[0].offense("p1").contains("from nothing to bypass"));
    }
}
