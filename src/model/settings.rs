//! A profile's settings beyond folders: native and external filters, service rules, the default
//! rule and profile options. Only what the config names is managed; everything else is never
//! touched, so each kind is a list of named wants, and "current" is what Control D holds for those
//! names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{ActionKind, RuleAction};

/// Where a setting is written in the config (for messages that point at it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spot {
    pub line: usize,
    pub column: usize,
}

/// One named setting the config manages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named<T> {
    /// A filter family, a level or an `x-` PK; a service PK; an option PK.
    pub name: String,
    pub want: T,
    pub spot: Spot,
}

/// What the config says of a profile's settings. Empty: none is managed (the folder-only path).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileSettings {
    /// The config file they are written in (for messages pointing at a name Control D lacks).
    pub file: std::path::PathBuf,
    pub default: Option<Named<RuleAction>>,
    pub filters: Vec<Named<FilterWant>>,
    pub services: Vec<Named<ServiceWant>>,
    pub options: Vec<Named<OptionWant>>,
}

impl ProfileSettings {
    pub fn is_empty(&self) -> bool {
        self.default.is_none()
            && self.filters.is_empty()
            && self.services.is_empty()
            && self.options.is_empty()
    }
}

/// Third-party filters have PKs starting `x-` and are listed by `GET .../filters/external`.
pub fn is_external(filter: &str) -> bool {
    filter.starts_with("x-")
}

/// A filter: `false`, `true` (the family's own level, the one named like it) or a level by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterWant {
    Off,
    On,
    Level(String),
}

impl FilterWant {
    /// Whether the filter as it is now (`None`: not in the listing) is what is wanted.
    pub fn is_met_by(&self, family: &str, current: Option<&CurrentFilter>) -> bool {
        let active = current.map_or(&[][..], |filter| &filter.active[..]);
        match self {
            Self::Off => active.is_empty(),
            // A family without a level named like it turns on whatever level it turns on.
            Self::On => match current {
                Some(filter) if !filter.levels.contains_key(family) => !active.is_empty(),
                _ => active.iter().any(|name| name == family),
            },
            Self::Level(level) => active.contains(level),
        }
    }

    /// The `{name}` and `status` of the write that makes it so: a level turned on swaps out the
    /// family's other level of its type (observed); the family turned off turns off every level.
    pub fn write(&self, family: &str) -> FilterSwitch {
        match self {
            Self::Off => FilterSwitch::new(family, false),
            Self::On => FilterSwitch::new(family, true),
            Self::Level(level) => FilterSwitch::new(level, true),
        }
    }

    pub fn shown(&self) -> String {
        match self {
            Self::Off => "off".into(),
            Self::On => "on".into(),
            Self::Level(level) => level.clone(),
        }
    }
}

/// One filter write: `PUT .../filters/filter/{name}` with `status`, or one entry of the batch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterSwitch {
    pub name: String,
    pub enabled: bool,
}

impl FilterSwitch {
    fn new(name: &str, enabled: bool) -> Self {
        Self {
            name: name.to_owned(),
            enabled,
        }
    }
}

/// A filter family (or external filter) as Control D lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentFilter {
    /// Its levels by name, each with its type (`filter`, `ipfilter`, `option`, or empty when not
    /// listed): turning a level on turns off the family's other levels of the same type
    /// (observed), while levels of different types add up. Empty for a family without levels and
    /// for external filters.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<String, String>,
    /// What is on: enabled levels, or the filter itself for one without levels.
    #[serde(default)]
    pub active: Vec<String>,
}

impl CurrentFilter {
    /// What is on after `write` (a switch of this family, by level or by its own PK).
    pub fn switched(&mut self, family: &str, write: &FilterSwitch) {
        if !write.enabled {
            // The family off turns every level off; a level off, only itself.
            match write.name == family {
                true => self.active.clear(),
                false => self.active.retain(|name| name != &write.name),
            }
            return;
        }
        match self.levels.get(&write.name) {
            Some(kind) => {
                let levels = &self.levels;
                self.active.retain(|name| {
                    levels
                        .get(name)
                        .is_some_and(|other| other != kind && !kind.is_empty())
                });
                self.active.push(write.name.clone());
                self.active.sort();
            }
            None => self.active = vec![write.name.clone()],
        }
    }

    pub fn shown(&self, family: &str) -> String {
        match self.active.as_slice() {
            [] => "off".into(),
            [only] if only == family => "on".into(),
            levels => levels.join("+"),
        }
    }
}

/// A service rule: an action as rules take, or `"off"` (a service rule cannot be deleted: it is
/// disabled, which leaves it listed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceWant {
    Action(RuleAction),
    Off,
}

impl ServiceWant {
    /// `current`: the service's rule (`None`: it has none).
    pub fn is_met_by(&self, current: Option<&RuleAction>) -> bool {
        match (self, current) {
            (Self::Off, None) => true,
            (Self::Off, Some(rule)) => !rule.enabled,
            (Self::Action(_), None) => false,
            (Self::Action(want), Some(rule)) => action_matches(want, rule),
        }
    }

    /// The action the write sends. Turning a rule off keeps its `do` and `via` (the service
    /// write wants a `do`; sending the current one changes nothing else).
    pub fn write(&self, current: Option<&RuleAction>) -> RuleAction {
        match self {
            Self::Action(action) => action.clone(),
            Self::Off => {
                let mut action = current.cloned().unwrap_or_else(RuleAction::block);
                action.enabled = false;
                action
            }
        }
    }

    pub fn shown(&self) -> String {
        match self {
            Self::Action(action) => shown_action(action),
            Self::Off => "off".into(),
        }
    }
}

/// Whether a service rule or the default rule is as wanted: same action and target, enabled.
/// `via_v6` is compared only when the config sets it (an omitted `via_v6` is kept by the service
/// write, observed, so comparing it would plan the same write forever).
pub fn action_matches(want: &RuleAction, current: &RuleAction) -> bool {
    want.kind == current.kind
        && want.enabled == current.enabled
        && (!want.kind.needs_via() || want.via == current.via)
        && (want.via_v6.is_none() || want.via_v6 == current.via_v6)
}

/// A service or default action as the dashboard names it: Control D calls allow "bypass".
pub fn shown_action(action: &RuleAction) -> String {
    let mut text = match action.kind {
        ActionKind::Allow => "bypass".to_owned(),
        kind => kind.as_str().to_owned(),
    };
    if let Some(via) = &action.via {
        text.push_str(&format!(" {via}"));
    }
    if let Some(via_v6) = &action.via_v6 {
        text.push_str(&format!(" via_v6={via_v6}"));
    }
    if !action.enabled {
        text.push_str(" (disabled)");
    }
    text
}

/// A profile option: a toggle on or off, or a value (sent as text: `"0.7"`, `"10"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionWant {
    Off,
    On,
    Value(String),
}

impl OptionWant {
    /// `current`: the option's value as listed (`None`: not set; the listing is sparse).
    pub fn is_met_by(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (Self::Off, current) => current.is_none(),
            (Self::On, current) => current.is_some(),
            (Self::Value(_), None) => false,
            (Self::Value(want), Some(value)) => same_value(want, value),
        }
    }

    /// The `value` the write sends; `None` turns the option off (`status=0`). A toggle's value is
    /// ignored by the service, so `"1"` (what it lists for a toggle that is on) is sent.
    pub fn write(&self) -> Option<String> {
        match self {
            Self::Off => None,
            Self::On => Some("1".to_owned()),
            Self::Value(value) => Some(value.clone()),
        }
    }

    pub fn shown(&self) -> String {
        match self {
            Self::Off => "off".into(),
            Self::On => "on".into(),
            Self::Value(value) => value.clone(),
        }
    }
}

/// Option values compare as numbers when both are numbers (`"10"` and `"10.0"` are one TTL), as
/// text otherwise.
pub fn same_value(a: &str, b: &str) -> bool {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// How an option that is set is shown: a toggle lists the number 1.
pub fn shown_option(want: &OptionWant, current: Option<&str>) -> String {
    match (want, current) {
        (_, None) => "off".into(),
        (OptionWant::On | OptionWant::Off, Some("1")) => "on".into(),
        (_, Some(value)) => value.to_owned(),
    }
}

/// The managed settings as they are in Control D (or as the last apply left them, when not read).
/// Only the names the config manages are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentSettings {
    /// By family or `x-` PK; a managed name Control D does not list is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub filters: BTreeMap<String, CurrentFilter>,
    /// Service rules by service PK; a service without a rule is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, RuleAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<RuleAction>,
    /// Set options by PK, values as listed (text); an option that is not set is absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl CurrentSettings {
    /// Only what `settings` names (a listing carries every filter and service; the state keeps
    /// the managed ones).
    pub fn managed_by(mut self, settings: &ProfileSettings) -> Self {
        let filters = names_of(&settings.filters);
        self.filters
            .retain(|name, _| filters.contains(&name.as_str()));
        let services = names_of(&settings.services);
        self.services
            .retain(|name, _| services.contains(&name.as_str()));
        let options = names_of(&settings.options);
        self.options
            .retain(|name, _| options.contains(&name.as_str()));
        if settings.default.is_none() {
            self.default = None;
        }
        self
    }
}

fn names_of<T>(named: &[Named<T>]) -> Vec<&str> {
    named.iter().map(|n| n.name.as_str()).collect()
}

/// What a state file keeps of a profile's managed settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsRecord {
    /// sha256 of what `GET /profiles` said of the profile (when it changed, its counts of enabled
    /// filters and services, its option values) after the last apply; another answer, or none,
    /// means the settings are read again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// `kind:name` of every setting managed then; a name not here is read (and checked) first.
    #[serde(default)]
    pub managed: BTreeSet<String>,
    /// What those settings were.
    #[serde(default)]
    pub values: CurrentSettings,
}

impl ProfileSettings {
    /// `filter:ads`, `service:tiktok`, `default`, `option:safesearch`: the names managed.
    pub fn keys(&self) -> BTreeSet<String> {
        let mut keys = BTreeSet::new();
        keys.extend(self.default.iter().map(|_| "default".to_owned()));
        keys.extend(self.filters.iter().map(|n| format!("filter:{}", n.name)));
        keys.extend(self.services.iter().map(|n| format!("service:{}", n.name)));
        keys.extend(self.options.iter().map(|n| format!("option:{}", n.name)));
        keys
    }
}

impl fmt::Display for FilterWant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(levels: &[&str], active: &[&str]) -> CurrentFilter {
        CurrentFilter {
            levels: levels
                .iter()
                .map(|l| (l.to_string(), "filter".to_string()))
                .collect(),
            active: active.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn a_filter_is_met_by_its_level_and_off_by_nothing_on() {
        let ads = filter(&["ads_small", "ads_medium", "ads"], &["ads_small"]);
        assert!(FilterWant::Level("ads_small".into()).is_met_by("ads", Some(&ads)));
        assert!(!FilterWant::Level("ads_medium".into()).is_met_by("ads", Some(&ads)));
        assert!(
            !FilterWant::On.is_met_by("ads", Some(&ads)),
            "on is the level `ads`"
        );
        assert!(!FilterWant::Off.is_met_by("ads", Some(&ads)));
        assert!(FilterWant::Off.is_met_by("ads", Some(&filter(&["ads"], &[]))));
        assert!(FilterWant::Off.is_met_by("x-gone", None));
        assert!(!FilterWant::On.is_met_by("x-gone", None));
        let social = filter(&[], &["social"]);
        assert!(FilterWant::On.is_met_by("social", Some(&social)));
        let named_apart = filter(&["nrd_small"], &["nrd_small"]);
        assert!(FilterWant::On.is_met_by("nrd", Some(&named_apart)));
    }

    #[test]
    fn filter_writes_name_the_level_or_the_family() {
        assert_eq!(
            FilterWant::Off.write("ads"),
            FilterSwitch::new("ads", false)
        );
        assert_eq!(FilterWant::On.write("ads"), FilterSwitch::new("ads", true));
        assert_eq!(
            FilterWant::Level("ads_medium".into()).write("ads"),
            FilterSwitch::new("ads_medium", true)
        );
        assert_eq!(filter(&[], &[]).shown("ads"), "off");
        assert_eq!(filter(&[], &["ads"]).shown("ads"), "on");
        assert_eq!(
            filter(&[], &["ip_malware", "malware"]).shown("malware"),
            "ip_malware+malware"
        );
    }

    #[test]
    fn a_service_is_met_by_the_same_enabled_action_and_off_by_a_disabled_or_missing_rule() {
        let block = RuleAction::block();
        let mut disabled = RuleAction::allow();
        disabled.enabled = false;
        assert!(ServiceWant::Action(block.clone()).is_met_by(Some(&block)));
        assert!(!ServiceWant::Action(block.clone()).is_met_by(None));
        assert!(!ServiceWant::Action(block.clone()).is_met_by(Some(&disabled)));
        assert!(ServiceWant::Off.is_met_by(None));
        assert!(ServiceWant::Off.is_met_by(Some(&disabled)));
        assert!(!ServiceWant::Off.is_met_by(Some(&block)));
        assert_eq!(ServiceWant::Off.write(Some(&RuleAction::allow())), disabled);
    }

    #[test]
    fn via_v6_is_compared_only_when_the_config_sets_it() {
        let mut want = RuleAction::new(ActionKind::Spoof);
        want.via = Some("10.0.0.1".into());
        let mut current = want.clone();
        current.via_v6 = Some("::1".into());
        assert!(action_matches(&want, &current));
        want.via_v6 = Some("::2".into());
        assert!(!action_matches(&want, &current));
        current.via = Some("10.0.0.2".into());
        want.via_v6 = None;
        assert!(!action_matches(&want, &current));
        assert_eq!(shown_action(&RuleAction::allow()), "bypass");
        assert_eq!(shown_action(&current), "spoof 10.0.0.2 via_v6=::1");
    }

    #[test]
    fn options_compare_numbers_as_numbers() {
        assert!(OptionWant::Value("10".into()).is_met_by(Some("10.0")));
        assert!(!OptionWant::Value("0.7".into()).is_met_by(Some("0.9")));
        assert!(OptionWant::Value("64:ff9b::/96".into()).is_met_by(Some("64:ff9b::/96")));
        assert!(OptionWant::On.is_met_by(Some("1")));
        assert!(!OptionWant::On.is_met_by(None));
        assert!(OptionWant::Off.is_met_by(None));
        assert!(!OptionWant::Off.is_met_by(Some("1")));
        assert_eq!(OptionWant::On.write().as_deref(), Some("1"));
        assert_eq!(OptionWant::Off.write(), None);
        assert_eq!(shown_option(&OptionWant::Off, Some("1")), "on");
        assert_eq!(
            shown_option(&OptionWant::Value("5".into()), Some("10")),
            "10"
        );
    }
}
