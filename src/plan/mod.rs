//! The planner: current vs desired -> [`Plan`]; its cost model; renderers; saved plan files.
//!
//! Planning is pure: the same desired and current state give the same plan, byte for byte.

pub(crate) mod adopt;
pub mod audit;
mod cost;
mod current;
mod error;
mod file;
pub(crate) mod identity;
pub mod order;
mod planner;
pub mod render;
mod settings;
mod settle;
mod types;

pub use cost::Estimate;
pub use current::{CurrentFolder, CurrentProfile, Holder, RefreshReads, SettingsReads};
pub use error::PlanError;
pub use file::{PlanFile, PlanFileError, PlanFileProfile, PLAN_FILE_VERSION};
pub use planner::{plan, plan_profile, PlanSettings};
pub(crate) use types::STATE_ONLY_NOTE;
pub use types::{
    ActionChange, FolderChange, FolderChangeKind, MoveIn, Overlap, Plan, ProfilePlan,
    ProfileTarget, SettingChange, SettingKind, Step, Summary, TargetFolder, UnmanagedSkip,
};

/// Folders named with this prefix are the planner's scratch folders: rules to remove are moved
/// there and the folder is deleted, which is cheaper than one DELETE per hostname.
pub const SCRATCH_PREFIX: &str = "ctrld-sync scratch";

/// The scratch folder's own action: disabled, so that nothing in it acts, whatever its rules say.
pub fn scratch_folder_action() -> crate::model::FolderAction {
    crate::model::FolderAction {
        enabled: false,
        ..crate::model::FolderAction::none()
    }
}

/// What a rule moved into the scratch folder becomes, in the same PUT that moves it: a disabled
/// block, so a removed allow, spoof or redirect rule never blocks while parked. The API merges
/// PUTs (an omitted field keeps its value), so `status=0` is always sent explicitly.
pub fn parked_rule_action() -> crate::model::RuleAction {
    crate::model::RuleAction {
        enabled: false,
        ..crate::model::RuleAction::block()
    }
}

/// Control D's documented limit of custom rules per profile (folders included).
pub(crate) const MAX_RULES_PER_PROFILE: usize = 10_000;
