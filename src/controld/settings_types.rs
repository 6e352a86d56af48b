//! A profile's settings beyond folders as the API returns them: filters, services, the option
//! catalogue and the settings part of a `GET /profiles` row.

use std::collections::BTreeMap;

use crate::model::RuleAction;

/// One row of `GET /profiles/{p}/filters` or `GET /profiles/{p}/filters/external`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFilter {
    /// The family (`ads`) or the external list's PK (`x-1hosts-lite`).
    pub pk: String,
    /// The display name; empty when absent.
    pub name: String,
    /// Empty for families without levels and for external rows.
    pub levels: Vec<RemoteFilterLevel>,
    /// Names of what is on: the enabled levels' names; for a row without levels, `[pk]` when its
    /// `status` (or its `action.status`) is 1, else empty. The level `action.lvl` names counts as
    /// on too.
    pub active: Vec<String>,
}

impl RemoteFilter {
    /// Its PK and what the planner compares: each level with its type, and what is on.
    pub(crate) fn into_current(self) -> (String, crate::model::CurrentFilter) {
        let levels = self
            .levels
            .into_iter()
            .map(|level| (level.name, level.kind))
            .collect();
        let filter = crate::model::CurrentFilter {
            levels,
            active: self.active,
        };
        (self.pk, filter)
    }
}

/// One of a filter family's levels (`ads_small`, `ads_medium`, `ads`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteFilterLevel {
    pub name: String,
    /// `filter`, `ipfilter`, `option`, ... (empty when absent): levels of different kinds add up.
    pub kind: String,
    pub enabled: bool,
}

/// One row of `GET /profiles/{p}/services`: a service that has a rule (disabled ones included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteService {
    pub pk: String,
    pub action: RuleAction,
}

/// One row of `GET /profiles/options`: an option a profile can set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionInfo {
    pub pk: String,
    pub title: String,
    pub kind: OptionKind,
}

/// What values an option takes, from the catalogue's `type` and `default_value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionKind {
    /// On or off; set with `status` alone.
    Toggle,
    /// The allowed values (the keys of `default_value`'s map), as text (`"0.9"`, `"3"`).
    Dropdown(Vec<String>),
    /// Free text (TTLs, the DNS64 prefix).
    Field,
    /// A type this client does not know: any value is passed through.
    Other(String),
}

/// The settings-relevant part of a `GET /profiles` row: enabled-item counts and the set options.
/// Every part is `None` when the row does not carry it.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SettingsSignature {
    /// `profile.flt.count`: native filters on.
    pub flt: Option<u64>,
    /// `profile.cflt.count`: external filters on.
    pub cflt: Option<u64>,
    /// `profile.ipflt.count`: IP filters on.
    pub ipflt: Option<u64>,
    /// `profile.svc.count`: enabled service rules.
    pub svc: Option<u64>,
    /// `profile.opt.count`: options set.
    pub opt: Option<u64>,
    /// `profile.opt.data[]` as PK -> value text (numbers written as text: 1 -> "1", 0.7 -> "0.7").
    pub options: Option<BTreeMap<String, String>>,
}
