//! Property test of the settings planner: any remote settings plus any config. The plan's steps
//! run on an in-memory model of Control D's settings semantics (written here, from the API facts,
//! independent of the planner): afterwards every managed setting is what the config says, a second
//! plan from the result changes nothing, and every filter, service and option the config does not
//! name is exactly as it was. The default rule is touched only when the config sets it.

use std::collections::BTreeMap;

use ctrld_sync::model::{
    ActionKind, CurrentFilter, CurrentSettings, DesiredProfile, FilterWant, Named, OptionWant,
    ProfileSettings, RuleAction, ServiceWant, Spot,
};
use ctrld_sync::plan::{plan_profile, CurrentProfile, PlanSettings, SettingKind, Step};
use proptest::prelude::*;

/// Families and their levels; `malware`'s levels are of different types and add up (observed).
const FAMILIES: &[(&str, &[(&str, &str)])] = &[
    (
        "ads",
        &[
            ("ads_small", "filter"),
            ("ads_medium", "filter"),
            ("ads", "filter"),
        ],
    ),
    ("porn", &[("porn", "filter"), ("porn_strict", "filter")]),
    (
        "malware",
        &[
            ("ip_malware", "ipfilter"),
            ("malware", "filter"),
            ("ai_malware", "option"),
        ],
    ),
    ("social", &[]),
    ("x-1hosts-lite", &[]),
];
const SERVICES: &[&str] = &["tiktok", "netflix", "zoom", "discord"];
const OPTIONS: &[&str] = &["safesearch", "ttl_blck", "ai_malware", "b_resp"];

/// Control D's settings as the writes change them.
#[derive(Clone, Debug, PartialEq)]
struct Remote {
    /// Family -> enabled levels (or the family itself when it has none).
    filters: BTreeMap<String, Vec<String>>,
    services: BTreeMap<String, RuleAction>,
    default: RuleAction,
    options: BTreeMap<String, String>,
}

fn levels_of(family: &str) -> &'static [(&'static str, &'static str)] {
    FAMILIES.iter().find(|(name, _)| *name == family).unwrap().1
}

impl Remote {
    /// `PUT .../filters/filter/{name}`: a family turns its own level on or every level off; a
    /// level turns on and swaps out its family's other levels of the same type.
    fn set_filter(&mut self, name: &str, enabled: bool) {
        if let Some((family, levels)) = FAMILIES.iter().find(|(family, _)| *family == name) {
            let active = self.filters.entry(family.to_string()).or_default();
            match (enabled, levels.is_empty()) {
                (false, _) => active.clear(),
                (true, true) => *active = vec![name.to_owned()],
                (true, false) => self.set_level(family, name, true),
            }
            return;
        }
        let family = FAMILIES
            .iter()
            .find(|(_, levels)| levels.iter().any(|(level, _)| *level == name))
            .expect("the plan writes only listed names")
            .0;
        self.set_level(family, name, enabled);
    }

    fn set_level(&mut self, family: &str, level: &str, enabled: bool) {
        let kind = levels_of(family)
            .iter()
            .find(|(l, _)| *l == level)
            .unwrap()
            .1;
        let active = self.filters.entry(family.to_owned()).or_default();
        active.retain(|other| {
            other != level
                && (!enabled
                    || levels_of(family)
                        .iter()
                        .any(|(l, k)| l == other && *k != kind))
        });
        if enabled {
            active.push(level.to_owned());
            active.sort();
        }
    }

    fn current(&self) -> CurrentSettings {
        CurrentSettings {
            filters: self
                .filters
                .iter()
                .map(|(family, active)| {
                    let levels = levels_of(family)
                        .iter()
                        .map(|(l, k)| (l.to_string(), k.to_string()))
                        .collect();
                    let filter = CurrentFilter {
                        levels,
                        active: active.clone(),
                    };
                    (family.clone(), filter)
                })
                .collect(),
            services: self.services.clone(),
            default: Some(self.default.clone()),
            options: self.options.clone(),
        }
    }

    fn run(&mut self, steps: &[Step]) {
        for step in steps {
            match step {
                Step::SetFilters { filters } => {
                    for switch in filters {
                        self.set_filter(&switch.name, switch.enabled);
                    }
                }
                Step::SetService { service, action } => {
                    self.services.insert(service.clone(), action.clone());
                }
                Step::SetDefault { action } => self.default = action.clone(),
                Step::SetOption { option, value } => match value {
                    Some(value) => self.options.insert(option.clone(), value.clone()),
                    None => self.options.remove(option),
                }
                .map_or((), |_| ()),
                other => panic!("a settings-only profile planned {other:?}"),
            }
        }
    }
}

fn action() -> impl Strategy<Value = RuleAction> {
    prop_oneof![
        Just(RuleAction::block()),
        Just(RuleAction::allow()),
        Just(RuleAction {
            enabled: false,
            ..RuleAction::block()
        }),
        Just(RuleAction {
            via: Some("10.0.0.1".into()),
            ..RuleAction::new(ActionKind::Spoof)
        }),
    ]
}

fn remote() -> impl Strategy<Value = Remote> {
    let filters = proptest::collection::vec(any::<u8>(), FAMILIES.len());
    let services = proptest::collection::vec(proptest::option::of(action()), SERVICES.len());
    let options = proptest::collection::vec(proptest::option::of(0u8..3), OPTIONS.len());
    (filters, services, action(), options).prop_map(|(filters, services, default, options)| {
        let filters = FAMILIES
            .iter()
            .zip(filters)
            .map(|((family, levels), bits)| {
                let active = match levels.is_empty() {
                    true if bits % 2 == 1 => vec![family.to_string()],
                    true => Vec::new(),
                    // At most one level of each type.
                    false => {
                        let mut chosen: Vec<(&str, &str)> = Vec::new();
                        for (index, (level, kind)) in levels.iter().enumerate() {
                            if bits >> index & 1 == 1 && chosen.iter().all(|(_, k)| k != kind) {
                                chosen.push((level, kind));
                            }
                        }
                        let mut names: Vec<String> =
                            chosen.iter().map(|(l, _)| l.to_string()).collect();
                        names.sort();
                        names
                    }
                };
                (family.to_string(), active)
            })
            .collect();
        let services = SERVICES
            .iter()
            .zip(services)
            .filter_map(|(name, action)| Some((name.to_string(), action?)))
            .collect();
        let options = OPTIONS
            .iter()
            .zip(options)
            .filter_map(|(name, value)| Some((name.to_string(), value?.to_string())))
            .collect();
        Remote {
            filters,
            services,
            default,
            options,
        }
    })
}

fn named<T>(name: &str, want: T) -> Named<T> {
    Named {
        name: name.into(),
        want,
        spot: Spot::default(),
    }
}

fn wanted() -> impl Strategy<Value = ProfileSettings> {
    let filter_want = |family: &'static str| {
        let levels: Vec<FilterWant> = levels_of(family)
            .iter()
            .map(|(level, _)| FilterWant::Level(level.to_string()))
            .collect();
        let mut choices = vec![FilterWant::On, FilterWant::Off];
        if !family.starts_with("x-") {
            choices.extend(levels);
        }
        proptest::option::of(proptest::sample::select(choices))
    };
    let filters: Vec<_> = FAMILIES
        .iter()
        .map(|(family, _)| filter_want(family))
        .collect();
    let service = prop_oneof![
        action().prop_map(ServiceWant::Action),
        Just(ServiceWant::Off)
    ];
    let services = proptest::collection::vec(proptest::option::of(service), SERVICES.len());
    let option = prop_oneof![
        Just(OptionWant::On),
        Just(OptionWant::Off),
        (0u8..3).prop_map(|n| OptionWant::Value(n.to_string())),
    ];
    let options = proptest::collection::vec(proptest::option::of(option), OPTIONS.len());
    let default =
        proptest::option::of(action().prop_filter("the default is enabled", |a| a.enabled));
    (filters, services, options, default).prop_map(|(filters, services, options, default)| {
        ProfileSettings {
            default: default.map(|action| named("default", action)),
            filters: FAMILIES
                .iter()
                .zip(filters)
                .filter_map(|((family, _), want)| Some(named(family, want?)))
                .collect(),
            services: SERVICES
                .iter()
                .zip(services)
                .filter_map(|(name, want)| Some(named(name, want?)))
                .collect(),
            options: OPTIONS
                .iter()
                .zip(options)
                .filter_map(|(name, want)| Some(named(name, want?)))
                .collect(),
            ..ProfileSettings::default()
        }
    })
}

fn plan(wanted: &ProfileSettings, remote: &Remote) -> ctrld_sync::plan::ProfilePlan {
    let desired = DesiredProfile {
        id: "p1".into(),
        name: None,
        folders: Vec::new(),
        settings: wanted.clone(),
    };
    let current = CurrentProfile {
        // What refresh hands the planner: only the managed names.
        settings: remote.current().managed_by(wanted),
        ..empty_current()
    };
    let settings = PlanSettings {
        allow_destroy: true,
        ..PlanSettings::default()
    };
    plan_profile(&desired, &current, &settings).expect("settings alone always plan")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_settings_apply_to_exactly_the_config_and_nothing_else(
        before in remote(),
        wanted in wanted(),
    ) {
        let first = plan(&wanted, &before);
        let mut after = before.clone();
        after.run(&first.steps);

        // One write per changed setting; the filters in one write.
        let filter_changes = first.settings.iter().filter(|c| c.kind == SettingKind::Filter).count();
        prop_assert_eq!(first.steps.len(), first.settings.len() - filter_changes.saturating_sub(1));

        // Converged: planning again changes nothing.
        let second = plan(&wanted, &after);
        prop_assert!(second.steps.is_empty(), "second plan: {:?}", second.settings);
        // The plan's own record of the result is the result.
        let record = first.target.settings.clone().unwrap_or_default();
        if !wanted.is_empty() {
            prop_assert_eq!(&record.values, &after.current().managed_by(&wanted));
        }

        // Nothing unnamed moved.
        for (family, active) in &before.filters {
            if !wanted.filters.iter().any(|f| &f.name == family) {
                prop_assert_eq!(Some(active), after.filters.get(family), "filter {}", family);
            }
        }
        for name in SERVICES {
            if !wanted.services.iter().any(|s| s.name == *name) {
                prop_assert_eq!(before.services.get(*name), after.services.get(*name));
            }
        }
        for name in OPTIONS {
            if !wanted.options.iter().any(|o| o.name == *name) {
                prop_assert_eq!(before.options.get(*name), after.options.get(*name));
            }
        }
        if wanted.default.is_none() {
            prop_assert_eq!(&before.default, &after.default);
        }

        // Lowering protection is refused without --allow-destroy, and only then.
        let lowers = first.settings.iter().any(|c| c.lowers_protection);
        let desired = DesiredProfile { id: "p1".into(), name: None, folders: Vec::new(), settings: wanted.clone() };
        let strict = plan_profile(&desired, &CurrentProfile { settings: before.current().managed_by(&wanted), ..empty_current() }, &PlanSettings::default());
        prop_assert_eq!(strict.is_err(), lowers);
    }
}

fn empty_current() -> CurrentProfile {
    CurrentProfile {
        profile: "p1".into(),
        remote_folders: Vec::new(),
        managed: BTreeMap::new(),
        unmanaged_rules: Some(BTreeMap::new()),
        scratch: Vec::new(),
        parked: Some(BTreeMap::new()),
        duplicates: Vec::new(),
        identities: Vec::new(),
        notes: Vec::new(),
        fingerprint: String::new(),
        reads: Default::default(),
        settings: Default::default(),
        settings_mark: None,
    }
}
