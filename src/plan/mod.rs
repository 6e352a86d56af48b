//! The planner: current vs desired -> [`Plan`]; its cost model; renderers; saved plan files.
//!
//! Planning is pure: the same desired and current state give the same plan, byte for byte.

mod cost;
mod current;
mod error;
mod file;
mod planner;
pub mod render;
mod types;

pub use cost::{endpoint, Estimate, Method};
pub use current::{CurrentFolder, CurrentProfile, Holder};
pub use error::PlanError;
pub use file::{PlanFile, PlanFileError, PlanFileProfile, PLAN_FILE_VERSION};
pub use planner::{plan, plan_profile, PlanSettings};
pub use types::*;

/// Folders named with this prefix are the planner's scratch folders: rules to remove are moved
/// there and the folder is deleted, which is cheaper than one DELETE per hostname.
pub const SCRATCH_PREFIX: &str = "ctrld-sync scratch";

/// Control D's documented limit of custom rules per profile (folders included).
pub const MAX_RULES_PER_PROFILE: usize = 10_000;
