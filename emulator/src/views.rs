//! The JSON shapes the API answers with (field names exactly as Control D spells them).

use std::ops::Deref;

use serde::Serialize;

use crate::dump::ActionDump;
use crate::settings::Settings;
use crate::settings_views::OptionValueView;

/// One entry of `GET /profiles`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct ProfileView {
    #[serde(rename = "PK")]
    pub pk: String,
    pub name: String,
    /// Unix milliseconds of the last change.
    pub updated: u64,
    pub profile: ProfileCounts,
}

/// `profile.{flt,cflt,ipflt,rule,svc,grp,opt}.count` (enabled items only), and the profile's
/// options at `profile.opt.data[]`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct ProfileCounts {
    pub flt: Count,
    pub cflt: Count,
    pub ipflt: Count,
    pub rule: Count,
    pub svc: Count,
    pub grp: Count,
    pub opt: OptionCount,
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub(crate) struct Count {
    pub count: usize,
}

/// `profile.opt`: how many options are set, and their sparse `{PK, value}` pairs.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct OptionCount {
    pub count: usize,
    pub data: Vec<OptionValueView>,
}

impl ProfileCounts {
    pub(crate) fn new(rules: usize, folders: usize, settings: &Settings) -> Self {
        let counts = settings.counts();
        let count = |count| Count { count };
        Self {
            flt: count(counts.flt),
            cflt: count(counts.cflt),
            ipflt: count(counts.ipflt),
            rule: count(rules),
            svc: count(counts.svc),
            grp: count(folders),
            opt: OptionCount {
                count: counts.opt,
                data: settings.option_values(),
            },
        }
    }
}

/// One entry of `GET /profiles/{p}/groups`, and the answer of folder writes.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct FolderView {
    #[serde(rename = "PK")]
    pub pk: u64,
    pub group: String,
    pub action: ActionView,
    pub count: usize,
}

/// One entry of `GET /profiles/{p}/rules[/{pk}]`, and the one-entry summary of rule writes.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct RuleView {
    #[serde(rename = "PK")]
    pub hostname: String,
    pub order: u64,
    /// Folder PK, 0 for the root.
    pub group: u64,
    pub action: ActionView,
    /// Empty unless set; the live service sends it on every rule.
    pub comment: String,
}

/// An action as listed: the stored fields plus what the live service adds beside them.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct ActionView {
    #[serde(flatten)]
    pub stored: ActionDump,
    /// Dashboard folders carry `via: -1` (an integer) when they have no via.
    #[serde(rename = "via", skip_serializing_if = "Option::is_none")]
    pub dashboard_via: Option<i64>,
    /// A rule's expiry, unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
}

impl ActionView {
    pub(crate) fn folder(action: &ActionDump, dashboard: bool) -> Self {
        Self {
            stored: action.clone(),
            dashboard_via: (dashboard && action.via.is_none()).then_some(-1),
            ttl: None,
        }
    }

    pub(crate) fn rule(action: &ActionDump, ttl: Option<u64>) -> Self {
        Self {
            stored: action.clone(),
            dashboard_via: None,
            ttl,
        }
    }
}

impl Deref for ActionView {
    type Target = ActionDump;

    fn deref(&self) -> &ActionDump {
        &self.stored
    }
}
