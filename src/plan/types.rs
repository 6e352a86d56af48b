//! The plan's data: stable, documented, serialised as JSON with `format_version: 2`.
//!
//! `plan --format json` prints a [`Plan`]:
//!
//! ```json
//! {
//!   "format_version": 2,
//!   "profiles": [{
//!     "profile": "abc123",
//!     "folders": [{
//!       "key": "ads", "name": "Ads", "pk": 12, "action": {"do": "block", "enabled": true},
//!       "kind": {"type": "keep"},            // create | update (from_name, from_action) | delete | keep
//!       "adopted": true,                     // only when an existing same-named folder is taken over
//!       "add": {"new.example": "block"},     // hostname -> action, one compact string
//!       "change": {"flip.example": {"from": "block", "to": "allow"}},
//!       "move_in": {"moved.example": {"from_key": "old", "from_action": "block", "action": "block"}},
//!       "remove": {"gone.example": "block"},
//!       "unchanged": 1200
//!     }],
//!     "steps": [{"step": "add_rules", "key": "ads", "action": "block", "hostnames": ["new.example"]}],
//!     "overlaps": [{"hostname": "x.example", "kept_by": "ads", "dropped_from": "trackers"}],
//!     "unmanaged_skipped": [{"hostname": "y.example", "key": "ads", "held_by": {"type": "root"}}],
//!     "identities": [{"key": "ads", "pk": 26, "state_name": "Ads", "remote_name": "Mine",
//!                     "recorded": 14, "holds": 2, "shared": 0, "verdict": "not_ours"}],
//!                                        // only when a managed folder's PK holds another name
//!     "settings": [{"kind": "filter", "name": "ads", "from": "ads_small", "to": "ads_medium"},
//!                  {"kind": "service", "name": "tiktok", "to": "block"},   // no `from`: no rule yet
//!                  {"kind": "option", "name": "safesearch", "from": "on", "to": "off",
//!                   "lowers_protection": true}],   // only when settings are managed and change
//!     "removals_first": false,
//!     "destructive": [],
//!     "rules_before": 1203, "rules_after": 1203,
//!     "estimate": {"total": 3, "by_method": {"GET": 2, "POST": 1},
//!                  "by_endpoint": {"GET /profiles/{profile}/groups": 2, "POST /profiles/{profile}/rules": 1}}
//!   }],
//!   "estimate": { "...": "the sum over profiles" },
//!   "kept": [{"key": "ads", "location": "https://...", "error": "the server answered HTTP 503 ..."}]
//! }                                          // kept: only when a source failed with on_error = "keep"
//! ```
//!
//! A plan made from the state files alone (`plan --refresh none`) also has, after `format_version`,
//! `"refresh": "none"` and `"note": "Planned from the state files alone (--refresh none): ..."`.
//!
//! Fields are only ever added within a format version; a removal or a change of meaning bumps it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::cost::Estimate;
use super::current::Holder;
pub use super::settings::{SettingChange, SettingKind};
use crate::model::{
    FilterSwitch, FolderAction, FolderPk, Hostname, KeptFolder, RuleAction, SettingsRecord,
    SourceRecord,
};

/// The JSON schema version of [`Plan`] and of saved plan files.
/// 2: `estimate` counts the refresh reads too (every call an apply makes); `minimum` is gone.
pub(crate) const PLAN_FORMAT_VERSION: u32 = 2;

/// What a plan made from the state files alone says first, in every format.
pub(crate) const STATE_ONLY_NOTE: &str = "Planned from the state files alone (--refresh none): \
    Control D was not read; the apply reads it first.";

/// Every profile's plan, in config order, and the total estimated cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Always [`PLAN_FORMAT_VERSION`].
    pub format_version: u32,
    /// `"none"` when the plan was made from the state files alone; absent when Control D was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<String>,
    /// With `refresh`: [`STATE_ONLY_NOTE`], for whoever reads the JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub profiles: Vec<ProfilePlan>,
    /// The sum of the profiles' estimates.
    pub estimate: Estimate,
    /// Folders whose source failed, planned as they were (`[sources] on_error = "keep"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<KeptFolder>,
}

impl Plan {
    pub(crate) fn new(profiles: Vec<ProfilePlan>) -> Self {
        let estimate = Estimate::sum(profiles.iter().map(|profile| &profile.estimate));
        Self {
            format_version: PLAN_FORMAT_VERSION,
            refresh: None,
            note: None,
            profiles,
            estimate,
            kept: Vec::new(),
        }
    }

    /// Marks the plan as made from the state files alone (`--refresh none`): Control D was not read.
    pub(crate) fn mark_state_only(&mut self) {
        self.refresh = Some("none".to_owned());
        self.note = Some(STATE_ONLY_NOTE.to_owned());
    }

    pub(crate) fn is_state_only(&self) -> bool {
        self.refresh.as_deref() == Some("none")
    }

    /// Whether applying would send any write.
    pub fn has_changes(&self) -> bool {
        self.profiles.iter().any(ProfilePlan::has_changes)
    }

    /// Counts over every profile, for the summary line.
    pub fn summary(&self) -> Summary {
        let mut total = Summary::default();
        for profile in &self.profiles {
            total.add(&profile.summary());
        }
        total
    }
}

/// One profile's plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProfilePlan {
    /// The Control D profile id.
    pub profile: String,
    /// Per managed folder (desired ones in config order, then those to delete), what changes.
    pub folders: Vec<FolderChange>,
    /// The writes, in the order apply must respect; each step is one request, except that
    /// [`Step::DeleteRule`] is one request per hostname it names (always one).
    pub steps: Vec<Step>,
    /// Hostnames listed by several folders: the first in config order keeps them.
    pub overlaps: Vec<Overlap>,
    /// Hostnames held by rules ctrld-sync does not manage: left alone.
    pub unmanaged_skipped: Vec<UnmanagedSkip>,
    /// Folders adopted among several remote folders of one name, and the ones left alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<super::adopt::DuplicateFolders>,
    /// Folders found at a managed folder's PK under another name, and whether their rules showed
    /// them to be that folder renamed or someone else's ([`super::identity`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identities: Vec<super::identity::FolderIdentity>,
    /// Whether removals were ordered before additions to stay under the rule limit mid-apply.
    pub removals_first: bool,
    /// Why this plan is destructive (a managed folder deleted, or more than `max_delete_percent` of
    /// a folder's rules removed); empty when it is not. Apply refuses a destructive plan without
    /// `--allow-destroy` (planning with `allow_destroy = false` already refuses it).
    pub destructive: Vec<String>,
    /// Rules in the profile before and after (managed, plus unmanaged where known).
    pub rules_before: usize,
    pub rules_after: usize,
    pub estimate: Estimate,
    /// What the plan leaves as it is because the API cannot do it (e.g. remove a folder's action).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Managed filters, services, the default rule and options that change (after the folders).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub settings: Vec<SettingChange>,
    /// The config manages settings of this profile: an apply that writes to it reads the profile
    /// rows once more at the end, so the next run can tell whether its settings moved.
    #[serde(default, skip_serializing_if = "is_false")]
    pub manages_settings: bool,
    /// What the state will hold once every step succeeded. Not part of the JSON plan (bulky); saved
    /// plan files carry it beside the plan. Shared with the applier, which copies it only to record
    /// a hostname an unmanaged rule holds.
    #[serde(skip)]
    pub target: Arc<ProfileTarget>,
}

impl ProfilePlan {
    pub(crate) fn has_changes(&self) -> bool {
        !self.steps.is_empty()
    }

    pub(crate) fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for folder in &self.folders {
            match folder.kind {
                FolderChangeKind::Create => summary.folders_to_create += 1,
                FolderChangeKind::Update { .. } => summary.folders_to_update += 1,
                FolderChangeKind::Delete => summary.folders_to_delete += 1,
                FolderChangeKind::Keep => {}
            }
            summary.rules_to_add += folder.add.len();
            summary.rules_to_move += folder.move_in.len();
            summary.rules_to_change += folder.change.len();
            summary.rules_to_remove += folder.remove.len();
        }
        summary.settings_to_change = self.settings.len();
        summary.api_calls = self.estimate.total;
        summary
    }
}

/// Counts for the one-line summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub folders_to_create: usize,
    pub folders_to_update: usize,
    pub folders_to_delete: usize,
    pub rules_to_add: usize,
    pub rules_to_move: usize,
    pub rules_to_change: usize,
    pub rules_to_remove: usize,
    /// Filters, services, the default rule and options.
    pub settings_to_change: usize,
    pub api_calls: u64,
}

impl Summary {
    fn add(&mut self, other: &Summary) {
        self.folders_to_create += other.folders_to_create;
        self.folders_to_update += other.folders_to_update;
        self.folders_to_delete += other.folders_to_delete;
        self.rules_to_add += other.rules_to_add;
        self.rules_to_move += other.rules_to_move;
        self.rules_to_change += other.rules_to_change;
        self.rules_to_remove += other.rules_to_remove;
        self.settings_to_change += other.settings_to_change;
        self.api_calls += other.api_calls;
    }
}

/// What happens to one managed folder and its rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderChange {
    /// The `[folder.<key>]` config key.
    pub key: String,
    /// The folder's name after the apply (its current name for a folder being deleted).
    pub name: String,
    /// `None` for a folder to create.
    pub pk: Option<FolderPk>,
    pub action: FolderAction,
    pub kind: FolderChangeKind,
    /// Adopted: an existing folder of the same name, not yet in the state, taken over as is.
    #[serde(default, skip_serializing_if = "is_false")]
    pub adopted: bool,
    /// Rules to create here.
    pub add: BTreeMap<Hostname, RuleAction>,
    /// Rules already here whose action changes.
    pub change: BTreeMap<Hostname, ActionChange>,
    /// Rules moved here from another managed folder (with their new action).
    pub move_in: BTreeMap<Hostname, MoveIn>,
    /// Rules removed from the profile (for a folder being deleted: the rules that go with it).
    pub remove: BTreeMap<Hostname, RuleAction>,
    /// Rules here that stay as they are.
    pub unchanged: usize,
}

impl FolderChange {
    pub(crate) fn has_changes(&self) -> bool {
        self.kind != FolderChangeKind::Keep
            || !self.add.is_empty()
            || !self.change.is_empty()
            || !self.move_in.is_empty()
            || !self.remove.is_empty()
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FolderChangeKind {
    Create,
    /// Name or action changes; the old ones are kept here.
    Update {
        from_name: String,
        from_action: FolderAction,
    },
    Delete,
    Keep,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionChange {
    pub from: RuleAction,
    pub to: RuleAction,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveIn {
    /// The managed folder (config key) the rule leaves, or `ctrld-sync scratch` for a rule parked
    /// in a scratch folder an interrupted apply left.
    pub from_key: String,
    pub from_action: RuleAction,
    pub action: RuleAction,
}

/// A hostname listed by more than one folder of the profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    pub hostname: Hostname,
    /// The folder (config key) that keeps it: first in the profile's config order.
    pub kept_by: String,
    /// The folder that lists it too and does not get it.
    pub dropped_from: String,
}

/// A desired hostname left alone because a rule ctrld-sync does not manage already holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmanagedSkip {
    pub hostname: Hostname,
    /// The managed folder (config key) that lists it.
    pub key: String,
    pub held_by: Holder,
}

/// One write request, in order. Steps naming a folder about to be created name it by `key`; apply
/// resolves its PK from the `CreateFolder` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// `POST /profiles/{profile}/groups`
    CreateFolder {
        key: String,
        name: String,
        action: FolderAction,
    },
    /// `PUT /profiles/{profile}/groups/{group}`
    UpdateFolder {
        key: String,
        pk: FolderPk,
        name: String,
        action: FolderAction,
    },
    /// `POST /profiles/{profile}/rules` into the folder, at most 500 hostnames.
    AddRules {
        key: String,
        action: RuleAction,
        hostnames: Vec<Hostname>,
    },
    /// `PUT /profiles/{profile}/rules` on rules already in the folder, at most 500 hostnames.
    ChangeRules {
        key: String,
        action: RuleAction,
        hostnames: Vec<Hostname>,
    },
    /// `PUT /profiles/{profile}/rules` with `group`: moves rules from other managed folders here,
    /// setting their action; at most 500 hostnames.
    MoveRules {
        to_key: String,
        action: RuleAction,
        hostnames: Vec<Hostname>,
    },
    /// `DELETE /profiles/{profile}/rules/{hostname}`
    DeleteRule { hostname: Hostname },
    /// `POST /profiles/{profile}/groups` named [`super::SCRATCH_PREFIX`], no action, disabled
    /// ([`super::scratch_folder_action`]).
    CreateScratch,
    /// `PUT /profiles/{profile}/rules` with `group` = the scratch folder; at most 500 hostnames. The
    /// same PUT disables the rules ([`super::parked_rule_action`]: `do=0`, `status=0`), so a removed
    /// rule never acts while parked, even if the run stops before the folder is deleted.
    MoveToScratch { hostnames: Vec<Hostname> },
    /// `DELETE /profiles/{profile}/groups/{scratch}`: deletes the moved rules with it.
    DeleteScratch,
    /// `DELETE /profiles/{profile}/groups/{group}`: the folder and whatever rules are still in it.
    DeleteFolder { key: String, pk: FolderPk },
    /// `DELETE /profiles/{profile}/groups/{group}` of a scratch folder an interrupted apply left,
    /// after the desired rules parked in it moved out. Planned only when its rules were read.
    DeleteLeftoverScratch { pk: FolderPk },
    /// `PUT /profiles/{profile}/filters/filter/{name}` for one filter, the batch
    /// `PUT /profiles/{profile}/filters` for several.
    SetFilters { filters: Vec<FilterSwitch> },
    /// `PUT /profiles/{profile}/services/{service}`: creates or updates the service's rule.
    SetService { service: String, action: RuleAction },
    /// `PUT /profiles/{profile}/default`
    SetDefault { action: RuleAction },
    /// `PUT /profiles/{profile}/options/{option}`; `value: null` turns the option off.
    SetOption {
        option: String,
        value: Option<String>,
    },
}

impl Step {
    /// A write to a filter, service, the default rule or an option: no folder is touched.
    pub fn is_setting(&self) -> bool {
        matches!(
            self,
            Self::SetFilters { .. }
                | Self::SetService { .. }
                | Self::SetDefault { .. }
                | Self::SetOption { .. }
        )
    }
}

/// What the state holds once every step succeeded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileTarget {
    /// Desired folders by config key.
    pub folders: BTreeMap<String, TargetFolder>,
    /// The managed settings once every settings step succeeded (`None` when none is managed).
    /// Its `mark` is the refresh's; an apply that writes reads a new one at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<SettingsRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetFolder {
    /// `None` until the folder is created.
    pub pk: Option<FolderPk>,
    pub name: String,
    pub action: FolderAction,
    pub rules: BTreeMap<Hostname, RuleAction>,
    /// Listed by the source, kept by an earlier folder in config order.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub overlapped: BTreeMap<Hostname, RuleAction>,
    /// Listed by the source, held by a rule the config does not manage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub held_by_unmanaged: BTreeMap<Hostname, RuleAction>,
    /// Recorded in the state once the folder is complete.
    pub source: SourceRecord,
}
