//! The whole data set as plain data: `GET /_emulator/dump`, `POST /_emulator/load` and the state file.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Every profile with its folders and rules. Lists are sorted: folders by PK, rules by hostname.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Dump {
    /// One above the highest PK handed out so far: the next folder's PK under
    /// `FolderPks::GlobalCounter` (per-profile PKs only keep it up to date).
    pub next_pk: u64,
    pub profiles: BTreeMap<String, ProfileDump>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ProfileDump {
    pub name: String,
    /// Rules outside any folder.
    #[serde(default)]
    pub root: Vec<RuleDump>,
    #[serde(default)]
    pub folders: Vec<FolderDump>,
    /// Filters, services, the default rule and options; left out while they are a new
    /// profile's (so dumps of folders and rules alone are unchanged).
    #[serde(default, skip_serializing_if = "SettingsDump::is_new")]
    pub settings: SettingsDump,
    /// The profile's `updated`, kept only by an emulator with `stable_pks` (whose clock is a
    /// counter, so a reloaded sandbox answers as it did); otherwise `updated` starts at the load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<u64>,
}

/// A profile's settings beyond folders.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SettingsDump {
    /// Enabled filters, sorted: level names (`ads_medium`), PKs of families without levels
    /// (`gambling`) and external PKs (`x-oisd-big`). An option level (`ai_malware`) is on while
    /// its option is set and is not listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// Service PK -> its rule's action; a service rule cannot be deleted, only disabled.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, ActionDump>,
    /// The default rule; a new profile's is bypass, enabled.
    #[serde(
        rename = "default",
        default = "new_default_rule",
        skip_serializing_if = "is_new_default_rule"
    )]
    pub default_rule: ActionDump,
    /// Set options, PK -> value as stored (`"1"` for toggles, `"0.7"`, `"10"`); unset ones absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl Default for SettingsDump {
    fn default() -> Self {
        Self {
            filters: Vec::new(),
            services: BTreeMap::new(),
            default_rule: new_default_rule(),
            options: BTreeMap::new(),
        }
    }
}

impl SettingsDump {
    /// A new profile's settings: nothing enabled, the default rule bypass.
    pub fn is_new(&self) -> bool {
        *self == SettingsDump::default()
    }
}

/// Observed on the live service: `{"do": 1, "status": 1}`.
fn new_default_rule() -> ActionDump {
    ActionDump {
        kind: Some(1),
        status: 1,
        via: None,
        via_v6: None,
    }
}

fn is_new_default_rule(action: &ActionDump) -> bool {
    *action == new_default_rule()
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FolderDump {
    pub pk: u64,
    pub name: String,
    pub action: ActionDump,
    #[serde(default)]
    pub rules: Vec<RuleDump>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RuleDump {
    pub hostname: String,
    pub action: ActionDump,
}

/// An action as the API shows it: `{"do": 0, "status": 1, "via": "..."}`, absent fields omitted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default)]
pub struct ActionDump {
    #[serde(rename = "do", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<u8>,
    pub status: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via_v6: Option<String>,
}
