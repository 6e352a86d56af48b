//! The JSON shapes the API answers with (field names exactly as Control D spells them).

use serde::Serialize;

use crate::dump::ActionDump;

/// One entry of `GET /profiles`.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ProfileView {
    #[serde(rename = "PK")]
    pub pk: String,
    pub name: String,
    /// Unix seconds of the last change.
    pub updated: u64,
    pub profile: ProfileCounts,
}

/// `profile.{flt,cflt,ipflt,rule,svc,grp,opt}.count`; the emulator has only rules and folders.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ProfileCounts {
    pub flt: Count,
    pub cflt: Count,
    pub ipflt: Count,
    pub rule: Count,
    pub svc: Count,
    pub grp: Count,
    pub opt: Count,
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub struct Count {
    pub count: usize,
}

impl ProfileCounts {
    pub fn new(rules: usize, folders: usize) -> Self {
        let zero = Count { count: 0 };
        Self {
            flt: zero,
            cflt: zero,
            ipflt: zero,
            rule: Count { count: rules },
            svc: zero,
            grp: Count { count: folders },
            opt: zero,
        }
    }
}

/// One entry of `GET /profiles/{p}/groups`, and the answer of folder writes.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct FolderView {
    #[serde(rename = "PK")]
    pub pk: u64,
    pub group: String,
    pub action: ActionDump,
    pub count: usize,
}

/// One entry of `GET /profiles/{p}/rules[/{pk}]`, and the one-entry summary of rule writes.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RuleView {
    #[serde(rename = "PK")]
    pub hostname: String,
    pub order: u64,
    /// Folder PK, 0 for the root.
    pub group: u64,
    pub action: ActionDump,
}
