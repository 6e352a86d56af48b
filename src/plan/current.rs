//! The remote profile as refresh saw it: the planner's "current" input.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    CurrentSettings, FolderAction, FolderPk, Hostname, RemoteFolder, RuleAction, RuleMap,
};

/// One profile as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentProfile {
    pub profile: String,
    /// Every folder from `GET /groups` (from the state with `--refresh none`).
    pub remote_folders: Vec<RemoteFolder>,
    /// Managed folders that exist, by config key: from the state, or adopted by name.
    pub managed: BTreeMap<String, CurrentFolder>,
    /// Hostnames held by the root and unmanaged folders: all of them with `--refresh full`; otherwise
    /// those the last apply found held ([`Holder::LastApply`]), so they are not retried every run.
    pub unmanaged_rules: Option<BTreeMap<Hostname, Holder>>,
    /// Scratch folders to delete (left by an interrupted apply).
    pub scratch: Vec<FolderPk>,
    /// The rules those scratch folders hold (parked, on their way out); `None` when they were not
    /// read (`--refresh none`). A desired hostname parked there is moved out, never re-added.
    pub parked: Option<BTreeMap<Hostname, RuleAction>>,
    /// Desired folders adopted among several remote folders of their name; the others are left alone.
    pub duplicates: Vec<super::adopt::DuplicateFolders>,
    /// Remote folders at a managed folder's PK under another name, and what their rules said.
    pub identities: Vec<super::identity::FolderIdentity>,
    /// What the plan should say about how the profile was read.
    pub notes: Vec<String>,
    /// sha256 of the sorted `GET /groups` answer (pk, name, action, count).
    pub fingerprint: String,
    /// The reads refresh made (or, with `--refresh none`, the least an apply makes).
    pub reads: RefreshReads,
    /// The managed settings as they are (read, or as the last apply left them); empty when the
    /// config manages none.
    pub settings: CurrentSettings,
    /// What `GET /profiles` said of this profile's settings this run (see
    /// [`crate::model::SettingsRecord::mark`]); `None` when not read.
    pub settings_mark: Option<String>,
}

/// The requests refresh sends for one profile; an apply that refreshes the same way repeats them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RefreshReads {
    /// `GET /profiles/{profile}/groups`: one per profile (also the least `apply` reads).
    pub folder_lists: u64,
    /// `GET /profiles/{profile}/rules/{group}`: drifted, adopted, or (`full`) every folder.
    pub folder_rules: u64,
    /// `GET /profiles/{profile}/rules`: the root, with `--refresh full`.
    pub root_rules: u64,
    /// The settings reads (none when the config manages no settings).
    pub settings: SettingsReads,
}

/// The reads made for a profile's settings. The run's one `GET /profiles` and its catalogue reads
/// are counted under the first profile that needed them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SettingsReads {
    /// `GET /profiles`: the counts and option values that tell whether settings moved.
    pub profile_lists: u64,
    pub filters: u64,
    pub external_filters: u64,
    pub services: u64,
    pub default: u64,
    /// `GET /profiles/{profile}/options` (only when the profile row carries no option values).
    pub options: u64,
    /// `GET /profiles/options`
    pub option_catalogue: u64,
    /// `GET /services/categories`
    pub service_categories: u64,
    /// `GET /services/categories/{category}`
    pub category_services: u64,
}

impl RefreshReads {
    /// What `apply` reads of a profile at the least: its folder list.
    pub(crate) const LIST_ONLY: Self = Self {
        folder_lists: 1,
        folder_rules: 0,
        root_rules: 0,
        settings: SettingsReads {
            profile_lists: 0,
            filters: 0,
            external_filters: 0,
            services: 0,
            default: 0,
            options: 0,
            option_catalogue: 0,
            service_categories: 0,
            category_services: 0,
        },
    };
}

/// One managed folder as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrentFolder {
    pub pk: FolderPk,
    pub name: String,
    pub action: FolderAction,
    pub rules: RuleMap,
    /// Taken over by name this run (not yet in the state).
    pub adopted: bool,
}

/// Who holds a hostname ctrld-sync does not manage.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Holder {
    /// The profile's root (rules outside any folder).
    Root,
    /// A folder that no config key manages.
    Folder { pk: FolderPk, name: String },
    /// An unmanaged rule the last apply ran into (recorded as `held_by_unmanaged` in the state);
    /// only `--refresh full` reads where it is now.
    LastApply,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Root => f.write_str("the root"),
            Self::Folder { pk, name } => write!(
                f,
                "unmanaged folder \"{}\" (PK {pk})",
                crate::quote::sanitize(name)
            ),
            Self::LastApply => {
                f.write_str("an unmanaged rule (as of the last apply; --refresh full rechecks)")
            }
        }
    }
}
